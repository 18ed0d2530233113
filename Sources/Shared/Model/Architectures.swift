import Foundation

/// The three network families of the papers, built from a `ModelConfig`.
///
/// - `mlp` (paper A): three separate fully connected networks for μ, σ (final sigmoid, or the
///   head `config.sigmaHead` chooses: on grey data a sigmoid σ can saturate at 1, issue 15) and
///   the decoder, hidden widths `hidden` (default 512, 512). With Lipschitz constants they
///   use Björck-orthonormalised layers scaled by M^(1/L) and GroupSort (paper A Algorithm 1).
/// - `conv` (paper D Table 6): four 3×3 stride-2 convolutions (32-64-96-128), 3×3 stride-2
///   heads for μ and log σ², latent 64, a transposed-convolution decoder; 28×28 inputs.
/// - `conv-small` (paper C section 4): two 4×4 stride-2 convolutions (32, 64) to 3136
///   features, linear heads for μ and log σ (shared trunk), latent 50, and the mirror decoder.
/// Decoders output logits; the likelihood applies the final sigmoid.
/// `hvae`, the hierarchical VAE, is a model of its own (`HierarchicalVAE`); only its defaults
/// live here.
public enum Architectures {
    public static let names = ["mlp", "conv", "conv-small", "hvae"]

    public static func defaultHidden(_ arch: String) -> [Int] {
        switch arch {
        case "conv": return [32, 64, 96, 128]
        case "conv-small": return [32, 64]
        case "hvae": return [16, 32, 256]
        default: return [512, 512]
        }
    }

    public static func defaultLatent(_ arch: String) -> Int {
        switch arch { case "conv": 64; case "conv-small": 50; case "hvae": 16; default: 10 }
    }

    /// Builds the encoder and decoder for `c`, initialised from `rng`. `forLoading`: the
    /// weights will be replaced by a file's, so work that only shapes a fresh initialisation
    /// (the Björck layers' initial orthonormalisation, 30 iterations each) is skipped.
    public static func build(_ c: ModelConfig, rng: inout RNG, forLoading: Bool = false) throws -> (encoder: Encoder, decoder: any Layer) {
        guard c.inputShape.count == 3, c.inputShape.allSatisfy({ $0 > 0 }) else {
            throw ToolError("model input shape must be [C, H, W], got \(c.inputShape)")
        }
        guard c.latent > 0 else { throw ToolError("--latent must be positive") }
        guard c.architecture != "hvae" else {
            throw ToolError("a hierarchical VAE (--arch hvae): this command does not read it yet (vae-eval encode, decode, recon, elbo, nll and log-likelihood, vae-hmc and vae-attack skl do)")
        }
        let hidden = c.hidden.isEmpty ? defaultHidden(c.architecture) : c.hidden
        guard hidden.allSatisfy({ $0 > 0 }) else { throw ToolError.usage("hidden widths must be positive") }
        let (ch, h, w) = (c.inputShape[0], c.inputShape[1], c.inputShape[2])
        let lipschitz = [c.lipschitzDecoder, c.lipschitzMean, c.lipschitzStd].contains { $0 != nil }
        if lipschitz && c.architecture != "mlp" {
            throw ToolError.usage("Lipschitz constraints (--lipschitz) are implemented for --arch mlp only")
        }
        switch c.architecture {
        case "mlp":
            let d = ch * h * w
            let groupSize = c.groupSize ?? 2
            if lipschitz, let bad = hidden.first(where: { $0 % groupSize != 0 }) {
                throw ToolError.usage("hidden width \(bad) is not divisible by the GroupSort group size \(groupSize)")
            }
            func mlp(_ widths: [Int], lipschitz m: Float?) -> Sequential {
                var layers: [any Layer] = []
                let n = widths.count - 1
                for i in 0..<n {
                    if let m {
                        // paper A Appendix B.2: each of the L layers scaled by M^(1/L)
                        layers.append(BjorckLinear(widths[i], widths[i + 1], scale: pow(m, 1 / Float(n)),
                                                   iterations: c.bjorckIterations ?? 20,
                                                   gradient: c.bjorckGradient ?? .tangent, orthonormalizeInit: !forLoading, rng: &rng))
                    } else {
                        layers.append(Linear(widths[i], widths[i + 1], rng: &rng))
                    }
                    if i < n - 1 { layers.append(m != nil ? Activation.groupSort(groupSize) : Activation.relu) }
                }
                return Sequential(layers)
            }
            let mean = Sequential([Reshape([d]), mlp([d] + hidden + [c.latent], lipschitz: c.lipschitzMean)])
            let scale = c.fixedSigma == nil ? Sequential([Reshape([d]), mlp([d] + hidden + [c.latent], lipschitz: c.lipschitzStd)]) : nil
            let decoder = Sequential([mlp([c.latent] + hidden.reversed() + [d], lipschitz: c.lipschitzDecoder), Reshape([ch, h, w])])
            return (Encoder(trunk: nil, meanHead: mean, scaleHead: scale, scale: c.sigmaHead ?? .sigmoid,
                            fixedSigma: c.fixedSigma, sigmaOffset: c.sigmaOffset ?? 0, sigmaMaxNorm: c.sigmaMaxNorm), decoder)

        case "conv":
            guard h == 28 && w == 28 else { throw ToolError("--arch conv (paper D Table 6) needs 28x28 images, got \(h)x\(w)") }
            guard hidden.count == 4 else { throw ToolError.usage("--arch conv takes 4 hidden channel counts (default 32,64,96,128)") }
            let widths = [ch] + hidden
            var enc: [any Layer] = []
            for i in 0..<4 {
                enc.append(Conv2d(widths[i], widths[i + 1], kernel: 3, stride: 2, padding: 1, rng: &rng))
                enc.append(Activation.relu)
            }
            let mean = Sequential([Conv2d(hidden[3], c.latent, kernel: 3, stride: 2, padding: 1, rng: &rng), Reshape([c.latent])])
            let logVar = Sequential([Conv2d(hidden[3], c.latent, kernel: 3, stride: 2, padding: 1, rng: &rng), Reshape([c.latent])])
            let decoder = Sequential([
                Reshape([c.latent, 1, 1]),
                ConvTranspose2d(c.latent, hidden[3], kernel: 3, stride: 1, padding: 0, dilation: 2, rng: &rng), Activation.relu, // 5×5
                ConvTranspose2d(hidden[3], hidden[2], kernel: 3, stride: 1, padding: 0, rng: &rng), Activation.relu,            // 7×7
                ConvTranspose2d(hidden[2], hidden[1], kernel: 3, stride: 1, padding: 1, rng: &rng), Activation.relu,            // 7×7
                ConvTranspose2d(hidden[1], hidden[0], kernel: 4, stride: 2, padding: 1, rng: &rng), Activation.relu,            // 14×14
                ConvTranspose2d(hidden[0], ch, kernel: 4, stride: 2, padding: 1, rng: &rng),                                    // 28×28
            ])
            return (Encoder(trunk: Sequential(enc), meanHead: mean, scaleHead: c.fixedSigma == nil ? logVar : nil, scale: .logVariance,
                            fixedSigma: c.fixedSigma, sigmaOffset: c.sigmaOffset ?? 0, sigmaMaxNorm: c.sigmaMaxNorm), decoder)

        case "conv-small":
            guard h % 4 == 0 && w % 4 == 0 else { throw ToolError("--arch conv-small needs image sides divisible by 4, got \(h)x\(w)") }
            guard hidden.count == 2 else { throw ToolError.usage("--arch conv-small takes 2 hidden channel counts (default 32,64)") }
            let features = hidden[1] * (h / 4) * (w / 4)
            let trunk = Sequential([
                Conv2d(ch, hidden[0], kernel: 4, stride: 2, padding: 1, rng: &rng), Activation.relu,
                Conv2d(hidden[0], hidden[1], kernel: 4, stride: 2, padding: 1, rng: &rng), Activation.relu,
                Reshape([features]),
            ])
            let decoder = Sequential([
                Linear(c.latent, features, rng: &rng), Activation.relu, Reshape([hidden[1], h / 4, w / 4]),
                ConvTranspose2d(hidden[1], hidden[0], kernel: 4, stride: 2, padding: 1, rng: &rng), Activation.relu,
                ConvTranspose2d(hidden[0], ch, kernel: 4, stride: 2, padding: 1, rng: &rng),
            ])
            return (Encoder(trunk: trunk, meanHead: Linear(features, c.latent, rng: &rng),
                            scaleHead: c.fixedSigma == nil ? Linear(features, c.latent, rng: &rng) : nil, scale: .logSigma,
                            fixedSigma: c.fixedSigma, sigmaOffset: c.sigmaOffset ?? 0, sigmaMaxNorm: c.sigmaMaxNorm), decoder)

        case "linear-classifier":
            throw ToolError("is a latent classifier (vae-train classifier), not a VAE: pass it as --classifier")
        default:
            throw ToolError("unknown architecture '\(c.architecture)' (\(names.joined(separator: ", ")))")
        }
    }
}
