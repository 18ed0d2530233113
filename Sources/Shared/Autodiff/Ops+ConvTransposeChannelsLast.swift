/// 2-D transposed convolution on channels-last (NHWC) feature maps: the adjoint of a
/// channels-last convolution, run by that convolution's own kernel the other way round
/// (`ConvTapKernel`): no col2im and no layout change inside the decoder.
extension Variable {
    /// `x[N,H,W,Cin]`, `w[Cin,Cout,kh,kw]` (PyTorch's layout), `b[Cout]` → `[N,Ho,Wo,Cout]`,
    /// the same map as `convTranspose2d` with
    /// `Ho = (H-1)·stride - 2·padding + dilation·(kh-1) + outputPadding + 1`.
    ///
    /// With K the convolution from `[Ho, Wo, Cout]` to `[H, W, Cin]` of this geometry and
    /// weight: the output is Kᵀx + b, the input gradient K g, and the weight gradient K's
    /// weight gradient with image and output gradient exchanged. `relu` and
    /// `maxPaddedShare` as in `conv2dChannelsLast` (the taps that would land in the
    /// padding are skipped when they are more than that share of the products).
    public static func convTranspose2dChannelsLast(_ x: Variable, weight w: Variable, bias b: Variable?, geometry g: ConvGeometry,
                                                   outputPadding: Int = 0, relu: Bool = false,
                                                   maxPaddedShare: Double = 0.125) -> Variable {
        let (xv, wv) = (x.value, w.value)
        precondition(xv.rank == 4 && wv.rank == 4 && xv.shape[3] == wv.shape[0]
                     && wv.shape[2] == g.kernel.h && wv.shape[3] == g.kernel.w,
                     "convTranspose2dChannelsLast: input \(xv.shape) does not match weight \(wv.shape)")
        let (h, wd) = (xv.shape[1], xv.shape[2])
        let (oh, ow) = g.transposedOutput(h: h, w: wd, outputPadding: outputPadding)
        precondition(oh > 0 && ow > 0, "convTranspose2dChannelsLast: empty output")
        let kernel = ConvTapKernel(weight: wv, geometry: g, h: oh, w: ow, maxPaddedShare: maxPaddedShare)
        precondition(kernel.outH == h && kernel.outW == wd,
                     "convTranspose2dChannelsLast: outputPadding \(outputPadding) inconsistent with stride \(g.stride)")
        return channelsLastConvolution(x, weight: w, bias: b, kernel: kernel, transposed: true, relu: relu)
    }
}
