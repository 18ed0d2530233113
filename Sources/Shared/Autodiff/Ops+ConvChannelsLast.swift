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
    /// Per chunk of images and per `TapPlan` group: the group's rows `[m·Pg, Tg·C]` times
    /// its taps' weights `[O, Tg·C]`ᵀ. With one group the product lands in the output
    /// directly; otherwise each group's rows of O go to their positions.
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
        let (n, h, wd, c) = (xv.shape[0], xv.shape[1], xv.shape[2], xv.shape[3])
        let (oh, ow) = g.convOutput(h: h, w: wd)
        precondition(oh > 0 && ow > 0, "conv2dChannelsLast: input \(h)x\(wd) too small for the kernel")
        let (o, p, taps) = (wv.shape[0], oh * ow, g.kernel.h * g.kernel.w)
        let k = taps * c
        let plan = TapPlan(h: h, w: wd, geometry: g, outH: oh, outW: ow, maxPaddedShare: maxPaddedShare)
        // each group's weight [O, Tg·C], taps in the rows' order, channels innermost
        let groupWeights = plan.groups.map { group in
            Tensor(shape: [o, group.taps.count * c]) { dst in
                for oc in 0..<o { for (ti, t) in group.taps.enumerated() { for ci in 0..<c {
                    dst[(oc * group.taps.count + ti) * c + ci] = wv.data[(oc * c + ci) * taps + t]
                } } }
            }
        }
        // scratch per image: the largest group's rows, and its product when the plan splits
        let groupRows = plan.groups.map { $0.positions.count * $0.taps.count * c }.max()!, groupPositions = plan.groups.map { $0.positions.count }.max()!
        let chunkFloats = groupRows + (plan.direct ? 0 : groupPositions * o)
        let bv = b?.value
        let parts = BatchSplit.ranges(n)
        let out = Tensor(shape: [n, oh, ow, o]) { ob in
            xv.data.withUnsafeBufferPointer { xb in
                _ = BatchSplit.map(parts) { r in
                    let out = ob.baseAddress!
                    // bias preloaded row by row, the products added onto it (beta = 1)
                    for row in (r.lowerBound * p)..<(r.upperBound * p) {
                        if let bv { bv.data.withUnsafeBufferPointer { (out + row * o).update(from: $0.baseAddress!, count: o) } }
                        else { (out + row * o).update(repeating: 0, count: o) }
                    }
                    let step = ConvShape.images(floatsPerImage: chunkFloats, of: r.count, budget: 1 << 19)
                    var scratch = [Float](unsafeUninitializedCapacity: chunkFloats * step) { _, count in count = chunkFloats * step }
                    scratch.withUnsafeMutableBufferPointer { sb in
                        let rows = sb.baseAddress!, prod = rows + groupRows * step
                        for i0 in stride(from: r.lowerBound, to: r.upperBound, by: step) {
                            let m = min(step, r.upperBound - i0)
                            for (gi, group) in plan.groups.enumerated() {
                                let (pg, kg) = (group.positions.count, group.taps.count * c)
                                TapPlan.im2row(xb.baseAddress! + i0 * h * wd * c, n: m, c: c, h: h, w: wd, group: group, into: rows)
                                groupWeights[gi].data.withUnsafeBufferPointer { wb in
                                    if plan.direct {
                                        BLAS.sgemm(transB: true, m: m * pg, n: o, k: kg, a: rows, lda: kg, b: wb.baseAddress!, ldb: kg,
                                                   beta: 1, c: out + i0 * p * o, ldc: o)
                                        return
                                    }
                                    BLAS.sgemm(transB: true, m: m * pg, n: o, k: kg, a: rows, lda: kg, b: wb.baseAddress!, ldb: kg, c: prod, ldc: o)
                                    for j in 0..<m { for (qi, q) in group.positions.enumerated() {
                                        let dst = out + ((i0 + j) * p + q) * o
                                        VectorMath.map2(dst, prod + (j * pg + qi) * o, dst, o, +)
                                    } }
                                }
                            }
                            if relu {
                                let chunk = out + i0 * p * o
                                VectorMath.map(chunk, chunk, m * p * o) { VectorMath.max($0, VectorMath.V(repeating: 0)) }
                            }
                        }
                    }
                }
            }
        }
        let parents = b.map { [x, w, $0] } ?? [x, w]
        return Variable(out, parents: parents) { gOut in
            let need = ConvNeeds(input: x.requiresGrad, weight: w.requiresGrad, bias: b?.requiresGrad ?? false)
            // zeroed chunk by chunk below, just before row2im accumulates into it
            var gx = need.input ? Tensor(shape: xv.shape) { _ in } : Tensor.zeros([0])
            let grads = gx.data.withUnsafeMutableBufferPointer { gxb in
                gOut.data.withUnsafeBufferPointer { gb in xv.data.withUnsafeBufferPointer { xb in
                    BatchSplit.map(parts) { r -> ConvGradients in
                        var gbias: Tensor? = need.bias ? Tensor.zeros([o]) : nil
                        guard need.input || need.weight || need.bias else { return ConvGradients() }
                        // per group: its weight gradient [O, Tg·C], scattered into [O, C, kh, kw] below
                        var groupGrads = need.weight ? groupWeights.map { Tensor.zeros($0.shape) } : []
                        // scratch per image: the masked output gradient (relu), the rows, their
                        // gradient, and a split plan's gathered gradient rows
                        let floats = (relu ? p * o : 0) + (need.weight ? groupRows : 0) + (need.input ? groupRows : 0) + (plan.direct ? 0 : groupPositions * o)
                        let step = ConvShape.images(floatsPerImage: floats, of: r.count, budget: 1 << 19)
                        var scratch = [Float](unsafeUninitializedCapacity: floats * step) { _, count in count = floats * step }
                        scratch.withUnsafeMutableBufferPointer { sb in
                            let masked = sb.baseAddress!, rows = masked + (relu ? p * o * step : 0)
                            let dRows = rows + (need.weight ? groupRows * step : 0)
                            let gathered = dRows + (need.input ? groupRows * step : 0)
                            for i0 in stride(from: r.lowerBound, to: r.upperBound, by: step) {
                                let m = min(step, r.upperBound - i0)
                                // the gradient before the relu: zero where the output is
                                var gImages = UnsafePointer(gb.baseAddress! + i0 * p * o)
                                if relu {
                                    out.data.withUnsafeBufferPointer { yb in
                                        VectorMath.map2(gImages, yb.baseAddress! + i0 * p * o, masked, m * p * o) { g, y in
                                            VectorMath.V(repeating: 0).replacing(with: g, where: y .> 0)
                                        }
                                    }
                                    gImages = UnsafePointer(masked)
                                }
                                if need.bias {
                                    gbias!.data.withUnsafeMutableBufferPointer { bb in
                                        for row in 0..<(m * p) { VectorMath.map2(bb.baseAddress!, gImages + row * o, bb.baseAddress!, o, +) }
                                    }
                                }
                                guard need.input || need.weight else { continue }
                                if need.input { (gxb.baseAddress! + i0 * h * wd * c).initialize(repeating: 0, count: m * h * wd * c) }
                                for (gi, group) in plan.groups.enumerated() {
                                    let (pg, kg) = (group.positions.count, group.taps.count * c)
                                    // the output gradient's rows of this group's positions
                                    var gRows = gImages
                                    if !plan.direct {
                                        for j in 0..<m { for (qi, q) in group.positions.enumerated() {
                                            TapPlan.copy(gImages + (j * p + q) * o, gathered + (j * pg + qi) * o, o)
                                        } }
                                        gRows = UnsafePointer(gathered)
                                    }
                                    if need.weight {
                                        TapPlan.im2row(xb.baseAddress! + i0 * h * wd * c, n: m, c: c, h: h, w: wd, group: group, into: rows)
                                        groupGrads[gi].data.withUnsafeMutableBufferPointer { wgb in
                                            BLAS.sgemm(transA: true, m: o, n: kg, k: m * pg, a: gRows, lda: o, b: rows, ldb: kg, beta: 1, c: wgb.baseAddress!, ldc: kg)
                                        }
                                    }
                                    if need.input {
                                        groupWeights[gi].data.withUnsafeBufferPointer { wb in
                                            BLAS.sgemm(m: m * pg, n: kg, k: o, a: gRows, lda: o, b: wb.baseAddress!, ldb: kg, c: dRows, ldc: kg)
                                        }
                                        TapPlan.row2im(dRows, n: m, c: c, h: h, w: wd, group: group, into: gxb.baseAddress! + i0 * h * wd * c)
                                    }
                                }
                            }
                        }
                        guard need.weight else { return ConvGradients(bias: gbias) }
                        // back to [O, C, kh, kw]
                        let gw = Tensor(shape: wv.shape) { dst in
                            dst.initialize(repeating: 0)
                            for (gi, group) in plan.groups.enumerated() {
                                for oc in 0..<o { for (ti, t) in group.taps.enumerated() { for ci in 0..<c {
                                    dst[(oc * c + ci) * taps + t] += groupGrads[gi].data[(oc * group.taps.count + ti) * c + ci]
                                } } }
                            }
                        }
                        return ConvGradients(weight: gw, bias: gbias)
                    }
                } }
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
