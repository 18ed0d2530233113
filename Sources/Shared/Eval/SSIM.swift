import Foundation

/// SSIM (Wang et al. 2004) and MS-SSIM (Wang, Simoncelli & Bovik 2003) for images in [0, 1]
/// (data range 1), computed in Double. Colour images are averaged over channels.
///
/// Each scale computes, with a normalised Gaussian window G (σ = 1.5) over the "valid"
/// region (no padding):
///     μx = G∗x, σx² = G∗x² − μx², σxy = G∗xy − μxμy,
///     l = (2μxμy + C1)/(μx² + μy² + C1),  cs = (2σxy + C2)/(σx² + σy² + C2),
/// C1 = (0.01)², C2 = (0.03)², and SSIM is the mean of l·cs, CS the mean of cs.
///
/// Small images: 28×28 cannot hold five scales of an 11-pixel window, so at every scale the
/// window shrinks to fit the image (to min(11, H, W) taps, the Gaussian renormalised). With
/// 2×2 average down-sampling (odd sizes drop their last row/column) a 28×28 image is seen at
/// 28, 14, 7, 3 and 1 pixels.
public enum SSIM {
    public enum Variant: String, CaseIterable, Sendable {
        /// Wang et al. with the fitted window described above.
        case standard
        /// Paper D's tables: its code calls `msssim(img1, img2, window_size=14,
        /// normalize='relu')` of jorge-pessoa's pytorch-msssim (not the later VainF package),
        /// one pair at a time. Ported exactly: at each of the five scales a Gaussian window
        /// of min(14, H, W) taps (σ = 1.5, centred at size//2), a valid convolution, the value
        /// range L = (255 if max > 128 else 1) − (−1 if min < −0.5 else 0) read from the first
        /// image as it is at that scale, SSIM and CS as means over all channels and pixels (a
        /// colour image is one 3-channel tensor, not three images), ReLU on both, then
        /// `avg_pool2d(·, (2, 2))`, which crops odd sizes (28 → 14 → 7 → 3 → 1); the result is
        /// `prod(mcs[:-1]**w[:-1] * ssim[-1]**w[-1])` = Π_{j<4} cs_j^{w_j} · ssim_5^{4·w_5}
        /// (the last scale's SSIM raised to four times its weight and the fifth CS dropped, as
        /// in that version of the function). The copy paper D's code imports skips the pooling
        /// of a 1×1 image after the last scale (which PyTorch refuses); so does this.
        case kuzina
    }

    public static let weights: [Double] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]

    /// A normalised 1-D Gaussian of `size` taps centred at size/2 (pytorch-msssim's layout).
    static func window(size: Int, sigma: Double = 1.5) -> [Double] {
        let g = (0..<size).map { i -> Double in let c = Double(i - size / 2); return Foundation.exp(-c * c / (2 * sigma * sigma)) }
        let s = g.reduce(0, +)
        return g.map { $0 / s }
    }

    /// Valid separable filtering of an h×w plane.
    static func filter(_ x: [Double], h: Int, w: Int, _ g: [Double]) -> (values: [Double], h: Int, w: Int) {
        let k = g.count, oh = h - k + 1, ow = w - k + 1
        var rows = [Double](repeating: 0, count: h * ow)
        for i in 0..<h { for j in 0..<ow { var s = 0.0; for t in 0..<k { s += g[t] * x[i * w + j + t] }; rows[i * ow + j] = s } }
        var out = [Double](repeating: 0, count: oh * ow)
        for i in 0..<oh { for j in 0..<ow { var s = 0.0; for t in 0..<k { s += g[t] * rows[(i + t) * ow + j] }; out[i * ow + j] = s } }
        return (out, oh, ow)
    }

    /// Mean SSIM and mean CS of one channel at one scale, for data range `range`
    /// (C1 = (0.01·range)², C2 = (0.03·range)²).
    static func ssimCS(_ x: [Double], _ y: [Double], h: Int, w: Int, windowSize: Int, range: Double = 1) -> (ssim: Double, cs: Double) {
        let c1 = (0.01 * range) * (0.01 * range), c2 = (0.03 * range) * (0.03 * range)
        let g = window(size: max(1, min(windowSize, h, w)))
        let mx = filter(x, h: h, w: w, g).values, my = filter(y, h: h, w: w, g).values
        let xx = filter(x.map { $0 * $0 }, h: h, w: w, g).values, yy = filter(y.map { $0 * $0 }, h: h, w: w, g).values
        let xy = filter(zip(x, y).map(*), h: h, w: w, g).values
        var s = 0.0, c = 0.0
        for i in 0..<mx.count {
            let sxx = xx[i] - mx[i] * mx[i], syy = yy[i] - my[i] * my[i], sxy = xy[i] - mx[i] * my[i]
            let cs = (2 * sxy + c2) / (sxx + syy + c2)
            let l = (2 * mx[i] * my[i] + c1) / (mx[i] * mx[i] + my[i] * my[i] + c1)
            s += l * cs; c += cs
        }
        return (s / Double(mx.count), c / Double(mx.count))
    }

    /// 2×2 average down-sampling; odd sizes drop their last row or column (pytorch's
    /// `avg_pool2d(x, (2, 2))`). A 1-pixel side stays 1 pixel (nothing is left to pool).
    static func downsample(_ x: [Double], h: Int, w: Int) -> (values: [Double], h: Int, w: Int) {
        guard h >= 2 && w >= 2 else { return (x, h, w) }
        let oh = h / 2, ow = w / 2
        var out = [Double](repeating: 0, count: oh * ow)
        for i in 0..<oh { for j in 0..<ow {
            out[i * ow + j] = (x[2 * i * w + 2 * j] + x[2 * i * w + 2 * j + 1] + x[(2 * i + 1) * w + 2 * j] + x[(2 * i + 1) * w + 2 * j + 1]) / 4
        } }
        return (out, oh, ow)
    }

    /// Planes of a `[C, H, W]` tensor as Double arrays.
    static func planes(_ t: Tensor) -> [[Double]] {
        let (c, hw) = (t.shape[0], t.shape[1] * t.shape[2])
        return (0..<c).map { ch in (0..<hw).map { Double(t.data[ch * hw + $0]) } }
    }

    static func checkPair(_ a: Tensor, _ b: Tensor) throws {
        guard a.shape == b.shape, a.rank == 3 else { throw ToolError("SSIM needs two images of the same [C, H, W] shape, got \(a.shape) and \(b.shape)") }
    }

    /// SSIM of two `[C, H, W]` images (mean over channels).
    public static func ssim(_ a: Tensor, _ b: Tensor, windowSize: Int = 11) throws -> Double {
        try checkPair(a, b)
        let (pa, pb) = (planes(a), planes(b))
        return zip(pa, pb).map { ssimCS($0, $1, h: a.shape[1], w: a.shape[2], windowSize: windowSize).ssim }.reduce(0, +) / Double(pa.count)
    }

    /// MS-SSIM of two `[C, H, W]` images: for `.standard` the mean over channels of each
    /// channel's MS-SSIM, for `.kuzina` paper D's function (see `Variant`).
    public static func msssim(_ a: Tensor, _ b: Tensor, variant: Variant = .standard) throws -> Double {
        try checkPair(a, b)
        if variant == .kuzina { return kuzinaMSSSIM(a, b) }
        let windowSize = 11
        var total = 0.0
        for (xa, xb) in zip(planes(a), planes(b)) {
            var (x, y, h, w) = (xa, xb, a.shape[1], a.shape[2])
            var cs: [Double] = [], last = 0.0
            for scale in 0..<weights.count {
                let r = ssimCS(x, y, h: h, w: w, windowSize: windowSize)
                // negative terms cannot take fractional powers: clamp at 0 (ReLU) in both variants
                cs.append(max(r.cs, 0))
                last = max(r.ssim, 0)
                if scale < weights.count - 1 {
                    let dx = downsample(x, h: h, w: w), dy = downsample(y, h: h, w: w)
                    (x, y, h, w) = (dx.values, dy.values, dx.h, dx.w)
                }
            }
            var ms = 1.0
            for j in 0..<(weights.count - 1) { ms *= pow(cs[j], weights[j]) }
            ms *= pow(last, weights[weights.count - 1])
            total += ms
        }
        return total / Double(a.shape[0])
    }

    /// Paper D's MS-SSIM (`Variant.kuzina`), step by step as the published function.
    static func kuzinaMSSSIM(_ a: Tensor, _ b: Tensor) -> Double {
        var (xs, ys, h, w) = (planes(a), planes(b), a.shape[1], a.shape[2])
        var ssims: [Double] = [], mcs: [Double] = []
        for _ in 0..<weights.count {
            // the value range, read from the first image as it is at this scale
            let hi = xs.map { $0.max() ?? 0 }.max() ?? 0, lo = xs.map { $0.min() ?? 0 }.min() ?? 0
            let range = (hi > 128 ? 255.0 : 1.0) - (lo < -0.5 ? -1.0 : 0.0)
            // means over all channels and pixels (every channel has the same pixel count)
            var s = 0.0, c = 0.0
            for (x, y) in zip(xs, ys) { let r = ssimCS(x, y, h: h, w: w, windowSize: 14, range: range); s += r.ssim; c += r.cs }
            ssims.append(max(s / Double(xs.count), 0)); mcs.append(max(c / Double(xs.count), 0))
            let dx = xs.map { downsample($0, h: h, w: w) }, dy = ys.map { downsample($0, h: h, w: w) }
            (xs, ys, h, w) = (dx.map(\.values), dy.map(\.values), dx[0].h, dx[0].w)
        }
        let last = weights.count - 1
        return (0..<last).reduce(1.0) { $0 * pow(mcs[$1], weights[$1]) * pow(ssims[last], weights[last]) }
    }
}
