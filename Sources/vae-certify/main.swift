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
        Not implemented yet: this build prints this help for --help and fails otherwise.
        """)

    static func main() { ToolMain.run(Tool.self) }

    func run() throws { throw ToolError("not implemented yet (see --help for what is planned)") }
}
