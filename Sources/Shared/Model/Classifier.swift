import Foundation

/// Paper D's downstream task: a linear classifier on the encoder means μ(x), trained with
/// SGD on cross-entropy. Its adversarial accuracy measures how far an attack moves codes.
public final class LatentClassifier {
    public let layer: Linear
    public private(set) var config: ModelConfig

    public init(latent: Int, classes: Int, config: ModelConfig) {
        var rng = RNG(seed: config.seed).derived(3)
        layer = Linear(latent, classes, rng: &rng)
        self.config = config
    }

    /// Class logits for encoder means `[N, latent]`.
    public func logits(_ features: Variable) -> Variable { layer(features) }

    /// Predicted class per row.
    public func predict(_ features: Tensor) -> [Int] {
        let l = Autodiff.withoutGradients { logits(Variable(features)).value }
        let c = l.shape[1]
        return (0..<l.shape[0]).map { i in (0..<c).max { l.data[i * c + $0] < l.data[i * c + $1] }! }
    }

    /// Mean cross-entropy of integer `labels`: logsumexp(l) − l_y.
    public static func crossEntropy(_ logits: Variable, labels: [Int]) -> Variable {
        let (n, c) = (logits.shape[0], logits.shape[1])
        var onehot = Tensor.zeros([n, c])
        for (i, y) in labels.enumerated() { onehot.data[i * c + y] = 1 }
        return (logits.logSumExp(axis: 1) - (logits * Variable(onehot)).sum(axis: 1)).mean()
    }

    /// Trains with minibatch SGD (momentum 0.9) and returns the final training accuracy.
    @discardableResult
    public func train(features: Tensor, labels: [Int], epochs: Int, batch: Int, learningRate: Float) -> Double {
        let sgd = SGD(parameters: layer.parameters, learningRate: learningRate, momentum: 0.9)
        let n = features.shape[0]
        for epoch in 0..<epochs {
            var rng = RNG(seed: config.seed).derived(4000 + UInt64(epoch))
            let perm = rng.permutation(n)
            for r in Batches.ranges(count: n, size: batch) {
                let idx = Array(perm[r])
                let loss = LatentClassifier.crossEntropy(logits(Variable(features.gatherRows(idx))), labels: idx.map { labels[$0] })
                loss.backward()
                sgd.step()
            }
        }
        let pred = predict(features)
        return Double(zip(pred, labels).filter { $0 == $1 }.count) / Double(n)
    }

    public func save(to path: String) throws {
        try SafeTensors.write(SafeTensors.File(tensors: layer.namedParameters.map { ("classifier.\($0.name)", $0.variable.value) },
                                               metadata: [ModelConfig.metadataKey: try config.json(), "format": "robustvae"]), to: path)
    }

    public static func load(_ path: String) throws -> LatentClassifier {
        let file = try SafeTensors.read(path)
        let config = try ModelConfig.from(file, name: path)
        guard config.architecture == "linear-classifier", let classes = config.classes else {
            throw ToolError.file(path, "is not a latent classifier (architecture '\(config.architecture)')")
        }
        let c = LatentClassifier(latent: config.latent, classes: classes, config: config)
        for (name, p) in c.layer.namedParameters {
            guard let t = file["classifier." + name], t.shape == p.value.shape else {
                throw ToolError.file(path, "missing or misshapen weight 'classifier.\(name)'")
            }
            p.value = t
        }
        return c
    }

    /// Loads a classifier for the codes of `vae` (loaded from `modelPath`), refusing one that
    /// takes codes of another size or that was trained on another model's codes (its recorded
    /// weight digest differs).
    public static func load(_ path: String, for vae: VAE, modelPath: String) throws -> LatentClassifier {
        let clf = try load(path)
        guard clf.config.latent == vae.config.latent else {
            throw ToolError("\(path) takes codes of size \(clf.config.latent), \(modelPath) makes \(vae.config.latent)")
        }
        if let d = clf.config.extra?["model_digest"], d != vae.weightsDigest {
            throw ToolError("\(path) was trained on the codes of another model (\(clf.config.extra?["model"] ?? "unknown"), not \(modelPath)): train one with vae-train classifier --model \(modelPath)")
        }
        return clf
    }
}
