import ArgumentParser
import CLI
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

    static func main() { ToolMain.run(Tool.self) }

    func run() throws { print(Tool.helpMessage()) }
}
