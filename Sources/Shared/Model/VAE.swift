import Foundation

/// A trained or trainable VAE: encoder q(z|x), decoder p(x|z) (logits), likelihood, prior
/// N(0, I), and the configuration that rebuilds it from a `.safetensors` file.
public final class VAE {
    public private(set) var config: ModelConfig
    public let encoder: Encoder
    public let decoder: any Layer
    public let likelihood: Likelihood

    /// Builds a freshly initialised model (initialisation drawn from `config.seed`);
    /// `forLoading` when a file's weights replace it at once (see `Architectures.build`).
    public init(config: ModelConfig, forLoading: Bool = false) throws {
        var rng = RNG(seed: config.seed).derived(1)
        (encoder, decoder) = try Architectures.build(config, rng: &rng, forLoading: forLoading)
        likelihood = try Likelihood(name: config.likelihood, sigma0: config.sigma0)
        self.config = config
    }

    public var namedParameters: [(name: String, variable: Variable)] {
        encoder.namedParameters.map { ("encoder.\($0.name)", $0.variable) }
            + decoder.namedParameters.map { ("decoder.\($0.name)", $0.variable) }
    }

    /// μ(x), σ(x).
    public func encode(_ x: Variable) -> (mu: Variable, sigma: Variable) { encoder(x) }
    /// Decoder logits for latent codes `[N, latent]`.
    public func decodeLogits(_ z: Variable) -> Variable { decoder(z) }
    /// The decoder's mean image σ(logits), `[N, C, H, W]`.
    public func decodeMean(_ z: Variable) -> Variable { decoder(z).sigmoid() }

    /// z = μ + σ ⊙ ε (the reparameterisation trick) with ε drawn from `rng`; also returns ε.
    public func sample(mu: Variable, sigma: Variable, rng: inout RNG) -> (z: Variable, eps: Tensor) {
        let eps = rng.normalTensor(mu.shape)
        return (mu + sigma * Variable(eps), eps)
    }

    // MARK: Lipschitz layers

    /// Every Björck layer with its parameter-name prefix.
    public var bjorckLayers: [(name: String, layer: BjorckLinear)] {
        func walk(_ l: any Layer, _ prefix: String) -> [(String, BjorckLinear)] {
            if let b = l as? BjorckLinear { return [(prefix, b)] }
            if let s = l as? Sequential { return s.layers.enumerated().flatMap { walk($1, prefix + "\($0).") } }
            return []
        }
        var out: [(String, BjorckLinear)] = []
        if let t = encoder.trunk { out += walk(t, "encoder.trunk.") }
        out += walk(encoder.meanHead, "encoder.mean.")
        if let s = encoder.scaleHead { out += walk(s, "encoder.scale.") }
        return out + walk(decoder, "decoder.")
    }

    /// Projects every Björck layer's weight back to the orthonormal matrices (after an
    /// optimizer step; see `BjorckLinear.project`).
    public func projectLipschitzLayers() {
        for (_, layer) in bjorckLayers { layer.project() }
    }

    /// Marks every Björck layer's weight as projected (see `BjorckLinear.markProjected`).
    public func markLipschitzLayersProjected() {
        for (_, layer) in bjorckLayers { layer.markProjected() }
    }

    /// Replaces every Björck layer's raw weight by its orthonormalised version after
    /// `extraIterations` more iterations than training uses (the authors run 50 more at
    /// evaluation) and records each one's measured largest singular value (before the
    /// layer's scale) in the configuration: by power iteration (`spectralNorms`, a lower
    /// bound) and a certified upper bound (`spectralNormBounds`), so the saved model
    /// demonstrably satisfies the Lipschitz constants it claims (paper A Theorem 2 relies on
    /// them).
    public func finalizeLipschitzLayers(extraIterations: Int = 50) {
        var norms: [String: Float] = [:], bounds: [String: Float] = [:]
        for (name, layer) in bjorckLayers {
            let q = layer.weight.value.bjorckOrthonormalized(iterations: layer.iterations + extraIterations, scaling: layer.scaling)
            layer.weight.value = q
            norms[name + "weight"] = q.spectralNorm()
            bounds[name + "weight"] = q.spectralNormUpperBound()
        }
        config.spectralNorms = norms.isEmpty ? nil : norms
        config.spectralNormBounds = bounds.isEmpty ? nil : bounds
    }

    // MARK: Files

    /// Records how the model is being trained (saved in its configuration).
    public func recordTraining(_ record: TrainingRecord) { config.training = record }

    /// Rebuilds a model from a file written by `save` (or by vae-train). The model comes back
    /// frozen, as every tool that reads a saved model evaluates, attacks or defends it;
    /// `trainable: true` keeps its weights trainable.
    public static func load(_ path: String, trainable: Bool = false) throws -> (model: VAE, file: SafeTensors.File) {
        let (model, file) = try Models.restore(path, trainable: trainable) { try VAE(config: $0, forLoading: true) }
        return (model as! VAE, file)  // the builder gives a VAE
    }
}
