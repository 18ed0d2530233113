import Foundation

/// Lipschitz constants of a VAE's three networks (paper A Theorem 1): a for the decoder mean,
/// b for the encoder mean, c for the encoder standard deviation (0 for a fixed σ).
public struct LipschitzConstants: Equatable, Sendable {
    public var a: Double, b: Double, c: Double
    public init(a: Double, b: Double, c: Double) { self.a = a; self.b = b; self.c = c }
}

/// Paper A's a-priori certificates of r-robustness for Lipschitz-VAEs: Theorem 1's probability
/// bound, Lemma 1.1's per-input margin and Theorem 2's global margin. `threshold` is the
/// r-robustness threshold t (paper A uses 1/2): an input is r-robust at δ when
/// P[‖g(z_δ) − g(z)‖₂ ≤ r] > t, so a margin is the largest ‖δ‖ whose bound 1 − min(p₁, p₂)
/// still reaches t, i.e. min(p₁, p₂) ≤ 1 − t.
public enum LipschitzMargins {
    /// Theorem 1's p₁ = min(1, a²(b²‖δ‖² + (c‖δ‖ + 2‖σ‖)²) / r²).
    public static func p1(r: Double, _ k: LipschitzConstants, sigmaNorm s: Double, deltaNorm d: Double) -> Double {
        let spread = k.c * d + 2 * s
        return ChiSquare.markovTail(meanSquaredNorm: k.a * k.a * (k.b * k.b * d * d + spread * spread), threshold: r)
    }

    /// Theorem 1's p₂ (`ChiSquare.theorem1P2`).
    public static func p2(r: Double, _ k: LipschitzConstants, sigmaNorm s: Double, deltaNorm d: Double, latent: Int) -> Double {
        ChiSquare.theorem1P2(r: r, a: k.a, b: k.b, c: k.c, sigmaNorm: s, deltaNorm: d, degrees: latent)
    }

    /// Theorem 1 at one ‖δ‖: p₁, p₂ and the bound 1 − min(p₁, p₂) (`probabilityBound`), each
    /// computed once, for the tools that print all three.
    public static func theorem1(r: Double, _ k: LipschitzConstants, sigmaNorm s: Double, deltaNorm d: Double,
                                latent: Int) -> (p1: Double, p2: Double, bound: Double) {
        let (q1, q2) = (p1(r: r, k, sigmaNorm: s, deltaNorm: d), p2(r: r, k, sigmaNorm: s, deltaNorm: d, latent: latent))
        return (q1, q2, 1 - Swift.min(q1, q2))
    }

    /// Theorem 1: P[‖g(z_δ) − g(z_¬δ)‖₂ ≤ r] ≥ 1 − min(p₁, p₂).
    public static func probabilityBound(r: Double, _ k: LipschitzConstants, sigmaNorm s: Double, deltaNorm d: Double,
                                        latent: Int) -> Double {
        theorem1(r: r, k, sigmaNorm: s, deltaNorm: d, latent: latent).bound
    }

    /// Lemma 1.1's margins m₁ and m₂ (below) and the margin max(m₁, m₂) they certify together.
    public static func lemma11(r: Double, _ k: LipschitzConstants, sigmaNorm s: Double, latent: Int,
                               threshold t: Double = 0.5) -> (m1: Double, m2: Double, margin: Double) {
        let (a, b) = (m1(r: r, k, sigmaNorm: s, threshold: t), m2(r: r, k, sigmaNorm: s, latent: latent, threshold: t))
        return (a, b, Swift.max(a, b))
    }

    /// Lemma 1.1's m₁, derived from p₁ ≤ 1 − t: with D = ‖δ‖ and s = ‖σ‖,
    ///     (b² + c²) D² + 4cs D + (4s² − (1 − t)(r/a)²) ≤ 0,
    /// whose larger root is the margin. (The printed Lemma writes 4‖σ‖ for the constant term;
    /// the proof and Theorem 2 have the squared norm 4‖σ‖², used here.) 0 when the constant
    /// term is not negative: then not even δ = 0 is certified by p₁.
    public static func m1(r: Double, _ k: LipschitzConstants, sigmaNorm s: Double, threshold t: Double = 0.5) -> Double {
        let qa = k.b * k.b + k.c * k.c, qb = 4 * k.c * s, qc = 4 * s * s - (1 - t) * (r / k.a) * (r / k.a)
        guard qc < 0, qa > 0 else { return 0 }
        return (-qb + (qb * qb - 4 * qa * qc).squareRoot()) / (2 * qa)
    }

    /// Lemma 1.1's m₂ = sup{‖δ‖ : p₂(δ) ≤ 1 − t}. p₂ is non-decreasing in ‖δ‖: u falls as ‖δ‖
    /// grows on [0, r/(ab)) (p₂ = 1 beyond), and the tail bound C u^{d/2} e^{−u/2} / (u − d + 2)
    /// falls with u wherever it applies (u > d − 2 ≥ 0: its log-derivative (d − u)/(2u) −
    /// 1/(u − d + 2) is negative, as (d − u)/(2u) < 1/u ≤ 1/(u − d + 2)). So the set is an
    /// interval from 0 and bisection finds its end, to 1e-9 relative. 0 when p₂(0) > 1 − t.
    public static func m2(r: Double, _ k: LipschitzConstants, sigmaNorm s: Double, latent: Int, threshold t: Double = 0.5) -> Double {
        func ok(_ d: Double) -> Bool { p2(r: r, k, sigmaNorm: s, deltaNorm: d, latent: latent) <= 1 - t }
        guard ok(0) else { return 0 }
        var lo = 0.0, hi = r / (k.a * k.b)
        if ok(hi) { return hi }
        while hi - lo > 1e-9 * hi {
            let mid = (lo + hi) / 2
            if ok(mid) { lo = mid } else { hi = mid }
        }
        return lo
    }

    /// Lemma 1.1: R^r(x) ≥ max(m₁(x), m₂(x)).
    public static func margin(r: Double, _ k: LipschitzConstants, sigmaNorm s: Double, latent: Int, threshold t: Double = 0.5) -> Double {
        Swift.max(m1(r: r, k, sigmaNorm: s, threshold: t), m2(r: r, k, sigmaNorm: s, latent: latent, threshold: t))
    }

    /// Theorem 2: the global margin of a VAE with a fixed encoder σ (no input dependence):
    /// Lemma 1.1 with c = 0, so m₁ = √((1 − t)(r/a)² − 4‖σ‖²)/b and u = (r/a − b‖δ‖)²/(4‖σ‖²).
    public static func globalMargin(r: Double, a: Double, b: Double, sigmaNorm s: Double, latent: Int, threshold t: Double = 0.5) -> Double {
        margin(r: r, LipschitzConstants(a: a, b: b, c: 0), sigmaNorm: s, latent: latent, threshold: t)
    }
}
