/// 2-D convolution and transposed convolution (NCHW, PyTorch weight layouts) via a
/// batched im2col/col2im and one sgemm over the whole batch.
extension Variable {
    /// `x[N,C,H,W]` ⋆ `w[O,C,kh,kw]` + `b[O]` → `[N,O,Ho,Wo]`.
    public static func conv2d(_ x: Variable, weight w: Variable, bias b: Variable?, geometry g: ConvGeometry) -> Variable {
        let (xv, wv) = (x.value, w.value)
        precondition(xv.rank == 4 && wv.rank == 4 && xv.shape[1] == wv.shape[1]
                     && wv.shape[2] == g.kernel.h && wv.shape[3] == g.kernel.w,
                     "conv2d: input \(xv.shape) does not match weight \(wv.shape)")
        let (n, c, h, wd) = (xv.shape[0], xv.shape[1], xv.shape[2], xv.shape[3])
        let o = wv.shape[0]
        let (oh, ow) = g.convOutput(h: h, w: wd)
        precondition(oh > 0 && ow > 0, "conv2d: input \(h)x\(wd) too small for the kernel")
        let p = oh * ow, ckk = c * g.kernel.h * g.kernel.w
        let col = Tensor(shape: [ckk, n * p]) { cb in
            xv.data.withUnsafeBufferPointer { Im2col.im2col($0.baseAddress!, n: n, c: c, h: h, w: wd, geometry: g, outH: oh, outW: ow, into: cb.baseAddress!) }
        }
        // [O, N·P] = W · col, added onto the bias preloaded row by row (beta = 1)
        let outONP = Tensor(shape: [o, n * p]) { ob in
            if let b { for oc in 0..<o { (ob.baseAddress! + oc * n * p).initialize(repeating: b.value.data[oc], count: n * p) } }
            wv.data.withUnsafeBufferPointer { wb in col.data.withUnsafeBufferPointer { cb in
                BLAS.sgemm(m: o, n: n * p, k: ckk, a: wb.baseAddress!, lda: ckk, b: cb.baseAddress!, ldb: n * p,
                           beta: b == nil ? 0 : 1, c: ob.baseAddress!, ldc: n * p)
            } }
        }
        let out = outONP.swapLeadingAxes(a: o, b: n, inner: p).reshaped([n, o, oh, ow])
        let parents = b.map { [x, w, $0] } ?? [x, w]
        return Variable(out, parents: parents) { gOut in
            let gONP = gOut.swapLeadingAxes(a: n, b: o, inner: p).reshaped([o, n * p])
            var gx: Tensor? = nil
            if x.requiresGrad {
                let gcol = Tensor.matmul(wv.reshaped([o, ckk]), gONP, transA: true) // [CKK, N·P]
                gx = Tensor(shape: xv.shape) { xb in
                    xb.initialize(repeating: 0)
                    gcol.data.withUnsafeBufferPointer { Im2col.col2im($0.baseAddress!, n: n, c: c, h: h, w: wd, geometry: g, outH: oh, outW: ow, into: xb.baseAddress!) }
                }
            }
            let gw = w.requiresGrad ? Tensor.matmul(gONP, col, transB: true).reshaped(wv.shape) : nil
            var grads: [Tensor?] = [gx, gw]
            if let b { grads.append(b.requiresGrad ? gONP.rowSums() : nil) }
            return grads
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
        let (n, cin, h, wd) = (xv.shape[0], xv.shape[1], xv.shape[2], xv.shape[3])
        let cout = wv.shape[1]
        let (oh, ow) = g.transposedOutput(h: h, w: wd, outputPadding: outputPadding)
        precondition(oh > 0 && ow > 0, "convTranspose2d: empty output")
        // Check the geometry is the exact adjoint: conv over the output gives back H×W.
        let back = g.convOutput(h: oh, w: ow)
        precondition(back.h == h && back.w == wd, "convTranspose2d: outputPadding \(outputPadding) inconsistent with stride \(g.stride)")
        let p = h * wd, ckk = cout * g.kernel.h * g.kernel.w
        let xCNP = xv.reshaped([n, cin, p]).swapLeadingAxes(a: n, b: cin, inner: p).reshaped([cin, n * p])
        let wMat = wv.reshaped([cin, ckk])
        let col = Tensor.matmul(wMat, xCNP, transA: true)                   // [Cout·k·k, N·P]
        // col2im accumulates onto the bias, preloaded plane by plane
        let out = Tensor(shape: [n, cout, oh, ow]) { ob in
            for i in 0..<n { for c in 0..<cout {
                (ob.baseAddress! + (i * cout + c) * oh * ow).initialize(repeating: b?.value.data[c] ?? 0, count: oh * ow)
            } }
            col.data.withUnsafeBufferPointer { Im2col.col2im($0.baseAddress!, n: n, c: cout, h: oh, w: ow, geometry: g, outH: h, outW: wd, into: ob.baseAddress!) }
        }
        let parents = b.map { [x, w, $0] } ?? [x, w]
        return Variable(out, parents: parents) { gOut in
            let gcol = Tensor(shape: [ckk, n * p]) { cb in
                gOut.data.withUnsafeBufferPointer { Im2col.im2col($0.baseAddress!, n: n, c: cout, h: oh, w: ow, geometry: g, outH: h, outW: wd, into: cb.baseAddress!) }
            }
            var gx: Tensor? = nil
            if x.requiresGrad {
                let gCNP = Tensor.matmul(wMat, gcol)                          // [Cin, N·P]
                gx = gCNP.swapLeadingAxes(a: cin, b: n, inner: p).reshaped(xv.shape)
            }
            let gw = w.requiresGrad ? Tensor.matmul(xCNP, gcol, transB: true).reshaped(wv.shape) : nil
            var grads: [Tensor?] = [gx, gw]
            if let b {
                grads.append(b.requiresGrad ? gOut.channelSums() : nil)
            }
            return grads
        }
    }
}

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
