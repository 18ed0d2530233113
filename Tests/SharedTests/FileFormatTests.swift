import Foundation
import XCTest
import Shared

/// Round trips through numpy / Python safetensors in both directions, and malformed files.
final class FileFormatTests: XCTestCase {
    let dir = tempDir()
    var rng = RNG(seed: 12)

    // MARK: .npy

    func testNpyWrittenByUsLoadsInNumpy() throws {
        let t = rng.normalTensor([2, 3, 4])
        let p = dir + "/a.npy"
        try Npy.write(t, to: p)
        let sum = try python("import numpy as np; a=np.load('\(p)'); print(a.dtype, a.shape, repr(float(a.astype(np.float64).sum())), repr(float(a[1,2,3])))")
        let parts = sum.split(separator: " ", maxSplits: 1)
        XCTAssertEqual(parts[0], "float32")
        XCTAssert(sum.contains("(2, 3, 4)"), sum)
        XCTAssert(sum.hasSuffix(" " + String(Double(t.data[23]))), "\(sum) vs \(t.data[23])")
        // other dtypes and shapes
        try Npy.write(Tensor(shape: [3], data: [0, 127.6, 300]), to: dir + "/u8.npy", dtype: .uint8)
        XCTAssertEqual(try python("import numpy as np; a=np.load('\(dir)/u8.npy'); print(a.dtype, list(a))"), "uint8 [np.uint8(0), np.uint8(128), np.uint8(255)]")
        try Npy.write(Tensor(shape: [2], data: [1.5, -2]), to: dir + "/f8.npy", dtype: .float64)
        XCTAssertEqual(try python("import numpy as np; a=np.load('\(dir)/f8.npy'); print(a.dtype, a.tolist())"), "float64 [1.5, -2.0]")
        try Npy.write(Tensor(scalar: 3), to: dir + "/s.npy")
        XCTAssertEqual(try python("import numpy as np; a=np.load('\(dir)/s.npy'); print(a.shape, float(a))"), "() 3.0")
        try Npy.write(Tensor(shape: [2], data: [7, 9]), to: dir + "/i8.npy", dtype: .int64)
        XCTAssertEqual(try python("import numpy as np; a=np.load('\(dir)/i8.npy'); print(a.dtype, a.tolist())"), "int64 [7, 9]")
    }

    func testNpyWrittenByNumpyLoadsHere() throws {
        _ = try python("""
        import numpy as np
        a = np.arange(24, dtype=np.float32).reshape(2,3,4) / 7
        np.save('\(dir)/f4.npy', a)
        np.save('\(dir)/f8.npy', a.astype(np.float64))
        np.save('\(dir)/u1.npy', np.arange(10, dtype=np.uint8))
        np.save('\(dir)/i8.npy', np.array([3, 1, 4], dtype=np.int64))
        np.save('\(dir)/be.npy', a.astype('>f4'))
        np.save('\(dir)/b.npy', np.array([True, False]))
        np.lib.format.write_array(open('\(dir)/v2.npy', 'wb'), a, version=(2, 0))
        np.lib.format.write_array(open('\(dir)/v3.npy', 'wb'), a, version=(3, 0))
        np.save('\(dir)/fortran.npy', np.asfortranarray(a))
        np.save('\(dir)/obj.npy', np.array([1, 'x'], dtype=object), allow_pickle=True)
        np.save('\(dir)/c8.npy', np.ones(3, dtype=np.complex64))
        """)
        let expected = Tensor(shape: [2, 3, 4], data: (0..<24).map { Float($0) / 7 })
        for f in ["f4", "f8", "be", "v2", "v3"] { assertClose(try Npy.read(dir + "/\(f).npy"), expected, tol: 1e-7, f) }
        XCTAssertEqual(try Npy.read(dir + "/u1.npy").data, (0..<10).map(Float.init))
        XCTAssertEqual(try Npy.read(dir + "/i8.npy").data, [3, 1, 4])
        XCTAssertEqual(try Npy.read(dir + "/b.npy").data, [1, 0])
        assertThrows(try Npy.read(dir + "/fortran.npy"), containing: "Fortran")
        assertThrows(try Npy.read(dir + "/obj.npy"), containing: "unsupported dtype")
        assertThrows(try Npy.read(dir + "/c8.npy"), containing: "unsupported dtype")
    }

    func testMalformedNpy() throws {
        let good = Npy.encode(rng.normalTensor([10, 10]))
        write(good.prefix(good.count - 4), "trunc.npy")
        assertThrows(try Npy.read(dir + "/trunc.npy"), containing: "trunc.npy: truncated")
        write(good.prefix(9), "tiny.npy")
        assertThrows(try Npy.read(dir + "/tiny.npy"), containing: "not a valid .npy")
        write(Data("hello world, not numpy".utf8), "text.npy")
        assertThrows(try Npy.read(dir + "/text.npy"), containing: "magic")
        // a header that claims an enormous array: rejected by size, nothing allocated
        var huge = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 100000), }"
        huge += String(repeating: " ", count: (64 - (10 + huge.count + 1) % 64) % 64) + "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(huge.utf8.count & 0xff), UInt8(huge.utf8.count >> 8)])
        d.append(Data(huge.utf8)); d.append(Data(count: 16))
        write(d, "huge.npy")
        assertThrows(try Npy.read(dir + "/huge.npy"), containing: "huge.npy")
        // overflowing shape product
        var ov = "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }\n"
        ov = String(ov.dropLast()) + String(repeating: " ", count: (64 - (10 + ov.count) % 64) % 64) + "\n"
        var d2 = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(ov.utf8.count), 0]); d2.append(Data(ov.utf8))
        write(d2, "overflow.npy")
        assertThrows(try Npy.read(dir + "/overflow.npy"), containing: "overflow.npy")
        assertThrows(try Npy.read(dir + "/missing.npy"), containing: "missing.npy: no such file")
    }

    // MARK: .safetensors

    func testSafetensorsLoadsInPython() throws {
        try XCTSkipUnless(pythonHas("safetensors"), "pip install safetensors for this cross-check")
        var cfg = ModelConfig(architecture: "mlp", latent: 10, inputShape: [1, 28, 28], data: "fashion-mnist:train", seed: 7)
        cfg.lipschitzDecoder = 5; cfg.likelihood = "cbernoulli"
        let w = rng.normalTensor([4, 3]), b = rng.normalTensor([4])
        let file = SafeTensors.File(tensors: [("enc.0.weight", w), ("enc.0.bias", b), ("scalar", Tensor(scalar: 2))],
                                    metadata: [ModelConfig.metadataKey: try cfg.json()])
        let p = dir + "/m.safetensors"
        try SafeTensors.write(file, to: p)
        let out = try python("""
        import json
        from safetensors.numpy import load_file
        from safetensors import safe_open
        t = load_file('\(p)')
        meta = safe_open('\(p)', 'np').metadata()
        c = json.loads(meta['config'])
        print(t['enc.0.weight'].dtype, t['enc.0.weight'].shape, repr(float(t['enc.0.weight'][3, 2])), t['scalar'].shape, float(c['lipschitzDecoder']), c['likelihood'], c['latent'])
        """)
        XCTAssertEqual(out, "float32 (4, 3) \(Double(w.data[11])) () 5.0 cbernoulli 10")
        let back = try SafeTensors.read(p)
        XCTAssertEqual(back["enc.0.weight"], w)
        XCTAssertEqual(back["enc.0.bias"], b)
        XCTAssertEqual(try ModelConfig.from(back, name: p), cfg)
    }

    func testSafetensorsWrittenByPythonLoadsHere() throws {
        try XCTSkipUnless(pythonHas("safetensors"), "pip install safetensors for this cross-check")
        _ = try python("""
        import numpy as np
        from safetensors.numpy import save_file
        save_file({'b': np.arange(6, dtype=np.float32).reshape(2,3), 'a': np.array([1.5], dtype=np.float64), 'i': np.array([4, 5], dtype=np.int64)}, '\(dir)/py.safetensors', metadata={'k': 'v'})
        """)
        let f = try SafeTensors.read(dir + "/py.safetensors")
        XCTAssertEqual(f["b"], Tensor(shape: [2, 3], data: [0, 1, 2, 3, 4, 5]))
        XCTAssertEqual(f["a"]?.data, [1.5])
        XCTAssertEqual(f["i"]?.data, [4, 5])
        XCTAssertEqual(f.metadata, ["k": "v"])
    }

    func testMalformedSafetensors() throws {
        let good = try SafeTensors.encode(SafeTensors.File(tensors: [("w", rng.normalTensor([8]))]))
        write(good.prefix(good.count - 1), "trunc.safetensors")
        assertThrows(try SafeTensors.read(dir + "/trunc.safetensors"), containing: "trunc.safetensors")
        var big = Data(good); big.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
        write(big, "bighdr.safetensors")
        assertThrows(try SafeTensors.read(dir + "/bighdr.safetensors"), containing: "header length")
        func raw(_ header: String, dataBytes: Int) -> Data {
            var d = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) }
            d.append(Data(header.utf8)); d.append(Data(count: dataBytes)); return d
        }
        write(raw(#"{"w":{"dtype":"F32","shape":[1000000],"data_offsets":[0,4000000]}}"#, dataBytes: 8), "claims.safetensors")
        assertThrows(try SafeTensors.read(dir + "/claims.safetensors"), containing: "outside the data section")
        write(raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, dataBytes: 12), "overlap.safetensors")
        assertThrows(try SafeTensors.read(dir + "/overlap.safetensors"), containing: "not contiguous")
        write(raw(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataBytes: 8), "shape.safetensors")
        assertThrows(try SafeTensors.read(dir + "/shape.safetensors"), containing: "does not fill")
        write(raw("[1,2]", dataBytes: 0), "notobj.safetensors")
        assertThrows(try SafeTensors.read(dir + "/notobj.safetensors"), containing: "not a JSON object")
    }

    func testModelConfigMissing() throws {
        let f = SafeTensors.File(tensors: [("w", Tensor(scalar: 1))])
        assertThrows(try ModelConfig.from(f, name: "x.safetensors"), containing: "x.safetensors: has no RobustVAE model configuration")
    }

    // MARK: PNG

    func testPNGRoundTrip() throws {
        for c in [1, 3] {
            let img = rng.uniformTensor([c, 9, 13])
            let p = dir + "/img\(c).png"
            try PNG.write(img, to: p)
            let back = try PNG.read(p)
            XCTAssertEqual(back.shape, [c, 9, 13])
            let quantised = img.map { ($0 * 255).rounded() / 255 }
            assertClose(back, quantised, tol: 1e-6, "PNG \(c) channels")
            // the file is a real PNG: signature and IHDR read independently
            let hdr = try python("import struct; d=open('\(p)','rb').read(); print(d[:8]==b'\\x89PNG\\r\\n\\x1a\\n', *struct.unpack('>II', d[16:24]), d[25])")
            XCTAssertEqual(hdr, "True 13 9 \(c == 1 ? 0 : 2)")
        }
    }

    func testBadPNG() throws {
        let img = rng.uniformTensor([1, 20, 20])
        let d = try PNG.encode(img)
        write(d.prefix(d.count / 2), "half.png")
        assertThrows(try PNG.read(dir + "/half.png"), containing: "half.png: not a readable PNG")
        write(Data("no png".utf8), "text.png")
        assertThrows(try PNG.read(dir + "/text.png"), containing: "text.png")
        assertThrows(try PNG.encode(Tensor.zeros([2, 4, 4])), containing: "expected an image")
    }

    func testGridLayout() throws {
        let a = Tensor(shape: [2, 1, 4, 4], repeating: 0), b = Tensor(shape: [3, 3, 4, 4], repeating: 1)
        let g = try ImageGrid.make(rows: [a, b], labels: ["ab", "c"], scale: 2, padding: 1, background: 0.5)
        XCTAssertEqual(g.shape[0], 3, "promoted to RGB")
        XCTAssertEqual(g.shape[1], 2 * (4 + 1) * 2 + 2)
        // the first image of the first row is black, the background grey
        let (h, w) = (g.shape[1], g.shape[2])
        let labelW = g.shape[2] - 3 * (4 + 1) * 2 - 2
        XCTAssertEqual(g.data[(0 * h + 2) * w + labelW + 2], 0)
        XCTAssertEqual(g.data[0], 0.5)
        try PNG.write(g, to: dir + "/grid.png")
        XCTAssertEqual(try PNG.read(dir + "/grid.png").shape, g.shape)
    }

    // MARK: IDX and atomic writes

    func testIDXRoundTripAndErrors() throws {
        let bytes = (0..<(3 * 4 * 5)).map { UInt8($0 * 3 % 256) }
        try IDX.writeGzip(shape: [3, 4, 5], bytes: bytes, to: dir + "/x-idx3-ubyte.gz")
        let r = try IDX.read(dir + "/x-idx3-ubyte.gz")
        XCTAssertEqual(r.shape, [3, 4, 5]); XCTAssertEqual(r.bytes, bytes)
        // python's gzip reads ours
        XCTAssertEqual(try python("import gzip; d=gzip.open('\(dir)/x-idx3-ubyte.gz').read(); print(len(d), d[3])"), "76 3")
        let full = try Data(contentsOf: URL(fileURLWithPath: dir + "/x-idx3-ubyte.gz"))
        write(full.prefix(full.count - 10), "trunc-idx.gz")
        assertThrows(try IDX.read(dir + "/trunc-idx.gz"), containing: "trunc-idx.gz")
        try IDX.writeGzip(shape: [3, 4, 6], bytes: bytes, to: dir + "/lies-idx.gz")
        assertThrows(try IDX.read(dir + "/lies-idx.gz"), containing: "promises")
    }

    func testAtomicWriteLeavesNoPartialFile() throws {
        let p = dir + "/keep.npy"
        try Npy.write(Tensor(scalar: 1), to: p)
        assertThrows(try Npy.write(Tensor(scalar: 2), to: dir + "/no/such/dir/x.npy"), containing: "does not exist")
        // unwritable directory (skip when running as root, which can write anywhere)
        let ro = dir + "/ro"
        try FileManager.default.createDirectory(atPath: ro, withIntermediateDirectories: true)
        chmod(ro, 0o500)
        if getuid() != 0 { assertThrows(try Npy.write(Tensor(scalar: 2), to: ro + "/x.npy"), containing: "ro/x.npy: cannot write") }
        chmod(ro, 0o700)
        XCTAssertEqual(try Npy.read(p).data, [1])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    // MARK: helpers

    func write(_ d: Data, _ name: String) { XCTAssert(FileManager.default.createFile(atPath: dir + "/" + name, contents: d)) }
}

func assertThrows<T>(_ body: @autoclosure () throws -> T, containing text: String, file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected an error containing '\(text)'", file: file, line: line)
    } catch let e as ToolError {
        XCTAssert(e.message.contains(text), "error '\(e.message)' does not contain '\(text)'", file: file, line: line)
        XCTAssertFalse(e.message.contains("\n"), "errors are one line", file: file, line: line)
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}
