/// One channels-last convolution K, from `[H, W, C]` images to `[Ho, Wo, O]` (weight
/// `[O, C, kh, kw]`, PyTorch's layout), as its three products on a chunk of images:
///
/// - `forward`:  out += rows(a) · Wᵀ          (K a; im2row of C-float runs, sgemm)
/// - `adjoint`:  a += row2im(g · W)            (Kᵀ g; sgemm, then C-float runs added back)
/// - `weightGradient`: ∂W += gᵀ · rows(a)      (the gradient of ⟨g, K a⟩ in W)
///
/// Per `TapPlan` group: rows `[m·Pg, Tg·C]` of the group's positions and taps times the
/// group's weight `[O, Tg·C]`. A convolution (`conv2dChannelsLast`) runs forward and uses the
/// adjoint for its input gradient; a transposed convolution (`convTranspose2dChannelsLast`) is
/// K's adjoint, so it runs them the other way round: its forward is K's adjoint, its input
/// gradient K's forward, and its weight gradient K's with the roles of image and gradient
/// exchanged (a transposed convolution's weight `[Cin, Cout, kh, kw]` is K's `[O, C, kh, kw]`
/// with O = Cin, C = Cout). One mechanism serves both and no col2im is needed.
struct ConvTapKernel {
    let plan: TapPlan
    /// K's input size `h`×`w`×`c` and output size `outH`×`outW`×`o`.
    let h: Int, w: Int, c: Int, outH: Int, outW: Int, o: Int
    let taps: Int
    /// Each group's weight `[O, Tg·C]`, taps in the rows' order, channels innermost.
    let groupWeights: [Tensor]
    /// Floats per image of the largest group's rows, and the largest group's position count
    /// (its gathered gradient rows are `[Pg, O]`).
    let groupRows: Int, groupPositions: Int

    init(weight wv: Tensor, geometry g: ConvGeometry, h: Int, w: Int, maxPaddedShare: Double) {
        let (o, c) = (wv.shape[0], wv.shape[1])
        let (oh, ow) = g.convOutput(h: h, w: w)
        let plan = TapPlan(h: h, w: w, geometry: g, outH: oh, outW: ow, maxPaddedShare: maxPaddedShare)
        let taps = g.kernel.h * g.kernel.w
        self.plan = plan
        (self.h, self.w, self.c, self.outH, self.outW, self.o, self.taps) = (h, w, c, oh, ow, o, taps)
        groupWeights = plan.groups.map { group in
            Tensor(shape: [o, group.taps.count * c]) { dst in
                wv.data.withUnsafeBufferPointer { src in
                    for oc in 0..<o { for (ti, t) in group.taps.enumerated() { for ci in 0..<c {
                        dst[(oc * group.taps.count + ti) * c + ci] = src[(oc * c + ci) * taps + t]
                    } } }
                }
            }
        }
        groupRows = plan.groups.map { $0.positions.count * $0.taps.count * c }.max()!
        groupPositions = plan.groups.map { $0.positions.count }.max()!
    }

    /// Floats per image of K's input and output.
    var inputFloats: Int { h * w * c }
    var outputFloats: Int { outH * outW * o }
    /// Scratch floats per image that any of the three products needs: a group's rows (or
    /// their gradient), then its product or gathered gradient rows when the plan splits.
    var scratchFloats: Int { groupRows + (plan.direct ? 0 : groupPositions * o) }

    /// out[m images] += K a. `out` must be initialised (a bias, or zeros).
    func forward(_ a: UnsafePointer<Float>, _ m: Int, _ out: UnsafeMutablePointer<Float>, _ scratch: UnsafeMutablePointer<Float>) {
        let p = outH * outW
        let rows = scratch, prod = scratch + groupRows * m
        for (gi, group) in plan.groups.enumerated() {
            let (pg, kg) = (group.positions.count, group.taps.count * c)
            TapPlan.im2row(a, n: m, c: c, h: h, w: w, group: group, into: rows)
            groupWeights[gi].data.withUnsafeBufferPointer { wb in
                if plan.direct {
                    BLAS.sgemm(transB: true, m: m * pg, n: o, k: kg, a: rows, lda: kg, b: wb.baseAddress!, ldb: kg, beta: 1, c: out, ldc: o)
                    return
                }
                BLAS.sgemm(transB: true, m: m * pg, n: o, k: kg, a: rows, lda: kg, b: wb.baseAddress!, ldb: kg, c: prod, ldc: o)
                for j in 0..<m { for (qi, q) in group.positions.enumerated() {
                    let dst = out + (j * p + q) * o
                    VectorMath.map2(dst, prod + (j * pg + qi) * o, dst, o, +)
                } }
            }
        }
    }

    /// The rows `[m·Pg, O]` of `g` (m images of `[Ho, Wo, O]`) at the group's positions:
    /// `g` itself when the plan is direct, else gathered into `into`.
    private func gradientRows(_ g: UnsafePointer<Float>, images m: Int, group: TapPlan.Group, into: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        if plan.direct { return g }
        let (p, pg) = (outH * outW, group.positions.count)
        for j in 0..<m { for (qi, q) in group.positions.enumerated() {
            TapPlan.copy(g + (j * p + q) * o, into + (j * pg + qi) * o, o)
        } }
        return UnsafePointer(into)
    }

    /// a[m images] += Kᵀ g. `a` must be initialised.
    func adjoint(_ g: UnsafePointer<Float>, _ m: Int, _ a: UnsafeMutablePointer<Float>, _ scratch: UnsafeMutablePointer<Float>) {
        let dRows = scratch, gathered = scratch + groupRows * m
        for (gi, group) in plan.groups.enumerated() {
            let (pg, kg) = (group.positions.count, group.taps.count * c)
            let gRows = gradientRows(g, images: m, group: group, into: gathered)
            groupWeights[gi].data.withUnsafeBufferPointer { wb in
                BLAS.sgemm(m: m * pg, n: kg, k: o, a: gRows, lda: o, b: wb.baseAddress!, ldb: kg, c: dRows, ldc: kg)
            }
            TapPlan.row2im(dRows, n: m, c: c, h: h, w: w, group: group, into: a)
        }
    }

    /// Adds the gradient of ⟨g, K a⟩ in K's weight, over m images, to `grads` (one tensor
    /// per group, shaped like `groupWeights`; see `zeroGradients` and `weightGradient(of:)`).
    func weightGradient(_ g: UnsafePointer<Float>, _ a: UnsafePointer<Float>, images m: Int, into grads: inout [Tensor],
                        scratch: UnsafeMutablePointer<Float>) {
        let rows = scratch, gathered = scratch + groupRows * m
        for (gi, group) in plan.groups.enumerated() {
            let (pg, kg) = (group.positions.count, group.taps.count * c)
            let gRows = gradientRows(g, images: m, group: group, into: gathered)
            TapPlan.im2row(a, n: m, c: c, h: h, w: w, group: group, into: rows)
            grads[gi].data.withUnsafeMutableBufferPointer { wgb in
                BLAS.sgemm(transA: true, m: o, n: kg, k: m * pg, a: gRows, lda: o, b: rows, ldb: kg, beta: 1, c: wgb.baseAddress!, ldc: kg)
            }
        }
    }

    /// Zeroed per-group weight gradients for `weightGradient`.
    func zeroGradients() -> [Tensor] { groupWeights.map { Tensor.zeros($0.shape) } }

    /// Per-group weight gradients back in the layout `[O, C, kh, kw]`.
    func weightGradient(of grads: [Tensor]) -> Tensor {
        Tensor(shape: [o, c, taps]) { dst in
            dst.initialize(repeating: 0)
            for (gi, group) in plan.groups.enumerated() {
                grads[gi].data.withUnsafeBufferPointer { src in
                    for oc in 0..<o { for (ti, t) in group.taps.enumerated() { for ci in 0..<c {
                        dst[(oc * c + ci) * taps + t] += src[(oc * group.taps.count + ti) * c + ci]
                    } } }
                }
            }
        }
    }

    /// Images per chunk of a part of `count` images, when each image also needs `extra`
    /// floats of its own scratch: near 2 MB per chunk.
    func chunkImages(of count: Int, extra: Int = 0) -> Int {
        ConvShape.images(floatsPerImage: scratchFloats + extra, of: count, budget: 1 << 19)
    }
}
