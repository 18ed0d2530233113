import Foundation

/// What a training step maximises.
public enum Objective: Equatable, Sendable {
    /// The ELBO with the KL term weighted by β (β = 1: the standard VAE; β > 1: β-VAE).
    case elbo
    /// β-TCVAE (Chen et al. 2018): ELBO with the total-correlation part of the KL weighted
    /// by β, estimated by minibatch-weighted sampling over a dataset of `datasetSize`.
    case tcvae(datasetSize: Int)
    /// proVAE (paper C): the interval-bound lower bound on the ELBO of every input within
    /// L∞ distance `epsilon` (Eq. 21), trained on as in Algorithm 1; with `pixelBox` the
    /// ball is clipped to the pixel range [0, 1], without it the input box is x ± ε as paper
    /// C section 3.2 states it (`VAE.elboLowerBound`).
    case provae(epsilon: Float, pixelBox: Bool)
}

/// The loss of one minibatch and the numbers worth reporting about it.
public struct BatchLoss {
    /// The scalar to minimise: minus the batch mean of the objective.
    public let loss: Variable
    /// Batch mean of the plain ELBO (β = 1), in nats per image.
    public let elbo: Float
    /// Batch means of the reconstruction log-likelihood and the KL divergence.
    public let logLikelihood: Float
    public let kl: Float
}

extension VAE {
    /// Per-sample ELBO pieces for one reparameterised sample.
    public func elboTerms(_ x: Variable, rng: inout RNG) -> (logpx: Variable, kl: Variable, mu: Variable, sigma: Variable, z: Variable) {
        let (mu, sigma) = encode(x)
        let (z, _) = sample(mu: mu, sigma: sigma, rng: &rng)
        let logpx = likelihood.logProb(x, logits: decodeLogits(z))
        return (logpx, DiagonalGaussian.klToStandard(mu: mu, sigma: sigma), mu, sigma, z)
    }

    /// The minibatch loss for `objective` with KL (or TC) weight `beta`.
    public func loss(_ images: Tensor, objective: Objective, beta: Float = 1, rng: inout RNG) -> BatchLoss {
        let x = Variable(images)
        switch objective {
        case .elbo:
            let t = elboTerms(x, rng: &rng)
            let obj = t.logpx - t.kl * beta
            return BatchLoss(loss: -obj.mean(), elbo: (t.logpx - t.kl).value.mean(), logLikelihood: t.logpx.value.mean(), kl: t.kl.value.mean())
        case .tcvae(let n):
            let t = elboTerms(x, rng: &rng)
            let (mi, tc, dimKL) = VAE.tcDecomposition(z: t.z, mu: t.mu, sigma: t.sigma, datasetSize: n)
            let obj = t.logpx - (mi + tc * beta + dimKL)
            return BatchLoss(loss: -obj.mean(), elbo: (t.logpx - t.kl).value.mean(), logLikelihood: t.logpx.value.mean(), kl: t.kl.value.mean())
        case .provae(let eps, let pixelBox):
            let bound = elboLowerBound(x, epsilon: eps, beta: beta, pixelBox: pixelBox, rng: &rng)
            return BatchLoss(loss: -bound.bound.mean(), elbo: bound.bound.value.mean(),
                             logLikelihood: bound.logpx.value.mean(), kl: bound.kl.value.mean())
        }
    }

    /// β-TCVAE's decomposition of the aggregate KL (Chen et al. 2018, Eq. 2) with the
    /// minibatch-weighted-sampling estimator of log q(z) for a batch of M from a dataset of N:
    ///
    ///     log q(z_i) ≈ logsumexp_j log q(z_i | x_j) − log(N·M)
    ///     log Π_d q(z_id) ≈ Σ_d [logsumexp_j log q(z_id | x_j) − log(N·M)]
    ///
    /// Returns per-sample index-code MI = log q(z|x) − log q(z), total correlation
    /// TC = log q(z) − Σ_d log q(z_d), and dimension-wise KL = Σ_d log q(z_d) − log p(z).
    public static func tcDecomposition(z: Variable, mu: Variable, sigma: Variable, datasetSize n: Int)
        -> (mi: Variable, tc: Variable, dimKL: Variable) {
        let (m, d) = (z.shape[0], z.shape[1])
        let logNM = Float(Foundation.log(Double(n) * Double(m)))
        // log q(z_i,d | x_j,d) for all pairs: [M, M, D]
        let pairwise = DiagonalGaussian.logDensityElementwise(z.reshaped([m, 1, d]), mu: mu.reshaped([1, m, d]), sigma: sigma.reshaped([1, m, d]))
        let logQz = pairwise.sum(axis: 2).logSumExp(axis: 1) - logNM
        let logQzProduct = (pairwise.logSumExp(axis: 1) - logNM).sum(axis: 1)
        let logQzx = DiagonalGaussian.logDensity(z, mu: mu, sigma: sigma)
        let logPz = DiagonalGaussian.standardLogDensity(z)
        return (logQzx - logQz, logQz - logQzProduct, logQzProduct - logPz)
    }

    /// Paper C's certified lower bound on the ELBO of every input within L∞ distance
    /// `epsilon` of x, for one reparameterisation sample:
    ///
    /// 1. input box (Eq. 15) → bounds on μ and σ through the encoder (Eq. 16-17, via Eq. 12-13);
    /// 2. latent box from the reparameterisation z = μ + σε (Eq. 19);
    /// 3. logit box through the decoder; a lower bound on log p(x'|z) over both boxes (Eq. 20);
    /// 4. an upper bound on the KL (Eq. 18): μ² and σ² − log σ² are largest at an end.
    ///
    /// With `epsilon = 0` every box is a point and this is exactly the ELBO sample.
    ///
    /// `pixelBox` clips the input box to the pixel range [0, 1]: the bound then covers only
    /// the inputs of the ball that are images, and is tighter. Without it the box is the whole
    /// ball, x ± ε·1, which is paper C's certificate as its section 3.2 states it ("input
    /// interval bounds fed into the encoder being x_i − ε_train 1 and x_i + ε_train 1").
    public func elboLowerBound(_ x: Variable, epsilon: Float, beta: Float = 1, pixelBox: Bool = true, rng: inout RNG)
        -> (bound: Variable, logpx: Variable, kl: Variable) {
        let xBox = Interval(center: x, radius: epsilon, clampTo: pixelBox ? 0...1 : nil)
        let (muB, sigmaB) = encoder.bounds(xBox)
        let eps = rng.normalTensor(muB.lo.shape)
        let epsPos = Variable(eps.map { Swift.max($0, 0) }), epsNeg = Variable(eps.map { Swift.min($0, 0) })
        let zBox = Interval(lo: muB.lo + sigmaB.lo * epsPos + sigmaB.hi * epsNeg,
                            hi: muB.hi + sigmaB.hi * epsPos + sigmaB.lo * epsNeg)
        let logitBox = decoder.bounds(zBox)
        let logpx = likelihood.logProbLowerBound(xBox, logits: logitBox)
        let muSq = Variable.maximum(muB.lo.square(), muB.hi.square())
        func s2MinusLog(_ s: Variable) -> Variable { s.square() - s.log() * 2 }
        let sigmaTerm = Variable.maximum(s2MinusLog(sigmaB.lo), s2MinusLog(sigmaB.hi))
        let kl = ((muSq + sigmaTerm - 1) * 0.5).sum(axis: 1)
        return (logpx - kl * beta, logpx, kl)
    }
}
