/// Element-wise lower and upper bounds on a tensor, for interval bound propagation
/// (paper C section 3.1). Both ends are `Variable`s so a bound can be trained on
/// (paper C Algorithm 1).
public struct Interval {
    public var lo: Variable
    public var hi: Variable
    public init(lo: Variable, hi: Variable) { self.lo = lo; self.hi = hi }

    /// The degenerate interval [x, x].
    public init(point x: Variable) { lo = x; hi = x }

    /// The L∞ ball of radius `eps` around `x` (paper C Eq. 15), optionally clipped to a box
    /// such as the valid pixel range.
    public init(center x: Variable, radius eps: Float, clampTo range: ClosedRange<Float>? = nil) {
        var l = x - eps, h = x + eps
        if let r = range {
            l = l.clamped(r.lowerBound, r.upperBound)
            h = h.clamped(r.lowerBound, r.upperBound)
        }
        lo = l; hi = h
    }

    public var center: Variable { (lo + hi) * 0.5 }
    public var radius: Variable { (hi - lo) * 0.5 }

    /// Bounds of a linear map: centre through `f`, radius through `fAbs` (the same map with
    /// |W| and no bias). This equals paper C Eq. 12 (W⁺ hi + W⁻ lo, …) with half the work.
    public func linear(_ f: (Variable) -> Variable, abs fAbs: (Variable) -> Variable) -> Interval {
        let c = f(center), r = fAbs(radius)
        return Interval(lo: c - r, hi: c + r)
    }

    /// Bounds of a non-decreasing element-wise function (paper C Eq. 13).
    public func monotone(_ f: (Variable) -> Variable) -> Interval { Interval(lo: f(lo), hi: f(hi)) }

    /// Applies `f` to both ends (shape ops).
    public func map(_ f: (Variable) -> Variable) -> Interval { Interval(lo: f(lo), hi: f(hi)) }
}
