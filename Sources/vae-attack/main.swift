import ArgumentParser
import CLI
import Foundation
import Shared

extension AttackKind: ExpressibleByArgument {}
extension DamageReference: ExpressibleByArgument {}
extension StepSizeAdaptation: ExpressibleByArgument {}
extension PerturbationNorm: ExpressibleByArgument {}
extension AttackOptimizer: ExpressibleByArgument {}
extension AttackIterate: ExpressibleByArgument {}
extension ThroughHMCGradient: ExpressibleByArgument {}

/// `--preset`.
enum Preset: String, CaseIterable, ExpressibleByArgument {
    /// Paper D Table 8 as its code runs it (attack/attacker.py): SGD, lr 1, 50 steps, δ from
    /// N(0, 0.2²), 10 restarts, L∞, the learning rate halved once more than 20 steps pass
    /// without improvement, the last iterate kept; the classifier attack acts on the encoder
    /// means.
    case paperD
}

/// `--init`.
enum InitChoice: String, CaseIterable, ExpressibleByArgument { case zero, uniform, normal }
/// `--keep`.
enum KeepChoice: String, CaseIterable, ExpressibleByArgument { case all, best }

@main
struct Tool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae-attack",
        abstract: "Attack a trained VAE by projected gradient ascent: latent, symmetric-KL, output, maximum-damage, ELBO, classifier and Wasserstein attacks (papers A-D).",
        discussion: """
        Every reference and restart runs as one batch (chunks of about 500 rows). Kinds: latent (−KL to a target's posterior, paper A), skl (symmetric KL to the clean posterior, paper D), output (−‖g(z̃) − g(z̃_t)‖² to a target, paper D), max-damage (‖g(z_δ) − g(z_ref)‖₂, papers B and A), elbo (−ELBO, paper C), classifier (cross-entropy of a latent classifier, paper D), wasserstein (W2² to the clean posterior, paper D), latent-distance (‖z̃ᵃ − z̃ʳ‖², paper D Eq. 64); the README has the formulas. --through-hmc T attacks the HMC-defended model (paper D appendix C.3): the objective sees the attacked code after T transitions of vae-hmc's sampler, with a straight-through gradient; --hmc-gradient detach-accepted passes none through the code of a row whose chain accepted a proposal, and kuzina is paper D's code's gradient in full: detach-accepted plus the likelihood gradients ∂ log p(x|z)/∂x at every position where its sampler evaluates the energy's gradient, which torch accumulates into the perturbation's gradient.

        The adversarial images go to -o as a .npy of images [N·K, C, H, W], one row per reference and restart with the restarts of a reference consecutive (as vae-eval accuracy --reference and vae-eval msssim expect); --keep best keeps the best restart of each reference. One JSON line per adversarial image (reference, restart, objective, norm) and a summary line go to stdout. Each row's result is its best iterate or its last (--iterate) and lies in the norm ball and the pixel box [0, 1] (the ball alone with --no-pixel-box).

        Examples:
          vae-attack skl --model vae.safetensors --input mnist:test@50 --restarts 10 \\
            --radius 0.1 -o adv.npy
          vae-attack latent --model vae.safetensors --input mnist:test[0:10] \\
            --target mnist:test[10:20] --norm l2 --radius 3 --step 0.3 -o adv.npy
          vae-attack skl --preset paperD --model vae.safetensors \\
            --input mnist:test@50#bin --radius 0.2 -o adv.npy

        --preset paperD sets paper D Table 8's optimiser as the authors' code runs it (--optimizer sgd --lr 1 --steps 50 --init normal --init-sigma 0.2 --restarts 10 --norm linf --patience 20 --factor 0.5 --iterate last, and --samples 0 for the classifier attack); options given explicitly win.
        """)

    @Argument(help: "The attack: latent, skl, output, max-damage, elbo, classifier, wasserstein or latent-distance.")
    var kind: AttackKind
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Option(help: ArgumentHelp("Targets of the supervised attacks (latent, output): one image, or one per reference (a spec or .npy).", valueName: "spec"))
    var target: String?
    @Option(name: .customLong("target-index"), parsing: .unconditional,
            help: ArgumentHelp("Take the targets by index: rows of --target if given, else of the input; one index for every reference, or a comma-separated list with one per reference.", valueName: "i[,j...]"))
    var targetIndex: String?
    @Option(help: ArgumentHelp("Latent classifier for the classifier attack (.safetensors from vae-train classifier).", valueName: "path"))
    var classifier: String?
    @Option(help: "Preset: paperD (Table 8 of paper D, see below); explicit options win.")
    var preset: Preset?
    @Option(help: "The perturbation norm: linf or l2 (default linf).")
    var norm: PerturbationNorm?
    @Option(parsing: .unconditional, help: "Radius of the norm ball (paper D: 0.1 and 0.2 in L∞).")
    var radius: Float = 0.1
    @Flag(name: .customLong("no-pixel-box"), help: "Let x + δ leave the pixel box [0, 1] (the ball alone bounds δ; paper C does not say its attacks clip). Such images are read back only through an --input with --any-pixel-range (vae-eval, vae-hmc, and vae-certify ibp with --no-pixel-box, which certifies the whole ball).")
    var noPixelBox = false
    @Option(help: "The optimiser: pgd (signed or normalised gradient times --step), sgd or adam (--lr, reduce-on-plateau; paper D's code) (default pgd).")
    var optimizer: AttackOptimizer?
    @Option(parsing: .unconditional, help: "Gradient steps (default 50).")
    var steps: Int?
    @Option(parsing: .unconditional, help: "pgd step size: the signed gradient times it for linf, the normalised gradient times it for l2 (default: radius / 10).")
    var step: Float?
    @Option(parsing: .unconditional, help: "sgd and adam learning rate (default: 1 for sgd, as paper D; radius / 10 for adam).")
    var lr: Float?
    @Option(parsing: .unconditional, help: "sgd and adam: reduce a row's learning rate after more than this many steps without improvement (default 20).")
    var patience: Int?
    @Option(parsing: .unconditional, help: "sgd and adam: the factor of each reduction (default 0.5; 1 keeps the rate).")
    var factor: Float?
    @Option(help: "The result of each row: best (the highest objective seen) or last (the final iterate, as paper D's code) (default best). With --samples of 1 or more each objective is a one-draw estimate, so best and the summary's objectives are biased upwards: score the images again (vae-eval) for an unbiased figure.")
    var iterate: AttackIterate?
    @Option(parsing: .unconditional, help: "Restarts per reference, each from its own random start (default 1).")
    var restarts: Int?
    @Option(name: .customLong("init"), help: "Start of each restart: zero, uniform (in the L∞ cube of the radius) or normal (N(0, --init-sigma²)) (default uniform). pgd projects it onto the ball and the box; sgd and adam clamp it to the box and take the first gradient there, as paper D's code does (with --no-pixel-box: the ball alone; no clamp).")
    var initialization: InitChoice?
    @Option(name: .customLong("init-sigma"), parsing: .unconditional, help: "Standard deviation of --init normal (default 0.2, paper D Table 8; --init normal only).")
    var initSigma: Float?
    @Option(parsing: .unconditional, help: "Reparameterised samples per step for max-damage, elbo, classifier and output (0: encoder means), with fixed noise per step from the seed (default 1; those kinds only).")
    var samples: Int?
    @Option(help: "max-damage: act through the encoder's mu, sigma or both (paper B Figure 4; default both, mu with --through-hmc).")
    var through: AttackPath?
    @Option(name: .customLong("damage-reference"), help: "max-damage: measure from g(mu(x)) (mean, paper B Eq. 5), from an independent sample of q(z|x) (sample, paper A Eq. 4), or from the attacked sample's own noise (coupled).")
    var damageReference: DamageReference = .mean
    @Option(parsing: .unconditional, help: "latent: paper A's penalty form, adding λ‖δ‖₂ to the KL (0: the constrained form only).")
    var penalty: Float = 0
    @Option(name: .customLong("through-hmc"), parsing: .unconditional, help: "The adaptive attack of paper D appendix C.3: the objective sees the attacked code after T HMC transitions (skl, wasserstein, max-damage, classifier, latent-distance; default 0: none).")
    var throughHMC = 0
    @Option(name: .customLong("hmc-samples"), parsing: .unconditional, help: "HMC chains averaged per row and step (--through-hmc only; default 1).")
    var hmcSamples: Int?
    @Option(name: .customLong("hmc-leapfrog"), parsing: .unconditional, help: "Leapfrog steps per HMC transition (--through-hmc only; default 20).")
    var hmcLeapfrog: Int?
    @Option(name: .customLong("hmc-step-size"), parsing: .unconditional, help: "Initial HMC step size (--through-hmc only; default 0.05).")
    var hmcStepSize: Float?
    @Option(name: .customLong("hmc-burn-in"), parsing: .unconditional, help: "HMC burn-in as a fraction of T (--through-hmc only; default 0.5, as vae-hmc).")
    var hmcBurnIn: Double?
    @Option(name: .customLong("hmc-adapt"), help: "HMC step-size adaptation: rule, dual-averaging or none (--through-hmc only; default rule).")
    var hmcAdapt: StepSizeAdaptation?
    @Option(name: .customLong("hmc-target-accept"), parsing: .unconditional, help: "The acceptance the HMC adaptation aims at (--through-hmc only; default 0.9).")
    var hmcTargetAccept: Double?
    @Option(name: .customLong("hmc-gradient"), help: "How the gradient passes the HMC chain (--through-hmc only): straight-through (the identity, default), detach-accepted (no gradient through the code of a row whose chain accepted a proposal), or kuzina (paper D's code as it runs: detach-accepted plus Σ ∂ log p(x|z_v)/∂x over the positions z_v where its sampler takes the energy's gradient; the objective's value is the same).")
    var hmcGradient: ThroughHMCGradient?
    @Option(name: .customLong("top-groups"), parsing: .unconditional, help: "Hierarchical models (vae-train --arch hvae): skl attacks the posteriors of the top k latent groups, each given the posterior means above it (paper D section 4.3; default: all groups).")
    var topGroups: Int?
    @Option(help: "Keep all restarts, or only the best of each reference.")
    var keep: KeepChoice = .all
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: OutputOptions
    @Flag(name: .customLong("summary-only"), help: "Print only the summary line (off by default).")
    var summaryOnly = false

    static func main() { ToolMain.run(Tool.self) }

    /// The settings from the preset and the explicit options (which win).
    var settings: AttackSettings {
        let paperD = preset == .paperD
        var s = AttackSettings(kind: kind)
        s.norm = norm ?? .linf
        s.radius = radius
        s.pixelBox = !noPixelBox
        s.optimizer = optimizer ?? (paperD ? .sgd : .pgd)
        s.steps = steps ?? 50
        s.step = step ?? radius / 10
        s.lr = lr ?? (s.optimizer == .adam ? radius / 10 : 1)
        s.patience = patience ?? 20
        s.factor = factor ?? 0.5
        s.iterate = iterate ?? (paperD ? .last : .best)
        s.restarts = restarts ?? (paperD ? 10 : 1)
        switch initialization ?? (paperD ? .normal : .uniform) {
        case .zero: s.initialization = .zero
        case .uniform: s.initialization = .uniform
        case .normal: s.initialization = .normal(initSigma ?? 0.2)
        }
        s.samples = samples ?? ((paperD && kind == .classifier) || (throughHMC > 0 && kind != .latentDistance) ? 0 : 1)
        s.throughHMC = throughHMC
        s.hmcSamples = hmcSamples ?? 1
        s.hmc.leapfrog = hmcLeapfrog ?? 20
        s.hmc.stepSize = hmcStepSize ?? 0.05
        s.hmc.burnIn = hmcBurnIn ?? 0.5
        s.hmc.adaptation = hmcAdapt ?? .rule
        s.hmc.targetAccept = hmcTargetAccept ?? 0.9
        s.throughHMCGradient = hmcGradient ?? .straightThrough
        s.through = through ?? (throughHMC > 0 ? .mu : .both)
        s.damageReference = damageReference
        s.penalty = penalty
        s.seed = seed.seed
        return s
    }

    func validate() throws {
        let s = settings
        guard radius > 0 && radius.isFinite else { throw ValidationError("--radius must be positive and finite, got \(radius)") }
        guard s.steps >= 0 else { throw ValidationError("--steps must be at least 0, got \(s.steps)") }
        if let v = step { guard v > 0 && v.isFinite else { throw ValidationError("--step must be positive, got \(v)") } }
        if let v = lr { guard v > 0 && v.isFinite else { throw ValidationError("--lr must be positive, got \(v)") } }
        if let v = patience { guard v >= 0 else { throw ValidationError("--patience must be at least 0, got \(v)") } }
        if let v = factor { guard v > 0 && v <= 1 else { throw ValidationError("--factor must be in (0, 1], got \(v)") } }
        if s.optimizer == .pgd && (lr != nil || patience != nil || factor != nil) {
            throw ValidationError("--lr, --patience and --factor apply to --optimizer sgd and adam only")
        }
        if s.optimizer != .pgd && step != nil { throw ValidationError("--step applies to --optimizer pgd only (sgd and adam take --lr)") }
        guard s.restarts >= 1 else { throw ValidationError("--restarts must be at least 1, got \(s.restarts)") }
        if let n = samples {
            guard n >= 0 else { throw ValidationError("--samples must be at least 0, got \(n)") }
            guard kind.usesSamples else { throw ValidationError("--samples applies to the max-damage, elbo, classifier, output and latent-distance attacks only") }
        }
        if let sd = initSigma {
            guard sd > 0 && sd.isFinite else { throw ValidationError("--init-sigma must be positive") }
            guard case .normal = s.initialization else { throw ValidationError("--init-sigma applies to --init normal only") }
        }
        guard penalty >= 0 && penalty.isFinite else { throw ValidationError("--penalty must be non-negative") }
        if kind.needsTarget && target == nil && targetIndex == nil { throw ValidationError("the \(kind.rawValue) attack needs --target or --target-index") }
        if !kind.needsTarget && (target != nil || targetIndex != nil) { throw ValidationError("--target and --target-index apply to the latent and output attacks only") }
        if let t = targetIndex { _ = try Tool.indices(t) }
        if kind == .classifier && classifier == nil { throw ValidationError("the classifier attack needs --classifier") }
        if kind != .classifier && classifier != nil { throw ValidationError("--classifier applies to the classifier attack only") }
        if kind != .latent && penalty != 0 { throw ValidationError("--penalty applies to the latent attack only") }
        if kind != .maxDamage && through != nil { throw ValidationError("--through applies to the max-damage attack only") }
        if kind != .maxDamage && damageReference != .mean { throw ValidationError("--damage-reference applies to the max-damage attack only") }
        guard throughHMC >= 0 else { throw ValidationError("--through-hmc must be at least 0, got \(throughHMC)") }
        if throughHMC > 0 {
            guard kind.attacksThroughCode else {
                throw ValidationError("--through-hmc applies to the skl, wasserstein, max-damage, classifier and latent-distance attacks")
            }
            if kind != .latentDistance && s.samples > 0 {
                throw ValidationError("--through-hmc uses the HMC codes themselves: the \(kind.rawValue) attack takes --samples 0 with it")
            }
            if kind == .maxDamage && s.through != .mu {
                throw ValidationError("--through-hmc attacks the HMC codes started at mu: max-damage takes --through mu with it (its default there), not \(s.through.rawValue)")
            }
            if damageReference != .mean {
                throw ValidationError("--through-hmc measures max-damage from g(mu(x)) on the codes themselves: --damage-reference \(damageReference.rawValue) needs sampled codes, which it does not take")
            }
            guard s.hmcSamples >= 1, s.hmc.leapfrog >= 1 else { throw ValidationError("--hmc-samples and --hmc-leapfrog must be at least 1") }
            guard s.hmc.stepSize > 0 && s.hmc.stepSize.isFinite else { throw ValidationError("--hmc-step-size must be positive and finite, got \(s.hmc.stepSize)") }
            guard s.hmc.burnIn >= 0 && s.hmc.burnIn <= 100 else { throw ValidationError("--hmc-burn-in must be a fraction of --through-hmc in [0, 100], got \(s.hmc.burnIn)") }
            guard s.hmc.targetAccept > 0 && s.hmc.targetAccept < 1 else { throw ValidationError("--hmc-target-accept must be in (0, 1), got \(s.hmc.targetAccept)") }
            if s.hmc.adaptation == .dualAveraging && Int(s.hmc.burnIn * Double(throughHMC)) == 0 {
                throw ValidationError("--hmc-adapt dual-averaging adapts during burn-in: give --hmc-burn-in with at least one transition")
            }
        }
        if damageReference != .mean && s.samples == 0 { throw ValidationError("--damage-reference \(damageReference.rawValue) needs --samples of at least 1") }
        if kind == .maxDamage && s.through != .mu && s.samples == 0 { throw ValidationError("--through \(s.through.rawValue) needs --samples of at least 1: with means alone sigma has no effect") }
        if throughHMC == 0 {
            let given = [("--hmc-samples", hmcSamples != nil), ("--hmc-leapfrog", hmcLeapfrog != nil), ("--hmc-step-size", hmcStepSize != nil),
                         ("--hmc-burn-in", hmcBurnIn != nil), ("--hmc-adapt", hmcAdapt != nil), ("--hmc-target-accept", hmcTargetAccept != nil),
                         ("--hmc-gradient", hmcGradient != nil)].filter(\.1).map(\.0)
            if !given.isEmpty { throw ValidationError("\(given.joined(separator: ", ")) need\(given.count == 1 ? "s" : "") --through-hmc of at least 1") }
        }
        if !noPixelBox { try input.requireUnitRange("references outside [0, 1] lie outside the pixel box the attack keeps; add --no-pixel-box") }
        try OutputOptions.validate([out.output], inputs: [model.model, input.input, target, classifier])
    }

    /// `--target-index`'s list.
    static func indices(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            throw ValidationError("--target-index takes non-negative integers separated by commas, got '\(text)'")
        }
        return parts.map { $0! }
    }

    /// One target image per reference from --target and --target-index.
    func targets(for refs: Dataset) throws -> Tensor? {
        guard kind.needsTarget else { return nil }
        let source = target ?? input.input
        let ds = target == nil ? refs : try DatasetCatalog.load(source)
        guard ds.imageShape == refs.imageShape else { throw ToolError("\(source) images are \(ds.imageShape), the references \(refs.imageShape)") }
        var rows = Array(0..<ds.count)
        if let t = targetIndex {
            rows = try Tool.indices(t)
            if let bad = rows.first(where: { $0 >= ds.count }) {
                throw ToolError("--target-index \(bad) is out of range: \(source) has \(ds.count) images")
            }
        }
        guard rows.count == 1 || rows.count == refs.count else {
            let what = targetIndex == nil ? "\(source) has \(rows.count) images" : "--target-index lists \(rows.count) indices"
            throw ToolError("\(what): give one target, or one per reference (\(refs.count))")
        }
        return ds.images.gatherRows(rows.count == 1 ? [Int](repeating: rows[0], count: refs.count) : rows)
    }

    func run() throws {
        threads.apply()
        let refs = try input.load()
        let loaded = try model.loadAny(for: refs)
        let hierarchical = loaded as? HierarchicalVAE
        if let h = hierarchical {
            guard kind == .skl, throughHMC == 0, classifier == nil else {
                throw ToolError.usage("a hierarchical model takes the skl attack only (optionally with --top-groups), without --through-hmc or --classifier")
            }
            guard (1...h.groups).contains(topGroups ?? h.groups) else {
                throw ToolError.usage("--top-groups must be between 1 and the model's \(h.groups) groups, got \(topGroups!)")
            }
        } else if topGroups != nil {
            throw ToolError.usage("--top-groups applies to hierarchical models (vae-train --arch hvae) only")
        }
        let vae = loaded as? VAE
        let targets = try targets(for: refs)
        var clf: LatentClassifier? = nil
        if let c = classifier {
            clf = try LatentClassifier.load(c, for: vae!, modelPath: model.model)
        }
        try OutputOptions.checkWritable([out.output])
        let s = settings
        let restarts = s.restarts
        if case .zero = s.initialization {
            if [.skl, .wasserstein].contains(kind) || (kind == .maxDamage && s.samples == 0) {
                Log.line("vae-attack: warning: the \(kind.rawValue) objective has a zero gradient at δ = 0, so --init zero leaves the attack where it starts")
            } else if restarts > 1 && (s.samples == 0 || !kind.usesSamples) {
                Log.line("vae-attack: warning: with --init zero and a deterministic objective the \(restarts) restarts are identical")
            }
        }
        let t0 = Date()
        var images: [Tensor] = [], objective: [Double] = [], norms: [Double] = []
        // references in chunks of about 500 rows (references × restarts); random draws are per
        // row, so results do not depend on the chunking
        for r in Batches.ranges(count: refs.count, size: max(1, Batches.defaultSize / restarts)) {
            var cs = s
            cs.firstReference = r.lowerBound
            let res = hierarchical.map { Attack.runTopGroups($0, references: refs.images.rows(r), topGroups: topGroups ?? $0.groups, settings: cs) }
                ?? Attack.run(vae!, references: refs.images.rows(r), targets: targets?.rows(r), classifier: clf, settings: cs)
            images.append(res.images); objective += res.objective; norms += res.norms
        }
        let seconds = Date().timeIntervalSince(t0)
        var all = Tensor.concatRows(images)
        var rowsKept = Array(0..<(refs.count * restarts))
        if keep == .best {
            rowsKept = (0..<refs.count).map { i in (0..<restarts).map { i * restarts + $0 }.max { objective[$0] < objective[$1] }! }
            all = all.gatherRows(rowsKept)
        }
        var lines: [[String: Any]] = []
        if !summaryOnly {
            for (outRow, row) in rowsKept.enumerated() {
                lines.append(["index": outRow, "reference": row / restarts, "restart": row % restarts,
                              "objective": objective[row], "norm": norms[row]])
            }
        }
        let bestPerRef = (0..<refs.count).map { i in (0..<restarts).map { objective[i * restarts + $0] }.max()! }
        lines.append(["attack": kind.rawValue, "references": refs.count, "restarts": restarts, "norm": s.norm.rawValue,
                      "radius": radius.shortestDecimal, "steps": s.steps, "optimizer": s.optimizer.rawValue,
                      "iterate": s.iterate.rawValue, "mean_objective": Summary(objective).mean,
                      "mean_best_objective": Summary(bestPerRef).mean, "seconds": (seconds * 1000).rounded() / 1000,
                      "kept": keep.rawValue, "output": out.output, "through_hmc": s.throughHMC, "pixel_box": s.pixelBox]
                      .merging(hierarchical.map { ["top_groups": topGroups ?? $0.groups] } ?? [:]) { a, _ in a }
                      .merging(s.throughHMC > 0 ? ["hmc_gradient": s.throughHMCGradient.rawValue, "hmc_samples": s.hmcSamples, "hmc_leapfrog": s.hmc.leapfrog,
                                                 "hmc_step_size": Double(s.hmc.stepSize), "hmc_burn_in": s.hmc.burnIn, "hmc_adapt": s.hmc.adaptation.rawValue,
                                                 "hmc_target_accept": s.hmc.targetAccept] : [:]) { a, _ in a })
        // the JSON lines are printed before the file is renamed into place, so that a failure to
        // print leaves no output; with -o - the images take stdout and the lines go to stderr
        try Npy.write(all, to: out.output) {
            for l in lines { try JSONLines.emit(l, toStandardError: out.output == "-") }
        }
        Log.line("attacked \(refs.count) references × \(restarts) restarts in \(String(format: "%.2f", seconds)) s")
    }
}
