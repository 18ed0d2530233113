import ArgumentParser
import CLI
import Foundation
import Shared

extension AttackKind: ExpressibleByArgument {}
extension AttackPath: ExpressibleByArgument {}
extension PerturbationNorm: ExpressibleByArgument {}

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
        Every reference and restart runs as one batch (chunks of about 500 rows). The adversarial images go to -o as a .npy in the layout of the input, one row per reference and restart with the restarts of a reference consecutive (as vae-eval accuracy --reference expects); --keep best keeps the best restart of each reference. One JSON line per adversarial image (reference, restart, objective, norm) and a summary line go to stdout. Each row keeps its best iterate, and every iterate lies in the norm ball and the pixel box [0, 1].

        Examples:
          vae-attack skl --model vae.safetensors --input mnist:test@50 --restarts 10 \\
            --radius 0.1 -o adv.npy
          vae-attack latent --model vae.safetensors --input mnist:test[0:10] \\
            --target mnist:test[10:20] --norm l2 --radius 3 --step 0.3 -o adv.npy
        """)

    @Argument(help: "The attack: latent, skl, output, max-damage, elbo, classifier or wasserstein.")
    var kind: AttackKind
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Option(help: ArgumentHelp("Targets of the supervised attacks (latent, output): one image, or one per reference (a spec or .npy).", valueName: "spec"))
    var target: String?
    @Option(help: ArgumentHelp("Latent classifier for the classifier attack (.safetensors from vae-train classifier).", valueName: "path"))
    var classifier: String?
    @Option(help: "The perturbation norm: linf or l2.")
    var norm: PerturbationNorm = .linf
    @Option(parsing: .unconditional, help: "Radius of the norm ball (paper D: 0.1 and 0.2 in L∞).")
    var radius: Float = 0.1
    @Option(parsing: .unconditional, help: "Gradient steps.")
    var steps = 50
    @Option(parsing: .unconditional, help: "Step size: the signed gradient times it for linf, the normalised gradient times it for l2 (default: radius / 10).")
    var step: Float?
    @Option(parsing: .unconditional, help: "Restarts per reference, each from its own random start.")
    var restarts = 1
    @Option(name: .customLong("init"), help: "Start of each restart: zero, uniform (in the L∞ cube of the radius) or normal (N(0, --init-sigma²)); projected.")
    var initialization: InitChoice = .uniform
    @Option(name: .customLong("init-sigma"), parsing: .unconditional, help: "Standard deviation of --init normal (default 0.2, paper D Table 8; --init normal only).")
    var initSigma: Float?
    @Option(parsing: .unconditional, help: "Reparameterised samples per step for max-damage, elbo and classifier (0: encoder means), with fixed noise per step from the seed (default 1; those kinds only).")
    var samples: Int?
    @Option(help: "max-damage: act through the encoder's mu, sigma or both (paper B Figure 4).")
    var through: AttackPath = .both
    @Option(parsing: .unconditional, help: "latent: paper A's penalty form, adding λ‖δ‖₂ to the KL (0: the constrained form only).")
    var penalty: Float = 0
    @Option(help: "Keep all restarts, or only the best of each reference.")
    var keep: KeepChoice = .all
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: OutputOptions
    @Flag(name: .customLong("summary-only"), help: "Print only the summary line (off by default).")
    var summaryOnly = false

    static func main() { ToolMain.run(Tool.self) }

    func validate() throws {
        guard radius > 0 && radius.isFinite else { throw ValidationError("--radius must be positive, got \(radius)") }
        guard steps >= 0 else { throw ValidationError("--steps must be at least 0, got \(steps)") }
        if let s = step { guard s > 0 && s.isFinite else { throw ValidationError("--step must be positive, got \(s)") } }
        guard restarts >= 1 else { throw ValidationError("--restarts must be at least 1, got \(restarts)") }
        if let n = samples {
            guard n >= 0 else { throw ValidationError("--samples must be at least 0, got \(n)") }
            guard kind.usesSamples else { throw ValidationError("--samples applies to the max-damage, elbo and classifier attacks only") }
        }
        if let sd = initSigma {
            guard sd > 0 && sd.isFinite else { throw ValidationError("--init-sigma must be positive") }
            guard initialization == .normal else { throw ValidationError("--init-sigma applies to --init normal only") }
        }
        guard penalty >= 0 && penalty.isFinite else { throw ValidationError("--penalty must be non-negative") }
        if kind.needsTarget && target == nil { throw ValidationError("the \(kind.rawValue) attack needs --target") }
        if !kind.needsTarget && target != nil { throw ValidationError("--target applies to the latent and output attacks only") }
        if kind == .classifier && classifier == nil { throw ValidationError("the classifier attack needs --classifier") }
        if kind != .classifier && classifier != nil { throw ValidationError("--classifier applies to the classifier attack only") }
        if kind != .latent && penalty != 0 { throw ValidationError("--penalty applies to the latent attack only") }
        if kind != .maxDamage && through != .both { throw ValidationError("--through applies to the max-damage attack only") }
        if kind == .maxDamage && through != .mu && samples == 0 { throw ValidationError("--through \(through.rawValue) needs --samples of at least 1: with means alone sigma has no effect") }
        try OutputOptions.validate([out.output], inputs: [model.model, input.input, target, classifier])
    }

    func run() throws {
        threads.apply()
        let refs = try input.load()
        let vae = try model.load(for: refs)
        var targets: Tensor? = nil
        if let t = target {
            let ds = try DatasetCatalog.load(t)
            guard ds.imageShape == refs.imageShape else { throw ToolError("\(t) images are \(ds.imageShape), the references \(refs.imageShape)") }
            guard ds.count == 1 || ds.count == refs.count else { throw ToolError("\(t) has \(ds.count) images: give one target, or one per reference (\(refs.count))") }
            targets = ds.count == 1 ? ds.images.gatherRows([Int](repeating: 0, count: refs.count)) : ds.images
        }
        var clf: LatentClassifier? = nil
        if let c = classifier {
            clf = try LatentClassifier.load(c, for: vae, modelPath: model.model)
        }
        try OutputOptions.checkWritable([out.output])
        var s = AttackSettings(kind: kind)
        s.norm = norm; s.radius = radius; s.steps = steps; s.step = step ?? radius / 10; s.restarts = restarts
        s.initialization = initialization == .zero ? .zero : (initialization == .uniform ? .uniform : .normal(initSigma ?? 0.2))
        s.samples = samples ?? 1; s.through = through; s.penalty = penalty; s.seed = seed.seed
        let t0 = Date()
        var images: [Tensor] = [], objective: [Double] = [], norms: [Double] = []
        // references in chunks of about 500 rows (references × restarts); random draws are per
        // row, so results do not depend on the chunking
        for r in Batches.ranges(count: refs.count, size: max(1, Batches.defaultSize / restarts)) {
            var cs = s
            cs.firstReference = r.lowerBound
            let res = Attack.run(vae, references: refs.images.rows(r), targets: targets?.rows(r), classifier: clf, settings: cs)
            images.append(res.images); objective += res.objective; norms += res.norms
        }
        let seconds = Date().timeIntervalSince(t0)
        var all = Tensor.concatRows(images)
        var rowsKept = Array(0..<(refs.count * restarts))
        if keep == .best {
            rowsKept = (0..<refs.count).map { i in (0..<restarts).map { i * restarts + $0 }.max { objective[$0] < objective[$1] }! }
            all = all.gatherRows(rowsKept)
        }
        try Npy.write(all, to: out.output)
        if !summaryOnly {
            for (outRow, row) in rowsKept.enumerated() {
                try JSONLines.emit(["index": outRow, "reference": row / restarts, "restart": row % restarts,
                                    "objective": objective[row], "norm": norms[row]])
            }
        }
        let bestPerRef = (0..<refs.count).map { i in (0..<restarts).map { objective[i * restarts + $0] }.max()! }
        try JSONLines.emit(["attack": kind.rawValue, "references": refs.count, "restarts": restarts, "norm": norm.rawValue,
                            "radius": Double(String(radius)) ?? Double(radius), "steps": steps, "mean_objective": Summary(objective).mean,
                            "mean_best_objective": Summary(bestPerRef).mean, "seconds": (seconds * 1000).rounded() / 1000,
                            "kept": keep.rawValue, "output": out.output])
        Log.line("attacked \(refs.count) references × \(restarts) restarts in \(String(format: "%.2f", seconds)) s")
    }
}
