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
    /// concurrently (`HMC.leapfrog`), so the parts' evaluations must not write shared state:
    /// no trainable weight may collect a gradient, and no evaluation may switch recording off
    /// (`Autodiff.withoutGradients` is process-wide).
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
    /// Cut by chains only when the model is frozen (trainable weights would collect their
    /// gradients from both parts at once).
    public func chains(_ rows: Range<Int>) -> (any PotentialEnergy)? {
        vae.isFrozen ? VAEPosteriorEnergy(vae: vae, inputs: inputs.rows(rows)) : nil
    }
    public func callAsFunction(_ z: Variable) -> Variable {
        -(vae.likelihood.logProb(Variable(inputs), logits: vae.decodeLogits(z)) + DiagonalGaussian.standardLogDensity(z))
    }
}

/// A generative model with several latent levels, as HMC needs it: codes `[N, d]` (all
/// levels of one image in a row) to log p(x | z) + Σ_k log p(z_k | z_>k) per row.
public protocol LatentHierarchy {
    /// The dimension of one row of codes (all levels together).
    var codeDimension: Int { get }
    /// log p(x, z) per row for images `x` (row i with codes row i).
    func logJoint(_ x: Tensor, codes: Variable) -> Variable
}

/// Paper D section 3.2: HMC over all latent levels at once, with
/// U(z) = −ln p(x | z) − Σ_k ln p(z_k | z_>k) (the one-level `VAEPosteriorEnergy` with the
/// prior replaced by the hierarchy's).
public struct HierarchicalPosteriorEnergy: PotentialEnergy {
    public let model: any LatentHierarchy
    public let inputs: Tensor
    /// Whether `chains` may cut the batch (the model's weights are frozen).
    public let frozen: Bool
    public init(model: any LatentHierarchy, inputs: Tensor, frozen: Bool) { self.model = model; self.inputs = inputs; self.frozen = frozen }
    public var dimension: Int { model.codeDimension }
    public func callAsFunction(_ z: Variable) -> Variable { -model.logJoint(inputs, codes: z) }
    public func chains(_ rows: Range<Int>) -> (any PotentialEnergy)? {
        frozen ? HierarchicalPosteriorEnergy(model: model, inputs: inputs.rows(rows), frozen: true) : nil
    }
}
