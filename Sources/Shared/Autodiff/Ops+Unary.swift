import Foundation

/// Elementwise nonlinearities, each with its derivative. The log-domain ones
/// (softplus, logSigmoid) use the stable forms of `Stable`.
extension Variable {
    /// Applies `f` and back-propagates with `df(x, y)`, the derivative at input x with output y.
    @inlinable
    public func elementwise(_ f: (Float) -> Float, derivative df: @escaping (Float, Float) -> Float) -> Variable {
        let x = value
        let y = x.map(f)
        return Variable(y, parents: [self]) { g in
            [Tensor(shape: x.shape) { out in
                g.data.withUnsafeBufferPointer { gb in
                    x.data.withUnsafeBufferPointer { xb in
                        y.data.withUnsafeBufferPointer { yb in
                            for i in 0..<gb.count { out[i] = gb[i] * df(xb[i], yb[i]) }
                        }
                    }
                }
            }]
        }
    }

    public func exp() -> Variable {
        let y = value.vmap { VectorMath.exp($0) }
        return Variable(y, parents: [self]) { g in [g.vmap2(y) { $0 * $1 }] }
    }
    public func log() -> Variable { elementwise({ Foundation.log($0) }, derivative: { x, _ in 1 / x }) }
    public func sqrt() -> Variable { elementwise({ Foundation.sqrt($0) }, derivative: { _, y in 0.5 / y }) }
    public func square() -> Variable { elementwise({ $0 * $0 }, derivative: { x, _ in 2 * x }) }
    public func abs() -> Variable {
        elementwise({ Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) })
    }
    /// ReLU, with a dedicated backward loop (the hot activation of every standard VAE:
    /// the generic path's per-element closure call costs ~8x here).
    public func relu() -> Variable {
        let y = value.map { Swift.max($0, 0) }
        return Variable(y, parents: [self]) { g in
            [Tensor(shape: y.shape) { out in
                g.data.withUnsafeBufferPointer { gb in
                    y.data.withUnsafeBufferPointer { yb in
                        for i in 0..<gb.count { out[i] = yb[i] > 0 ? gb[i] : 0 }
                    }
                }
            }]
        }
    }
    /// σ(x), vectorised; derivative σ(1 − σ).
    public func sigmoid() -> Variable {
        let y = value.vmap { VectorMath.sigmoid($0) }
        return Variable(y, parents: [self]) { g in [g.vmap2(y) { $0 * $1 * (1 - $1) }] }
    }
    public func tanh() -> Variable {
        elementwise({ Foundation.tanh($0) }, derivative: { _, y in 1 - y * y })
    }
    /// log(1 + e^x), stable for all x, vectorised; derivative σ(x).
    public func softplus() -> Variable {
        let x = value
        return Variable(x.vmap { VectorMath.softplus($0) }, parents: [self]) { g in
            [g.vmap2(x) { $0 * VectorMath.sigmoid($1) }]
        }
    }
    /// log σ(x) = −softplus(−x), stable for all x, vectorised; derivative σ(−x).
    public func logSigmoid() -> Variable {
        let x = value
        return Variable(x.vmap { -VectorMath.softplus(-$0) }, parents: [self]) { g in
            [g.vmap2(x) { $0 * VectorMath.sigmoid(-$1) }]
        }
    }
    /// Clamps to [lo, hi]; the gradient passes only where the input is inside.
    public func clamped(_ lo: Float, _ hi: Float) -> Variable {
        elementwise({ Swift.min(Swift.max($0, lo), hi) }, derivative: { x, _ in x >= lo && x <= hi ? 1 : 0 })
    }
    /// x^p for a constant exponent.
    public func pow(_ p: Float) -> Variable {
        elementwise({ Foundation.pow($0, p) }, derivative: { x, _ in p * Foundation.pow(x, p - 1) })
    }
}
