/// Matrix products through `cblas_sgemm`; transposes are passed as BLAS flags, never copied.
extension Variable {
    /// `a[m×k] · b[k×n]`, optionally with either operand transposed.
    public static func matmul(_ a: Variable, _ b: Variable, transA: Bool = false, transB: Bool = false) -> Variable {
        let out = Tensor.matmul(a.value, b.value, transA: transA, transB: transB)
        let (av, bv) = (a.value, b.value)
        return Variable(out, parents: [a, b]) { g in
            // C = op(A) op(B):  dop(A) = G op(B)^T,  dop(B) = op(A)^T G
            var ga: Tensor? = nil, gb: Tensor? = nil
            if a.requiresGrad {
                ga = transA ? Tensor.matmul(bv, g, transA: transB, transB: true)   // dA = op(B) G^T
                            : Tensor.matmul(g, bv, transA: false, transB: !transB) // dA = G op(B)^T
            }
            if b.requiresGrad {
                gb = transB ? Tensor.matmul(g, av, transA: true, transB: transA)    // dB = G^T op(A)
                            : Tensor.matmul(av, g, transA: !transA, transB: false)  // dB = op(A)^T G
            }
            return [ga, gb]
        }
    }

    /// A fully connected layer `x[N×in] · W[out×in]^T + b[out]` in one sgemm,
    /// with the bias preloaded into the output (beta = 1).
    public static func linear(_ x: Variable, weight w: Variable, bias b: Variable?) -> Variable {
        let (xv, wv) = (x.value, w.value)
        precondition(xv.rank == 2 && wv.rank == 2 && xv.shape[1] == wv.shape[1],
                     "linear: input \(xv.shape) does not match weight \(wv.shape)")
        let n = xv.shape[0], fin = xv.shape[1], fout = wv.shape[0]
        var out = Tensor.zeros([n, fout])
        if let b {
            precondition(b.shape == [fout], "linear: bias \(b.shape) does not match \(fout) outputs")
            out.data.withUnsafeMutableBufferPointer { o in
                b.value.data.withUnsafeBufferPointer { bb in
                    for r in 0..<n { UnsafeMutableRawPointer(o.baseAddress! + r * fout).copyMemory(from: bb.baseAddress!, byteCount: fout * 4) }
                }
            }
        }
        xv.data.withUnsafeBufferPointer { xb in
            wv.data.withUnsafeBufferPointer { wb in
                out.data.withUnsafeMutableBufferPointer { ob in
                    BLAS.sgemm(transB: true, m: n, n: fout, k: fin, a: xb.baseAddress!, lda: fin,
                               b: wb.baseAddress!, ldb: fin, beta: b == nil ? 0 : 1, c: ob.baseAddress!, ldc: fout)
                }
            }
        }
        let parents = b.map { [x, w, $0] } ?? [x, w]
        return Variable(out, parents: parents) { g in
            var grads: [Tensor?] = [
                x.requiresGrad ? Tensor.matmul(g, wv) : nil,                   // dX = G W
                w.requiresGrad ? Tensor.matmul(g, xv, transA: true) : nil,     // dW = G^T X
            ]
            if let b { grads.append(b.requiresGrad ? g.columnSums() : nil) }
            return grads
        }
    }
}

extension Tensor {
    /// Matrix product `op(a) · op(b)` through sgemm.
    public static func matmul(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs matrices, got \(a.shape) and \(b.shape)")
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let kb = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
        precondition(k == kb, "matmul: inner dimensions differ (\(a.shape)\(transA ? "ᵀ" : "") · \(b.shape)\(transB ? "ᵀ" : ""))")
        return Tensor(shape: [m, n]) { out in
            a.data.withUnsafeBufferPointer { ab in
                b.data.withUnsafeBufferPointer { bb in
                    BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k,
                               a: ab.baseAddress!, lda: a.shape[1], b: bb.baseAddress!, ldb: b.shape[1],
                               c: out.baseAddress!, ldc: n)
                }
            }
        }
    }

    /// Sums over rows of a matrix (the bias gradient).
    public func columnSums() -> Tensor {
        let (r, c) = (shape[0], shape[1])
        return Tensor(shape: [c]) { out in
            out.initialize(repeating: 0)
            data.withUnsafeBufferPointer { src in
                for i in 0..<r {
                    let row = src.baseAddress! + i * c
                    for j in 0..<c { out[j] += row[j] }
                }
            }
        }
    }
}
