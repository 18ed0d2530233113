/// Colour MNIST, as paper D builds it (its `datasets/color_mnist.py`, following "Adversarially
/// robust representations with smooth encoders"): every MNIST digit coloured with all seven
/// non-black corners of the RGB cube, so 60k × 7 training and 10k × 7 test images. The seven
/// versions of a digit are consecutive (image 7i + c is digit i in colour c); the colour
/// labels 0-6 run blue (0,0,1), green (0,1,0), cyan (0,1,1), red (1,0,0), magenta (1,0,1),
/// yellow (1,1,0), white (1,1,1): the corners (r, g, b) in binary order without black. Digit
/// labels repeat seven times.
///
/// Only the images asked for are built: `mnist:test` is 31 MB of floats, its colour
/// version 220 MB, and a range or a stratified subset needs a few of them.
public enum ColorMNIST {
    public static let colors: [(r: Float, g: Float, b: Float)] = [
        (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1),
    ]
    public static let colorNames = ["blue", "green", "cyan", "red", "magenta", "yellow", "white"]

    /// The coloured images `indices` (into the 7N-image set) of a grey `[N, 1, H, W]` dataset,
    /// with digit and colour labels.
    public static func build(_ grey: Dataset, indices: [Int]) -> Dataset {
        let (h, w) = (grey.images.shape[2], grey.images.shape[3]), hw = h * w
        let images = Tensor(shape: [indices.count, 3, h, w]) { out in
            grey.images.data.withUnsafeBufferPointer { src in
                for (k, i) in indices.enumerated() {
                    let c = colors[i % 7], plane = src.baseAddress! + (i / 7) * hw
                    for (ch, f) in [c.r, c.g, c.b].enumerated() {
                        let dst = out.baseAddress! + (k * 3 + ch) * hw
                        for p in 0..<hw { dst[p] = plane[p] * f }
                    }
                }
            }
        }
        return Dataset(images: images, labels: grey.labels.map { l in indices.map { l[$0 / 7] } },
                       colorLabels: indices.map { $0 % 7 }, classCount: grey.classCount, source: grey.source)
    }

    /// Digit and colour labels of all 7N images (cheap: no pixels), for ranges and
    /// stratification before anything is built.
    public static func labels(_ grey: Dataset) -> (digits: [Int]?, colors: [Int]) {
        let n7 = grey.count * 7
        return (grey.labels.map { l in (0..<n7).map { l[$0 / 7] } }, (0..<n7).map { $0 % 7 })
    }

    /// The older single-colour form (`color-mnist-single`): each digit once, in one of the
    /// seven colours drawn at random with a fixed seed per split.
    public static func colorizeOnce(_ grey: Dataset, seed: UInt64) -> Dataset {
        var rng = RNG(seed: seed)
        let indices = (0..<grey.count).map { $0 * 7 + rng.int(below: colors.count) }
        return build(grey, indices: indices)
    }
}
