import ArgumentParser
import Shared

@main
struct Tool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae-train",
        abstract: "Train a VAE (standard, beta, beta-TC, Lipschitz, proVAE) and write one .safetensors file.",
        discussion: """
        Planned (issue 3): --arch mlp|conv|conv-small, --objective elbo|tcvae|provae, --lipschitz, --likelihood, classifier subcommand.
        Not implemented yet: this build only prints this help.
        """)

    func run() throws { print(Tool.helpMessage()) }
}
