/// 2-D convolution and transposed convolution (NCHW, PyTorch weight layouts) via batched
/// im2col/col2im and sgemm.
///
/// Each op splits its batch into two parts and runs them concurrently, each
/// with single-threaded BLAS (`BatchSplit`): the products here are small (a 28×28 image
/// shrinks to 1×1), so two BLAS threads on one product mostly wait for each other, and the
/// im2col/col2im work parallelises for free.
extension Variable {
    /// `x[N,C,H,W]` ⋆ `w[O,C,kh,kw]` + `b[O]` → `[N,O,Ho,Wo]`.
    public static func conv2d(_ x: Variable, weight w: Variable, bias b: Variable?, geometry g: ConvGeometry) -> Variable {
        let (xv, wv) = (x.value, w.value)
        precondition(xv.rank == 4 && wv.rank == 4 && xv.shape[1] == wv.shape[1]
                     && wv.shape[2] == g.kernel.h && wv.shape[3] == g.kernel.w,
                     "conv2d: input \(xv.shape) does not match weight \(wv.shape)")
        let (oh, ow) = g.convOutput(h: xv.shape[2], w: xv.shape[3])
        precondition(oh > 0 && ow > 0, "conv2d: input \(xv.shape[2])x\(xv.shape[3]) too small for the kernel")
        let bv = b?.value
        let parts = BatchSplit.parts(xv)
        // im2col's columns are needed again only for the weight gradient
        let keepColumns = Autodiff.isRecording && w.requiresGrad
        let fwd = BatchSplit.map(parts) { Conv.forward($0, wv, bv, g, keepColumns: keepColumns) }
        let out = Tensor.concatRows(fwd.map(\.out))
        let parents = b.map { [x, w, $0] } ?? [x, w]
        return Variable(out, parents: parents) { gOut in
            let need = ConvNeeds(input: x.requiresGrad, weight: w.requiresGrad, bias: b?.requiresGrad ?? false)
            let gParts = BatchSplit.split(gOut, like: parts)
            let grads = BatchSplit.map(Array(zip(parts.indices, gParts))) { i, gp in
                Conv.backward(gp, input: parts[i], col: fwd[i].col, wv, g, need: need)
            }
            return ConvGradients.combine(grads, need: need, hasBias: b != nil)
        }
    }

    /// Transposed convolution (the adjoint of `conv2d` in its input): `x[N,Cin,H,W]`,
    /// `w[Cin,Cout,kh,kw]`, `b[Cout]` → `[N,Cout,Ho,Wo]` with
    /// `Ho = (H-1)·stride - 2·padding + dilation·(kh-1) + outputPadding + 1`.
    public static func convTranspose2d(_ x: Variable, weight w: Variable, bias b: Variable?,
                                       geometry g: ConvGeometry, outputPadding: Int = 0) -> Variable {
        let (xv, wv) = (x.value, w.value)
        precondition(xv.rank == 4 && wv.rank == 4 && xv.shape[1] == wv.shape[0]
                     && wv.shape[2] == g.kernel.h && wv.shape[3] == g.kernel.w,
                     "convTranspose2d: input \(xv.shape) does not match weight \(wv.shape)")
        let (oh, ow) = g.transposedOutput(h: xv.shape[2], w: xv.shape[3], outputPadding: outputPadding)
        precondition(oh > 0 && ow > 0, "convTranspose2d: empty output")
        // the geometry must be the exact adjoint: a convolution over the output gives back H×W
        let back = g.convOutput(h: oh, w: ow)
        precondition(back.h == xv.shape[2] && back.w == xv.shape[3],
                     "convTranspose2d: outputPadding \(outputPadding) inconsistent with stride \(g.stride)")
        let bv = b?.value
        let parts = BatchSplit.parts(xv)
        let out = Tensor.concatRows(BatchSplit.map(parts) { ConvTranspose.forward($0, wv, bv, g, outH: oh, outW: ow) })
        let parents = b.map { [x, w, $0] } ?? [x, w]
        return Variable(out, parents: parents) { gOut in
            let need = ConvNeeds(input: x.requiresGrad, weight: w.requiresGrad, bias: b?.requiresGrad ?? false)
            let gParts = BatchSplit.split(gOut, like: parts)
            let grads = BatchSplit.map(Array(zip(parts.indices, gParts))) { i, gp in
                ConvTranspose.backward(gp, input: parts[i], wv, g, need: need)
            }
            return ConvGradients.combine(grads, need: need, hasBias: b != nil)
        }
    }
}

/// Which gradients a convolution's backward pass computes: only those some leaf asked
/// for (a frozen weight gets no weight-gradient product, an image that needs no
/// gradient no input-gradient product).
struct ConvNeeds { var input: Bool; var weight: Bool; var bias: Bool }

/// Gradients of a convolution for one part of the batch (nil: not asked for).
struct ConvGradients {
    var input: Tensor?, weight: Tensor?, bias: Tensor?

    /// The op's gradients `[input, weight, bias?]` from the parts': input gradients are
    /// stacked, weight and bias gradients summed over the parts.
    static func combine(_ parts: [ConvGradients], need: ConvNeeds, hasBias: Bool) -> [Tensor?] {
        var result: [Tensor?] = [
            need.input ? Tensor.concatRows(parts.map { $0.input! }) : nil,
            need.weight ? BatchSplit.sum(parts.map { $0.weight! }) : nil,
        ]
        if hasBias { result.append(need.bias ? BatchSplit.sum(parts.map { $0.bias! }) : nil) }
        return result
    }
}

/// Convolution on plain tensors: im2col and sgemm over the (part of the) batch, in cache-sized
/// chunks of images where the columns need not be kept.
enum Conv {
    /// The output, and im2col's columns when `keepColumns` (for the weight gradient).
    ///
    /// Columns that are not kept are built a few images at a time (`chunk`), each chunk
    /// multiplied while it is still in cache: for the 14×14 layer of paper D's encoder the
    /// whole part's columns are 14 MB, a chunk's about 1 MB. Frozen weights (attacks, HMC)
    /// take this path.
    static func forward(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: ConvGeometry, keepColumns: Bool) -> (out: Tensor, col: Tensor?) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let o = w.shape[0], (oh, ow) = g.convOutput(h: h, w: wd)
        let p = oh * ow, ckk = c * g.kernel.h * g.kernel.w
        let col = keepColumns ? columns(x, g, outH: oh, outW: ow) : nil
        let step = keepColumns ? n : chunk(floatsPerImage: ckk * p, images: n)
        // [O, N·P] = W · col, added onto the bias preloaded row by row (beta = 1)
        let outONP = Tensor(shape: [o, n * p]) { ob in
            if let b { for oc in 0..<o { (ob.baseAddress! + oc * n * p).initialize(repeating: b.data[oc], count: n * p) } }
            w.data.withUnsafeBufferPointer { wb in
                /// output columns of images i0..<i0+m from their im2col columns
                func multiply(_ cols: UnsafePointer<Float>, _ i0: Int, _ m: Int) {
                    BLAS.sgemm(m: o, n: m * p, k: ckk, a: wb.baseAddress!, lda: ckk, b: cols, ldb: m * p,
                               beta: b == nil ? 0 : 1, c: ob.baseAddress! + i0 * p, ldc: n * p)
                }
                if let col {
                    col.data.withUnsafeBufferPointer { multiply($0.baseAddress!, 0, n) }
                    return
                }
                // every entry is written by im2col before it is read
                var scratch = [Float](unsafeUninitializedCapacity: ckk * step * p) { _, count in count = ckk * step * p }
                x.data.withUnsafeBufferPointer { xb in scratch.withUnsafeMutableBufferPointer { sb in
                    for i0 in stride(from: 0, to: n, by: step) {
                        let m = min(step, n - i0)
                        Im2col.im2col(xb.baseAddress! + i0 * c * h * wd, n: m, c: c, h: h, w: wd, geometry: g, outH: oh, outW: ow, into: sb.baseAddress!)
                        multiply(UnsafePointer(sb.baseAddress!), i0, m)
                    }
                } }
            }
        }
        return (outONP.swapLeadingAxes(a: o, b: n, inner: p).reshaped([n, o, oh, ow]), col)
    }

    /// Images per chunk of columns (`floatsPerImage` each): about 1 MB, at least one image.
    static func chunk(floatsPerImage: Int, images n: Int) -> Int { max(1, min(n, (1 << 18) / max(1, floatsPerImage))) }

    /// im2col of `x` for an output of `oh`×`ow`: `[C·kh·kw, N·oh·ow]`.
    static func columns(_ x: Tensor, _ g: ConvGeometry, outH oh: Int, outW ow: Int) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        return Tensor(shape: [c * g.kernel.h * g.kernel.w, n * oh * ow]) { cb in
            x.data.withUnsafeBufferPointer { Im2col.im2col($0.baseAddress!, n: n, c: c, h: h, w: wd, geometry: g, outH: oh, outW: ow, into: cb.baseAddress!) }
        }
    }

    /// The gradients `need` asks for; `col` is the forward pass's im2col when it kept it
    /// (recomputed otherwise, should a weight be unfrozen between forward and backward).
    static func backward(_ gOut: Tensor, input x: Tensor, col: Tensor?, _ w: Tensor, _ g: ConvGeometry, need: ConvNeeds) -> ConvGradients {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let o = w.shape[0], p = gOut.shape[2] * gOut.shape[3], ckk = c * g.kernel.h * g.kernel.w
        let gONP = gOut.swapLeadingAxes(a: n, b: o, inner: p).reshaped([o, n * p])
        var gx: Tensor? = nil
        if need.input {
            // the column gradient Wᵀ·G [CKK, N·P], a chunk of images at a time, each chunk
            // scattered back (col2im) while it is in cache
            let step = chunk(floatsPerImage: ckk * p, images: n)
            gx = Tensor(shape: x.shape) { xb in
                xb.initialize(repeating: 0)
                // every entry is written by the sgemm (beta = 0) before it is read
                var scratch = [Float](unsafeUninitializedCapacity: ckk * step * p) { _, count in count = ckk * step * p }
                w.data.withUnsafeBufferPointer { wb in gONP.data.withUnsafeBufferPointer { gb in scratch.withUnsafeMutableBufferPointer { sb in
                    for i0 in stride(from: 0, to: n, by: step) {
                        let m = min(step, n - i0)
                        BLAS.sgemm(transA: true, m: ckk, n: m * p, k: o, a: wb.baseAddress!, lda: ckk, b: gb.baseAddress! + i0 * p, ldb: n * p,
                                   c: sb.baseAddress!, ldc: m * p)
                        Im2col.col2im(sb.baseAddress!, n: m, c: c, h: h, w: wd, geometry: g, outH: gOut.shape[2], outW: gOut.shape[3],
                                      into: xb.baseAddress! + i0 * c * h * wd)
                    }
                } } }
            }
        }
        let gw = need.weight ? Tensor.matmul(gONP, col ?? columns(x, g, outH: gOut.shape[2], outW: gOut.shape[3]), transB: true).reshaped(w.shape) : nil
        return ConvGradients(input: gx, weight: gw, bias: need.bias ? gONP.rowSums() : nil)
    }
}

/// Transposed convolution on plain tensors: `col = Wᵀ x` then col2im.
enum ConvTranspose {
    static func forward(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: ConvGeometry, outH oh: Int, outW ow: Int) -> Tensor {
        let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let cout = w.shape[1], p = h * wd
        let xCNP = x.reshaped([n, cin, p]).swapLeadingAxes(a: n, b: cin, inner: p).reshaped([cin, n * p])
        let col = Tensor.matmul(w.reshaped([cin, cout * g.kernel.h * g.kernel.w]), xCNP, transA: true)  // [Cout·k·k, N·P]
        // col2im accumulates onto the bias, preloaded plane by plane
        return Tensor(shape: [n, cout, oh, ow]) { ob in
            for i in 0..<n { for c in 0..<cout {
                (ob.baseAddress! + (i * cout + c) * oh * ow).initialize(repeating: b?.data[c] ?? 0, count: oh * ow)
            } }
            col.data.withUnsafeBufferPointer { Im2col.col2im($0.baseAddress!, n: n, c: cout, h: oh, w: ow, geometry: g, outH: h, outW: wd, into: ob.baseAddress!) }
        }
    }

    static func backward(_ gOut: Tensor, input x: Tensor, _ w: Tensor, _ g: ConvGeometry, need: ConvNeeds) -> ConvGradients {
        let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let cout = w.shape[1], (oh, ow) = (gOut.shape[2], gOut.shape[3])
        let p = h * wd, ckk = cout * g.kernel.h * g.kernel.w
        let wMat = w.reshaped([cin, ckk])
        let gcol = !(need.input || need.weight) ? Tensor.zeros([0]) : Tensor(shape: [ckk, n * p]) { cb in
            gOut.data.withUnsafeBufferPointer { Im2col.im2col($0.baseAddress!, n: n, c: cout, h: oh, w: ow, geometry: g, outH: h, outW: wd, into: cb.baseAddress!) }
        }
        var gx: Tensor? = nil
        if need.input {
            let gCNP = Tensor.matmul(wMat, gcol)                          // [Cin, N·P]
            gx = gCNP.swapLeadingAxes(a: cin, b: n, inner: p).reshaped(x.shape)
        }
        var gw: Tensor? = nil
        if need.weight {
            let xCNP = x.reshaped([n, cin, p]).swapLeadingAxes(a: n, b: cin, inner: p).reshaped([cin, n * p])
            gw = Tensor.matmul(xCNP, gcol, transB: true).reshaped(w.shape)
        }
        return ConvGradients(input: gx, weight: gw, bias: need.bias ? gOut.channelSums() : nil)
    }
}

import Foundation

extension Tensor {
    /// `[A, B, inner] -> [B, A, inner]` (shape returned flat as `[B, A·inner]`; reshape as needed).
    func swapLeadingAxes(a: Int, b: Int, inner: Int) -> Tensor {
        Tensor(shape: [b, a * inner]) { out in
            data.withUnsafeBufferPointer { Im2col.swapLeadingAxes($0.baseAddress!, a: a, b: b, inner: inner, into: out.baseAddress!) }
        }
    }

    /// Per-channel sums of an `[N, C, H, W]` tensor (the bias gradient of a convolution).
    func channelSums() -> Tensor {
        let (n, c) = (shape[0], shape[1]), hw = shape[2] * shape[3]
        return Tensor(shape: [c]) { out in
            out.initialize(repeating: 0)
            data.withUnsafeBufferPointer { src in
                for i in 0..<n { for ch in 0..<c { out[ch] += Reduce.sum(src.baseAddress! + (i * c + ch) * hw, hw) } }
            }
        }
    }

    /// Sums over columns of a matrix.
    func rowSums() -> Tensor {
        let (r, c) = (shape[0], shape[1])
        return Tensor(shape: [r]) { out in
            data.withUnsafeBufferPointer { src in
                for i in 0..<r { out[i] = Reduce.sum(src.baseAddress! + i * c, c) }
            }
        }
    }
}
