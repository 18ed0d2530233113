/// Geometry of a 2-D convolution (PyTorch conventions: stride, zero padding, dilation).
public struct ConvGeometry: Equatable, Sendable {
    public var kernel: (h: Int, w: Int)
    public var stride: Int
    public var padding: Int
    public var dilation: Int

    public init(kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
        self.kernel = (kernel, kernel); self.stride = stride; self.padding = padding; self.dilation = dilation
    }
    public init(kernelH: Int, kernelW: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
        self.kernel = (kernelH, kernelW); self.stride = stride; self.padding = padding; self.dilation = dilation
    }
    public static func == (a: ConvGeometry, b: ConvGeometry) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding && a.dilation == b.dilation
    }

    /// Output size of a convolution over an input of size `h`×`w`.
    public func convOutput(h: Int, w: Int) -> (h: Int, w: Int) {
        ((h + 2 * padding - dilation * (kernel.h - 1) - 1) / stride + 1,
         (w + 2 * padding - dilation * (kernel.w - 1) - 1) / stride + 1)
    }

    /// Output size of a transposed convolution over an input of size `h`×`w`.
    public func transposedOutput(h: Int, w: Int, outputPadding: Int) -> (h: Int, w: Int) {
        ((h - 1) * stride - 2 * padding + dilation * (kernel.h - 1) + outputPadding + 1,
         (w - 1) * stride - 2 * padding + dilation * (kernel.w - 1) + outputPadding + 1)
    }
}

/// im2col / col2im over a whole batch, so one large sgemm serves the batch.
///
/// Column layout: `col[(c·kh + i)·kw + j][n·P + oh·Wo + ow]` with `P = Ho·Wo`, i.e. a
/// `[C·kh·kw, N·P]` matrix.
public enum Im2col {
    public static func im2col(_ x: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int,
                              geometry g: ConvGeometry, outH: Int, outW: Int,
                              into col: UnsafeMutablePointer<Float>) {
        let p = outH * outW
        let np = n * p
        for ci in 0..<c {
            for ki in 0..<g.kernel.h {
                // output rows whose input row lies inside the image, and likewise columns:
                // computed once per kernel tap, so the inner loops carry no bounds tests
                let rowOff = ki * g.dilation - g.padding
                let (rlo, rhi) = validRange(offset: rowOff, stride: g.stride, width: h, count: outH)
                for kj in 0..<g.kernel.w {
                    let colOff = kj * g.dilation - g.padding
                    let (lo, hi) = validRange(offset: colOff, stride: g.stride, width: w, count: outW)
                    let row = col + ((ci * g.kernel.h + ki) * g.kernel.w + kj) * np
                    for b in 0..<n {
                        let src = x + (b * c + ci) * h * w
                        let dst = row + b * p
                        if rlo > 0 { dst.initialize(repeating: 0, count: rlo * outW) }
                        for oh in rlo..<max(rlo, rhi) {
                            let drow = dst + oh * outW
                            let srow = src + (oh * g.stride + rowOff) * w
                            if lo > 0 { drow.initialize(repeating: 0, count: lo) }
                            if g.stride == 1 {
                                if hi > lo { (drow + lo).update(from: srow + lo + colOff, count: hi - lo) }
                            } else {
                                for ow in lo..<max(lo, hi) { drow[ow] = srow[ow * g.stride + colOff] }
                            }
                            if hi < outW { (drow + max(lo, hi)).initialize(repeating: 0, count: outW - max(lo, hi)) }
                        }
                        let done = max(rlo, rhi)
                        if done < outH { (dst + done * outW).initialize(repeating: 0, count: (outH - done) * outW) }
                    }
                }
            }
        }
    }

    /// Adds columns back into image positions (the adjoint of `im2col`); `x` must be
    /// initialised (zeros, or a bias to accumulate onto).
    public static func col2im(_ col: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int,
                              geometry g: ConvGeometry, outH: Int, outW: Int,
                              into x: UnsafeMutablePointer<Float>) {
        let p = outH * outW
        let np = n * p
        for ci in 0..<c {
            for ki in 0..<g.kernel.h {
                let rowOff = ki * g.dilation - g.padding
                let (rlo, rhi) = validRange(offset: rowOff, stride: g.stride, width: h, count: outH)
                for kj in 0..<g.kernel.w {
                    let colOff = kj * g.dilation - g.padding
                    let (lo, hi) = validRange(offset: colOff, stride: g.stride, width: w, count: outW)
                    guard hi > lo else { continue }
                    let row = col + ((ci * g.kernel.h + ki) * g.kernel.w + kj) * np
                    for b in 0..<n {
                        let dst = x + (b * c + ci) * h * w
                        let src = row + b * p
                        for oh in rlo..<max(rlo, rhi) {
                            let drow = dst + (oh * g.stride + rowOff) * w + colOff
                            let srow = src + oh * outW
                            if g.stride == 1 {
                                for ow in lo..<hi { drow[ow] += srow[ow] }
                            } else {
                                for ow in lo..<hi { drow[ow * g.stride] += srow[ow] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The output positions `lo..<hi` whose input column `ow·stride + offset` lies in `0..<width`,
    /// so the inner loops need no per-element bounds test.
    @inline(__always)
    static func validRange(offset: Int, stride: Int, width: Int, count: Int) -> (Int, Int) {
        // smallest ow with ow·s + off ≥ 0, and smallest ow with ow·s + off ≥ width
        let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let hi = width - offset <= 0 ? 0 : (width - offset + stride - 1) / stride
        return (min(lo, count), min(hi, count))
    }

    /// Swaps the first two axes of a `[A, B, inner]` block layout into `[B, A, inner]`.
    public static func swapLeadingAxes(_ src: UnsafePointer<Float>, a: Int, b: Int, inner: Int,
                                       into dst: UnsafeMutablePointer<Float>) {
        for i in 0..<a {
            for j in 0..<b {
                UnsafeMutableRawPointer(dst + (j * a + i) * inner)
                    .copyMemory(from: src + (i * b + j) * inner, byteCount: inner * MemoryLayout<Float>.size)
            }
        }
    }
}
