/// What `Trainer` needs of a model: the one-level `VAE` and the `HierarchicalVAE` both train
/// through it (Adam on the parameters, the loss of a batch, whole-dataset numbers, and the
/// `.safetensors` file with the configuration in its metadata).
public protocol TrainableModel: AnyObject {
    var config: ModelConfig { get }
    var namedParameters: [(name: String, variable: Variable)] { get }
    /// The minibatch loss for `objective` with KL weight `beta`.
    func loss(_ images: Tensor, objective: Objective, beta: Float, rng: inout RNG) -> BatchLoss
    /// Mean per-image ELBO, mean per-pixel squared reconstruction error and, for a radius,
    /// a certified bound (`VAE.evaluate`; `pixelBox` as there).
    func evaluateForTraining(_ images: Tensor, seed: UInt64, boundRadius: Float?, pixelBox: Bool) -> (elbo: Double, mse: Double, bound: Double?)
    func recordTraining(_ record: TrainingRecord)
    /// Lipschitz layers: the projection after each step, marking a resumed model projected,
    /// and the final projection (no-ops for models without them).
    func projectLipschitzLayers()
    func markLipschitzLayersProjected()
    func finalizeLipschitzLayers(extraIterations: Int)
}

extension TrainableModel {
    public var parameters: [Variable] { namedParameters.map(\.variable) }

    /// Freezes every weight: attacks, HMC and Jacobians then get input and latent gradients
    /// without any weight-gradient work (see `Autodiff.setFrozen`).
    public func freeze() { Autodiff.setFrozen(parameters, true) }
    /// Makes every weight trainable again.
    public func unfreeze() { Autodiff.setFrozen(parameters, false) }
    /// Whether no weight needs a gradient.
    public var isFrozen: Bool { parameters.allSatisfy { !$0.requiresGrad } }

    /// Writes weights and configuration as `.safetensors` (atomically). `extraTensors` and
    /// `extraMetadata` carry training state in checkpoints; `beforeCommit` as in `AtomicFile.write`.
    public func save(to path: String, extraTensors: [(name: String, tensor: Tensor)] = [], extraMetadata: [String: String] = [:],
                     beforeCommit: () throws -> Void = {}) throws {
        var meta = extraMetadata
        meta[ModelConfig.metadataKey] = try config.json()
        meta["format"] = "robustvae"
        try SafeTensors.write(SafeTensors.File(tensors: namedParameters.map { ($0.name, $0.variable.value) } + extraTensors,
                                               metadata: meta), to: path, beforeCommit: beforeCommit)
    }

    /// A fingerprint of the weights (64-bit FNV-1a over every parameter's name, shape and
    /// bytes, in order, as hex): a latent classifier records it, so that it is never used
    /// with the codes of another model, and `vae-train --init` records its starting point's.
    public var weightsDigest: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 { for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
        for (name, p) in namedParameters {
            mix(name.utf8)
            for d in p.value.shape { withUnsafeBytes(of: UInt64(d).littleEndian) { mix($0) } }
            p.value.data.withUnsafeBytes { mix($0) }
        }
        return String(h, radix: 16)
    }

    /// Copies weights by name, checking that every parameter is present with its shape.
    public func loadWeights(from file: SafeTensors.File, name: String) throws {
        let tensors = Dictionary(file.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        for (pname, p) in namedParameters {
            guard let t = tensors[pname] else { throw ToolError.file(name, "missing weight '\(pname)'") }
            guard t.shape == p.value.shape else {
                throw ToolError.file(name, "weight '\(pname)' has shape \(t.shape), the model needs \(p.value.shape)")
            }
            guard t.isFinite else { throw ToolError.file(name, "weight '\(pname)' contains NaN or infinite values") }
            p.value = t
        }
    }
}

extension VAE: TrainableModel {
    public func evaluateForTraining(_ images: Tensor, seed: UInt64, boundRadius: Float?, pixelBox: Bool) -> (elbo: Double, mse: Double, bound: Double?) {
        evaluate(images, seed: seed, boundRadius: boundRadius, pixelBox: pixelBox)
    }
}

extension HierarchicalVAE: TrainableModel {
    public func evaluateForTraining(_ images: Tensor, seed: UInt64, boundRadius: Float?, pixelBox: Bool) -> (elbo: Double, mse: Double, bound: Double?) {
        let e = evaluate(images, seed: seed)
        return (e.elbo, e.mse, nil)
    }
    public func projectLipschitzLayers() {}
    public func markLipschitzLayersProjected() {}
    public func finalizeLipschitzLayers(extraIterations: Int) {}
}
