/// A set of images with optional labels: what every tool consumes wherever it takes images.
public struct Dataset {
    /// `[N, C, H, W]`, values in [0, 1].
    public var images: Tensor
    /// Class labels (digits, clothing items, …), one per image.
    public var labels: [Int]?
    /// Colour labels for color-mnist (0..<7, see `ColorMNIST.colors`).
    public var colorLabels: [Int]?
    /// Number of classes of `labels` (10 for the MNIST family).
    public var classCount: Int?
    /// Where the images came from (the spec text), for messages and metadata.
    public var source: String

    public init(images: Tensor, labels: [Int]? = nil, colorLabels: [Int]? = nil, classCount: Int? = nil, source: String) {
        self.images = images; self.labels = labels; self.colorLabels = colorLabels
        self.classCount = classCount; self.source = source
    }

    public var count: Int { images.shape[0] }
    /// `[C, H, W]` of one image.
    public var imageShape: [Int] { Array(images.shape.dropFirst()) }

    /// The error for images that do not fit a model expecting `expected` (`[C, H, W]`). Rows of
    /// a `[N, D]` file that is no square image (latent codes given as `--input`, say) are named
    /// as such, not by the `[1, 1, D]` shape they were read into.
    public func shapeMismatch(expected: [Int], model: String) -> ToolError {
        let seen = imageShape.count == 3 && imageShape[0] == 1 && imageShape[1] == 1
            ? "rows of \(imageShape[2]) values, not images" : "images of shape \(imageShape)"
        return ToolError("\(source) has \(seen), \(model) expects images of shape \(expected)")
    }

    /// The images and labels at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        Dataset(images: images.gatherRows(indices), labels: labels.map { l in indices.map { l[$0] } },
                colorLabels: colorLabels.map { l in indices.map { l[$0] } }, classCount: classCount, source: source)
    }
}

/// Picks reference points spread evenly over classes (paper D uses 50: 5 per class).
public enum Stratified {
    /// `count` indices, `count / K` from each of the K classes present (the remainder going to
    /// the smallest class ids), drawn without replacement with `seed`; returned class by class,
    /// in increasing index order within a class. Throws when a class has too few members.
    public static func indices(labels: [Int], count: Int, seed: UInt64) throws -> [Int] {
        let classes = Array(Set(labels)).sorted()
        guard !classes.isEmpty else { throw ToolError("stratified selection needs labelled data") }
        var rng = RNG(seed: seed)
        var picked: [Int] = []
        for (k, c) in classes.enumerated() {
            let want = count / classes.count + (k < count % classes.count ? 1 : 0)
            var members = labels.indices.filter { labels[$0] == c }
            guard members.count >= want else {
                throw ToolError.usage("stratified selection: class \(c) has \(members.count) images, \(want) wanted")
            }
            rng.shuffle(&members)
            picked += members.prefix(want).sorted()
        }
        return picked
    }
}

extension Tensor {
    /// Each value p in [0, 1] replaced by a draw from Bernoulli(p): 1 when a uniform draw in
    /// [0, 1) falls below p. Paper D trains and tests on MNIST and Fashion-MNIST binarised this
    /// way (its data loaders apply `torch.bernoulli` to every image when it is loaded).
    public func binarized(rng: inout RNG) -> Tensor {
        var out = self
        out.data.withUnsafeMutableBufferPointer { b in
            for i in 0..<b.count { b[i] = rng.uniform() < b[i] ? 1 : 0 }
        }
        return out
    }
}
