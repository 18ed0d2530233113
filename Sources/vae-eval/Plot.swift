import ArgumentParser
import Foundation
import Shared

struct LatentPlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latent-plot",
        abstract: "Paper A Figure 6: one ellipse per input (encoder mean ± one standard deviation) over the prior's 1, 2, 3σ circles.",
        discussion: "Needs a model with a 2-D latent space (vae-train --latent 2). Ellipses are coloured by class.\nExample: vae-eval latent-plot --model vae2d.safetensors --input mnist:test@100 -o latent.png")
    @OptionGroup var model: ModelOption
    @OptionGroup var data: DataOptions
    @Option(help: "Picture side in pixels.")
    var size = 600
    @Option(name: .shortAndLong, help: "Output PNG.")
    var output: String

    func run() throws {
        try ToolRunner.run("vae-eval latent-plot") {
            guard (64...4096).contains(size) else { throw ToolError("--size must be in 64...4096") }
            let ds = try data.load()
            let vae = try model.load(for: ds)
            guard vae.config.latent == 2 else { throw ToolError("\(model.model) has a \(vae.config.latent)-D latent space; latent-plot needs 2 (vae-train --latent 2)") }
            let (mu, sigma) = Autodiff.withoutGradients { vae.encode(Variable(ds.images)) }
            try PNG.write(try LatentPlot.render(means: mu.value, stds: sigma.value, labels: ds.labels, size: size), to: output)
            ToolRunner.log("wrote \(output) (\(ds.count) ellipses)")
        }
    }
}
