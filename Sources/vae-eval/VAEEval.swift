import ArgumentParser
import Foundation
import Shared

@main
struct VAEEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae-eval",
        abstract: "Measure VAEs and look at what they do: metrics, reconstructions and pictures.",
        discussion: """
        Metrics print one JSON line per item and a summary line (mean and standard error) on
        stdout; tensors go to .npy and pictures to PNG; logs go to stderr. Wherever images are
        taken, a dataset spec works: NAME:SPLIT[START:END]@N, a .npy file, or - for stdin.

        Examples:
          vae-eval recon --model vae.safetensors --input fashion-mnist:test[0:64] -o rec.npy
          vae-eval msssim ref.npy rec.npy
          vae-eval nll --model vae.safetensors --input fashion-mnist:test[0:1000] --samples 1000
          vae-eval grid ref.npy rec.npy -o grid.png
        """,
        subcommands: [Export.self, Encode.self, Decode.self, Recon.self, MSSSIMCommand.self, SSIMCommand.self, MSE.self,
                      ELBO.self, NLL.self, Accuracy.self, PosteriorRatio.self, RRobustness.self, EncoderStats.self,
                      Grid.self, LatentPlotCommand.self])
}

/// Output conventions shared by the metric subcommands.
struct MetricOutput: ParsableArguments {
    @Flag(name: .customLong("summary-only"), help: "Print only the summary line, not one line per item.")
    var summaryOnly = false

    /// One JSON line per item (`index` plus `fields`), then `{metric, n, mean, stderr}` of `key`.
    func emit(metric: String, key: String, items: [[String: Any]], extraSummary: [String: Any] = [:]) throws {
        if !summaryOnly {
            for (i, item) in items.enumerated() {
                var line = item
                line["index"] = i
                try ToolRunner.emit(line)
            }
        }
        let s = Summary(items.compactMap { $0[key] as? Double })
        var summary: [String: Any] = ["metric": metric, "n": s.count, "mean": s.mean, "stderr": s.standardError]
        for (k, v) in extraSummary { summary[k] = v }
        try ToolRunner.emit(summary)
    }
}

/// Loads `--model` once per command.
struct ModelOption: ParsableArguments {
    @Option(help: "Trained model (.safetensors written by vae-train).")
    var model: String

    func load(for data: Dataset? = nil) throws -> VAE {
        let (m, _) = try VAE.load(model)
        if let d = data, d.imageShape != m.config.inputShape {
            throw ToolError("\(d.source) has images of shape \(d.imageShape), \(model) expects \(m.config.inputShape)")
        }
        return m
    }
}
