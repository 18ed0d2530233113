/// Colour MNIST (paper D section 5, following Cemgil et al.): each MNIST digit coloured
/// with one of the seven non-black corners of the RGB cube, chosen at random (with a
/// fixed seed per split, so the dataset is the same everywhere).
public enum ColorMNIST {
    public static let colors: [(r: Float, g: Float, b: Float)] = [
        (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 0, 1), (0, 1, 1), (1, 1, 1),
    ]
    public static let colorNames = ["red", "green", "blue", "yellow", "magenta", "cyan", "white"]

    /// Colours a grey `[N, 1, H, W]` dataset into `[N, 3, H, W]`, adding colour labels.
    public static func colorize(_ grey: Dataset, seed: UInt64) -> Dataset {
        let (n, h, w) = (grey.count, grey.images.shape[2], grey.images.shape[3])
        var rng = RNG(seed: seed)
        let choice = (0..<n).map { _ in rng.int(below: colors.count) }
        let hw = h * w
        let images = Tensor(shape: [n, 3, h, w]) { out in
            grey.images.data.withUnsafeBufferPointer { src in
                for i in 0..<n {
                    let c = colors[choice[i]]
                    for (ch, f) in [c.r, c.g, c.b].enumerated() {
                        for p in 0..<hw { out[(i * 3 + ch) * hw + p] = src[i * hw + p] * f }
                    }
                }
            }
        }
        return Dataset(images: images, labels: grey.labels, colorLabels: choice, classCount: grey.classCount, source: grey.source)
    }
}
