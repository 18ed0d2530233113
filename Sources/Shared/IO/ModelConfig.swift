import Foundation

/// Everything needed to rebuild a trained model, stored as JSON under the
/// `config` key of a `.safetensors` file's `__metadata__` (strings only, per the format).
/// Fields not used by a model family stay nil. The training tool fills this in; the
/// attack, certification, HMC and evaluation tools rebuild the model from it.
public struct ModelConfig: Codable, Equatable, Sendable {
    /// File-format version of this record.
    public var format: Int = 1
    /// `mlp`, `conv` or `conv-small` (see vae-train).
    public var architecture: String
    /// `elbo`, `tcvae`, `provae`, …
    public var objective: String = "elbo"
    public var latent: Int
    public var hidden: [Int] = []
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
    /// Number of classes of a classifier (vae-train classifier).
    public var classes: Int? = nil
    /// Encoder standard-deviation offset τ (paper B section 4.2).
    public var sigmaOffset: Float? = nil
    public var epsTrain: Float? = nil
    /// Measured largest singular value of every constrained layer, by parameter name.
    public var spectralNorms: [String: Float]? = nil
    /// Dataset spec the model was trained on.
    public var data: String
    public var seed: UInt64
    /// Anything else a tool wants to record.
    public var extra: [String: String]? = nil

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
