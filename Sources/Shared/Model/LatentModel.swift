import Foundation

/// How one latent group is chosen when images are encoded (`LatentModel.codes`).
public enum LevelChoice: String, CaseIterable, Sendable {
    /// The posterior mean (of q(z_k | z_>k, x) given the groups above).
    case mean
    /// A reparameterised sample of it.
    case sample
}

/// What the command-line tools need of a model with one or several latent levels: codes of
/// images, images of codes, the HMC energy, the ELBO and the importance-sampled likelihood.
/// `VAE` is the one-level case; `HierarchicalVAE` stores its groups' codes side by side in a
/// row, top group first.
public protocol LatentModel: TrainableModel {
    /// The width of one row of codes (all groups).
    var codeDimension: Int { get }
    /// Latent groups (1 for a VAE).
    var groupCount: Int { get }
    /// Codes `[N, codeDimension]` of images, each group chosen by `levels` (top first).
    func codes(_ images: Tensor, levels: [LevelChoice], rng: inout RNG) -> Tensor
    /// Decoder means σ(logits) of codes, in batches.
    func decoderMeans(_ codes: Tensor, batch: Int) -> Tensor
    /// Paper D's HMC energy U(z) = −log p(x|z) − log p(z) for images `inputs`.
    func posteriorEnergy(_ inputs: Tensor) -> any PotentialEnergy
    /// One reparameterised sample of the ELBO per image (analytic KL terms).
    func elboSample(_ x: Variable, rng: inout RNG) -> Variable
    /// The importance-sampled log p(x) per image with `samples` draws of q.
    func logMarginalPerImage(_ images: Tensor, samples: Int, seed: UInt64) -> [Double]
}

extension LatentModel {
    /// The ELBO per image, averaged over `samples` reparameterised samples.
    public func elboPerImage(_ images: Tensor, samples: Int = 1, seed: UInt64 = 0, batch: Int = 250) -> [Double] {
        var rng = RNG(seed: seed)
        return Autodiff.withoutGradients { Batches.map(images, size: batch) { x in
            var sum = [Double](repeating: 0, count: x.shape[0])
            for _ in 0..<samples {
                for (i, v) in elboSample(Variable(x), rng: &rng).value.data.enumerated() { sum[i] += Double(v) }
            }
            return sum.map { $0 / Double(samples) }
        } }
    }
}

extension VAE: LatentModel {
    public func elboSample(_ x: Variable, rng: inout RNG) -> Variable {
        let t = elboTerms(x, rng: &rng)
        return t.logpx - t.kl
    }
    public var codeDimension: Int { config.latent }
    public var groupCount: Int { 1 }
    public func codes(_ images: Tensor, levels: [LevelChoice], rng: inout RNG) -> Tensor {
        precondition(levels.count == 1)
        return Autodiff.withoutGradients {
            Batches.mapRows(images) { x in
                let (mu, sigma) = encode(Variable(x))
                return levels[0] == .mean ? mu.value : sample(mu: mu, sigma: sigma, rng: &rng).z.value
            }
        }
    }
    public func posteriorEnergy(_ inputs: Tensor) -> any PotentialEnergy { VAEPosteriorEnergy(vae: self, inputs: inputs) }
}

extension HierarchicalVAE: LatentModel {
    public var groupCount: Int { groups }

    public func codes(_ images: Tensor, levels: [LevelChoice], rng: inout RNG) -> Tensor {
        precondition(levels.count == groups)
        return Autodiff.withoutGradients {
            Batches.mapRows(images) { x in
                let g = topDown(features: features(Variable(x)), rng: &rng) { levels[groups - $0] == .mean ? .mean : .sample }.groups
                return Variable.concat(g.map(\.z), axis: 1).value
            }
        }
    }

    public func decoderMeans(_ codes: Tensor, batch: Int = Batches.defaultSize) -> Tensor {
        Autodiff.withoutGradients { Batches.mapRows(codes, size: batch) { generate(Variable($0)).logits.sigmoid().value } }
    }

    public func posteriorEnergy(_ inputs: Tensor) -> any PotentialEnergy {
        HierarchicalPosteriorEnergy(model: self, inputs: inputs, frozen: parameters.allSatisfy { !$0.requiresGrad })
    }

    public func elboSample(_ x: Variable, rng: inout RNG) -> Variable {
        let t = elboTerms(x, rng: &rng)
        return t.kl.reduce(t.logpx, -)
    }

    /// `importanceLogLikelihood` one image at a time, its draws in chunks of 250 copies.
    public func logMarginalPerImage(_ images: Tensor, samples k: Int, seed: UInt64 = 0) -> [Double] {
        var rng = RNG(seed: seed)
        return Autodiff.withoutGradients { Batches.map(images, size: 1) { x in
            var logw = [Double](repeating: 0, count: k)
            for chunk in Batches.ranges(count: k, size: 250) {
                let xs = Variable(x.gatherRows([Int](repeating: 0, count: chunk.count)))
                let (g, logits) = topDown(features: features(xs), rng: &rng) { _ in .sample }
                let w = g.reduce(likelihood.logProb(xs, logits: logits)) { $0 + $1.logPrior - $1.logPosterior }.value
                for i in 0..<chunk.count { logw[chunk.lowerBound + i] = Double(w.data[i]) }
            }
            let mx = logw.max()!
            return [mx + Foundation.log(logw.reduce(0) { $0 + Foundation.exp($1 - mx) }) - Foundation.log(Double(k))]
        } }
    }
}

extension HierarchicalVAE {
    /// Rebuilds a model from a file written by vae-train (frozen unless `trainable`).
    public static func load(_ path: String, config: ModelConfig, file: SafeTensors.File, trainable: Bool = false) throws -> HierarchicalVAE {
        let model: HierarchicalVAE
        do { model = try HierarchicalVAE(config: config) } catch let e as ToolError { throw ToolError.file(path, e.message) }
        try model.loadWeights(from: file, name: path)
        if !trainable { model.freeze() }
        return model
    }
}

/// Reads any model vae-train writes: a one-level VAE or a hierarchical one.
public enum Models {
    public static func load(_ path: String) throws -> any LatentModel {
        let file = try SafeTensors.read(path)
        let config = try ModelConfig.from(file, name: path)
        if config.architecture == "hvae" { return try HierarchicalVAE.load(path, config: config, file: file) }
        return try VAE.load(path).model
    }
}
