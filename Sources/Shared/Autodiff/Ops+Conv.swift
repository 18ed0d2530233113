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
        let shape = ConvShape(input: xv.shape, output: wv.shape[0], geometry: g, outH: oh, outW: ow)
        let bv = b?.value
        let parts = BatchSplit.ranges(xv.shape[0])
        let out = Tensor(shape: [shape.n, shape.o, oh, ow]) { ob in
            xv.data.withUnsafeBufferPointer { xb in wv.data.withUnsafeBufferPointer { wb in
                withOptionalBuffer(bv) { bb in
                    _ = BatchSplit.map(parts) { r in Conv.forward(xb.baseAddress!, wb.baseAddress!, bb, shape, images: r, into: ob.baseAddress!) }
                }
            } }
        }
        let parents = b.map { [x, w, $0] } ?? [x, w]
        return Variable(out, parents: parents) { gOut in
            let need = ConvNeeds(input: x.requiresGrad, weight: w.requiresGrad, bias: b?.requiresGrad ?? false)
            // col2im accumulates into the input gradient
            var gx = need.input ? Tensor.zeros(xv.shape) : Tensor.zeros([0])
            let grads = gx.data.withUnsafeMutableBufferPointer { gxb in
                gOut.data.withUnsafeBufferPointer { gb in xv.data.withUnsafeBufferPointer { xb in wv.data.withUnsafeBufferPointer { wb in
                    BatchSplit.map(parts) { r in
                        Conv.backward(gb.baseAddress!, input: xb.baseAddress!, wb.baseAddress!, shape, images: r, need: need,
                                      inputGradient: need.input ? gxb.baseAddress! : nil)
                    }
                } } }
            }
            var result: [Tensor?] = [need.input ? gx : nil, need.weight ? BatchSplit.sum(grads.map { $0.weight! }).reshaped(wv.shape) : nil]
            if b != nil { result.append(need.bias ? BatchSplit.sum(grads.map { $0.bias! }) : nil) }
            return result
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
    var input: Tensor? = nil, weight: Tensor? = nil, bias: Tensor? = nil

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

/// The sizes of one convolution: input `[N, C, H, W]`, `O` output channels of `Ho`×`Wo`.
struct ConvShape {
    let n: Int, c: Int, h: Int, w: Int, o: Int, geometry: ConvGeometry, outH: Int, outW: Int
    init(input s: [Int], output o: Int, geometry: ConvGeometry, outH: Int, outW: Int) {
        (n, c, h, w) = (s[0], s[1], s[2], s[3])
        self.o = o; self.geometry = geometry; self.outH = outH; self.outW = outW
    }
    /// Output positions per image, and rows of the column matrix (C·kh·kw).
    var p: Int { outH * outW }
    var ckk: Int { c * geometry.kernel.h * geometry.kernel.w }
    /// Images per chunk so that a chunk's scratch (`floatsPerImage` each) stays near 512 KB,
    /// half a core's 1 MB L2 cache here (the rest holds sgemm's packed panels): the chunk's
    /// columns are built, multiplied and scattered while they are still there.
    static func images(floatsPerImage: Int, of images: Int, budget: Int = 1 << 17) -> Int { max(1, min(images, budget / max(1, floatsPerImage))) }
}

/// Calls `body` with the tensor's buffer, or nil.
func withOptionalBuffer<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let t else { return body(nil) }
    return t.data.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Convolution on raw buffers: im2col and sgemm a chunk of images at a time, every chunk
/// built, multiplied and moved into place while it is in cache. Each call handles the images
/// `images` of the batch and reads and writes only their rows, so the two parts of a batch run
/// concurrently on one shared input and output (`BatchSplit`).
enum Conv {
    /// The output rows of `images`: im2col of a chunk → `[C·kh·kw, m·P]`, sgemm with the
    /// weight → `[O, m·P]`, then each image's `[O, P]` block, plus the bias, into the NCHW
    /// output.
    static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>?, _ s: ConvShape,
                        images: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let (p, ckk, o) = (s.p, s.ckk, s.o)
        let step = ConvShape.images(floatsPerImage: (ckk + o) * p, of: images.count)
        // every scratch entry is written (im2col, sgemm with beta = 0) before it is read
        var scratch = [Float](unsafeUninitializedCapacity: (ckk + o) * step * p) { _, count in count = (ckk + o) * step * p }
        scratch.withUnsafeMutableBufferPointer { sb in
            let col = sb.baseAddress!, prod = sb.baseAddress! + ckk * step * p
            for i0 in stride(from: images.lowerBound, to: images.upperBound, by: step) {
                let m = min(step, images.upperBound - i0)
                Im2col.im2col(x + i0 * s.c * s.h * s.w, n: m, c: s.c, h: s.h, w: s.w, geometry: s.geometry, outH: s.outH, outW: s.outW, into: col)
                BLAS.sgemm(m: o, n: m * p, k: ckk, a: w, lda: ckk, b: col, ldb: m * p, c: prod, ldc: m * p)
                for j in 0..<m {
                    for oc in 0..<o {
                        let src = prod + oc * m * p + j * p, dst = out + ((i0 + j) * o + oc) * p
                        let bias = b?[oc] ?? 0
                        for q in 0..<p { dst[q] = src[q] + bias }
                    }
                }
            }
        }
    }

    /// The gradients `need` asks for, for the images `images`, a chunk at a time: the output
    /// gradient's `[O, m·P]` block is gathered from NCHW; the weight gradient adds G·colᵀ over
    /// chunks (im2col recomputed per chunk: nothing is kept from the forward pass); the input
    /// gradient is Wᵀ·G scattered back by col2im into `inputGradient` (zeroed by the caller).
    static func backward(_ gOut: UnsafePointer<Float>, input x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ s: ConvShape,
                         images: Range<Int>, need: ConvNeeds, inputGradient gx: UnsafeMutablePointer<Float>?) -> ConvGradients {
        let (p, ckk, o) = (s.p, s.ckk, s.o)
        var gw: Tensor? = need.weight ? Tensor.zeros([o, ckk]) : nil
        var gb: Tensor? = need.bias ? Tensor.zeros([o]) : nil
        guard need.input || need.weight || need.bias else { return ConvGradients() }
        let floats = o + (need.weight ? ckk : 0) + (need.input ? ckk : 0)
        let step = ConvShape.images(floatsPerImage: floats * p, of: images.count)
        var scratch = [Float](unsafeUninitializedCapacity: floats * step * p) { _, count in count = floats * step * p }
        scratch.withUnsafeMutableBufferPointer { sb in
            let g = sb.baseAddress!
            let col = g + o * step * p, dcol = col + (need.weight ? ckk * step * p : 0)
            for i0 in stride(from: images.lowerBound, to: images.upperBound, by: step) {
                let m = min(step, images.upperBound - i0)
                for j in 0..<m {
                    for oc in 0..<o {
                        UnsafeMutableRawPointer(g + oc * m * p + j * p)
                            .copyMemory(from: gOut + ((i0 + j) * o + oc) * p, byteCount: p * MemoryLayout<Float>.size)
                    }
                }
                if need.bias {
                    gb!.data.withUnsafeMutableBufferPointer { bb in for oc in 0..<o { bb[oc] += Reduce.sum(g + oc * m * p, m * p) } }
                }
                if need.weight {
                    Im2col.im2col(x + i0 * s.c * s.h * s.w, n: m, c: s.c, h: s.h, w: s.w, geometry: s.geometry, outH: s.outH, outW: s.outW, into: col)
                    gw!.data.withUnsafeMutableBufferPointer { wb in
                        BLAS.sgemm(transB: true, m: o, n: ckk, k: m * p, a: g, lda: m * p, b: col, ldb: m * p,
                                   beta: 1, c: wb.baseAddress!, ldc: ckk)
                    }
                }
                if need.input, let gx {
                    BLAS.sgemm(transA: true, m: ckk, n: m * p, k: o, a: w, lda: ckk, b: g, ldb: m * p, c: dcol, ldc: m * p)
                    Im2col.col2im(dcol, n: m, c: s.c, h: s.h, w: s.w, geometry: s.geometry, outH: s.outH, outW: s.outW,
                                  into: gx + i0 * s.c * s.h * s.w)
                }
            }
        }
        return ConvGradients(input: nil, weight: gw, bias: gb)
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
}
