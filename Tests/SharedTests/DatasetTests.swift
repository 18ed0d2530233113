import Foundation
import XCTest
import Shared

final class DatasetTests: XCTestCase {
    let dir = tempDir()

    func testSpecGrammar() throws {
        let a = try DatasetSpec(parsing: "fashion-mnist:test[0:50]")
        XCTAssertEqual(a.source, .named(name: "fashion-mnist", split: "test"))
        XCTAssertEqual([a.start, a.end], [0, 50])
        XCTAssertNil(a.stratified)
        let b = try DatasetSpec(parsing: "mnist:train[:-10]@20/7")
        XCTAssertEqual([b.start, b.end], [nil, -10])
        XCTAssertEqual(b.stratified, 20); XCTAssertEqual(b.stratifiedSeed, 7)
        XCTAssertEqual(try DatasetSpec(parsing: "mnist:test@50").stratifiedSeed, 0)
        XCTAssertEqual(try DatasetSpec(parsing: "/tmp/x@y/adv.npy").source, .npy(path: "/tmp/x@y/adv.npy"))
        XCTAssertEqual(try DatasetSpec(parsing: "-[0:3]").source, .npy(path: "-"))
        XCTAssertEqual(try DatasetSpec(parsing: "x:y[5:]").range(count: 8), 5..<8)
        XCTAssertEqual(try DatasetSpec(parsing: "x:y[-3:]").range(count: 8), 5..<8)
        // steps, with Python's rules: every third of [1:10), every tenth of all, the last two
        XCTAssertEqual(try DatasetSpec(parsing: "x:y[1:10:3]").indices(count: 20), [1, 4, 7])
        XCTAssertEqual(try DatasetSpec(parsing: "a.npy[::10]").indices(count: 30), [0, 10, 20])
        XCTAssertEqual(try DatasetSpec(parsing: "x:y[-2::]").indices(count: 5), [3, 4])
        XCTAssertEqual(try DatasetCatalog.load("synthetic:test[3:12:4]").images, try DatasetCatalog.load("synthetic:test").images.gatherRows([3, 7, 11]))
        for bad in ["mnist", "mnist:test[1:2", "mnist:test[a:b]", "mnist:test@0", ":test", "mnist:test[1]", "x:y[::0]", "x:y[::-1]", "x:y[1:2:3:4]"] {
            assertThrows(try DatasetSpec(parsing: bad), containing: "bad dataset spec '\(bad)'")
        }
        assertThrows(try DatasetSpec(parsing: "x:y[5:2]").range(count: 8), containing: "selects nothing")
    }

    func testStratifiedSelection() throws {
        let labels = (0..<100).map { ($0 * 7) % 10 }
        let idx = try Stratified.indices(labels: labels, count: 23, seed: 3)
        XCTAssertEqual(idx.count, 23)
        XCTAssertEqual(Set(idx).count, 23)
        var perClass = [Int](repeating: 0, count: 10)
        for i in idx { perClass[labels[i]] += 1 }
        XCTAssertEqual(perClass, [3, 3, 3, 2, 2, 2, 2, 2, 2, 2])
        XCTAssertEqual(idx, try Stratified.indices(labels: labels, count: 23, seed: 3), "reproducible")
        XCTAssertNotEqual(idx, try Stratified.indices(labels: labels, count: 23, seed: 4))
        assertThrows(try Stratified.indices(labels: labels, count: 200, seed: 0), containing: "has 10 images, 20 wanted")
    }

    func testSyntheticIsDeterministicAndBalanced() throws {
        let a = try DatasetCatalog.load("synthetic:train"), b = try DatasetCatalog.load("synthetic:train")
        XCTAssertEqual(a.images, b.images)
        XCTAssertEqual(a.images.shape, [2000, 1, 28, 28])
        XCTAssert(a.images.data.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertEqual(Set(a.labels!), Set(0..<10))
        let t = try DatasetCatalog.load("synthetic:test[10:20]@10")
        XCTAssertEqual(t.count, 10); XCTAssertEqual(t.labels!.sorted(), Array(0..<10))
        XCTAssertNotEqual(try DatasetCatalog.load("synthetic:test[0:5]").images, a.images.rows(0..<5))
    }

    func testNpyInputs() throws {
        try Npy.write(Tensor(shape: [4, 784], repeating: 0.5), to: dir + "/flat.npy")
        XCTAssertEqual(try DatasetCatalog.load(dir + "/flat.npy").images.shape, [4, 1, 28, 28])
        try Npy.write(Tensor(shape: [4, 5, 6], repeating: 0.5), to: dir + "/hw.npy")
        XCTAssertEqual(try DatasetCatalog.load(dir + "/hw.npy[1:3]").images.shape, [2, 1, 5, 6])
        try Npy.write(Tensor(shape: [4], data: [0, 1, 1, 0]), to: dir + "/lab.npy", dtype: .int64)
        let l = try DatasetCatalog.load(dir + "/hw.npy@2", labelsPath: dir + "/lab.npy")
        XCTAssertEqual(l.labels, [0, 1])
        try Npy.write(Tensor(shape: [2, 1, 2, 2], data: [0, 1, .nan, 0, 0, 0, 0, 0]), to: dir + "/nan.npy")
        assertThrows(try DatasetCatalog.load(dir + "/nan.npy"), containing: "nan.npy: contains NaN")
        try Npy.write(Tensor(shape: [3], data: [0, 1, 1]), to: dir + "/short.npy")
        assertThrows(try DatasetCatalog.load(dir + "/hw.npy", labelsPath: dir + "/short.npy"), containing: "expected 4 labels")
        assertThrows(try DatasetCatalog.load("nope:train"), containing: "unknown dataset 'nope'")
        assertThrows(try DatasetCatalog.load("synthetic:valid"), containing: "no split 'valid'")
    }

    /// The IDX-backed datasets, through a data directory the test builds, and color-mnist
    /// derived from it.
    func testIDXDatasetsAndColorMNIST() throws {
        let data = dir + "/data", m = data + "/mnist"
        try FileManager.default.createDirectory(atPath: m, withIntermediateDirectories: true)
        let n = 21
        let pixels = (0..<(n * 28 * 28)).map { UInt8($0 % 256) }
        for split in ["train", "t10k"] {
            try IDX.writeGzip(shape: [n, 28, 28], bytes: pixels, to: "\(m)/\(split)-images-idx3-ubyte.gz")
            try IDX.writeGzip(shape: [n], bytes: (0..<n).map { UInt8($0 % 10) }, to: "\(m)/\(split)-labels-idx1-ubyte.gz")
        }
        setenv("ROBUSTVAE_DATA", data, 1)
        defer { unsetenv("ROBUSTVAE_DATA") }
        let ds = try DatasetCatalog.load("mnist:test[1:4]")
        XCTAssertEqual(ds.images.shape, [3, 1, 28, 28])
        XCTAssertEqual(ds.labels, [1, 2, 3])
        XCTAssertEqual(ds.images.data[0], Float(pixels[784]) / 255)
        // color-mnist: every digit in all seven colours, against a numpy port of paper D's
        // colorify() (datasets/color_mnist.py), line by line
        let c = try DatasetCatalog.load("color-mnist:train")
        XCTAssertEqual(c.images.shape, [7 * n, 3, 28, 28])
        try Npy.write(c.images, to: dir + "/ours.npy")
        try Npy.write(Tensor(shape: [7 * n], data: c.colorLabels!.map(Float.init)), to: dir + "/col.npy")
        try Npy.write(Tensor(shape: [7 * n], data: c.labels!.map(Float.init)), to: dir + "/cls.npy")
        let check = try python("""
        import numpy as np
        data = np.array([i % 256 for i in range(\(n) * 28 * 28)], dtype=np.uint8).reshape(\(n), 28, 28)
        targets = np.array([i % 10 for i in range(\(n))])
        x = np.repeat(data[:, None], 3 * 7, axis=1)
        idx = np.concatenate([np.array([i, j, k]) for i in range(2) for j in range(2) for k in range(2)]).astype(bool)[3:]
        x[:, ~idx] = 0
        color_label = np.tile(np.arange(7), x.shape[0])
        class_label = np.repeat(targets[:, None], 7, axis=1).reshape(1, -1).squeeze(0)
        x = x.reshape(-1, 3, 28, 28)
        ours = np.load('\(dir)/ours.npy')
        assert ours.shape == x.shape, (ours.shape, x.shape)
        assert np.array_equal(ours, x.astype(np.float32) / 255)
        assert np.array_equal(np.load('\(dir)/col.npy'), color_label) and np.array_equal(np.load('\(dir)/cls.npy'), class_label)
        print('ok')
        """)
        XCTAssertEqual(check, "ok")
        XCTAssertEqual(ColorMNIST.colorNames, ["blue", "green", "cyan", "red", "magenta", "yellow", "white"])
        // ranges and stratification pick from the 7N images before any is built
        let part = try DatasetCatalog.load("color-mnist:test[7:21]")
        XCTAssertEqual(part.images.shape, [14, 3, 28, 28])
        XCTAssertEqual(part.colorLabels, Array(0..<7) + Array(0..<7))
        XCTAssertEqual(part.labels, [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2])
        XCTAssertEqual(part.images.data, c.images.rows(7..<21).data, "train and test share the fake pixels")
        let byColor = try DatasetCatalog.load("color-mnist:test@14:color")
        XCTAssertEqual(byColor.colorLabels!.sorted(), (0..<7).flatMap { [$0, $0] }, "two of each colour")
        let byDigit = try DatasetCatalog.load("color-mnist:test@20")
        XCTAssertEqual(Dictionary(grouping: byDigit.labels!, by: { $0 }).mapValues(\.count), Dictionary(uniqueKeysWithValues: (0..<10).map { ($0, 2) }))
        assertThrows(try DatasetCatalog.load("mnist:test@10:color"), containing: "needs colour labels")
        let joint = try DatasetCatalog.load("color-mnist:test@70:joint")
        XCTAssertEqual(Set(zip(joint.labels!, joint.colorLabels!).map { $0 * 7 + $1 }).count, 70, "one of each digit-colour pair")
        // the older single-colour form, under its own name: each digit once
        let single = try DatasetCatalog.load("color-mnist-single:train")
        XCTAssertEqual(single.images.shape, [n, 3, 28, 28])
        XCTAssertEqual(try DatasetCatalog.load("color-mnist-single:train").colorLabels, single.colorLabels, "fixed colours")
        for i in 0..<n {
            let col = ColorMNIST.colors[single.colorLabels![i]]
            let grey = Float(pixels[i * 784 + 300]) / 255
            XCTAssertEqual(single.images.data[(i * 3 + 0) * 784 + 300], grey * col.r)
            XCTAssertEqual(single.images.data[(i * 3 + 2) * 784 + 300], grey * col.b)
        }
        assertThrows(try DatasetCatalog.load("mnist-5k:train"), containing: "mnist-5k is not prepared in \(data)/mnist-5k: run `scripts/prepare-data.sh`")
    }

    func testFashionMNISTWhenInstalled() throws {
        let path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "apt-get install dataset-fashion-mnist")
        let ds = try DatasetCatalog.load("fashion-mnist:test[0:100]")
        XCTAssertEqual(ds.images.shape, [100, 1, 28, 28])
        // first test label of Fashion-MNIST is 9 (ankle boot), read independently with python
        let ref = try python("import gzip; d=gzip.open('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz').read(); print(list(d[8:13]))")
        XCTAssertEqual("[" + ds.labels!.prefix(5).map(String.init).joined(separator: ", ") + "]", ref)
    }

    /// `#bin` binarises: values in {0, 1}, each pixel 1 with probability equal to its
    /// intensity (the mean matches to sampling error), the same spec gives the same images,
    /// another seed others, and certain pixels (0 and 1) stay as they are.
    func testBinarisedSpecs() throws {
        let grey = try DatasetCatalog.load("synthetic:test[0:200]")
        let bin = try DatasetCatalog.load("synthetic:test[0:200]#bin")
        XCTAssertEqual(bin.images.shape, grey.images.shape)
        XCTAssertTrue(bin.images.data.allSatisfy { $0 == 0 || $0 == 1 })
        for i in 0..<grey.images.count where grey.images.data[i] == 0 || grey.images.data[i] == 1 {
            XCTAssertEqual(bin.images.data[i], grey.images.data[i])
        }
        let n = Double(grey.images.count)
        let mean = grey.images.data.reduce(0.0) { $0 + Double($1) } / n
        let variance = grey.images.data.reduce(0.0) { $0 + Double($1) * (1 - Double($1)) } / n
        let binMean = bin.images.data.reduce(0.0) { $0 + Double($1) } / n
        XCTAssertEqual(binMean, mean, accuracy: 5 * (variance / n).squareRoot() + 1e-12, "E[Bernoulli(p)] = p")
        XCTAssertEqual(try DatasetCatalog.load("synthetic:test[0:200]#bin/0").images, bin.images, "seed 0 is the default")
        XCTAssertNotEqual(try DatasetCatalog.load("synthetic:test[0:200]#bin/5").images, bin.images)
        XCTAssertEqual(try DatasetCatalog.load("synthetic:test[0:200]@20#bin").count, 20)
        XCTAssertEqual(try DatasetSpec(parsing: "a.npy[0:5]#bin/7").binarizeSeed, 7)
        XCTAssertNil(try DatasetSpec(parsing: "run#3/x.npy").binarizeSeed, "a '#' inside a path")
        XCTAssertEqual(try DatasetSpec(parsing: "run#3/x.npy").source, .npy(path: "run#3/x.npy"))
        XCTAssertNotEqual(try DatasetCatalog.load("synthetic:train[0:200]#bin").images, bin.images, "train and test draw from different streams")
        assertThrows(try DatasetSpec(parsing: "synthetic:test#bin/x"), containing: "bad binarisation seed")
    }
}
