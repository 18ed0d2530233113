import ArgumentParser
import CLI
import Foundation
import Shared

@main
struct Tool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae-certify",
        abstract: "Certify a VAE: Lipschitz r-robustness bounds (paper A), Jacobian margin bounds (paper B), IBP ELBO bounds (paper C).",
        discussion: """
        Implemented: weights (what the saved weights guarantee), lipschitz (paper A's certificates from them), theorem1 (paper A Theorem 1's bound for constants you give, without a model), jacobian (paper B's first-order margin), ibp (paper C's certified ELBO bound) and margin (paper A Algorithm 2's empirical margin, an estimate rather than a certificate).
        """,
        subcommands: [Weights.self, Lipschitz.self, Theorem1.self, Jacobian.self, IBP.self, Margin.self])

    static func main() { ToolMain.run(Tool.self) }
}

/// The networks' certified constants (`WeightCertificate.measure`), or an error naming the file.
func measured(_ vae: VAE, _ path: String) throws -> (decoder: NetworkBound, mean: NetworkBound, sigma: NetworkBound) {
    guard let m = WeightCertificate.measure(vae) else { throw ToolError.file(path, "has a layer whose operator norm vae-certify cannot bound") }
    return m
}

struct Weights: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure what the saved weights guarantee: certified operator-norm bounds per layer and the Lipschitz constants a, b, c of paper A Theorem 1.",
        discussion: """
        One JSON line per linear or convolution layer (lower: power iteration on its matrix; upper: a certified bound on its operator norm, from the Gram matrix in double precision by the triangle inequality and Gershgorin's theorem, times √(kh·kw) for a convolution), then a summary: a for the decoder mean (with its final sigmoid's ¼), b for the encoder mean, c for the encoder standard deviation (with its sigmoid's ¼; 0 for a fixed σ, whose offset changes no constant; infinite for an exp head), each the product of its layers' bounds, and the same before the sigmoid.

        For a Lipschitz-VAE the summary compares the constants before the sigmoid with the ones its metadata claims (--lipschitz at training) and exits 1 when a measured bound exceeds a claim by more than 1% (the Björck layers are orthonormal to about 1e-3). The layers take their scale from the metadata and orthonormalise their weights when applied, so an edited claim still measures within itself; but training saves each Björck weight orthonormal, so a stored weight whose largest singular value is off 1 by more than 1% (scaled after training) is reported and exits 1 too. For an unconstrained model the constants are products of norms, and the summary says they are loose.

        Example:
          vae-certify weights --model lvae.safetensors
        """)
    @OptionGroup var model: ModelOptions
    @Flag(name: .customLong("summary-only"), help: "Print only the summary line (off by default).")
    var summaryOnly = false

    func run() throws {
        let vae = try VAE.load(model.model).model
        let (dec, mean, sigma) = try measured(vae, model.model)
        if !summaryOnly {
            for (net, b) in [("decoder", dec), ("encoder_mean", mean), ("encoder_sigma", sigma)] {
                for l in b.layers { try JSONLines.emit(["network": net, "layer": l.name, "lower": l.lower, "upper": l.upper]) }
            }
        }
        let c = vae.config
        let claims: [(String, Float?, Double)] = [("decoder", c.lipschitzDecoder, dec.beforeSigmoid), ("encoder_mean", c.lipschitzMean, mean.beforeSigmoid),
                                                  ("encoder_sigma", c.lipschitzStd, sigma.beforeSigmoid)]
        var summary: [String: Any] = ["model": model.model, "a": dec.lipschitz, "b": mean.lipschitz, "c": sigma.lipschitz,
                                      "a_before_sigmoid": dec.beforeSigmoid, "b_before_sigmoid": mean.beforeSigmoid,
                                      "c_before_sigmoid": sigma.beforeSigmoid, "fixed_sigma": c.fixedSigma.map { Double($0) as Any } ?? NSNull()]
        let claimed = claims.filter { $0.1 != nil }
        let mismatches = WeightCertificate.mismatches(claims.map { (name: $0.0, claim: $0.1, measured: $0.2) })
            + WeightCertificate.editedBjorckWeights(vae)
        summary["claimed"] = Dictionary(uniqueKeysWithValues: claimed.map { ($0.0, Double($0.1!)) })
        summary["loose"] = claimed.isEmpty
        summary["sigma_head"] = vae.encoder.fixedSigma != nil ? "fixed" : (vae.encoder.scale == .sigmoid ? "sigmoid" : "exp (no global constant: c is null)")
        summary["matches_claims"] = claimed.isEmpty ? NSNull() : mismatches.isEmpty
        try JSONLines.emit(summary)
        if !mismatches.isEmpty { throw ToolError.file(model.model, "does not satisfy its claimed Lipschitz constants: " + mismatches.joined(separator: "; ")) }
    }
}

struct Lipschitz: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Paper A's certificates: Theorem 1's probability bound, Lemma 1.1's per-input margin, Theorem 2's global margin.",
        discussion: """
        The constants a, b, c are those vae-certify weights measures from the weights (the decoder mean's and σ head's final sigmoid included), or with --assume-config the ones the model's metadata claims (--lipschitz at training; the sigmoids' ¼ left out, so looser), and the output says which.

        With --input: one JSON line per image with ‖σ(x)‖, m1 (from p1 ≤ 1 − t), m2 (sup of ‖δ‖ with p2 ≤ 1 − t, by bisection) and the margin max(m1, m2) of Lemma 1.1; with --delta D also Theorem 1's bound 1 − min(p1, p2) on P[‖g(z_δ) − g(z)‖₂ ≤ r] for ‖δ‖₂ = D, with p1 and p2. Without --input: Theorem 2's global margin, which needs a fixed encoder σ (--fixed-sigma at training). A summary line gives the constants, their source, r, the threshold t (an input is r-robust when the probability exceeds t; paper A: 0.5) and the mean margin.

        Example:
          vae-certify lipschitz --model lvae.safetensors --r 8 --input mnist:test[0:100]
        """)
    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("Images to certify (a dataset spec or .npy); without it, Theorem 2's global margin.", valueName: "spec"))
    var input: String?
    @Option(parsing: .unconditional, help: "The reconstruction radius r (L2, pixel space), positive.")
    var r: Double
    @Option(parsing: .unconditional, help: "Also Theorem 1's probability bound at this perturbation norm ‖δ‖₂ (with --input).")
    var delta: Double?
    @Option(parsing: .unconditional, help: "The r-robustness threshold t in (0, 1).")
    var threshold = 0.5
    @Flag(name: .customLong("assume-config"), help: "Use the configured Lipschitz constants instead of measuring them (off by default).")
    var assumeConfig = false
    @OptionGroup var threads: ThreadsOption
    @Flag(name: .customLong("summary-only"), help: "Print only the summary line (off by default).")
    var summaryOnly = false

    func validate() throws {
        guard r > 0 && r.isFinite else { throw ValidationError("--r must be positive and finite, got \(r)") }
        guard threshold > 0 && threshold < 1 else { throw ValidationError("--threshold must be in (0, 1), got \(threshold)") }
        if let d = delta {
            guard d >= 0 && d.isFinite else { throw ValidationError("--delta must be non-negative and finite, got \(d)") }
            guard input != nil else { throw ValidationError("--delta needs --input (Theorem 1 is per input)") }
        }
    }

    func run() throws {
        threads.apply()
        let (vae, _) = try VAE.load(model.model)
        let c = vae.config
        let k: LipschitzConstants
        if assumeConfig {
            guard let a = c.lipschitzDecoder, let b = c.lipschitzMean, c.fixedSigma != nil || c.lipschitzStd != nil else {
                throw ToolError.file(model.model, "has no configured Lipschitz constants for all three networks (--assume-config needs a Lipschitz-VAE)")
            }
            k = LipschitzConstants(a: Double(a), b: Double(b), c: c.fixedSigma != nil ? 0 : Double(c.lipschitzStd!))
        } else {
            let (dec, mean, sigma) = try measured(vae, model.model)
            guard sigma.lipschitz.isFinite else {
                throw ToolError.file(model.model, "has an exp σ head, which has no global Lipschitz constant: no certificate")
            }
            k = LipschitzConstants(a: dec.lipschitz, b: mean.lipschitz, c: sigma.lipschitz)
        }
        let latent = c.latent
        var summary: [String: Any] = ["model": model.model, "r": r, "threshold": threshold, "a": k.a, "b": k.b, "c": k.c,
                                      "constants": assumeConfig ? "configured (not measured)" : "measured (vae-certify weights)", "latent": latent]
        guard let spec = input else {
            guard let fixed = c.fixedSigma else {
                throw ValidationError("Theorem 2 needs a fixed encoder σ (--fixed-sigma at training); give --input for Lemma 1.1's per-input margins")
            }
            let s = Double(fixed + (c.sigmaOffset ?? 0)) * Double(latent).squareRoot()
            let m = LipschitzMargins.lemma11(r: r, LipschitzConstants(a: k.a, b: k.b, c: 0), sigmaNorm: s, latent: latent, threshold: threshold)
            summary["certificate"] = "Theorem 2 (global)"; summary["sigma_norm"] = s
            summary["m1"] = m.m1; summary["m2"] = m.m2; summary["margin"] = m.margin
            try JSONLines.emit(summary)
            return
        }
        let ds = try DatasetCatalog.load(spec)
        guard ds.imageShape == c.inputShape else { throw ds.shapeMismatch(expected: c.inputShape, model: model.model) }
        let sigmas = Autodiff.withoutGradients {
            Batches.mapRows(ds.images) { x in vae.encode(Variable(x)).sigma.value }
        }
        var margins: [Double] = []
        for i in 0..<ds.count {
            let row = sigmas.data[(i * latent)..<((i + 1) * latent)]
            let s = row.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let m = LipschitzMargins.lemma11(r: r, k, sigmaNorm: s, latent: latent, threshold: threshold)
            margins.append(m.margin)
            guard !summaryOnly else { continue }
            var line: [String: Any] = ["index": i, "sigma_norm": s, "m1": m.m1, "m2": m.m2, "margin": m.margin]
            if let d = delta {
                let t = LipschitzMargins.theorem1(r: r, k, sigmaNorm: s, deltaNorm: d, latent: latent)
                line["p1"] = t.p1; line["p2"] = t.p2; line["bound"] = t.bound
            }
            try JSONLines.emit(line)
        }
        summary["certificate"] = "Lemma 1.1 (per input)"; summary["n"] = ds.count
        summary["mean_margin"] = Summary(margins).mean; summary["certified_share"] = Double(margins.filter { $0 > 0 }.count) / Double(ds.count)
        if let d = delta { summary["delta"] = d }
        try JSONLines.emit(summary)
    }
}

/// Paper A Theorem 1 for constants given on the command line (paper A Figure 2 plots its two
/// bounds against ‖δ‖₂ for a = b = c = 5, d_z = 5 and ‖σ‖₂ = 0.1).
struct Theorem1: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "theorem1",
        abstract: "Paper A Theorem 1's bound for given Lipschitz constants, ‖σ‖ and latent size, over perturbation norms (no model needed).",
        discussion: """
        For each ‖δ‖₂ of --deltas (from:to:step, or a comma list), one JSON line with p1 (Markov's inequality), p2 (the χ² tail bound), 1 − p1, 1 − p2, and the bound 1 − min(p1, p2) on P[‖g(z_δ) − g(z)‖₂ ≤ r] (paper A Theorem 1); then a summary line with Lemma 1.1's margins m1, m2 and max(m1, m2) at the threshold t. These are the numbers vae-certify lipschitz computes per image from a model's measured constants and ‖σ(x)‖.

        Example (paper A Figure 2's setting):
          vae-certify theorem1 --a 5 --b 5 --c 5 --latent 5 --sigma-norm 0.1 --r 5 --deltas 0:0.15:0.005
        """)
    @Option(parsing: .unconditional, help: "Lipschitz constant of the decoder mean.")
    var a: Double
    @Option(parsing: .unconditional, help: "Lipschitz constant of the encoder mean.")
    var b: Double
    @Option(parsing: .unconditional, help: "Lipschitz constant of the encoder standard deviation (0 for a fixed σ).")
    var c: Double
    @Option(parsing: .unconditional, help: "Latent dimension d_z.")
    var latent: Int
    @Option(name: .customLong("sigma-norm"), parsing: .unconditional, help: "‖σ(x)‖₂, the norm of the encoder standard deviation.")
    var sigmaNorm: Double
    @Option(parsing: .unconditional, help: "The reconstruction radius r (L2, pixel space), positive.")
    var r: Double
    @Option(help: ArgumentHelp("Perturbation norms ‖δ‖₂: FROM:TO:STEP (TO included when the grid reaches it) or a comma list.", valueName: "list"))
    var deltas: String = "0:0.15:0.005"
    @Option(parsing: .unconditional, help: "The r-robustness threshold t in (0, 1).")
    var threshold = 0.5

    func validate() throws {
        for (name, v) in [("--a", a), ("--b", b), ("--sigma-norm", sigmaNorm), ("--r", r)] {
            guard v > 0 && v.isFinite else { throw ValidationError("\(name) must be positive and finite, got \(v)") }
        }
        guard c >= 0 && c.isFinite else { throw ValidationError("--c must be non-negative and finite, got \(c)") }
        guard latent >= 1 else { throw ValidationError("--latent must be at least 1, got \(latent)") }
        guard threshold > 0 && threshold < 1 else { throw ValidationError("--threshold must be in (0, 1), got \(threshold)") }
        _ = try Self.grid(deltas)
    }

    /// The norms of `--deltas`: FROM:TO:STEP (at most 100,000 of them) or a comma list, each
    /// finite and non-negative.
    static func grid(_ text: String) throws -> [Double] {
        let bad = ValidationError("--deltas must be FROM:TO:STEP or a comma list of non-negative numbers, got '\(text)'")
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var out: [Double]
        if parts.count == 3 {
            guard let from = Double(parts[0]), let to = Double(parts[1]), let step = Double(parts[2]),
                  from.isFinite, to.isFinite, step.isFinite, step > 0, to >= from else { throw bad }
            // the count as a Double first: a huge or tiny step must be refused, not trap in Int()
            let count = ((to - from) / step + 1e-9).rounded(.down) + 1
            guard count.isFinite, count <= 100_000 else { throw ValidationError("--deltas gives more than 100,000 norms") }
            let n = Int(count)
            out = (0..<n).map { from + Double($0) * step }
        } else {
            guard parts.count == 1 else { throw bad }
            out = try text.split(separator: ",", omittingEmptySubsequences: false).map {
                guard let v = Double($0.trimmingCharacters(in: .whitespaces)) else { throw bad }
                return v
            }
        }
        guard !out.isEmpty, out.allSatisfy({ $0 >= 0 && $0.isFinite }) else { throw bad }
        return out
    }

    func run() throws {
        let k = LipschitzConstants(a: a, b: b, c: c)
        for d in try Self.grid(deltas) {
            let t = LipschitzMargins.theorem1(r: r, k, sigmaNorm: sigmaNorm, deltaNorm: d, latent: latent)
            try JSONLines.emit(["delta": d, "p1": t.p1, "p2": t.p2, "one_minus_p1": 1 - t.p1, "one_minus_p2": 1 - t.p2, "bound": t.bound])
        }
        let m = LipschitzMargins.lemma11(r: r, k, sigmaNorm: sigmaNorm, latent: latent, threshold: threshold)
        try JSONLines.emit(["certificate": "paper A Theorem 1 and Lemma 1.1", "a": a, "b": b, "c": c, "latent": latent,
                            "sigma_norm": sigmaNorm, "r": r, "threshold": threshold, "m1": m.m1, "m2": m.m2, "margin": m.margin])
    }
}

struct Jacobian: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Paper B Theorem 1: the margin min_i σ_i(x) · Φ⁻¹(p(‖Δ(x)‖₂ ≤ r)) / ‖∂μ/∂x‖_F per image, up to first order.",
        discussion: """
        p is the sampled r-robustness probability of the unperturbed input (Δ(x) = g(μ(x) + η∘σ(x)) − g(μ(x)), η ~ N(0, I), as vae-eval r-robustness), with its 95% Wilson interval; the Jacobian is exact (automatic differentiation). One JSON line per image with min_sigma, jacobian_frobenius, p, p_low, p_high, margin, margin_low (the margin at the interval's lower end) and certified_margin (max(0, margin_low): the value to quote, 0 when the input is not certainly r-robust even unperturbed, p_low ≤ 1/2, which Theorem 1 assumes). margin is null when p = 1 (Φ⁻¹(1) = +∞) or p = 0 (Φ⁻¹(0) = −∞), and negative when 0 < p < 1/2; margin_low is null when p_low = 0. The summary gives mean_margin over the finite margins, infinite_margins (images with p = 1), not_r_robust (images with p ≤ 1/2, p = 0 included), mean_margin_low over the finite margin_low values, and mean_certified_margin over all images. The bound holds up to O(ε) terms (exactly, for ReLU networks, within their locally linear region).

        Example:
          vae-certify jacobian --model vae.safetensors --input mnist:test[0:100] --r 4
        """)
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: ImagesOption
    @Option(parsing: .unconditional, help: "The reconstruction radius r (L2, pixel space), positive.")
    var r: Float
    @Option(parsing: .unconditional, help: "Samples of η per image for p.")
    var samples = 200
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @Flag(name: .customLong("summary-only"), help: "Print only the summary line (off by default).")
    var summaryOnly = false

    func validate() throws {
        guard r > 0 && r.isFinite else { throw ValidationError("--r must be positive and finite, got \(r)") }
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1, got \(samples)") }
    }

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let vae = try model.load(for: ds)
        let stats = vae.encoderStats(ds.images)
        let probs = vae.rRobustness(ds.images, r: r, samples: samples, seed: seed.seed)
        func margin(_ s: Double, _ p: Double, _ j: Double) -> Double { s * StandardNormal.quantile(p) / j }
        // Φ⁻¹ is ±∞ at p = 1 and p = 0 (JSON null per image); the summary keeps the two apart
        var margins: [Double] = [], lows: [Double] = [], certified: [Double] = []
        var unbounded = 0, notRobust = 0
        for i in 0..<ds.count {
            let (st, pr) = (stats[i], probs[i])
            let m = pr.p >= 1 ? Double.infinity : (pr.p <= 0 ? -Double.infinity : margin(st.minSigma, pr.p, st.jacobianFrobenius))
            let low = pr.low <= 0 ? -Double.infinity : margin(st.minSigma, pr.low, st.jacobianFrobenius)
            let sure = max(0, low)
            if m.isFinite { margins.append(m) }
            if low.isFinite { lows.append(low) }
            certified.append(sure)
            if pr.p >= 1 { unbounded += 1 }
            if pr.p <= 0.5 { notRobust += 1 }
            if !summaryOnly {
                try JSONLines.emit(["index": i, "min_sigma": st.minSigma, "jacobian_frobenius": st.jacobianFrobenius, "p": pr.p,
                                    "p_low": pr.low, "p_high": pr.high, "margin": m, "margin_low": low, "certified_margin": sure])
            }
        }
        try JSONLines.emit(["certificate": "paper B Theorem 1 (first order)", "model": model.model, "r": Double(r), "samples": samples,
                            "n": ds.count, "mean_margin": Summary(margins).mean, "infinite_margins": unbounded, "not_r_robust": notRobust,
                            "mean_margin_low": Summary(lows).mean, "mean_certified_margin": Summary(certified).mean, "interval": "Wilson 95%"])
    }
}

struct IBP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ibp",
        abstract: "Paper C: a certified lower bound on the ELBO of every input within L∞ distance --eps of each image (Eq. 21), by interval bound propagation.",
        discussion: """
        For each reparameterisation sample ε the bound holds for every x' in the ball (clipped to the pixel range [0, 1] unless --no-pixel-box) at once: the input box goes through the encoder, the latent box z = μ + σε through the decoder, and the likelihood and KL are bounded over the boxes (paper C Eq. 12-21). Averaged over --samples draws it estimates the expectation over ε, which is what bounds the ELBO: one sample is not a certificate of the expectation. One JSON line per image with bound, its Monte Carlo standard error over the draws (bound_stderr, with --samples above 1) and elbo (the clean ELBO on the same draws; bound = elbo at --eps 0), and with --alpha whether the bound reaches α; a summary with the means, the sample count and the share reaching α.

        Example:
          vae-certify ibp --model provae.safetensors --input 'mnist:test[0:100]' \\
            --eps 0.05 --samples 10
        """)
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Option(parsing: .unconditional, help: "The L∞ radius ε of the ball around each image, non-negative.")
    var eps: Float
    @Option(parsing: .unconditional, help: "Reparameterisation samples averaged per image.")
    var samples = 10
    @Flag(name: .customLong("no-pixel-box"), help: "Certify the whole L∞ ball, x ± ε, as paper C section 3.2 states its certificate, and so also the attacks of vae-attack --no-pixel-box; with it --any-pixel-range images may be certified. By default the ball is clipped to the pixel range [0, 1]: the bound covers only the inputs that are images, and is tighter. Under a Bernoulli or continuous Bernoulli likelihood the bound is on the ELBO's formula (as vae-eval elbo --any-pixel-range computes it), which outside [0, 1] is no longer a log-probability; paper C's Gaussian is a density on all reals.")
    var noPixelBox = false
    @Option(parsing: .unconditional, help: "Report the share of images whose bound is at least this ELBO value (off by default).")
    var alpha: Double?
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @Flag(name: .customLong("summary-only"), help: "Print only the summary line (off by default).")
    var summaryOnly = false

    func validate() throws {
        if !noPixelBox { try input.requireUnitRange("certificates clipped to the pixel box cover images in [0, 1]; add --no-pixel-box to certify the whole ball") }
        guard eps >= 0 && eps.isFinite else { throw ValidationError("--eps must be non-negative and finite, got \(eps)") }
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1, got \(samples)") }
        if let a = alpha { guard a.isFinite else { throw ValidationError("--alpha must be finite") } }
    }

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let vae = try model.load(for: ds)
        // every draw's bound per image (their mean and its Monte Carlo standard error), and the
        // clean ELBO averaged over the same draws
        var draws = [[Double]](repeating: [], count: ds.count), elbos = [Double](repeating: 0, count: ds.count)
        Autodiff.withoutGradients {
            for r in Batches.ranges(count: ds.count) {
                let x = Variable(ds.images.rows(r))
                for j in 0..<samples {
                    // the same draws for the bound and the clean ELBO, from the seed, the batch and the sample
                    var g1 = RNG(seed: seed.seed).derived(0x1B9_0000 + UInt64(r.lowerBound) << 16 + UInt64(j)), g2 = g1
                    let b = vae.elboLowerBound(x, epsilon: eps, pixelBox: !noPixelBox, rng: &g1).bound.value
                    // the ELBO of the image as given (never clipped: with --no-pixel-box it may leave [0, 1])
                    let e = vae.elboLowerBound(x, epsilon: 0, pixelBox: false, rng: &g2).bound.value
                    for i in 0..<r.count {
                        draws[r.lowerBound + i].append(Double(b.data[i]))
                        elbos[r.lowerBound + i] += Double(e.data[i]) / Double(samples)
                    }
                }
            }
        }
        let perImage = draws.map(Summary.init), bounds = perImage.map(\.mean)
        if let first = bounds.firstIndex(where: { !$0.isFinite }) {
            let count = bounds.filter { !$0.isFinite }.count
            throw ToolError("\(input.input): the bound is not finite for image \(first)\(count > 1 ? " and \(count - 1) more" : "") of \(ds.count) at --eps \(eps) (the interval bounds diverge: try a smaller radius)")
        }
        if !summaryOnly {
            for i in 0..<ds.count {
                var line: [String: Any] = ["index": i, "bound": bounds[i], "elbo": elbos[i]]
                // the Monte Carlo standard error of the bound over the ε-draws (a per-image bound
                // above an attacked ELBO within a few of these is noise, not a violation)
                if samples > 1 { line["bound_stderr"] = perImage[i].standardError }
                if let a = alpha { line["certified"] = bounds[i] >= a }
                try JSONLines.emit(line)
            }
        }
        let (bound, elbo) = (Summary(bounds), Summary(elbos))
        var summary: [String: Any] = ["certificate": "paper C Eq. 21, in expectation over ε", "model": model.model, "eps": eps.shortestDecimal,
                                      "samples": samples, "pixel_box": !noPixelBox, "n": ds.count, "mean_bound": bound.mean, "mean_bound_stderr": bound.standardError,
                                      "mean_elbo": elbo.mean, "mean_elbo_stderr": elbo.standardError]
        if let a = alpha { summary["alpha"] = a; summary["certified_share"] = Double(bounds.filter { $0 >= a }.count) / Double(ds.count) }
        try JSONLines.emit(summary)
    }
}

/// `--search`.
enum SearchChoice: String, CaseIterable, ExpressibleByArgument { case linear, bisect }

struct Margin: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Paper A Algorithm 2: the empirical r-robustness margin by maximum-damage attacks over decreasing radii (an estimate from above, not a certificate).",
        discussion: """
        At each radius R (from --start down by --step) --restarts attacks maximise ‖g(z_δ) − g(z_¬δ)‖₂ under ‖δ‖₂ ≤ R (paper A Eq. 4; vae-attack max-damage --damage-reference sample, PGD with --attack-steps steps of R/10); each attack's r-robustness probability is the share of --samples fresh pairs z_δ ~ q(z|x+δ), z_¬δ ~ q(z|x) within r; the margin is the largest R at which every attack's probability exceeds the threshold (0 if none). --search bisect halves the same grid instead of walking it, assuming robustness is monotone in R, and needs far fewer attacks. One JSON line per image (margin, attacks) and a summary. A stronger attack could only lower the margin: it bounds the true margin from above, unlike the certificates.

        Example:
          vae-certify margin --model lvae.safetensors --input mnist:test[0:25] --r 8
        """)
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: ImagesOption
    @Option(parsing: .unconditional, help: "The reconstruction radius r (L2, pixel space).")
    var r: Float = 8
    @Option(parsing: .unconditional, help: "The largest radius tried.")
    var start: Float = 10
    @Option(parsing: .unconditional, help: "The radius decrement.")
    var step: Float = 0.5
    @Option(parsing: .unconditional, help: "Attacks per radius (T).")
    var restarts = 5
    @Option(parsing: .unconditional, help: "Samples per attack for its probability (S).")
    var samples = 40
    @Option(name: .customLong("attack-steps"), parsing: .unconditional, help: "PGD steps per attack.")
    var attackSteps = 50
    @Option(parsing: .unconditional, help: "The r-robustness threshold t in (0, 1).")
    var threshold = 0.5
    @Option(help: "linear (Algorithm 2) or bisect.")
    var search: SearchChoice = .linear
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @Flag(name: .customLong("summary-only"), help: "Print only the summary line (off by default).")
    var summaryOnly = false

    func validate() throws {
        for (name, v) in [("--r", r), ("--start", start), ("--step", step)] {
            guard v > 0 && v.isFinite else { throw ValidationError("\(name) must be positive and finite, got \(v)") }
        }
        guard step <= start else { throw ValidationError("--step must not exceed --start") }
        guard start / step <= 10_000 else { throw ValidationError("--start / --step gives over 10,000 radii") }
        guard restarts >= 1, samples >= 1, attackSteps >= 0 else { throw ValidationError("--restarts and --samples must be at least 1, --attack-steps at least 0") }
        guard threshold > 0 && threshold < 1 else { throw ValidationError("--threshold must be in (0, 1), got \(threshold)") }
    }

    func run() throws {
        threads.apply()
        let ds = try input.load()
        let vae = try model.load(for: ds)
        var s = EmpiricalMarginSettings()
        s.r = r; s.start = start; s.step = step; s.restarts = restarts; s.samples = samples
        s.attackSteps = attackSteps; s.threshold = threshold; s.bisect = search == .bisect; s.seed = seed.seed
        let t0 = Date()
        let (margins, attacks) = EmpiricalMargin.estimate(vae, images: ds.images, settings: s)
        if !summaryOnly {
            for i in 0..<ds.count { try JSONLines.emit(["index": i, "margin": margins[i], "attacks": attacks[i]]) }
        }
        try JSONLines.emit(["estimate": "paper A Algorithm 2 (empirical, from above: not a certificate)", "model": model.model,
                            "r": Double(r), "start": Double(start), "step": Double(step), "restarts": restarts, "samples": samples,
                            "search": search.rawValue, "n": ds.count, "mean_margin": Summary(margins).mean,
                            "attacks": attacks.reduce(0, +), "seconds": Date().timeIntervalSince(t0)])
    }
}

