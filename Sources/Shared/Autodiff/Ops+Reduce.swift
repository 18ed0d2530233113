import Foundation

/// Reductions: over everything, or over one axis (kept as size 1 with `keepDim`).
extension Variable {
    /// Sum of all elements (a scalar of shape []).
    public func sum() -> Variable {
        let s = shape
        return Variable(Tensor(scalar: value.sum()), parents: [self]) { g in
            [Tensor(shape: s, repeating: g.scalar)]
        }
    }

    /// Mean of all elements.
    public func mean() -> Variable { sum() / Float(Swift.max(value.count, 1)) }

    /// Sum along `axis`.
    public func sum(axis: Int, keepDim: Bool = false) -> Variable {
        let ax = axis < 0 ? axis + shape.count : axis
        precondition(ax >= 0 && ax < shape.count, "sum: axis \(axis) out of range for \(shape)")
        var kept = shape
        kept[ax] = 1
        let out = Broadcast.sumTo(value, shape: kept)
        var outShape = kept
        if !keepDim { outShape.remove(at: ax) }
        let inShape = shape
        return Variable(out.reshaped(outShape), parents: [self]) { g in
            [Tensor.zeros(inShape) + g.reshaped(kept)]
        }
    }

    public func mean(axis: Int, keepDim: Bool = false) -> Variable {
        let ax = axis < 0 ? axis + shape.count : axis
        return sum(axis: ax, keepDim: keepDim) / Float(shape[ax])
    }

    /// log Σ exp along `axis`, computed as m + log Σ exp(x - m) with m the maximum,
    /// so it never overflows. Gradient: softmax along the axis.
    public func logSumExp(axis: Int, keepDim: Bool = false) -> Variable {
        let ax = axis < 0 ? axis + shape.count : axis
        precondition(ax >= 0 && ax < shape.count, "logSumExp: axis \(axis) out of range for \(shape)")
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        var kept = shape
        kept[ax] = 1
        let x = value
        let lse = Tensor(shape: kept) { out in
            x.data.withUnsafeBufferPointer { xb in
                for o in 0..<outer {
                    for i in 0..<inner {
                        let base = o * n * inner + i
                        var m = -Float.infinity
                        for k in 0..<n { m = Swift.max(m, xb[base + k * inner]) }
                        // all −∞: the sum of zeros (log 0); any +∞: the sum is infinite
                        if m.isInfinite { out[o * inner + i] = m; continue }
                        var s: Float = 0
                        for k in 0..<n { s += Foundation.exp(xb[base + k * inner] - m) }
                        out[o * inner + i] = m + Foundation.log(s)
                    }
                }
            }
        }
        var outShape = kept
        if !keepDim { outShape.remove(at: ax) }
        return Variable(lse.reshaped(outShape), parents: [self]) { g in
            let gk = g.reshaped(kept)
            // softmax = exp(x - lse), times the incoming gradient broadcast along the axis; where
            // lse is infinite the softmax puts its weight on the +∞ entries (none: all −∞)
            return [x.zipMap(lse) { v, l in l.isInfinite ? (l > 0 && v == l ? 1 : 0) : Foundation.exp(v - l) } * gk]
        }
    }
}
