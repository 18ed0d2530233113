import Foundation

/// The perturbation budgets of the attacks: an Lp ball around the reference, intersected with
/// the pixel box [0, 1], so that x + δ is always a valid image (unless the box is dropped:
/// `AttackSettings.pixelBox`).
public enum PerturbationNorm: String, CaseIterable, Sendable {
    case l2, linf
}

/// Exact Euclidean projection of perturbations onto {δ : ‖δ‖ ≤ r, 0 ≤ x + δ ≤ 1}, row by row
/// (onto the ball alone without the box). The references x lie in [0, 1], so the ball and the
/// box always meet (at δ = 0).
public enum BallProjection {
    /// Projects every row of `delta` (perturbations of the rows of `x`, both `[N, ...]`).
    ///
    /// L∞: the ball is itself a box, so the intersection is the box [max(−r, −x), min(r, 1 − x)]
    /// and the projection clamps each pixel into it.
    ///
    /// L2: the projection of v onto the intersection of the ball and the box is, by the KKT
    /// conditions, δ(λ) = clamp(v / (1 + λ), −x, 1 − x) for the smallest λ ≥ 0 with
    /// ‖δ(λ)‖ ≤ r; ‖δ(λ)‖ falls monotonically with λ, so λ is found by bisection (to 1e-12
    /// relative in λ, at most 100 halvings, keeping the feasible end), and the rounding to
    /// Float is checked not to leave the ball or the box.
    ///
    /// With `pixelBox` false the box is left out: L∞ clamps each pixel into [−r, r], L2 scales
    /// a row longer than r onto the sphere.
    public static func project(_ delta: Tensor, around x: Tensor, norm: PerturbationNorm, radius r: Float,
                               pixelBox: Bool = true) -> Tensor {
        precondition(delta.shape == x.shape && r >= 0)
        let n = x.shape[0], d = n == 0 ? 0 : x.count / n
        var out = delta
        out.data.withUnsafeMutableBufferPointer { ob in
            x.data.withUnsafeBufferPointer { xb in
                for i in 0..<n {
                    let o = ob.baseAddress! + i * d, xi = xb.baseAddress! + i * d
                    switch (norm, pixelBox) {
                    case (.linf, true):
                        for k in 0..<d { o[k] = Swift.min(Swift.max(o[k], Swift.max(-r, -xi[k])), Swift.min(r, 1 - xi[k])) }
                    case (.linf, false):
                        for k in 0..<d { o[k] = Swift.min(Swift.max(o[k], -r), r) }
                    case (.l2, true):
                        projectL2(o, xi, d, r)
                    case (.l2, false):
                        scaleOntoBall(o, d, r)
                    }
                }
            }
        }
        return out
    }

    /// v · min(1, r/‖v‖), checked not to leave the ball after rounding to Float. A row with
    /// infinite entries goes to the limit of that projection (its infinite entries share the
    /// radius, the rest are 0); NaN entries count as 0.
    static func scaleOntoBall(_ v: UnsafeMutablePointer<Float>, _ d: Int, _ r: Float) {
        for k in 0..<d where v[k].isNaN { v[k] = 0 }
        let infinite = (0..<d).filter { v[$0].isInfinite }
        if !infinite.isEmpty {
            let share = Float(Double(r) / Double(infinite.count).squareRoot()).nextDown
            for k in 0..<d { v[k] = v[k].isInfinite ? (v[k] > 0 ? share : -share) : 0 }
            return
        }
        var s = 0.0
        for k in 0..<d { s += Double(v[k]) * Double(v[k]) }
        guard s.squareRoot() > Double(r) else { return }
        var c = Float(Double(r) / s.squareRoot())
        while c > 0 {
            var t = 0.0
            for k in 0..<d { let f = v[k] * c; t += Double(f) * Double(f) }
            if t.squareRoot() <= Double(r) { break }
            c = c.nextDown
        }
        for k in 0..<d { v[k] *= Swift.max(c, 0) }
    }

    static func projectL2(_ v: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ d: Int, _ r: Float) {
        let orig = (0..<d).map { Double(v[$0]) }
        func at(_ lambda: Double) -> (values: [Double], norm: Double) {
            var s = 0.0
            let vals = (0..<d).map { k -> Double in
                let c = Swift.min(Swift.max(orig[k] / (1 + lambda), -Double(x[k])), 1 - Double(x[k]))
                s += c * c
                return c
            }
            return (vals, s.squareRoot())
        }
        var best = at(0)
        if best.norm > Double(r) {
            var lo = 0.0, hi = 1.0
            while at(hi).norm > Double(r) { hi *= 2 }
            for _ in 0..<100 {
                let mid = (lo + hi) / 2
                if at(mid).norm > Double(r) { lo = mid } else { hi = mid }
                if hi - lo <= 1e-12 * Swift.max(1, hi) { break }
            }
            best = at(hi)
        }
        // rounding to Float must not leave the ball or the box
        let scale = best.norm > Double(r) && best.norm > 0 ? Double(r) / best.norm : 1
        for k in 0..<d {
            var f = Float(best.values[k] * scale)
            f = Swift.min(Swift.max(f, -x[k]), 1 - x[k])
            v[k] = f
        }
        var s: Double = 0
        for k in 0..<d { s += Double(v[k]) * Double(v[k]) }
        if s.squareRoot() > Double(r) {
            let c = Float(Double(r) / s.squareRoot()).nextDown
            for k in 0..<d { v[k] *= c }
        }
    }

    /// δ clamped so that x + δ lies in the pixel box [0, 1] (the ball left aside), as
    /// `clamp(x + δ, 0, 1) − x` in paper D's code; δ itself with `pixelBox` false.
    public static func box(_ delta: Tensor, around x: Tensor, pixelBox: Bool = true) -> Tensor {
        precondition(delta.shape == x.shape)
        guard pixelBox else { return delta }
        var out = delta
        for k in 0..<out.count { out.data[k] = Swift.min(Swift.max(x.data[k] + out.data[k], 0), 1) - x.data[k] }
        return out
    }

    /// ‖δ‖ of every row.
    public static func norms(_ delta: Tensor, norm: PerturbationNorm) -> [Double] {
        let n = delta.shape[0], d = n == 0 ? 0 : delta.count / n
        return (0..<n).map { i in
            let row = delta.data[(i * d)..<((i + 1) * d)]
            switch norm {
            case .linf: return Double(row.map { Swift.abs($0) }.max() ?? 0)
            case .l2: return row.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            }
        }
    }
}
