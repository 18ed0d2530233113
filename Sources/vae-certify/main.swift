import ArgumentParser
import Shared

@main
struct Tool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae-certify",
        abstract: "Certify a VAE: Lipschitz r-robustness bounds (paper A), Jacobian margin bounds (paper B), IBP ELBO bounds (paper C).",
        discussion: """
        Planned: certificates as JSON lines.
        Not implemented yet: this build only prints this help.
        """)

    func run() throws { print(Tool.helpMessage()) }
}
