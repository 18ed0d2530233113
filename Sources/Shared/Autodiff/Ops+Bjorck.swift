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
    /// No pre-scaling (the authors' default).
    case none
    /// Divide by √(rows·cols) first, which bounds every singular value by the largest entry.
    case safe
}

extension Variable {
    public func bjorckOrthonormalized(iterations: Int, scaling: BjorckScaling = .none) -> Variable {
        precondition(shape.count == 2, "Björck needs a matrix, got \(shape)")
        let (rows, cols) = (shape[0], shape[1])
        var w: Variable = self
        if scaling == .safe { w = w / Float(rows * cols).squareRoot() }
        for _ in 0..<iterations {
            if rows >= cols {
                let gram = Variable.matmul(w, w, transA: true)          // WᵀW: cols×cols
                w = 1.5 * w - 0.5 * Variable.matmul(w, gram)
            } else {
                let gram = Variable.matmul(w, w, transB: true)          // WWᵀ: rows×rows
                w = 1.5 * w - 0.5 * Variable.matmul(gram, w)
            }
        }
        return w
    }
}

extension Tensor {
    /// The same iteration on a plain matrix (no graph): for evaluation-time refinement.
    public func bjorckOrthonormalized(iterations: Int, scaling: BjorckScaling = .none) -> Tensor {
        Autodiff.withoutGradients { Variable(self).bjorckOrthonormalized(iterations: iterations, scaling: scaling).value }
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
