import Foundation

/// The probability pieces the four papers use, in one place.
///
/// The Gaussian functions work on `Variable`s, row by row (`[N, d]` in, `[N]` out), so
/// objectives, attacks and HMC can differentiate through them; the scalar functions
/// (Φ, Φ⁻¹, χ² tails) work in `Double` for certificates.
public enum DiagonalGaussian {
    static let halfLog2Pi = Float(0.5 * Foundation.log(2 * Double.pi))

    /// log N(z; μ, σ²) element by element (broadcasting). Used by β-TCVAE's minibatch
    /// estimator of log q(z) (Chen et al. 2018), which needs every pair's per-dimension terms.
    public static func logDensityElementwise(_ z: Variable, mu: Variable, sigma: Variable) -> Variable {
        let u = (z - mu) / sigma
        return u.square() * -0.5 - sigma.log() - halfLog2Pi
    }

    /// log N(z; μ, diag σ²) per row: the importance weights of the NLL estimate (paper D
    /// Table 7) and log q(z|x) in β-TCVAE.
    public static func logDensity(_ z: Variable, mu: Variable, sigma: Variable) -> Variable {
        logDensityElementwise(z, mu: mu, sigma: sigma).sum(axis: 1)
    }

    /// log N(z; 0, I) per row: the prior of every VAE here, in the NLL estimate and the
    /// unnormalised posterior p(x|z)p(z) of paper D Eq. 8-11.
    public static func standardLogDensity(_ z: Variable) -> Variable {
        (z.square() * -0.5 - halfLog2Pi).sum(axis: 1)
    }

    /// KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) per row,
    ///     Σ_j log σ₂ − log σ₁ + (σ₁² + (μ₁ − μ₂)²) / (2σ₂²) − ½:
    /// paper A Eq. 2-3's latent-space attack, KL(q(z|x+δ) ‖ q(z|x_t)).
    public static func kl(mu1: Variable, sigma1: Variable, mu2: Variable, sigma2: Variable) -> Variable {
        let ratio = (sigma1.square() + (mu1 - mu2).square()) / (sigma2.square() * 2)
        return (sigma2.log() - sigma1.log() + ratio - 0.5).sum(axis: 1)
    }

    /// KL(N(μ, σ²) ‖ N(0, I)) per row, ½ Σ_j (μ² + σ² − 1 − log σ²): the KL term of the ELBO
    /// (paper A Eq. 1; unnumbered in paper B section 2 and paper D section 2.1).
    public static func klToStandard(mu: Variable, sigma: Variable) -> Variable {
        ((mu.square() + sigma.square() - 1 - sigma.log() * 2) * 0.5).sum(axis: 1)
    }

    /// The symmetric KL, ½ KL(p ‖ q) + ½ KL(q ‖ p), per row: paper D's unsupervised encoder
    /// attack (Table 1, appendix C.6: "an average between the two", as the authors'
    /// `gaus_skl` computes it).
    public static func symmetricKL(mu1: Variable, sigma1: Variable, mu2: Variable, sigma2: Variable) -> Variable {
        (kl(mu1: mu1, sigma1: sigma1, mu2: mu2, sigma2: sigma2) + kl(mu1: mu2, sigma1: sigma2, mu2: mu1, sigma2: sigma1)) * 0.5
    }

    /// The squared 2-Wasserstein distance between diagonal Gaussians per row,
    /// ‖μ₁ − μ₂‖² + ‖σ₁ − σ₂‖²: the objective of the PGD attack in paper D Table 1 [13].
    public static func wasserstein2Squared(mu1: Variable, sigma1: Variable, mu2: Variable, sigma2: Variable) -> Variable {
        ((mu1 - mu2).square() + (sigma1 - sigma2).square()).sum(axis: 1)
    }

    /// The 2-Wasserstein distance per row (the square root of `wasserstein2Squared`; its
    /// gradient is undefined where the two distributions coincide).
    public static func wasserstein2(mu1: Variable, sigma1: Variable, mu2: Variable, sigma2: Variable) -> Variable {
        wasserstein2Squared(mu1: mu1, sigma1: sigma1, mu2: mu2, sigma2: sigma2).sqrt()
    }

    /// log N(x; mean, s² I) per row from Σ (x − mean)² over the row's `dimensions` values:
    /// the Gaussian image likelihood of paper C Eq. 20 (also its lower bound, where the
    /// sum is of worst-case squared errors).
    public static func isotropicLogDensity(squaredError: Variable, dimensions d: Int, sigma s: Float) -> Variable {
        let scale: Float = -0.5 / (s * s)
        let logNormaliser: Float = 0.5 * Float(d) * Foundation.log(2 * Float.pi * s * s)
        return squaredError * scale - logNormaliser
    }
}

/// The standard normal distribution in double precision.
public enum StandardNormal {
    /// Φ(x) = ½ erfc(−x/√2), accurate to rounding in both tails (erfc keeps the relative
    /// accuracy of small probabilities, where 1 − ½ erfc(x/√2) would cancel).
    public static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// φ(x).
    public static func density(_ x: Double) -> Double { Foundation.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot() }

    /// Φ⁻¹(p), the probit: paper B Theorem 1's margin bound needs Φ⁻¹ of probabilities close
    /// to 0 and 1. Wichura's algorithm AS 241 (PPND16, Applied Statistics 37, 1988), about
    /// 1e-16 relative over the whole range (0, 1); ±∞ at 0 and 1, NaN outside [0, 1].
    public static func quantile(_ p: Double) -> Double {
        guard p > 0, p < 1 else { return p == 0 ? -.infinity : (p == 1 ? .infinity : .nan) }
        let q = p - 0.5
        if Swift.abs(q) <= 0.425 {
            let r = 0.180625 - q * q
            return q * poly(r, [3.3871328727963666080e0, 1.3314166789178437745e+2, 1.9715909503065514427e+3,
                                1.3731693765509461125e+4, 4.5921953931549871457e+4, 6.7265770927008700853e+4,
                                3.3430575583588128105e+4, 2.5090809287301226727e+3])
                     / poly(r, [1, 4.2313330701600911252e+1, 6.8718700749205790830e+2, 5.3941960214247511077e+3,
                                2.1213794301586595867e+4, 3.9307895800092710610e+4, 2.8729085735721942674e+4,
                                5.2264952788528545610e+3])
        }
        var r = (-Foundation.log(q < 0 ? p : 1 - p)).squareRoot()
        let value: Double
        if r <= 5 {
            r -= 1.6
            value = poly(r, [1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
                             3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
                             2.27238449892691845833e-2, 7.74545014278341407640e-4])
                  / poly(r, [1, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
                             1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
                             1.05075007164441684324e-9])
        } else {
            r -= 5
            value = poly(r, [6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
                             2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
                             2.71155556874348757815e-5, 2.01033439929228813265e-7])
                  / poly(r, [1, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
                             7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
                             2.04426310338993978564e-15])
        }
        return q < 0 ? -value : value
    }

    /// Σ c_k x^k by Horner's rule.
    private static func poly(_ x: Double, _ c: [Double]) -> Double { c.reversed().reduce(0) { $0 * x + $1 } }
}

/// Tails of ‖·‖² of Gaussian vectors: the two bounds behind paper A's Theorem 1.
public enum ChiSquare {
    /// P(Y ≥ u) for Y ~ χ²_d, the regularised upper incomplete gamma Q(d/2, u/2) (series
    /// below a + 1, Lentz's continued fraction above). The exact tail that paper A's bound
    /// replaces, for checking it.
    public static func survival(_ u: Double, degrees d: Int) -> Double {
        precondition(d >= 1, "χ² needs at least one degree of freedom")
        guard u > 0 else { return 1 }
        let a = Double(d) / 2, x = u / 2
        let logPrefix = a * Foundation.log(x) - x - lgamma(a)
        if x < a + 1 {
            // P(a, x) = e^{−x} x^a / Γ(a + 1) Σ_n x^n / ((a+1)…(a+n))
            var term = 1 / a, sum = term, n = 1.0
            while Swift.abs(term) > Swift.abs(sum) * 1e-17, n < 10_000 { term *= x / (a + n); sum += term; n += 1 }
            return Swift.max(0, 1 - sum * Foundation.exp(logPrefix))
        }
        // Q(a, x) = e^{−x} x^a / Γ(a) · 1/(x + 1 − a − 1·(1 − a)/(x + 3 − a − …))
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, dd = 1 / b, h = dd
        for i in 1..<10_000 {  // converges in under 100 iterations for d up to thousands
            let an = -Double(i) * (Double(i) - a)
            b += 2
            dd = an * dd + b; if Swift.abs(dd) < tiny { dd = tiny }
            c = b + an / c; if Swift.abs(c) < tiny { c = tiny }
            dd = 1 / dd
            let delta = dd * c
            h *= delta
            if Swift.abs(delta - 1) < 1e-15 { break }
        }
        return Foundation.exp(logPrefix) * h
    }

    /// The χ² tail bound behind paper A Theorem 1's p₂ (its (3.1) from [32]):
    ///     P(Y ≥ u) ≤ C(d) u^{d/2} e^{−u/2} / (u − d + 2),  C(d) = e^{(d − (d−1) log d)/2} / √π,
    /// valid for d ≥ 2 and u > d − 2; 1 (no information) otherwise, and never above 1.
    /// Computed in logarithms, so large u and d do not overflow. This is a bound on the χ²
    /// tail alone: Theorem 1 may use it only where r/a − b‖δ‖ ≥ 0 (`theorem1P2` checks that).
    public static func tailBound(_ u: Double, degrees d: Int) -> Double {
        let dd = Double(d)
        guard d >= 2, u > dd - 2 else { return 1 }
        let logC = 0.5 * (dd - (dd - 1) * Foundation.log(dd)) - 0.5 * Foundation.log(Double.pi)
        let logBound = logC + dd / 2 * Foundation.log(u) - u / 2 - Foundation.log(u - dd + 2)
        return Swift.min(1, Foundation.exp(logBound))
    }

    /// Paper A Theorem 1's p₂ for a perturbation of norm ‖δ‖: with the Lipschitz constants
    /// a, b, c (decoder, encoder mean, encoder standard deviation), ‖σ(x)‖ and latent size d,
    ///     u = (r/a − b‖δ‖)² / (c‖δ‖ + 2‖σ(x)‖)²,  p₂ = `tailBound(u, d)`,
    /// and p₂ = 1 where r/a − b‖δ‖ < 0 (u, a square, would hide the sign) or the denominator
    /// is 0. Theorem 2's fixed σ is c = 0 with ‖σ‖ the fixed norm (there u's denominator is
    /// 4‖σ‖², the same expression).
    public static func theorem1P2(r: Double, a: Double, b: Double, c: Double, sigmaNorm: Double,
                                  deltaNorm: Double, degrees d: Int) -> Double {
        let base = r / a - b * deltaNorm, spread = c * deltaNorm + 2 * sigmaNorm
        guard base >= 0, spread > 0 else { return 1 }
        return tailBound(base * base / (spread * spread), degrees: d)
    }

    /// Markov's inequality for a squared norm, P(‖v‖ ≥ t) ≤ min(1, E‖v‖² / t²): the other
    /// bound of paper A Theorem 1 (its p₁, with E‖v‖² bounded through the Lipschitz
    /// constants).
    public static func markovTail(meanSquaredNorm m: Double, threshold t: Double) -> Double {
        precondition(m >= 0 && t >= 0, "markovTail needs a non-negative moment and threshold")
        return t == 0 ? 1 : Swift.min(1, m / (t * t))
    }
}
