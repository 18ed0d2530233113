/// NumPy-style broadcasting: shapes align on the right, and a dimension of size 1
/// (or a missing one) stretches to match.
public enum Broadcast {
    /// The broadcast result shape, or nil when the shapes are incompatible.
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }

    /// Element strides of `shape` read as if it had shape `out` (0 along stretched dimensions).
    public static func strides(of shape: [Int], in out: [Int]) -> [Int] {
        let r = out.count
        var strides = [Int](repeating: 0, count: r)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            let oi = i + (r - shape.count)
            strides[oi] = shape[i] == 1 && out[oi] != 1 ? 0 : s
            s *= shape[i]
        }
        return strides
    }

    /// Walks `out` row by row (rows along the last dimension), handing `body` the output
    /// offset of the row and the matching start offsets in two operands with the given strides.
    /// `body(outStart, aStart, bStart, rowLength, aStep, bStep)`.
    @inlinable
    public static func forEachRow(out: [Int], aStrides: [Int], bStrides: [Int],
                                  _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let r = out.count
        if r == 0 { body(0, 0, 0, 1, 0, 0); return }
        let inner = out[r - 1]
        let rows = out.dropLast().reduce(1, *)
        if inner == 0 || rows == 0 { return }
        var idx = [Int](repeating: 0, count: r - 1)
        var aOff = 0, bOff = 0
        for row in 0..<rows {
            body(row * inner, aOff, bOff, inner, aStrides[r - 1], bStrides[r - 1])
            // advance the multi-index over the leading dimensions
            var d = r - 2
            while d >= 0 {
                idx[d] += 1
                aOff += aStrides[d]; bOff += bStrides[d]
                if idx[d] < out[d] { break }
                aOff -= aStrides[d] * out[d]; bOff -= bStrides[d] * out[d]
                idx[d] = 0
                d -= 1
            }
        }
    }

    /// Sums `grad` (of the broadcast shape) down to `shape`: the adjoint of broadcasting.
    public static func sumTo(_ grad: Tensor, shape: [Int]) -> Tensor {
        if grad.shape == shape { return grad }
        let n = Tensor.count(of: shape)
        if n == 1 { return Tensor(shape: shape, data: [grad.sum()]) }
        var out = [Float](repeating: 0, count: n)
        let st = strides(of: shape, in: grad.shape)
        grad.data.withUnsafeBufferPointer { g in
            out.withUnsafeMutableBufferPointer { o in
                forEachRow(out: grad.shape, aStrides: st, bStrides: st) { gs, os, _, len, step, _ in
                    if step == 0 {
                        o[os] += Reduce.sum(g.baseAddress! + gs, len)
                    } else {
                        for j in 0..<len { o[os + j * step] += g[gs + j] }
                    }
                }
            }
        }
        return Tensor(shape: shape, data: out)
    }
}
