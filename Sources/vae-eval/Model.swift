import ArgumentParser
import CLI
import Foundation
import Shared

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode images: encoder means, standard deviations or samples to .npy [N, latent].",
        discussion: "Example:\n  vae-eval encode --model vae.safetensors --input fashion-mnist:test@50 -o \\\n    mu.npy --std-out sigma.npy")
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Option(help: "What to write: the mean μ(x), the standard deviation σ(x), or a sample z = μ + σε.")
    var what: EncoderOutput = .mean
    @Option(name: .customLong("std-out"), help: ArgumentHelp("Also write the standard deviations here. Off by default.", valueName: "path"))
    var stdOut: String?
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: OutputOptions

    func validate() throws { try OutputOptions.validate([out.output, stdOut], inputs: [model.model, input.input]) }

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let vae = try model.load(for: ds)
        try OutputOptions.checkWritable([out.output, stdOut])
        var rng = RNG(seed: seed.seed)
        var sigmas: [Tensor] = []
        let chosen: Tensor = Autodiff.withoutGradients {
            Batches.mapRows(ds.images) { x in
                let (mu, sigma) = vae.encode(Variable(x))
                sigmas.append(sigma.value)
                switch what {
                case .mean: return mu.value
                case .std: return sigma.value
                case .sample: return vae.sample(mu: mu, sigma: sigma, rng: &rng).z.value
                }
            }
        }
        try Npy.write(chosen, to: out.output)
        if let p = stdOut { try Npy.write(Tensor.concatRows(sigmas), to: p) }
        Log.line("encoded \(ds.count) images to \(what.rawValue) codes of size \(vae.config.latent)")
    }
}

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode latent codes (.npy [N, latent]) to images: the decoder mean σ(logits).",
        discussion: "Example:\n  vae-eval decode --model vae.safetensors --codes z.npy -o x.npy")
    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("Latent codes, .npy of shape [N, latent] (- for stdin).", valueName: "path"))
    var codes: String
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: OutputOptions

    func validate() throws { try OutputOptions.validate([out.output], inputs: [model.model, codes]) }

    func run() throws {
        threads.apply()
        let vae = try model.load()
        try OutputOptions.checkWritable([out.output])
        let z = try Npy.read(codes)
        guard z.rank == 2, z.shape[1] == vae.config.latent, z.shape[0] > 0 else {
            throw ToolError.file(codes, "expected codes of shape [N, \(vae.config.latent)], got \(z.shape)")
        }
        guard z.isFinite else { throw ToolError.file(codes, "contains NaN or infinite values") }
        try Npy.write(vae.decoderMeans(z), to: out.output)
        Log.line("decoded \(z.shape[0]) codes to images of shape \(vae.config.inputShape)")
    }
}

struct Recon: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reconstruct images: decode(μ(x)), or decode(z) with z sampled from q(z|x) (--sample).",
        discussion: "Writes the reconstructions as .npy [N, C, H, W].\nExample:\n  vae-eval recon --model vae.safetensors --input fashion-mnist:test[0:64] -o \\\n    rec.npy")
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Flag(help: "Decode a sample z ~ q(z|x) instead of the mean (off by default).")
    var sample = false
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: OutputOptions

    func validate() throws { try OutputOptions.validate([out.output], inputs: [model.model, input.input]) }

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let vae = try model.load(for: ds)
        try OutputOptions.checkWritable([out.output])
        var rng = RNG(seed: seed.seed)
        let z: Tensor = Autodiff.withoutGradients {
            Batches.mapRows(ds.images) { x in
                let (mu, sigma) = vae.encode(Variable(x))
                return sample ? vae.sample(mu: mu, sigma: sigma, rng: &rng).z.value : mu.value
            }
        }
        try Npy.write(vae.decoderMeans(z), to: out.output)
        Log.line("reconstructed \(ds.count) images (\(sample ? "sampled z" : "z = μ"))")
    }
}

struct ELBO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elbo", abstract: "ELBO per image (nats), averaged over --samples reparameterised samples.",
        discussion: "Example:\n  vae-eval elbo --model vae.safetensors --input fashion-mnist:test[0:1000]")
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Option(parsing: .unconditional, help: "Samples per image.")
    var samples = 1
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: MetricOutput

    func validate() throws { guard samples >= 1 else { throw ValidationError("--samples must be at least 1, got \(samples)") } }

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let vae = try model.load(for: ds)
        let v = vae.elboPerImage(ds.images, samples: samples, seed: seed.seed)
        try out.emit(metric: "elbo", key: "elbo", items: v.map { ["elbo": $0] }, model: vae)
    }
}

struct NLL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nll",
        abstract: "Negative log-likelihood per image by importance sampling with K samples (nats and bits per dimension).",
        discussion: "−log p(x) ≈ −logsumexp_k [log p(x|z_k) + log p(z_k) − log q(z_k|x)] + log K, with z_k ~ q(z|x).\nExample:\n  vae-eval nll --model vae.safetensors --input fashion-mnist:test[0:1000] \\\n    --samples 1000")
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Option(parsing: .unconditional, help: "Importance samples K per image.")
    var samples = 1000
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: MetricOutput

    func validate() throws { guard samples >= 1 else { throw ValidationError("--samples must be at least 1, got \(samples)") } }

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let vae = try model.load(for: ds)
        let dims = Double(ds.imageShape.reduce(1, *))
        let nll = vae.logMarginalPerImage(ds.images, samples: samples, seed: seed.seed).map { -$0 }
        let bpd = Summary(nll.map { $0 / (dims * log(2.0)) })
        try out.emit(metric: "nll", key: "nll",
                     items: nll.map { ["nll": $0, "bits_per_dim": $0 / (dims * log(2.0))] },
                     extraSummary: ["bits_per_dim": bpd.mean, "bits_per_dim_stderr": bpd.standardError, "samples": samples], model: vae)
    }
}
