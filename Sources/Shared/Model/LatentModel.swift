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
    /// The decoder's likelihood p(x | z).
    var likelihood: Likelihood { get }
    /// Latent groups (1 for a VAE).
    var groupCount: Int { get }
    /// Each group's width in a row of codes, top group first (they sum to `codeDimension`).
    var groupSizes: [Int] { get }
    /// Codes `[N, codeDimension]` of images, each group chosen by `levels` (top first).
    func codes(_ images: Tensor, levels: [LevelChoice], rng: inout RNG) -> Tensor
    /// Decoder means σ(logits) of codes, in batches.
    func decoderMeans(_ codes: Tensor, batch: Int) -> Tensor
    /// The decoder's logits of codes `[N, codeDimension]`.
    func decoderLogits(_ codes: Variable) -> Variable
    /// Paper D's HMC energy U(z) = −log p(x|z) − log p(z) for images `inputs`.
    func posteriorEnergy(_ inputs: Tensor) -> any PotentialEnergy
    /// One reparameterised sample of the ELBO's two terms per image: log p(x|z) at z ~ q(z|x),
    /// and the analytic KL(q(z|x) ‖ p(z)) (for a hierarchical model, the sum of its groups').
    func elboParts(_ x: Variable, rng: inout RNG) -> (logpx: Variable, kl: Variable)
    /// log p(x, z) − log q(z | x) at `count` draws z ~ q(z | x) of one image `x` `[1, ...]`.
    func logImportanceWeights(_ x: Tensor, count: Int, rng: inout RNG) -> Tensor
}

extension LatentModel {
    /// Importance-weighted estimate of log p(x) per image with K draws of q(z|x) (Burda et al.
    /// 2016; paper D reports NLL with K = 1000), one image at a time, its draws in chunks of 250:
    ///     log p(x) ≈ logsumexp_k [log p(x, z_k) − log q(z_k|x)] − log K.
    public func logMarginalPerImage(_ images: Tensor, samples k: Int, seed: UInt64 = 0) -> [Double] {
        var rng = RNG(seed: seed)
        return Autodiff.withoutGradients { Batches.map(images, size: 1) { x in
            var logw: [Double] = []
            logw.reserveCapacity(k)
            for chunk in Batches.ranges(count: k, size: 250) {
                logw += logImportanceWeights(x, count: chunk.count, rng: &rng).data.map(Double.init)
            }
            let mx = logw.max()!
            return [mx + Foundation.log(logw.reduce(0) { $0 + Foundation.exp($1 - mx) }) - Foundation.log(Double(k))]
        } }
    }

    /// One reparameterised sample of the ELBO per image, log p(x|z) − KL.
    public func elboSample(_ x: Variable, rng: inout RNG) -> Variable {
        let t = elboParts(x, rng: &rng)
        return t.logpx - t.kl
    }

    /// The ELBO per image, averaged over `samples` reparameterised samples.
    public func elboPerImage(_ images: Tensor, samples: Int = 1, seed: UInt64 = 0, batch: Int = 250) -> [Double] {
        elboTermsPerImage(images, samples: samples, seed: seed, batch: batch).map(\.elbo)
    }

    /// The ELBO per image and its two terms, the reconstruction log-likelihood log p(x|z) and
    /// the KL, each averaged over `samples` reparameterised samples (elbo = logpx − kl).
    public func elboTermsPerImage(_ images: Tensor, samples: Int = 1, seed: UInt64 = 0, batch: Int = 250)
        -> [(elbo: Double, logpx: Double, kl: Double)] {
        var rng = RNG(seed: seed)
        return Autodiff.withoutGradients { Batches.map(images, size: batch) { x in
            var lp = [Double](repeating: 0, count: x.shape[0]), kl = lp
            for _ in 0..<samples {
                let t = elboParts(Variable(x), rng: &rng)
                for i in 0..<lp.count { lp[i] += Double(t.logpx.value.data[i]); kl[i] += Double(t.kl.value.data[i]) }
            }
            let n = Double(samples)
            return zip(lp, kl).map { (elbo: ($0 - $1) / n, logpx: $0 / n, kl: $1 / n) }
        } }
    }
}

extension LatentModel {
    /// log p(x | z) of image i at code row i (`[N, codeDimension]`), the ELBO's reconstruction
    /// term at given codes, in batches.
    public func reconstructionLogLikelihood(_ images: Tensor, codes: Tensor, batch: Int = Batches.defaultSize) -> [Double] {
        precondition(images.shape[0] == codes.shape[0], "one code per image")
        return Autodiff.withoutGradients {
            Batches.ranges(count: images.shape[0], size: batch).flatMap { r in
                likelihood.logProb(Variable(images.rows(r)), logits: decoderLogits(Variable(codes.rows(r)))).value.data.map(Double.init)
            }
        }
    }

    /// The decoder's logits of codes `[N, codeDimension]` as images `[N, C, H, W]`, in batches:
    /// what `decoderMeans` applies the sigmoid to, kept exact where the mean would round to 0 or 1.
    public func decoderLogitValues(_ codes: Tensor, batch: Int = Batches.defaultSize) -> Tensor {
        Autodiff.withoutGradients { Batches.mapRows(codes, size: batch) { decoderLogits(Variable($0)).value } }
    }
}

extension VAE: LatentModel {
    public func decoderLogits(_ codes: Variable) -> Variable { decodeLogits(codes) }
    public func elboParts(_ x: Variable, rng: inout RNG) -> (logpx: Variable, kl: Variable) {
        let t = elboTerms(x, rng: &rng)
        return (t.logpx, t.kl)
    }
    public var codeDimension: Int { config.latent }
    public var groupCount: Int { 1 }
    public var groupSizes: [Int] { [config.latent] }
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

    public func decoderLogits(_ codes: Variable) -> Variable { generate(codes).logits }

    public func posteriorEnergy(_ inputs: Tensor) -> any PotentialEnergy {
        HierarchicalPosteriorEnergy(model: self, inputs: inputs, frozen: isFrozen)
    }

    public func elboParts(_ x: Variable, rng: inout RNG) -> (logpx: Variable, kl: Variable) {
        let t = elboTerms(x, rng: &rng)
        return (t.logpx, t.kl.dropFirst().reduce(t.kl[0], +))
    }

    public func logImportanceWeights(_ x: Tensor, count m: Int, rng: inout RNG) -> Tensor {
        let xs = Variable(x.gatherRows([Int](repeating: 0, count: m)))
        return logWeight(xs, features: features(xs), rng: &rng).value
    }
}

/// Reads the models vae-train writes.
public enum Models {
    /// Any model vae-train writes, a one-level VAE or a hierarchical one, frozen.
    public static func load(_ path: String) throws -> any LatentModel {
        // both builders give a LatentModel
        try restore(path, trainable: false) { c in
            c.architecture == "hvae" ? try HierarchicalVAE(config: c) as any TrainableModel : try VAE(config: c, forLoading: true)
        }.model as! any LatentModel
    }

    /// The file at `path`, its configuration built into a model by `build` (its errors named
    /// after the file), with the file's weights, frozen unless `trainable`.
    static func restore(_ path: String, trainable: Bool, build: (ModelConfig) throws -> any TrainableModel)
        throws -> (model: any TrainableModel, file: SafeTensors.File) {
        let file = try SafeTensors.read(path)
        let config = try ModelConfig.from(file, name: path)
        let model: any TrainableModel
        do { model = try build(config) } catch let e as ToolError { throw ToolError.file(path, e.message) }
        try model.loadWeights(from: file, name: path)
        if !trainable { model.freeze() }
        return (model, file)
    }
}
