import Foundation

/// Paper A Figure 6 for 2-D latent spaces: for each input an axis-aligned ellipse at its
/// encoder mean with semi-axes its standard deviations (q(z|x) is a diagonal Gaussian),
/// over the prior N(0, I)'s 1, 2 and 3σ circles, on a white canvas. Ellipses are coloured by
/// class label when labels are given.
public enum LatentPlot {
    /// Ten distinguishable colours (the matplotlib "tab10" palette).
    public static let palette: [(Float, Float, Float)] = [
        (0.12, 0.47, 0.71), (1.0, 0.5, 0.05), (0.17, 0.63, 0.17), (0.84, 0.15, 0.16), (0.58, 0.4, 0.74),
        (0.55, 0.34, 0.29), (0.89, 0.47, 0.76), (0.5, 0.5, 0.5), (0.74, 0.74, 0.13), (0.09, 0.75, 0.81),
    ]

    /// A `[3, size, size]` image. `means` and `stds` are `[N, 2]`. The view is [−range, range]²
    /// when `range` is given (so that plots of several models compare), else it holds the
    /// prior's 3σ circle and every ellipse, with a margin.
    public static func render(means: Tensor, stds: Tensor, labels: [Int]? = nil, size: Int = 600, range: Float? = nil) throws -> Tensor {
        guard means.rank == 2, means.shape[1] == 2, stds.shape == means.shape else {
            throw ToolError("latent-plot needs a 2-D latent space, got codes of shape \(means.shape)")
        }
        guard means.isFinite && stds.isFinite else { throw ToolError("latent-plot: the codes contain NaN or infinite values") }
        let n = means.shape[0]
        var extent: Float = 3
        for i in 0..<n {
            extent = max(extent, abs(means.data[2 * i]) + stds.data[2 * i], abs(means.data[2 * i + 1]) + stds.data[2 * i + 1])
        }
        extent = range ?? extent * 1.08
        var img = Tensor(shape: [3, size, size], repeating: 1)
        let plane = size * size
        func toPixel(_ x: Float, _ y: Float) -> (Int, Int) {
            (Int(((x / extent) + 1) / 2 * Float(size - 1)), Int((1 - ((y / extent) + 1) / 2) * Float(size - 1)))
        }
        func dot(_ px: Int, _ py: Int, _ c: (Float, Float, Float), radius: Int = 1) {
            for dy in -radius...radius { for dx in -radius...radius {
                let (x, y) = (px + dx, py + dy)
                guard x >= 0, y >= 0, x < size, y < size else { continue }
                img.data[y * size + x] = c.0; img.data[plane + y * size + x] = c.1; img.data[2 * plane + y * size + x] = c.2
            } }
        }
        func ellipse(cx: Float, cy: Float, rx: Float, ry: Float, colour: (Float, Float, Float), radius: Int) {
            // enough points that neighbouring ones touch
            let steps = max(64, Int(Float(size) * max(rx, ry) / extent * 4))
            for k in 0..<steps {
                let t = Float(k) / Float(steps) * 2 * .pi
                let (px, py) = toPixel(cx + rx * cos(t), cy + ry * sin(t))
                dot(px, py, colour, radius: radius)
            }
        }
        // axes and the prior's 1, 2, 3σ circles
        let grey: (Float, Float, Float) = (0.75, 0.75, 0.75)
        let (ox, oy) = toPixel(0, 0)
        for i in 0..<size { dot(i, oy, grey, radius: 0); dot(ox, i, grey, radius: 0) }
        for r: Float in [1, 2, 3] { ellipse(cx: 0, cy: 0, rx: r, ry: r, colour: (0.35, 0.35, 0.35), radius: 1) }
        for i in 0..<n {
            let c = labels.map { palette[(($0[i] % palette.count) + palette.count) % palette.count] } ?? palette[0]
            ellipse(cx: means.data[2 * i], cy: means.data[2 * i + 1], rx: stds.data[2 * i], ry: stds.data[2 * i + 1], colour: c, radius: 0)
            let (px, py) = toPixel(means.data[2 * i], means.data[2 * i + 1])
            dot(px, py, c, radius: 1)
        }
        return img
    }

    /// The plotted data as tab-separated text with a header, one line per input (mean,
    /// standard deviation, label; −1 without labels), for plotting with axes and a legend
    /// elsewhere (the pipelines use gnuplot).
    public static func table(means: Tensor, stds: Tensor, labels: [Int]? = nil) -> String {
        var out = "mu1\tmu2\tsigma1\tsigma2\tlabel\n"
        for i in 0..<means.shape[0] {
            out += "\(means.data[2 * i])\t\(means.data[2 * i + 1])\t\(stds.data[2 * i])\t\(stds.data[2 * i + 1])\t\(labels?[i] ?? -1)\n"
        }
        return out
    }
}
