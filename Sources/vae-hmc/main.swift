import ArgumentParser
import CLI
import Foundation
import Shared

extension StepSizeAdaptation: ExpressibleByArgument {}

/// `--init`.
enum StartChoice: String, CaseIterable, ExpressibleByArgument { case sample, mean }

@main
struct Tool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae-hmc",
        abstract: "Defend a VAE with Hamiltonian Monte Carlo in latent space (paper D Algorithm 1): move each input's code towards high posterior density.",
        discussion: """
        One chain per input, all chains advancing together (in batches of --batch). Each starts from a reparameterised sample of q(z|x) (or its mean, --init mean) and runs burn-in (--burn-in × T transitions) plus T transitions of HMC on p(x|z)p(z) with the model's own likelihood (paper D Eq. 8-10); the final codes go to -o as .npy [N, latent], and with --decode their reconstructions as images. One JSON line per input (acceptance over the T transitions, final energy U = −log p(x|z) − log p(z), step size) and a summary line go to stdout.

        The summary line has inputs, steps, burn_in (the number of burn-in transitions), leapfrog, adapt, mean_acceptance, mean_energy, step_size_min and step_size_max (the step sizes after the last adaptation), seconds and seconds_per_point. With -o - (or --decode -) the file takes stdout and the JSON lines go to stderr.

        --adapt rule is paper D Eq. 67, η ← η + 0.01·(α − target)/target·η after every transition with α the share of the batch that accepted, one step size per batch (as the paper's code does, burn-in and sampling alike). --adapt dual-averaging is Stan's and NumPyro's scheme, per chain, during burn-in only; sampling then uses each chain's averaged step size.

        A hierarchical model (vae-train --arch hvae) runs HMC over all its latent groups at once, U(z) = −log p(x|z) − Σ_k log p(z_k|z_>k) (paper D section 3.2), from the top-down posterior's samples (or means); the codes are the groups side by side, top group first.

        Paper D Table 8: T = 500 (MNIST) or 1000 (Fashion-MNIST, Colour MNIST), η₀ = 0.1 or 0.05, L = 20, adaptive.

        Example:
          vae-hmc --model vae.safetensors --input adv.npy --steps 500 --step-size 0.1 \\
            -o z-hmc.npy --decode rec-hmc.npy
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Option(parsing: .unconditional, help: "Transitions after burn-in (T; 0: the start itself, for timing the encoder alone).")
    var steps = 100
    @Option(parsing: .unconditional, help: "Leapfrog steps per transition (L; paper D: 20).")
    var leapfrog = 20
    @Option(name: .customLong("step-size"), parsing: .unconditional, help: "Initial leapfrog step size η₀.")
    var stepSize: Float = 0.05
    @Option(name: .customLong("burn-in"), parsing: .unconditional, help: "Burn-in transitions before the T, as a fraction of T rounded down (paper D's code: 0.5).")
    var burnIn = 0.5
    @Option(help: "Step-size adaptation: rule (paper D Eq. 67), dual-averaging or none.")
    var adapt: StepSizeAdaptation = .rule
    @Option(name: .customLong("target-accept"), parsing: .unconditional, help: "The acceptance rate the adaptation aims at.")
    var targetAccept = 0.9
    @Option(name: .customLong("init"), help: "Start of each chain: sample (a reparameterised sample of q(z|x)) or mean (its mean).")
    var start: StartChoice = .sample
    @Option(parsing: .unconditional, help: "Chains per batch; with --adapt rule each batch shares one step size.")
    var batch = 1000
    @Option(help: ArgumentHelp("Also write the decoder means of the final codes, as images (off by default).", valueName: "path"))
    var decode: String?
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: OutputOptions
    @Flag(name: .customLong("summary-only"), help: "Print only the summary line (off by default).")
    var summaryOnly = false

    static func main() { ToolMain.run(Tool.self) }

    func validate() throws {
        guard steps >= 0 else { throw ValidationError("--steps must be at least 0, got \(steps)") }
        guard leapfrog >= 1 else { throw ValidationError("--leapfrog must be at least 1, got \(leapfrog)") }
        guard stepSize > 0 && stepSize.isFinite else { throw ValidationError("--step-size must be positive and finite, got \(stepSize)") }
        guard burnIn >= 0 && burnIn <= 100 else { throw ValidationError("--burn-in must be a fraction of --steps in [0, 100], got \(burnIn)") }
        guard targetAccept > 0 && targetAccept < 1 else { throw ValidationError("--target-accept must be in (0, 1), got \(targetAccept)") }
        if adapt == .none && targetAccept != 0.9 { throw ValidationError("--target-accept applies to --adapt rule and dual-averaging only") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if adapt == .dualAveraging && Int(burnIn * Double(steps)) == 0 {
            throw ValidationError("--adapt dual-averaging adapts during burn-in: give --burn-in with at least one transition")
        }
        if decode == "-" && out.output == "-" { throw ValidationError("-o and --decode cannot both be stdout") }
        try OutputOptions.validate([out.output, decode], inputs: [model.model, input.input])
    }

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let vae = try model.loadAny(for: ds)
        try OutputOptions.checkWritable([out.output, decode].compactMap { $0 })
        var s = HMCSettings()
        s.steps = steps; s.leapfrog = leapfrog; s.stepSize = stepSize; s.burnIn = burnIn
        s.adaptation = adapt; s.targetAccept = targetAccept; s.seed = seed.seed
        let t0 = Date()
        var codes: [Tensor] = [], acceptance: [Double] = [], energy: [Double] = [], eta: [Double] = []
        for r in Batches.ranges(count: ds.count, size: batch) {
            let x = ds.images.rows(r)
            var z0: Tensor
            if let one = vae as? VAE {
                let (mu, sigma) = Autodiff.withoutGradients { one.encode(Variable(x)) }
                z0 = mu.value
                if start == .sample {
                    // each input's start from the seed and its index
                    let eps = Tensor.concatRows(r.map { i -> Tensor in
                        var g = RNG(seed: seed.seed).derived(0x5A00_0000_0000 + UInt64(i))
                        return g.normalTensor([1, one.config.latent])
                    })
                    z0 = mu.value + sigma.value * eps
                }
            } else {
                // every group from the top-down posterior, the draws from the seed and the batch
                var g = RNG(seed: seed.seed).derived(0x5A00_0000_0000 + UInt64(r.lowerBound))
                z0 = vae.codes(x, levels: [LevelChoice](repeating: start == .sample ? .sample : .mean, count: vae.groupCount), rng: &g)
            }
            var cs = s
            cs.firstChain = r.lowerBound
            let res = HMC.sample(vae.posteriorEnergy(x), from: z0, parameters: vae.parameters, settings: cs)
            codes.append(res.z); acceptance += res.acceptance; energy += res.energy; eta += res.stepSize
        }
        let seconds = Date().timeIntervalSince(t0)
        let z = Tensor.concatRows(codes)
        guard z.isFinite else { throw ToolError("HMC diverged: some final codes are not finite (try a smaller --step-size)") }
        var lines: [[String: Any]] = []
        if !summaryOnly {
            for i in 0..<ds.count { lines.append(["index": i, "acceptance": acceptance[i], "energy": energy[i], "step_size": eta[i]]) }
        }
        lines.append(["inputs": ds.count, "steps": steps, "burn_in": s.burnInSteps, "leapfrog": leapfrog, "adapt": adapt.rawValue,
                      "mean_acceptance": Summary(acceptance).mean, "mean_energy": Summary(energy).mean,
                      "step_size_min": eta.min()!, "step_size_max": eta.max()!, "seconds": (seconds * 1000).rounded() / 1000,
                      "seconds_per_point": seconds / Double(ds.count), "output": out.output])
        // JSON lines before the files are renamed into place: a failure to print leaves none
        let toStderr = out.output == "-" || decode == "-"
        let emit = { for l in lines { try JSONLines.emit(l, toStandardError: toStderr) } }
        if let d = decode {
            let rec = vae.decoderMeans(z, batch: Batches.defaultSize)
            try Npy.write(z, to: out.output) { try Npy.write(rec, to: d, beforeCommit: emit) }
        } else {
            try Npy.write(z, to: out.output, beforeCommit: emit)
        }
        Log.line("HMC: \(ds.count) chains × (\(s.burnInSteps) + \(steps)) transitions × \(leapfrog) leapfrog steps in \(String(format: "%.2f", seconds)) s")
    }
}
