import Foundation
import ArgumentParser
import CLI
import Shared

struct LatentPlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latent-plot",
        abstract: "Paper A Figure 6: one ellipse per input (encoder mean ± one standard deviation) over the prior's 1, 2, 3σ circles.",
        discussion: "Needs a model with a 2-D latent space (vae-train --latent 2). Ellipses are coloured by class when the inputs have labels.\nExample:\n  vae-eval latent-plot --model vae2d.safetensors --input mnist:test@100 -o \\\n    latent.png")
    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @OptionGroup var labels: LabelsOption
    @Option(parsing: .unconditional, help: "Picture side in pixels (64...4096).")
    var size = 600
    @Option(parsing: .unconditional, help: "Show [-R, R] on both axes (default: fitted to the prior's 3σ circle and every ellipse), so that plots of several models compare.")
    var range: Float?
    @Option(help: ArgumentHelp("Also write the plotted data as tab-separated text: mu1, mu2, sigma1, sigma2, label (-1 without labels), one line per input.", valueName: "path"))
    var tsv: String?
    @OptionGroup var out: OutputOptions

    func validate() throws {
        guard (64...4096).contains(size) else { throw ValidationError("--size must be in 64...4096, got \(size)") }
        if let r = range, !(r.isFinite && r > 0) { throw ValidationError("--range must be a positive number, got \(r)") }
        try OutputOptions.validate([out.output, tsv], inputs: [model.model, input.input, labels.labels])
    }

    func run() throws {
        let ds = try input.load(labels: labels)
        let vae = try model.load(for: ds)
        try OutputOptions.checkWritable([out.output] + (tsv.map { [$0] } ?? []))
        guard vae.config.latent == 2 else { throw ToolError("\(model.model) has a \(vae.config.latent)-D latent space; latent-plot needs 2 (vae-train --latent 2)") }
        let (mu, sigma) = Autodiff.withoutGradients { vae.encode(Variable(ds.images)) }
        try PNG.write(try LatentPlot.render(means: mu.value, stds: sigma.value, labels: ds.labels, size: size, range: range), to: out.output)
        if let tsv { try AtomicFile.write(Data(LatentPlot.table(means: mu.value, stds: sigma.value, labels: ds.labels).utf8), to: tsv) }
        Log.line("wrote \(out.output) (\(ds.count) ellipses)")
    }
}
