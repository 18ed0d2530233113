/// 2-D convolution on channels-last (NHWC) feature maps, and the layout changes around it.
///
/// The same convolution as `conv2d` (same PyTorch weight layout `[O, C, kh, kw]`), computed
/// as rows `[N·P, kh·kw·C]` times the weight: the product comes out channels-last, so
/// neither the output nor its gradient needs a transpose, and the rows are built from
/// C-float copies (`Im2row`). `Sequential` runs each stretch of convolutions and element-wise
/// activations this way, changing layout only at the stretch's ends, which is free when the
/// feature maps have one channel (a grey image) or one pixel (paper D's 1×1 latent map).
/// Sums run over the taps in another order than `conv2d`'s, so results agree with it to
/// rounding, not bit for bit.
extension Variable {
    /// `x[N,H,W,C]` ⋆ `w[O,C,kh,kw]` + `b[O]` → `[N,Ho,Wo,O]`.
    ///
    /// Per chunk of images, `ConvTapKernel.forward` (per `TapPlan` group: the group's rows
    /// `[m·Pg, Tg·C]` times its taps' weights `[O, Tg·C]`ᵀ; with one group the product lands
    /// in the output directly); the input gradient is the kernel's adjoint.
    /// With `relu` the op is `relu(conv(x))`, applied to each chunk while it is in cache, and
    /// its backward masks the output gradient chunk by chunk: no separate pass over the
    /// feature maps either way, and the mask runs on both cores with the convolution.
    /// `maxPaddedShare` is `TapPlan`'s threshold for splitting the positions (tests force
    /// both ways).
    public static func conv2dChannelsLast(_ x: Variable, weight w: Variable, bias b: Variable?, geometry g: ConvGeometry,
                                          relu: Bool = false, maxPaddedShare: Double = 0.125) -> Variable {
        let (xv, wv) = (x.value, w.value)
        precondition(xv.rank == 4 && wv.rank == 4 && xv.shape[3] == wv.shape[1]
                     && wv.shape[2] == g.kernel.h && wv.shape[3] == g.kernel.w,
                     "conv2dChannelsLast: input \(xv.shape) does not match weight \(wv.shape)")
        let (h, wd) = (xv.shape[1], xv.shape[2])
        let (oh, ow) = g.convOutput(h: h, w: wd)
        precondition(oh > 0 && ow > 0, "conv2dChannelsLast: input \(h)x\(wd) too small for the kernel")
        let kernel = ConvTapKernel(weight: wv, geometry: g, h: h, w: wd, maxPaddedShare: maxPaddedShare)
        return channelsLastConvolution(x, weight: w, bias: b, kernel: kernel, transposed: false, relu: relu)
    }

    /// The chunk loops both channels-last convolutions share: K (`transposed` false) or Kᵀ
    /// (true) of `kernel`, plus the bias, optionally through a ReLU, and the gradients.
    /// Both cores work on shared buffers, each on its part of the batch (`BatchSplit`), a
    /// cache-sized chunk of images at a time.
    static func channelsLastConvolution(_ x: Variable, weight w: Variable, bias b: Variable?, kernel: ConvTapKernel,
                                        transposed: Bool, relu: Bool) -> Variable {
        let (xv, wv) = (x.value, w.value)
        let n = xv.shape[0]
        // per image: floats in and out, and the output's positions and channels
        let (inF, outF) = transposed ? (kernel.outputFloats, kernel.inputFloats) : (kernel.inputFloats, kernel.outputFloats)
        let outShape = transposed ? [kernel.h, kernel.w, kernel.c] : [kernel.outH, kernel.outW, kernel.o]
        let (positions, width) = (outShape[0] * outShape[1], outShape[2])
        let apply = transposed ? kernel.adjoint : kernel.forward
        let applyAdjoint = transposed ? kernel.forward : kernel.adjoint
        let parts = BatchSplit.ranges(n)
        let out = Tensor(shape: [n] + outShape) { ob in
            xv.data.withUnsafeBufferPointer { xb in
                _ = BatchSplit.map(parts) { r in
                    let out = ob.baseAddress!
                    // bias preloaded row by row, the products added onto it (beta = 1)
                    ChannelsLast.preload(out, rows: (r.lowerBound * positions)..<(r.upperBound * positions), bias: b?.value, width: width)
                    let step = kernel.chunkImages(of: r.count)
                    ChannelsLast.withScratch(kernel.scratchFloats * step) { scratch in
                        for i0 in stride(from: r.lowerBound, to: r.upperBound, by: step) {
                            let m = min(step, r.upperBound - i0)
                            apply(xb.baseAddress! + i0 * inF, m, out + i0 * outF, scratch)
                            if relu { ChannelsLast.relu(out + i0 * outF, m * outF) }
                        }
                    }
                }
            }
        }
        let parents = b.map { [x, w, $0] } ?? [x, w]
        return Variable(out, parents: parents) { gOut in
            let need = ConvNeeds(input: x.requiresGrad, weight: w.requiresGrad, bias: b?.requiresGrad ?? false)
            // zeroed chunk by chunk below, just before the products accumulate into it
            var gx = need.input ? Tensor(shape: xv.shape) { _ in } : Tensor.zeros([0])
            let grads = gx.data.withUnsafeMutableBufferPointer { gxb in
                gOut.data.withUnsafeBufferPointer { gb in xv.data.withUnsafeBufferPointer { xb in out.data.withUnsafeBufferPointer { yb in
                    BatchSplit.map(parts) { r -> ConvGradients in
                        var gbias: Tensor? = need.bias ? Tensor.zeros([width]) : nil
                        guard need.input || need.weight || need.bias else { return ConvGradients() }
                        var groupGrads = need.weight ? kernel.zeroGradients() : []
                        // per image: the masked output gradient (relu) and the kernel's scratch
                        let masked = relu ? outF : 0
                        let step = kernel.chunkImages(of: r.count, extra: masked)
                        ChannelsLast.withScratch((kernel.scratchFloats + masked) * step) { sb in
                            let scratch = sb + masked * step
                            for i0 in stride(from: r.lowerBound, to: r.upperBound, by: step) {
                                let m = min(step, r.upperBound - i0)
                                // the gradient before the relu: zero where the output is
                                let gImages = relu ? ChannelsLast.mask(gb.baseAddress! + i0 * outF, by: yb.baseAddress! + i0 * outF, m * outF, into: sb)
                                                   : gb.baseAddress! + i0 * outF
                                if need.bias { ChannelsLast.addRows(gImages, rows: m * positions, width: width, into: &gbias!) }
                                if need.input {
                                    let dst = gxb.baseAddress! + i0 * inF
                                    dst.initialize(repeating: 0, count: m * inF)
                                    applyAdjoint(gImages, m, dst, scratch)
                                }
                                if need.weight {
                                    // ⟨g, K a⟩: a the image K reads, g the gradient of what K writes
                                    let image = xb.baseAddress! + i0 * inF
                                    if transposed { kernel.weightGradient(image, gImages, images: m, into: &groupGrads, scratch: scratch) }
                                    else { kernel.weightGradient(gImages, image, images: m, into: &groupGrads, scratch: scratch) }
                                }
                            }
                        }
                        return ConvGradients(weight: need.weight ? kernel.weightGradient(of: groupGrads).reshaped(wv.shape) : nil, bias: gbias)
                    }
                } } }
            }
            var result: [Tensor?] = [need.input ? gx : nil, need.weight ? BatchSplit.sum(grads.map { $0.weight! }) : nil]
            if b != nil { result.append(need.bias ? BatchSplit.sum(grads.map { $0.bias! }) : nil) }
            return result
        }
    }

    /// `[N, C, H, W]` → `[N, H, W, C]` (a reshape when C or H·W is 1).
    public func channelsLast() -> Variable {
        let s = shape
        precondition(s.count == 4, "channelsLast needs [N, C, H, W], got \(s)")
        let (n, c, hw) = (s[0], s[1], s[2] * s[3])
        if c == 1 || hw == 1 { return reshaped([n, s[2], s[3], c]) }
        let v = value
        return Variable(Tensor(shape: [n, s[2], s[3], c]) { dst in
            v.data.withUnsafeBufferPointer { Im2col.transposeBlocks($0.baseAddress!, count: n, rows: c, cols: hw, into: dst.baseAddress!) }
        }, parents: [self]) { g in
            [Tensor(shape: s) { dst in g.data.withUnsafeBufferPointer { Im2col.transposeBlocks($0.baseAddress!, count: n, rows: hw, cols: c, into: dst.baseAddress!) } }]
        }
    }

    /// `[N, H, W, C]` → `[N, C, H, W]` (a reshape when C or H·W is 1).
    public func channelsFirst() -> Variable {
        let s = shape
        precondition(s.count == 4, "channelsFirst needs [N, H, W, C], got \(s)")
        let (n, hw, c) = (s[0], s[1] * s[2], s[3])
        if c == 1 || hw == 1 { return reshaped([n, c, s[1], s[2]]) }
        let v = value
        return Variable(Tensor(shape: [n, c, s[1], s[2]]) { dst in
            v.data.withUnsafeBufferPointer { Im2col.transposeBlocks($0.baseAddress!, count: n, rows: hw, cols: c, into: dst.baseAddress!) }
        }, parents: [self]) { g in
            [Tensor(shape: s) { dst in g.data.withUnsafeBufferPointer { Im2col.transposeBlocks($0.baseAddress!, count: n, rows: c, cols: hw, into: dst.baseAddress!) } }]
        }
    }
}

/// The element-wise pieces the channels-last convolutions share.
enum ChannelsLast {
    /// Rows `rows` of a `[·, width]` buffer set to the bias (or zeros).
    static func preload(_ out: UnsafeMutablePointer<Float>, rows: Range<Int>, bias: Tensor?, width: Int) {
        guard let bias else { (out + rows.lowerBound * width).update(repeating: 0, count: rows.count * width); return }
        bias.data.withUnsafeBufferPointer { bb in
            for row in rows { (out + row * width).update(from: bb.baseAddress!, count: width) }
        }
    }

    /// Runs `body` with `count` uninitialised floats.
    static func withScratch(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        var scratch = [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
        scratch.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }

    static func relu(_ x: UnsafeMutablePointer<Float>, _ count: Int) {
        VectorMath.map(x, x, count) { VectorMath.max($0, VectorMath.V(repeating: 0)) }
    }

    /// `g` where `y` > 0, else 0, into `into`; returns `into`.
    static func mask(_ g: UnsafePointer<Float>, by y: UnsafePointer<Float>, _ count: Int, into: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        VectorMath.map2(g, y, into, count) { g, y in VectorMath.V(repeating: 0).replacing(with: g, where: y .> 0) }
        return UnsafePointer(into)
    }

    /// Adds each of `rows` rows of `width` floats into `sum` (a bias gradient).
    static func addRows(_ g: UnsafePointer<Float>, rows: Int, width: Int, into sum: inout Tensor) {
        sum.data.withUnsafeMutableBufferPointer { bb in
            for row in 0..<rows { VectorMath.map2(bb.baseAddress!, g + row * width, bb.baseAddress!, width, +) }
        }
    }
}
