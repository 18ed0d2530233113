import ArgumentParser
import CLI
import Foundation
import Shared

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode images: encoder means, standard deviations or samples to .npy [N, latent].",
        discussion: "For a hierarchical model (vae-train --arch hvae) the codes of all groups go side by side, top group first ([N, groups·latent], or with --latent-map the top group's latent and C·49 for each map group); --levels chooses mean or sample per group, each given the codes chosen above it.\nExample:\n  vae-eval encode --model vae.safetensors --input fashion-mnist:test@50 -o \\\n    mu.npy --std-out sigma.npy")
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Option(help: "What to write: the mean μ(x), the standard deviation σ(x) (one-level models), or a sample z = μ + σε.")
    var what: EncoderOutput = .mean
    @Option(name: .customLong("std-out"), help: ArgumentHelp("Also write the standard deviations here (one-level models). Off by default.", valueName: "path"))
    var stdOut: String?
    @OptionGroup var levels: LevelsOption
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: OutputOptions

    func validate() throws {
        try OutputOptions.validate([out.output, stdOut], inputs: [model.model, input.input])
        if levels.levels != nil && (what == .std || stdOut != nil) { throw ValidationError("--levels chooses codes: it does not go with --what std or --std-out") }
    }

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let m = try model.loadAny(for: ds)
        try OutputOptions.checkWritable([out.output, stdOut])
        var rng = RNG(seed: seed.seed)
        if what == .std || stdOut != nil {
            guard let vae = m as? VAE else {
                throw ToolError.usage("--what std and --std-out apply to one-level models: a hierarchical model's groups have posteriors that depend on the groups above")
            }
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
        } else {
            let choice = try levels.choices(groups: m.groupCount, fallback: what == .sample ? .sample : .mean)
            try Npy.write(m.codes(ds.images, levels: choice, rng: &rng), to: out.output)
        }
        let mode = levels.levels.map { "codes (levels \($0))" } ?? "\(what.rawValue) codes"
        Log.line("encoded \(ds.count) images to \(mode) of size \(m.codeDimension)")
    }
}

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode latent codes (.npy [N, latent]) to images: the decoder mean σ(logits).",
        discussion: "For a hierarchical model the codes are its groups side by side, top group first; with --levels (code, mean or sample per group, top first) the file holds only the groups marked code, in order, and the others are the prior's mean or a draw from it given the groups above. With no group marked code, --count N images are generated from the prior alone, without --codes.\nExamples:\n  vae-eval decode --model vae.safetensors --codes z.npy -o x.npy\n  vae-eval decode --model hvae.safetensors --levels sample,sample --count 64 \\\n    -o samples.npy")
    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("Latent codes, .npy of shape [N, latent] (an hvae: all its groups side by side, or the groups --levels marks code) (- for stdin).", valueName: "path"))
    var codes: String?
    @Option(help: ArgumentHelp("Per latent group (one for a plain VAE, top first for an hvae): code (from --codes), mean or sample (from the prior), comma-separated (default: every group from --codes).", valueName: "l1,l2,..."))
    var levels: String?
    @Option(parsing: .unconditional, help: "Images to generate from the prior when --levels marks no group as code (then without --codes).")
    var count: Int?
    @Flag(help: "Write the decoder's logits l (the mean is σ(l)) instead of the means: exact where a mean rounds to 0 or 1 in float32, e.g. for per-pixel Bernoulli log-likelihoods x·l − log(1 + eˡ).")
    var logits = false
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: OutputOptions

    func validate() throws {
        try OutputOptions.validate([out.output], inputs: [model.model] + (codes.map { [$0] } ?? []))
        if let c = count, c < 1 { throw ValidationError("--count must be at least 1, got \(c)") }
        if codes != nil && count != nil { throw ValidationError("--codes and --count exclude each other: --codes decodes the given codes, --count generates that many images from the prior") }
        if codes == nil && count == nil { throw ValidationError("give --codes, or --count with --levels that mark no group as code") }
    }

    func run() throws {
        threads.apply()
        let m = try model.loadAny()
        try OutputOptions.checkWritable([out.output])
        let choice = try LevelsOption.parse(levels, groups: m.groupCount, fallback: "code", allowed: ["code", "mean", "sample"])
        let width = zip(choice, m.groupSizes).filter { $0.0 == "code" }.map(\.1).reduce(0, +)
        var z: Tensor
        if let codes {
            guard width > 0 else { throw ToolError.usage("--levels marks no group as code: give --count instead of --codes") }
            z = try readCodes(codes, width: width, expected: "[N, \(width)]") { $0 > 0 }
        } else {
            guard width == 0 else { throw ToolError.usage("--count generates from the prior: give --levels with mean or sample for every group, or --codes") }
            z = Tensor.zeros([count!, 0])
        }
        var full = z
        var rng = RNG(seed: seed.seed)
        if let h = m as? HierarchicalVAE, choice.contains(where: { $0 != "code" }) {
            full = h.completeCodes(z, levels: choice, rng: &rng)
        } else if width == 0 {
            // a one-level model's prior N(0, I): its mean, or draws
            full = choice[0] == "mean" ? Tensor.zeros([z.shape[0], m.codeDimension]) : rng.normalTensor([z.shape[0], m.codeDimension])
        }
        try Npy.write(logits ? m.decoderLogitValues(full) : m.decoderMeans(full, batch: Batches.defaultSize), to: out.output)
        Log.line("decoded \(full.shape[0]) \(codes == nil ? "codes from the prior" : "codes") to \(logits ? "logits" : "images") of shape \(m.config.inputShape)")
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
    @OptionGroup var levels: LevelsOption
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: OutputOptions

    func validate() throws { try OutputOptions.validate([out.output], inputs: [model.model, input.input]) }

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let m = try model.loadAny(for: ds)
        try OutputOptions.checkWritable([out.output])
        var rng = RNG(seed: seed.seed)
        let z = m.codes(ds.images, levels: try levels.choices(groups: m.groupCount, fallback: sample ? .sample : .mean), rng: &rng)
        try Npy.write(m.decoderMeans(z, batch: Batches.defaultSize), to: out.output)
        Log.line("reconstructed \(ds.count) images (\(levels.levels.map { "levels \($0)" } ?? (sample ? "sampled z" : "z = μ")))")
    }
}

struct ELBO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elbo", abstract: "ELBO per image (nats), with its terms log p(x|z) and KL, averaged over --samples reparameterised samples.",
        discussion: "Each line has elbo = log_px − kl: log_px the reconstruction log-likelihood at z ~ q(z|x), kl the analytic KL(q(z|x) ‖ p(z)) (summed over the groups of a hierarchical model); the summary gives the mean and standard error of each.\nExample:\n  vae-eval elbo --model vae.safetensors --input fashion-mnist:test[0:1000]")
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
        let vae = try model.loadAny(for: ds)
        let v = vae.elboTermsPerImage(ds.images, samples: samples, seed: seed.seed, batch: 250)
        let (lp, kl) = (Summary(v.map(\.logpx)), Summary(v.map(\.kl)))
        try out.emit(metric: "elbo", key: "elbo", items: v.map { ["elbo": $0.elbo, "log_px": $0.logpx, "kl": $0.kl] },
                     extraSummary: ["log_px": lp.mean, "log_px_stderr": lp.standardError, "kl": kl.mean, "kl_stderr": kl.standardError],
                     model: vae)
    }
}

struct LogLikelihood: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-likelihood", abstract: "log p(x|z) per image (nats) at given codes: image i under the decoder at code row i.",
        discussion: "The ELBO's reconstruction term at codes you choose, for example another image's code or a perturbed one (paper B compares an image's likelihood at its own code and at an attacked one). The model's own likelihood (Bernoulli, continuous Bernoulli or Gaussian) on the decoder's logits; for a hierarchical model the codes are all its groups side by side, top first.\nExample:\n  vae-eval encode --model vae.safetensors --input fashion-mnist:test[0:100] \\\n    -o z.npy\n  vae-eval log-likelihood --model vae.safetensors \\\n    --input fashion-mnist:test[0:100] --codes z.npy")
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Option(help: ArgumentHelp("Latent codes, .npy [N, code dimension], one row per image of --input (- for stdin).", valueName: "path"))
    var codes: String
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: MetricOutput

    func validate() throws {
        guard !(input.input == "-" && codes == "-") else { throw ValidationError("only one of --input and --codes can come from stdin") }
    }

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let m = try model.loadAny(for: ds)
        let z = try readCodes(codes, width: m.codeDimension, expected: "[\(ds.count), \(m.codeDimension)] (one row per image of \(input.input))") { $0 == ds.count }
        let v = m.reconstructionLogLikelihood(ds.images, codes: z, batch: Batches.defaultSize)
        try out.emit(metric: "log_px", key: "log_px", items: v.map { ["log_px": $0] }, model: m)
    }
}

struct NLL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nll",
        abstract: "Negative log-likelihood per image by importance sampling with K samples (nats and bits per dimension).",
        discussion: "−log p(x) ≈ −logsumexp_k [log p(x|z_k) + log p(z_k) − log q(z_k|x)] + log K, with z_k ~ q(z|x); for a hierarchical model over all groups, log p(z) = Σ log p(z_k|z_>k) and log q(z|x) = Σ log q(z_k|z_>k, x).\nExample:\n  vae-eval nll --model vae.safetensors --input fashion-mnist:test[0:1000] \\\n    --samples 1000")
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
        let vae = try model.loadAny(for: ds)
        let dims = Double(ds.imageShape.reduce(1, *))
        let nll = vae.logMarginalPerImage(ds.images, samples: samples, seed: seed.seed).map { -$0 }
        let bpd = Summary(nll.map { $0 / (dims * log(2.0)) })
        try out.emit(metric: "nll", key: "nll",
                     items: nll.map { ["nll": $0, "bits_per_dim": $0 / (dims * log(2.0))] },
                     extraSummary: ["bits_per_dim": bpd.mean, "bits_per_dim_stderr": bpd.standardError, "samples": samples], model: vae)
    }
}
