import ArgumentParser
import CLI
import Shared

@main
struct VAEEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae-eval",
        abstract: "Measure VAEs and look at what they do: metrics, reconstructions and pictures.",
        discussion: """
        Metrics print one JSON line per item and a summary line (mean and standard error; null for fewer than two items) on stdout; tensors go to .npy and pictures to PNG; logs go to stderr. Wherever images are taken, a dataset spec works: NAME:SPLIT[START:END]@N, a .npy file, or - for stdin; a final #bin binarises (see the README's Data section).

        Examples:
          vae-eval recon --model vae.safetensors --input fashion-mnist:test[0:64] -o \\
            rec.npy
          vae-eval msssim ref.npy rec.npy
          vae-eval nll --model vae.safetensors --input fashion-mnist:test[0:1000] \\
            --samples 1000
          vae-eval grid ref.npy rec.npy -o grid.png
        """,
        subcommands: [Export.self, Encode.self, Decode.self, Recon.self, MSSSIMCommand.self, SSIMCommand.self, MSE.self,
                      ELBO.self, LogLikelihood.self, NLL.self, Accuracy.self, PosteriorRatio.self, RRobustness.self, Damage.self, EncoderStats.self,
                      Grid.self, LatentPlotCommand.self])

    static func main() { ToolMain.run(VAEEval.self) }
}
