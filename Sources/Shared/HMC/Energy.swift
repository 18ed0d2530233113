/// The potential energy that Hamiltonian Monte Carlo samples from: a batch of latent codes
/// `[N, d]` to one energy per row `[N]`, differentiable in the codes, with the target
/// density proportional to exp(−U). This is the one piece a new model replaces (a
/// hierarchical VAE sums one prior term per latent level, paper D section 3.2).
public protocol PotentialEnergy {
    /// The dimension of one row of codes.
    var dimension: Int { get }
    /// U(z) per row.
    func callAsFunction(_ z: Variable) -> Variable
    /// The energy of the chains in `rows` alone, when each row's energy depends on its own
    /// row only (nil otherwise, the default). HMC then integrates parts of the batch
    /// concurrently (`HMC.leapfrog`).
    func chains(_ rows: Range<Int>) -> (any PotentialEnergy)?
}

extension PotentialEnergy {
    public func chains(_ rows: Range<Int>) -> (any PotentialEnergy)? { nil }
}

/// Paper D Eq. 8: the VAE's unnormalised posterior p(x|z)p(z) for fixed inputs x,
/// U(z) = −log p(x|z) − log N(z; 0, I), with the model's own likelihood (paper D's code,
/// vae/model/hmc.py `VaeTarget.E`). Row i of the codes belongs to image i of `inputs`.
public struct VAEPosteriorEnergy: PotentialEnergy {
    public let vae: VAE
    public let inputs: Tensor
    public init(vae: VAE, inputs: Tensor) { self.vae = vae; self.inputs = inputs }
    public var dimension: Int { vae.config.latent }
    public func chains(_ rows: Range<Int>) -> (any PotentialEnergy)? {
        VAEPosteriorEnergy(vae: vae, inputs: inputs.rows(rows))
    }
    public func callAsFunction(_ z: Variable) -> Variable {
        -(vae.likelihood.logProb(Variable(inputs), logits: vae.decodeLogits(z)) + DiagonalGaussian.standardLogDensity(z))
    }
}
