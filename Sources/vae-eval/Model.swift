import ArgumentParser
import Foundation
import Shared

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode images: encoder means, standard deviations or samples to .npy [N, latent].",
        discussion: "Example: vae-eval encode --model vae.safetensors --input fashion-mnist:test@50 -o mu.npy --std-out sigma.npy")
    @OptionGroup var model: ModelOption
    @OptionGroup var data: DataOptions
    @Option(help: "What to write: mean, std, or sample (z = μ + σε with --seed).")
    var what = "mean"
    @Option(name: .customLong("std-out"), help: "Also write the standard deviations here.")
    var stdOut: String?
    @Option(help: "Seed for --what sample.")
    var seed: UInt64 = 0
    @Option(name: .shortAndLong, help: "Output .npy.")
    var output: String

    func run() throws {
        try ToolRunner.run("vae-eval encode") {
            let ds = try data.load()
            let vae = try model.load(for: ds)
            guard ["mean", "std", "sample"].contains(what) else { throw ToolError("--what is mean, std or sample, got '\(what)'") }
            var rng = RNG(seed: seed)
            var mus: [Tensor] = [], sigmas: [Tensor] = [], samples: [Tensor] = []
            Autodiff.withoutGradients {
                var s = 0
                while s < ds.count {
                    let (mu, sigma) = vae.encode(Variable(ds.images.rows(s..<min(ds.count, s + 500))))
                    mus.append(mu.value); sigmas.append(sigma.value)
                    if what == "sample" { samples.append(vae.sample(mu: mu, sigma: sigma, rng: &rng).z.value) }
                    s += 500
                }
            }
            let chosen = what == "mean" ? mus : (what == "std" ? sigmas : samples)
            try Npy.write(Tensor.concatRows(chosen), to: output)
            if let p = stdOut { try Npy.write(Tensor.concatRows(sigmas), to: p) }
            ToolRunner.log("encoded \(ds.count) images to \(what) codes of size \(vae.config.latent)")
        }
    }
}

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode latent codes (.npy [N, latent]) to images: the decoder mean σ(logits).",
        discussion: "Example: vae-eval decode --model vae.safetensors --codes z.npy -o x.npy")
    @OptionGroup var model: ModelOption
    @Option(help: "Latent codes, .npy of shape [N, latent] (- for stdin).")
    var codes: String
    @Option(name: .shortAndLong, help: "Output .npy of images [N, C, H, W].")
    var output: String

    func run() throws {
        try ToolRunner.run("vae-eval decode") {
            let vae = try model.load()
            let z = try Npy.read(codes)
            guard z.rank == 2, z.shape[1] == vae.config.latent, z.shape[0] > 0 else {
                throw ToolError.file(codes, "expected codes of shape [N, \(vae.config.latent)], got \(z.shape)")
            }
            guard z.isFinite else { throw ToolError.file(codes, "contains NaN or infinite values") }
            try Npy.write(decodeAll(vae, z), to: output)
        }
    }
}

/// Decoder means for codes, in batches.
func decodeAll(_ vae: VAE, _ z: Tensor) -> Tensor {
    Autodiff.withoutGradients {
        var parts: [Tensor] = []
        var s = 0
        while s < z.shape[0] { parts.append(vae.decodeMean(Variable(z.rows(s..<min(z.shape[0], s + 500)))).value); s += 500 }
        return Tensor.concatRows(parts)
    }
}

struct Recon: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reconstruct images: decode(μ(x)), or decode(z) with z sampled from q(z|x) (--sample).",
        discussion: "Example: vae-eval recon --model vae.safetensors --input fashion-mnist:test[0:64] -o rec.npy")
    @OptionGroup var model: ModelOption
    @OptionGroup var data: DataOptions
    @Flag(help: "Decode a sample z ~ q(z|x) instead of the mean.")
    var sample = false
    @Option(help: "Seed for --sample.")
    var seed: UInt64 = 0
    @Option(name: .shortAndLong, help: "Output .npy of reconstructions [N, C, H, W].")
    var output: String

    func run() throws {
        try ToolRunner.run("vae-eval recon") {
            let ds = try data.load()
            let vae = try model.load(for: ds)
            var rng = RNG(seed: seed)
            let z: Tensor = Autodiff.withoutGradients {
                var parts: [Tensor] = []
                var s = 0
                while s < ds.count {
                    let (mu, sigma) = vae.encode(Variable(ds.images.rows(s..<min(ds.count, s + 500))))
                    parts.append(sample ? vae.sample(mu: mu, sigma: sigma, rng: &rng).z.value : mu.value)
                    s += 500
                }
                return Tensor.concatRows(parts)
            }
            try Npy.write(decodeAll(vae, z), to: output)
            ToolRunner.log("reconstructed \(ds.count) images (\(sample ? "sampled z" : "z = μ"))")
        }
    }
}

struct ELBO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elbo", abstract: "ELBO per image (nats), averaged over --samples reparameterised samples.",
        discussion: "Example: vae-eval elbo --model vae.safetensors --input fashion-mnist:test[0:1000]")
    @OptionGroup var model: ModelOption
    @OptionGroup var data: DataOptions
    @Option(help: "Samples per image.")
    var samples = 1
    @Option(help: "Seed of the samples.")
    var seed: UInt64 = 0
    @OptionGroup var out: MetricOutput

    func run() throws {
        try ToolRunner.run("vae-eval elbo") {
            guard samples >= 1 else { throw ToolError("--samples must be at least 1") }
            let ds = try data.load()
            let vae = try model.load(for: ds)
            let v = vae.elboPerImage(ds.images, samples: samples, seed: seed)
            try out.emit(metric: "elbo", key: "elbo", items: v.map { ["elbo": $0] })
        }
    }
}

struct NLL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nll",
        abstract: "Negative log-likelihood per image by importance sampling with K samples (nats and bits per dimension).",
        discussion: "−log p(x) ≈ −logsumexp_k [log p(x|z_k) + log p(z_k) − log q(z_k|x)] + log K.\nExample: vae-eval nll --model vae.safetensors --input fashion-mnist:test[0:1000] --samples 1000")
    @OptionGroup var model: ModelOption
    @OptionGroup var data: DataOptions
    @Option(help: "Importance samples K per image.")
    var samples = 1000
    @Option(help: "Seed of the samples.")
    var seed: UInt64 = 0
    @OptionGroup var out: MetricOutput

    func run() throws {
        try ToolRunner.run("vae-eval nll") {
            guard samples >= 1 else { throw ToolError("--samples must be at least 1") }
            let ds = try data.load()
            let vae = try model.load(for: ds)
            let dims = Double(ds.imageShape.reduce(1, *))
            let nll = vae.logMarginalPerImage(ds.images, samples: samples, seed: seed).map { -$0 }
            let bpd = Summary(nll.map { $0 / (dims * Foundation.log(2.0)) })
            try out.emit(metric: "nll", key: "nll",
                         items: nll.map { ["nll": $0, "bits_per_dim": $0 / (dims * Foundation.log(2.0))] },
                         extraSummary: ["bits_per_dim": bpd.mean, "bits_per_dim_stderr": bpd.standardError, "samples": samples])
        }
    }
}
