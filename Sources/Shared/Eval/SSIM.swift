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
        /// The pytorch-msssim variant behind paper D's tables: a 14-tap window (taps at
        /// −7…6) shrunk to the image at each scale, 2×2 average pooling that zero-pads odd
        /// sizes on both sides, ReLU on each scale's terms, and the final product
        /// Π_{j<5} cs_j^{w_j} · ssim_5^{4·w_5} (the last scale's SSIM raised to four times its
        /// weight and the fifth CS dropped: an upstream bug, fixed later).
        case kuzina
    }

    public static let weights: [Double] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    static let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03

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

    /// Mean SSIM and mean CS of one channel at one scale.
    static func ssimCS(_ x: [Double], _ y: [Double], h: Int, w: Int, windowSize: Int) -> (ssim: Double, cs: Double) {
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

    /// 2×2 average down-sampling: `padOdd` zero-pads odd sizes on both sides (pytorch's
    /// avg_pool2d with padding 1, counting the pad), otherwise odd sizes are cropped.
    static func downsample(_ x: [Double], h: Int, w: Int, padOdd: Bool) -> (values: [Double], h: Int, w: Int) {
        let ph = padOdd ? h % 2 : 0, pw = padOdd ? w % 2 : 0
        let oh = (h + 2 * ph - 2) / 2 + 1, ow = (w + 2 * pw - 2) / 2 + 1
        func at(_ i: Int, _ j: Int) -> Double { i < 0 || j < 0 || i >= h || j >= w ? 0 : x[i * w + j] }
        var out = [Double](repeating: 0, count: oh * ow)
        for i in 0..<oh { for j in 0..<ow {
            let (i0, j0) = (2 * i - ph, 2 * j - pw)
            out[i * ow + j] = (at(i0, j0) + at(i0, j0 + 1) + at(i0 + 1, j0) + at(i0 + 1, j0 + 1)) / 4
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

    /// MS-SSIM of two `[C, H, W]` images (mean over channels).
    public static func msssim(_ a: Tensor, _ b: Tensor, variant: Variant = .standard) throws -> Double {
        try checkPair(a, b)
        let windowSize = variant == .kuzina ? 14 : 11
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
                    let dx = downsample(x, h: h, w: w, padOdd: variant == .kuzina), dy = downsample(y, h: h, w: w, padOdd: variant == .kuzina)
                    (x, y, h, w) = (dx.values, dy.values, dx.h, dx.w)
                }
            }
            var ms = 1.0
            switch variant {
            case .standard:
                for j in 0..<(weights.count - 1) { ms *= pow(cs[j], weights[j]) }
                ms *= pow(last, weights[weights.count - 1])
            case .kuzina:
                for j in 0..<(weights.count - 1) { ms *= pow(cs[j], weights[j]) * pow(last, weights[weights.count - 1]) }
            }
            total += ms
        }
        return total / Double(a.shape[0])
    }
}
