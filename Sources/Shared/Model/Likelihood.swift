import Foundation

/// The decoder's likelihood p(x | z). The decoder outputs logits l; the mean image is σ(l).
public enum Likelihood: Equatable, Sendable {
    /// Bernoulli: log p = Σ x·l − softplus(l) (the binary cross-entropy, for x in [0, 1]).
    case bernoulli
    /// Continuous Bernoulli (paper A): the Bernoulli term plus log C(σ(l)), a proper density on
    /// [0, 1], with λ = σ(l) clamped to [ε, 1 − ε] (ε = 2⁻²³, float32's machine epsilon) as
    /// `torch.distributions.ContinuousBernoulli(probs=σ(l))` clamps it, the call paper A's code
    /// makes (Lipschitz_VAEs `VAE_MNIST_model.py`): logits are clamped to ±`cbLogitLimit`, and
    /// no gradient passes beyond. Unclamped, log C grows as log |l| without bound, so an
    /// unconstrained decoder gains likelihood by pushing background logits ever further out
    /// (paper A Figure 5's standard VAE, trained and scored unclamped, read a test ELBO of
    /// 3,902 nats; clamped, 1,704).
    case continuousBernoulli
    /// Gaussian with fixed standard deviation σ₀ around the mean σ(l) (paper C Eq. 20).
    case gaussian(sigma0: Float)

    public init(name: String, sigma0: Float?) throws {
        switch name {
        case "bernoulli": self = .bernoulli
        case "cbernoulli", "continuous-bernoulli": self = .continuousBernoulli
        case "gaussian":
            let s = sigma0 ?? 1
            guard s > 0 else { throw ToolError("--sigma0 must be positive") }
            self = .gaussian(sigma0: s)
        default: throw ToolError("unknown likelihood '\(name)' (bernoulli, cbernoulli, gaussian)")
        }
    }

    public var name: String {
        switch self { case .bernoulli: "bernoulli"; case .continuousBernoulli: "cbernoulli"; case .gaussian: "gaussian" }
    }
    public var sigma0: Float? { if case .gaussian(let s) = self { s } else { nil } }

    /// log((1 − ε)/ε) for ε = 2⁻²³: the logit of torch's `clamp_probs` bounds, where the
    /// continuous Bernoulli's λ is clamped (≈ 15.942385).
    public static let cbLogitLimit = Float(Foundation.log((1 - Double(Float.ulpOfOne)) / Double(Float.ulpOfOne)))

    /// log p(x | z) per sample, shape [N], from images x and decoder logits (same shape).
    public func logProb(_ x: Variable, logits l: Variable) -> Variable {
        switch self {
        case .bernoulli:
            return Variable.bernoulliLogLikelihood(x, logits: l)
        case .continuousBernoulli:
            let c = l.clamped(-Likelihood.cbLogitLimit, Likelihood.cbLogitLimit)
            return Variable.bernoulliLogLikelihood(x, logits: c) + c.continuousBernoulliLogNormalizer().flattened().sum(axis: 1)
        case .gaussian(let s):
            let diff = x - l.sigmoid()
            return DiagonalGaussian.isotropicLogDensity(squaredError: diff.square().flattened().sum(axis: 1),
                                                        dimensions: x.value.count / x.shape[0], sigma: s)
        }
    }

    /// A lower bound on log p(x' | z) per sample over every x' in `x` and every logit
    /// vector in `logits` (both element-wise intervals). Used by the proVAE bound (paper C
    /// Eq. 20-21). With degenerate intervals it equals `logProb`.
    public func logProbLowerBound(_ x: Interval, logits l: Interval) -> Variable {
        switch self {
        case .gaussian(let s):
            // max over a ∈ [xl, xh], b ∈ [gl, gh] of (a − b)² = max((xh − gl)², (xl − gh)²)  (Eq. 20)
            let gl = l.lo.sigmoid(), gh = l.hi.sigmoid()
            let worst = Variable.maximum((x.hi - gl).square(), (x.lo - gh).square())
            return DiagonalGaussian.isotropicLogDensity(squaredError: worst.flattened().sum(axis: 1),
                                                        dimensions: x.lo.value.count / x.lo.shape[0], sigma: s)
        case .bernoulli, .continuousBernoulli:
            // the continuous Bernoulli reads clamped logits (see the case); clamping is
            // monotone, so the clamped box is the box of the clamped ends
            let cb = self == .continuousBernoulli, lim = Likelihood.cbLogitLimit
            let l = cb ? Interval(lo: l.lo.clamped(-lim, lim), hi: l.hi.clamped(-lim, lim)) : l
            // x·l is bilinear: its minimum over the box is at a corner.
            let xl = Variable.minimum(Variable.minimum(x.lo * l.lo, x.lo * l.hi), Variable.minimum(x.hi * l.lo, x.hi * l.hi))
            // −softplus is concave: its minimum over [ll, lh] is at an end.
            let sp = Variable.maximum(l.lo.softplus(), l.hi.softplus())
            var perPixel = xl - sp
            if cb {
                // log C is even and increasing in |l|: its minimum is at the point of the
                // interval closest to 0.
                let nearest = Variable.maximum(l.lo, Variable.minimum(l.hi, Variable(Tensor(scalar: 0))))
                perPixel = perPixel + nearest.continuousBernoulliLogNormalizer()
            }
            return perPixel.flattened().sum(axis: 1)
        }
    }
}
