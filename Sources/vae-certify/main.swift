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
        Implemented: weights (what the saved weights guarantee). The certificates themselves (lipschitz, jacobian, margin) are still to come.
        """,
        subcommands: [Weights.self])

    static func main() { ToolMain.run(Tool.self) }
}

struct Weights: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure what the saved weights guarantee: certified operator-norm bounds per layer and the Lipschitz constants a, b, c of paper A Theorem 1.",
        discussion: """
        One JSON line per linear or convolution layer (lower: power iteration on its matrix; upper: a certified bound on its operator norm, from the Gram matrix in double precision by the triangle inequality and Gershgorin's theorem, times √(kh·kw) for a convolution), then a summary: a for the decoder mean (with its final sigmoid's ¼), b for the encoder mean, c for the encoder standard deviation (with its sigmoid's ¼; 0 for a fixed σ, whose offset changes no constant; infinite for an exp head), each the product of its layers' bounds, and the same before the sigmoid.

        For a Lipschitz-VAE the summary compares the constants before the sigmoid with the ones its metadata claims (--lipschitz at training) and exits 1 when a measured bound exceeds a claim by more than 1% (the Björck layers are orthonormal to about 1e-3). The layers take their scale from the metadata and orthonormalise their weights when applied, so edited weights or an edited claim still measure within the claim: the check guards the implementation. For an unconstrained model the constants are products of norms, and the summary says they are loose.

        Example:
          vae-certify weights --model lvae.safetensors
        """)
    @OptionGroup var model: ModelOptions
    @Flag(name: .customLong("summary-only"), help: "Print only the summary line (off by default).")
    var summaryOnly = false

    func run() throws {
        let vae = try VAE.load(model.model).model
        guard let (dec, mean, sigma) = WeightCertificate.measure(vae) else {
            throw ToolError.file(model.model, "has a layer whose operator norm vae-certify cannot bound")
        }
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
        summary["claimed"] = Dictionary(uniqueKeysWithValues: claimed.map { ($0.0, Double($0.1!)) })
        summary["loose"] = claimed.isEmpty
        summary["sigma_head"] = vae.encoder.fixedSigma != nil ? "fixed" : (vae.encoder.scale == .sigmoid ? "sigmoid" : "exp (no global constant: c is null)")
        summary["matches_claims"] = claimed.isEmpty ? NSNull() : mismatches.isEmpty
        try JSONLines.emit(summary)
        if !mismatches.isEmpty { throw ToolError.file(model.model, "does not satisfy its claimed Lipschitz constants: " + mismatches.joined(separator: "; ")) }
    }
}
