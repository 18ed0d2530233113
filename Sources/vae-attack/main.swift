import ArgumentParser
import CLI
import Shared

@main
struct Tool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae-attack",
        abstract: "Attack a trained VAE: latent, encoder symmetric-KL, output and maximum-damage attacks (papers A, B, D).",
        discussion: """
        Planned: PGD attacks under L2/L-inf budgets; adversarial inputs to .npy, numbers as JSON lines.
        Not implemented yet: this build prints this help for --help and fails otherwise.
        """)

    static func main() { ToolMain.run(Tool.self) }

    func run() throws { throw ToolError("not implemented yet (see --help for what is planned)") }
}
