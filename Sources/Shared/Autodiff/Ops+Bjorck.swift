import Foundation

/// Björck orthonormalisation (paper A Algorithm 1 and Appendix B.1; Björck & Bowie 1971,
/// as used by Anil et al. 2019). The order-1 step
///
///     W ← 1.5 W − 0.5 W (WᵀW)
///
/// drives every singular value of W towards 1 (it converges for singular values in
/// (0, √3); start from a matrix scaled inside that range). When W has more columns
/// than rows the equal form `1.5 W − 0.5 (W Wᵀ) W` is used, so the Gram matrix is the
/// smaller of the two. The iterations are built from differentiable ops, so the
/// gradient flows through every one of them.
public enum BjorckScaling: String, Codable, Sendable {
    /// No pre-scaling (the authors' default): diverges if a singular value exceeds √5.
    case none
    /// Divide by √(rows·cols) first (the authors' "safe scaling"), which bounds every
    /// singular value by the largest entry.
    case safe
    /// Scale only when the matrix is far from orthonormal (‖G − I‖_F ≥ 1 for the Gram G),
    /// by 1/√‖G‖_∞, a Gershgorin bound on the largest singular value: then every
    /// singular value is at most 1 and the iteration always converges. A near-orthonormal
    /// matrix (singular values within (0, √2)) is left alone.
    case auto
}

extension Variable {
    /// Björck-orthonormalises a matrix with at most `iterations` order-1 steps, stopping
    /// early once ‖G − I‖_F < `tolerance` (0: always run every iteration). A Gram matrix
    /// within tolerance bounds the largest singular value by √(1 + tolerance).
    public func bjorckOrthonormalized(iterations: Int, scaling: BjorckScaling = .none, tolerance: Float = 0) -> Variable {
        precondition(shape.count == 2, "Björck needs a matrix, got \(shape)")
        let (rows, cols) = (shape[0], shape[1])
        let tall = rows >= cols
        func gram(_ w: Variable) -> Variable {
            tall ? Variable.matmul(w, w, transA: true) : Variable.matmul(w, w, transB: true)
        }
        var w: Variable = self
        if scaling == .safe { w = w / Float(rows * cols).squareRoot() }
        var g: Variable? = nil
        if scaling == .auto || tolerance > 0 {
            g = gram(w)
            let dev = Tensor.identityDeviation(g!.value)
            if scaling == .auto && dev >= 1 {
                // Gershgorin: σ_max² ≤ max row sum of |G|; the factor is a constant (no gradient)
                let c = 1 / g!.value.maxAbsRowSum().squareRoot()
                w = w * c
                g = g! * (c * c)
            } else if tolerance > 0 && dev < tolerance {
                return w
            }
        }
        for i in 0..<iterations {
            let gi = g ?? gram(w)
            g = nil
            w = tall ? 1.5 * w - 0.5 * Variable.matmul(w, gi) : 1.5 * w - 0.5 * Variable.matmul(gi, w)
            if tolerance > 0 && i + 1 < iterations {
                let next = gram(w)
                if Tensor.identityDeviation(next.value) < tolerance { break }
                g = next
            }
        }
        return w
    }
}

extension Variable {
    /// The identity on an orthonormal matrix Q whose gradient is projected onto the tangent
    /// space of the orthonormal matrices at Q: G ↦ G − Q·sym(QᵀG) for Q with at least as many
    /// rows as columns, G ↦ G − sym(GQᵀ)·Q otherwise, sym(A) = (A + Aᵀ)/2. This is exactly
    /// the Jacobian of one Björck step (and so of any number of them) at Q (see
    /// `BjorckGradient.tangent`).
    public func stiefelTangentGradient() -> Variable {
        precondition(shape.count == 2, "a tangent projection needs a matrix, got \(shape)")
        let q = value, tall = shape[0] >= shape[1]
        return Variable(q, parents: [self]) { g in
            if tall {
                let a = Tensor.matmul(q, g, transA: true)                      // QᵀG
                let sym = (a + a.transposed()) * 0.5
                return [g - Tensor.matmul(q, sym)]
            }
            let a = Tensor.matmul(g, q, transB: true)                          // GQᵀ
            let sym = (a + a.transposed()) * 0.5
            return [g - Tensor.matmul(sym, q)]
        }
    }
}

extension Tensor {
    /// The same iteration on a plain matrix (no graph): for evaluation-time refinement.
    public func bjorckOrthonormalized(iterations: Int, scaling: BjorckScaling = .none, tolerance: Float = 0) -> Tensor {
        Autodiff.withoutGradients { Variable(self).bjorckOrthonormalized(iterations: iterations, scaling: scaling, tolerance: tolerance).value }
    }

    /// ‖G − I‖_F for a square matrix G.
    public static func identityDeviation(_ g: Tensor) -> Float {
        let n = g.shape[0]
        var s: Double = 0
        g.data.withUnsafeBufferPointer { b in
            for i in 0..<n { for j in 0..<n { let d = Double(b[i * n + j]) - (i == j ? 1 : 0); s += d * d } }
        }
        return Float(s.squareRoot())
    }

    /// max_i Σ_j |a_ij|.
    public func maxAbsRowSum() -> Float {
        let (r, c) = (shape[0], shape[1])
        var best: Float = 0
        data.withUnsafeBufferPointer { b in
            for i in 0..<r {
                var s: Float = 0
                for j in 0..<c { s += Swift.abs(b[i * c + j]) }
                best = Swift.max(best, s)
            }
        }
        return best
    }

    /// A certified upper bound on the largest singular value, for matrices near orthonormal
    /// (Björck layers): with G the smaller Gram matrix (WᵀW or WWᵀ) computed in double
    /// precision, σ_max² = ‖G‖₂ ≤ min(1 + ‖G − I‖_F, max_i Σ_j |G_ij|) (the triangle
    /// inequality, and Gershgorin's theorem). A margin of 1e-9 covers the double-precision
    /// rounding of G, and the result is rounded up to Float. Power iteration (`spectralNorm`)
    /// only gives a lower bound.
    public func spectralNormUpperBound() -> Float {
        precondition(rank == 2)
        let (r, c) = (shape[0], shape[1]), n = Swift.min(r, c)
        let w = data.map(Double.init)
        var g = [Double](repeating: 0, count: n * n)
        w.withUnsafeBufferPointer { wb in g.withUnsafeMutableBufferPointer { gb in
            // G = WᵀW (n = cols) or WWᵀ (n = rows), row-major W of r×c
            BLAS.dgemm(transA: r >= c, transB: r < c, m: n, n: n, k: Swift.max(r, c), a: wb.baseAddress!, lda: c,
                       b: wb.baseAddress!, ldb: c, c: gb.baseAddress!, ldc: n)
        } }
        var frob = 0.0, gersh = 0.0
        for i in 0..<n {
            var row = 0.0
            for j in 0..<n {
                let v = g[i * n + j]
                row += Swift.abs(v)
                let d = v - (i == j ? 1 : 0); frob += d * d
            }
            gersh = Swift.max(gersh, row)
        }
        let bound = (Swift.min(1 + frob.squareRoot(), gersh) + 1e-9).squareRoot()
        return Float(bound).nextUp
    }

    /// Largest singular value of a matrix by power iteration on WᵀW (deterministic start).
    public func spectralNorm(iterations: Int = 200) -> Float {
        precondition(rank == 2)
        let cols = shape[1]
        var v = Tensor(shape: [cols, 1], data: (0..<cols).map { Float(1 + ($0 % 7)) })
        var sigma: Float = 0
        for _ in 0..<iterations {
            let wv = Tensor.matmul(self, v)
            let u = Tensor.matmul(self, wv, transA: true)
            let norm = u.data.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            if norm == 0 { return 0 }
            v = u * (1 / norm)
            sigma = norm.squareRoot()
        }
        let wv = Tensor.matmul(self, v)
        return Swift.max(sigma, wv.data.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot())
    }
}
