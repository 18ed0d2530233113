import ArgumentParser
import Foundation
import CLI
import Shared

struct Accuracy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accuracy of a latent classifier: against labels, or paper D's adversarial accuracy against clean references.",
        discussion: """
        Without --reference: the share of inputs whose predicted class (from the encoder mean) equals the label (a labelled dataset, or --labels for .npy inputs: the labels of the classifier's target, e.g. the colour labels vae-eval export --color-labels-out writes for a --target color classifier).

        With --reference R: the share of adversarial inputs whose prediction equals the prediction on their clean reference. With R references and R·k inputs, the k restarts of each reference are consecutive (input i belongs to reference i / k).

        Examples:
          vae-eval accuracy --model vae.safetensors --classifier clf.safetensors \\
            --input fashion-mnist:test
          vae-eval accuracy --model vae.safetensors --classifier clf.safetensors \\
            --input adv.npy --reference ref.npy
          vae-eval accuracy --model vae.safetensors --classifier clf.safetensors \\
            --input adv.npy --codes z-hmc.npy --reference ref.npy
        """)
    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("Latent classifier (.safetensors written by vae-train classifier).", valueName: "path"))
    var classifier: String
    @OptionGroup var input: InputOptions
    @OptionGroup var labels: LabelsOption
    @Option(help: ArgumentHelp("Clean reference images, for adversarial accuracy (off by default: accuracy against labels).", valueName: "spec"))
    var reference: String?
    @Option(help: ArgumentHelp("Classify these latent codes (.npy [N, latent], e.g. vae-hmc's -o) instead of the encoder means of --input; row i stands for input i (off by default).", valueName: "path"))
    var codes: String?
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: MetricOutput

    func validate() throws {
        if reference != nil && labels.labels != nil { throw ValidationError("--labels and --reference exclude each other: adversarial accuracy compares with the references' predictions") }
    }

    func run() throws {
        threads.apply()
        let ds = try input.load(labels: labels)
        let vae = try model.load(for: ds)
        let clf = try LatentClassifier.load(classifier, for: vae, modelPath: model.model)
        let features: Tensor
        if let codes {
            // paper D's VAE + HMC rows: the classifier sees the codes HMC returned
            features = try readCodes(codes, width: vae.config.latent,
                                     expected: "[\(ds.count), \(vae.config.latent)] (one per input of \(input.input))") { $0 == ds.count }
        } else {
            features = vae.encoderMeans(ds.images)
        }
        let pred = clf.predict(features)
        if let r = reference {
            let ref = try DatasetCatalog.load(r)
            guard ref.imageShape == ds.imageShape else { throw ToolError("\(r) images are \(ref.imageShape), inputs are \(ds.imageShape)") }
            let refPred = clf.predict(vae.encoderMeans(ref.images))
            let ok = try AdversarialAccuracy.matches(adversarial: pred, reference: refPred)
            let idx = try AdversarialAccuracy.referenceIndex(adversarial: pred.count, references: refPred.count)
            try out.emit(metric: "adversarial_accuracy", key: "correct",
                         items: (0..<pred.count).map { ["correct": ok[$0], "predicted": pred[$0], "reference": idx[$0], "reference_predicted": refPred[idx[$0]]] },
                         extraSummary: ["restarts": pred.count / refPred.count], model: vae)
        } else {
            let target = clf.config.extra?["target"] ?? "class"
            // --labels gives the labels of the classifier's own target (class or colour)
            guard let labels = labels.labels != nil ? ds.labels : (target == "color" ? ds.colorLabels : ds.labels) else {
                throw ToolError("\(input.input) has no \(target) labels: give --labels, or --reference for adversarial accuracy")
            }
            try out.emit(metric: "accuracy", key: "correct",
                         items: (0..<pred.count).map { ["correct": pred[$0] == labels[$0] ? 1.0 : 0.0, "predicted": pred[$0], "label": labels[$0]] }, model: vae)
        }
    }
}

struct PosteriorRatio: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "posterior-ratio",
        abstract: "Paper D Eq. 11: log p(z1|x) − log p(z2|x) per image (the marginal p(x) cancels).",
        discussion: """
        x are the reference images; z1 and z2 latent codes [N, latent], e.g. the reference codes and the adversarial (or HMC-defended) codes; either may hold K codes per image (the K of an image consecutive, as vae-attack writes its restarts), each scored against its image. Lower is better for a defence.
        Example:\n  vae-eval posterior-ratio --model vae.safetensors --input ref.npy --z1 \\\n    zref.npy --z2 zadv.npy
        """)
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Option(help: ArgumentHelp("Codes z1 (.npy [N, latent] or [N·K, latent]).", valueName: "path"))
    var z1: String
    @Option(help: ArgumentHelp("Codes z2 (.npy [N, latent] or [N·K, latent]).", valueName: "path"))
    var z2: String
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: MetricOutput

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let vae = try model.load(for: ds)
        let n = ds.count
        func codes(_ p: String) throws -> Tensor {
            try readCodes(p, width: vae.config.latent, expected: "[\(n)·K, \(vae.config.latent)] for \(n) images") { $0 > 0 && $0 % n == 0 }
        }
        let (a, b) = (try codes(z1), try codes(z2))
        let m = max(a.shape[0], b.shape[0])
        guard a.shape[0] == m || a.shape[0] == n, b.shape[0] == m || b.shape[0] == n else {
            throw ToolError("\(z1) and \(z2) hold \(a.shape[0]) and \(b.shape[0]) codes: give N (\(n)) or the same N·K for each")
        }
        let k = m / n
        func spread(_ z: Tensor) -> Tensor { z.shape[0] == m ? z : z.gatherRows((0..<m).map { $0 / k }) }
        let x = k == 1 ? ds.images : ds.images.gatherRows((0..<m).map { $0 / k })
        let r = vae.logPosteriorRatio(x, z1: spread(a), z2: spread(b))
        try out.emit(metric: "log_posterior_ratio", key: "log_ratio", items: r.enumerated().map { i, v in
            k == 1 ? ["log_ratio": v] : ["log_ratio": v, "reference": i / k, "restart": i % k]
        }, model: vae)
    }
}

struct RRobustness: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "r-robustness",
        abstract: "Paper B's r-robustness: the sampled probability p(‖Δ(x)‖₂ ≤ r) per image with a 95% interval.",
        discussion: """
        Δ(x) = g(μ(x) + η∘σ(x)) − g(μ(x)) (Eq. 2), or with --perturbed X', Δ = g(μ(x') + η∘σ(x)) − g(μ(x)) (Eq. 3); g is the decoder mean, η ~ N(0, I). --through sigma or both takes σ(x') instead of σ(x) (with μ(x) or μ(x')), as the attacks of vae-attack max-damage --through act. An image is r-robust when p > 0.5; the summary gives the mean p and the share of r-robust images.
        Example:\n  vae-eval r-robustness --model vae.safetensors --input mnist:test[0:100] \\\n    --r 4
        """)
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Option(parsing: .unconditional, help: "Radius r in pixel space (L2), positive.")
    var r: Float
    @Option(parsing: .unconditional, help: "Samples of η per image.")
    var samples = 200
    @OptionGroup var perturbation: PerturbationOptions
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: MetricOutput

    func validate() throws {
        guard r > 0, r.isFinite else { throw ValidationError("--r must be positive and finite, got \(r)") }
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1, got \(samples)") }
        try perturbation.validate(input: input)
    }

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let vae = try model.load(for: ds)
        let (pert, path) = try perturbation.load(like: ds, defaultPath: .mu)
        let res = vae.rRobustness(ds.images, perturbed: pert, through: path, r: r, samples: samples, seed: seed.seed)
        let robust = Double(res.filter { $0.p > 0.5 }.count) / Double(res.count)
        let summary = perturbation.summary(["r": Double(r), "share_r_robust": robust, "samples": samples], path: path)
        try out.emit(metric: "r_robustness", key: "p",
                     items: res.map { ["p": $0.p, "ci_low": $0.low, "ci_high": $0.high, "r_robust": $0.p > 0.5] },
                     extraSummary: summary, model: vae)
    }
}

/// `--perturbed` and `--through` of `r-robustness` and `damage`: perturbed inputs x', one per
/// input and of the same shape, and which encoder outputs come from them.
struct PerturbationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Perturbed versions x' of the inputs (e.g. vae-attack's -o with --keep best), one per input, same shape (off by default: r-robustness's Eq. 2, damage's encoder noise).", valueName: "spec"))
    var perturbed: String?
    @Option(help: "With --perturbed: the encoder outputs taken from x': mu, sigma or both. Default mu for r-robustness (Eq. 3), both for damage (as vae-attack max-damage).")
    var through: AttackPath?

    func validate(input: InputOptions) throws {
        if perturbed == nil && through != nil { throw ValidationError("--through applies with --perturbed only") }
        guard !(input.input == "-" && perturbed == "-") else { throw ValidationError("only one of --input and --perturbed can come from stdin") }
    }

    /// The perturbed images (nil without --perturbed) and the path, `defaultPath` unless given.
    func load(like ds: Dataset, defaultPath: AttackPath) throws -> (Tensor?, AttackPath) {
        let path = through ?? defaultPath
        guard let spec = perturbed else { return (nil, path) }
        let t = try DatasetCatalog.load(spec).images
        guard t.shape == ds.images.shape else {
            throw ToolError.file(spec, "has shape \(t.shape), the inputs have \(ds.images.shape): give one perturbed image per input")
        }
        return (t, path)
    }

    /// A summary line's fields plus `perturbed` and, with it, `through`.
    func summary(_ fields: [String: Any], path: AttackPath) -> [String: Any] {
        var s = fields
        s["perturbed"] = perturbed != nil
        if perturbed != nil { s["through"] = path.rawValue }
        return s
    }
}

struct Damage: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Paper B Eq. 5's damage per image: the mean of ‖g(z) − g(μ(x))‖₂ over draws of z, with or without a perturbation.",
        discussion: """
        z = μ_A + η∘σ_B with η ~ N(0, I) and g the decoder mean; g(μ(x)) is the clean reconstruction. Without --perturbed, (μ_A, σ_B) = (μ(x), σ(x)): the change the encoder's own noise makes, for scale. With --perturbed X', --through says which outputs come from x': mu (μ(x'), σ(x)), sigma (μ(x), σ(x')) or both (μ(x'), σ(x')), as vae-attack max-damage --through attacks them. The draws depend only on --seed, --samples and the image's position in the selection (so a slice of the inputs gets other draws than the same images in a whole file), not on the perturbation, so runs for different attacks compare on the same noise (paper B Figure 4). Each line has damage (the mean over the draws) and damage_sd (their standard deviation; null with --samples 1).
        Example:
          vae-attack max-damage --model vae.safetensors --input ref.npy \\
            --through sigma --norm l2 --radius 10 --keep best -o adv.npy
          vae-eval damage --model vae.safetensors --input ref.npy --perturbed adv.npy \\
            --through sigma --samples 64
        """)
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Option(parsing: .unconditional, help: "Draws of η per image.")
    var samples = 64
    @OptionGroup var perturbation: PerturbationOptions
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: MetricOutput

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1, got \(samples)") }
        try perturbation.validate(input: input)
    }

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let vae = try model.load(for: ds)
        let (pert, path) = try perturbation.load(like: ds, defaultPath: .both)
        let res = vae.reconstructionDamage(ds.images, perturbed: pert, through: path, samples: samples, seed: seed.seed)
        try out.emit(metric: "damage", key: "damage", items: res.map { ["damage": $0.mean, "damage_sd": $0.sd] },
                     extraSummary: perturbation.summary(["samples": samples], path: path), model: vae)
    }
}

struct EncoderStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoder-stats",
        abstract: "Per image ‖σ(x)‖₂, min σ(x) and the Frobenius norm of the encoder Jacobian ∂μ/∂x (paper B Figure 9).",
        discussion: "The Jacobian takes one backward pass per latent dimension for a batch of images, with the weights frozen. The summary adds each latent dimension's activity, the variance of its encoder mean over the images (latent_activity), and how many exceed 0.01 (active_units; Burda et al. 2016): a dimension whose mean hardly moves with the image tells the decoder almost nothing. Divisor n, as Burda et al.'s code; both are null for a single image.\nExample:\n  vae-eval encoder-stats --model vae.safetensors --input mnist:test[0:100]")
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: MetricOutput

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let vae = try model.load(for: ds)
        let s = vae.encoderStats(ds.images)
        let minSigma = Summary(s.map(\.minSigma)), frob = Summary(s.map(\.jacobianFrobenius))
        let activity = LatentActivity.activity(s.map(\.mu))
        try out.emit(metric: "sigma_norm", key: "sigma_norm",
                     items: s.map { ["sigma_norm": $0.sigmaNorm, "min_sigma": $0.minSigma, "jacobian_frobenius": $0.jacobianFrobenius] },
                     extraSummary: ["min_sigma_mean": minSigma.mean, "min_sigma_stderr": minSigma.standardError,
                                    "jacobian_frobenius_mean": frob.mean, "jacobian_frobenius_stderr": frob.standardError,
                                    "latent_activity": activity,
                                    // null with one image, like the activities: no spread to judge by
                                    "active_units": activity.contains(where: \.isNaN) ? NSNull() : LatentActivity.activeUnits(activity)], model: vae)
    }
}
