import Foundation

/// Everything needed to rebuild a trained model, stored as JSON under the
/// `config` key of a `.safetensors` file's `__metadata__` (strings only, per the format).
/// Fields not used by a model family stay nil. The training tool fills this in; the
/// attack, certification, HMC and evaluation tools rebuild the model from it.
public struct ModelConfig: Codable, Equatable, Sendable {
    /// File-format version of this record.
    public var format: Int = 1
    /// `mlp`, `conv`, `conv-small` or `hvae` (see vae-train).
    public var architecture: String
    /// `elbo`, `tcvae`, `provae`, …
    public var objective: String = "elbo"
    /// Latent dimensions (per group for `hvae`; its top group alone with `latentMap`).
    public var latent: Int
    public var hidden: [Int] = []
    /// Latent groups K of a hierarchical VAE (`hvae`; nil for the one-level models).
    public var groups: Int? = nil
    /// The hierarchical VAE's top-down state update (`HierarchicalVAE`): `residual`, which
    /// vae-train writes, or nil for files from before it existed (the plain update).
    public var topDown: String? = nil
    /// Channels C of each lower group's C×7×7 latent map in a hierarchical VAE (`hvae`,
    /// `--latent-map`); nil: every group a vector of `latent` dimensions.
    public var latentMap: Int? = nil
    /// Input shape `[C, H, W]`.
    public var inputShape: [Int]
    /// `bernoulli`, `cbernoulli` or `gaussian`.
    public var likelihood: String = "bernoulli"
    public var sigma0: Float? = nil
    public var beta: Float? = nil
    /// Lipschitz constants of decoder (a), encoder mean (b) and encoder std (c); paper A.
    public var lipschitzDecoder: Float? = nil
    public var lipschitzMean: Float? = nil
    public var lipschitzStd: Float? = nil
    public var fixedSigma: Float? = nil
    /// Björck iterations per forward pass of a Lipschitz layer, and GroupSort's group size.
    public var bjorckIterations: Int? = nil
    public var groupSize: Int? = nil
    /// The gradient of an already orthonormal Björck weight: `tangent` or `identity`
    /// (`BjorckGradient`; nil: tangent).
    public var bjorckGradient: BjorckGradient? = nil
    /// Number of classes of a classifier (vae-train classifier).
    public var classes: Int? = nil
    /// Encoder standard-deviation offset τ (paper B section 4.2).
    public var sigmaOffset: Float? = nil
    /// Largest ℓ2 norm of the learned encoder σ(x) (`--sigma-max-norm`; nil: no clip): a row
    /// with a larger norm is scaled onto it, as the paper A authors' Lemma 1.1 models do
    /// (`Encoder.clipRowNorm`).
    public var sigmaMaxNorm: Float? = nil
    /// The `mlp` encoder's σ head (`--sigma-head`; nil: the sigmoid of paper A, as in files
    /// written before the option existed). The other architectures have their papers' heads.
    public var sigmaHead: ScaleParameterization? = nil
    public var epsTrain: Float? = nil
    /// Largest singular value of every constrained layer (before its scale), by parameter
    /// name: measured by power iteration (a lower bound) and certified from above.
    public var spectralNorms: [String: Float]? = nil
    public var spectralNormBounds: [String: Float]? = nil
    /// Dataset spec the model was trained on.
    public var data: String
    public var seed: UInt64
    /// Anything else a tool wants to record.
    public var extra: [String: String]? = nil
    /// How the model was trained (vae-train fills it in; nil for files from elsewhere).
    public var training: TrainingRecord? = nil

    public init(architecture: String, latent: Int, inputShape: [Int], data: String, seed: UInt64) {
        self.architecture = architecture; self.latent = latent; self.inputShape = inputShape
        self.data = data; self.seed = seed
    }

    public static let metadataKey = "config"

    public func json() throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try enc.encode(self), as: UTF8.self)
    }

    /// The configuration stored in a loaded `.safetensors` file.
    public static func from(_ file: SafeTensors.File, name: String) throws -> ModelConfig {
        guard let text = file.metadata[metadataKey] else {
            throw ToolError.file(name, "has no RobustVAE model configuration (metadata key '\(metadataKey)'); was it written by vae-train?")
        }
        do { return try JSONDecoder().decode(ModelConfig.self, from: Data(text.utf8)) }
        catch { throw ToolError.file(name, "model configuration is not valid: \(error)") }
    }
}

/// Provenance: how a model was trained, so that a model from a short or partial run does not
/// pass for a full one, and so that a resumed run can be checked against its checkpoint.
public struct TrainingRecord: Codable, Equatable, Sendable {
    public var tool: String = "robustvae \(RobustVAE.version)"
    public var epochs: Int
    public var batch: Int
    public var learningRate: Float
    public var schedule: String
    public var patience: Int?
    public var stepSize: Int?
    public var gamma: Float?
    public var validationFraction: Float
    /// Training images after `--train-limit` (before the validation hold-out), and the limit.
    public var trainImages: Int
    public var trainLimit: Int?
    public var epsTrain: Float?
    /// proVAE's ramp in epochs, resolved (the default depends on the epochs).
    public var epsRampEpochs: Int?
    /// proVAE trained on the whole L∞ ball, not clipped to [0, 1] (`--no-pixel-box`: false;
    /// nil: clipped, as in files written before the option existed).
    public var pixelBox: Bool? = nil
    /// `none`, or `dynamic` (a fresh Bernoulli draw of every training batch).
    public var binarize: String = "none"
    /// KL warm-up in epochs (nil: none).
    public var klWarmupEpochs: Double? = nil
    /// `--init`: the model file training started from, and its weights' digest
    /// (`TrainableModel.weightsDigest`; nil: a fresh initialisation from the seed).
    public var initModel: String? = nil
    public var initDigest: String? = nil
    /// `--convergence-tol` (nats; nil: a fixed number of epochs), and with it the epochs the
    /// run took (`epochs` is then the most it could take) and whether the rule stopped it.
    public var convergenceTol: Double? = nil
    public var epochsRun: Int? = nil
    public var converged: Bool? = nil

    public init(epochs: Int, batch: Int, learningRate: Float, schedule: String, patience: Int?, stepSize: Int?, gamma: Float?,
                validationFraction: Float, trainImages: Int, trainLimit: Int?, epsTrain: Float?, epsRampEpochs: Int?,
                binarize: String = "none") {
        self.epochs = epochs; self.batch = batch; self.learningRate = learningRate; self.schedule = schedule
        self.patience = patience; self.stepSize = stepSize; self.gamma = gamma
        self.validationFraction = validationFraction; self.trainImages = trainImages; self.trainLimit = trainLimit
        self.epsTrain = epsTrain; self.epsRampEpochs = epsRampEpochs; self.binarize = binarize
    }

    enum CodingKeys: String, CodingKey {
        case tool, epochs, batch, learningRate, schedule, patience, stepSize, gamma, validationFraction, trainImages, trainLimit,
             epsTrain, epsRampEpochs, pixelBox, binarize, klWarmupEpochs, initModel, initDigest, convergenceTol, epochsRun, converged
    }

    /// Records written before binarisation existed read as `none`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tool = try c.decode(String.self, forKey: .tool)
        epochs = try c.decode(Int.self, forKey: .epochs); batch = try c.decode(Int.self, forKey: .batch)
        learningRate = try c.decode(Float.self, forKey: .learningRate); schedule = try c.decode(String.self, forKey: .schedule)
        patience = try c.decodeIfPresent(Int.self, forKey: .patience); stepSize = try c.decodeIfPresent(Int.self, forKey: .stepSize)
        gamma = try c.decodeIfPresent(Float.self, forKey: .gamma)
        validationFraction = try c.decode(Float.self, forKey: .validationFraction)
        trainImages = try c.decode(Int.self, forKey: .trainImages); trainLimit = try c.decodeIfPresent(Int.self, forKey: .trainLimit)
        epsTrain = try c.decodeIfPresent(Float.self, forKey: .epsTrain); epsRampEpochs = try c.decodeIfPresent(Int.self, forKey: .epsRampEpochs)
        pixelBox = try c.decodeIfPresent(Bool.self, forKey: .pixelBox)
        binarize = try c.decodeIfPresent(String.self, forKey: .binarize) ?? "none"
        klWarmupEpochs = try c.decodeIfPresent(Double.self, forKey: .klWarmupEpochs)
        initModel = try c.decodeIfPresent(String.self, forKey: .initModel)
        initDigest = try c.decodeIfPresent(String.self, forKey: .initDigest)
        convergenceTol = try c.decodeIfPresent(Double.self, forKey: .convergenceTol)
        epochsRun = try c.decodeIfPresent(Int.self, forKey: .epochsRun)
        converged = try c.decodeIfPresent(Bool.self, forKey: .converged)
    }

    /// The options a resumed run must share with its checkpoint for the result to equal an
    /// uninterrupted run's, by option name, with the values that differ (empty: compatible).
    /// The epoch count may grow (training continues).
    public func resumeMismatches(_ other: TrainingRecord) -> [String] {
        var out: [String] = []
        func cmp<T: Equatable>(_ name: String, _ a: T, _ b: T) { if a != b { out.append("\(name) \(b) (checkpoint: \(a))") } }
        cmp("--batch", batch, other.batch)
        cmp("--lr", learningRate, other.learningRate)
        cmp("--val-fraction", validationFraction, other.validationFraction)
        cmp("training images", trainImages, other.trainImages)
        cmp("--lr-schedule", schedule, other.schedule)
        cmp("--patience", patience.map(String.init) ?? "-", other.patience.map(String.init) ?? "-")
        cmp("--step-size", stepSize.map(String.init) ?? "-", other.stepSize.map(String.init) ?? "-")
        cmp("--gamma", gamma.map { "\($0)" } ?? "-", other.gamma.map { "\($0)" } ?? "-")
        cmp("--eps-train", epsTrain.map { "\($0)" } ?? "-", other.epsTrain.map { "\($0)" } ?? "-")
        cmp("--eps-ramp", epsRampEpochs.map(String.init) ?? "-", other.epsRampEpochs.map(String.init) ?? "-")
        cmp("proVAE ball", pixelBox == false ? "whole (--no-pixel-box)" : "clipped to [0, 1]", other.pixelBox == false ? "whole (--no-pixel-box)" : "clipped to [0, 1]")
        cmp("--binarize", binarize, other.binarize)
        cmp("--kl-warmup", klWarmupEpochs.map { "\($0)" } ?? "-", other.klWarmupEpochs.map { "\($0)" } ?? "-")
        cmp("--convergence-tol", convergenceTol.map { "\($0)" } ?? "-", other.convergenceTol.map { "\($0)" } ?? "-")
        // the starting weights, by digest (the same file by another path is the same start)
        if initDigest != other.initDigest {
            cmp("--init", initDigest.map { "\(initModel ?? "?") (weights \($0))" } ?? "-", other.initDigest.map { "\(other.initModel ?? "?") (weights \($0))" } ?? "-")
        }
        return out
    }
}

/// The toolkit's version, recorded in what it writes.
public enum RobustVAE {
    public static let version = "0.3.0"
}
