import ArgumentParser
import CLI
import Shared

@main
struct Tool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae-hmc",
        abstract: "Defend a VAE with Hamiltonian Monte Carlo in latent space (paper D Algorithm 1).",
        discussion: """
        Planned: HMC refinement of latent codes of (adversarial) inputs.
        Not implemented yet: this build prints this help for --help and fails otherwise.
        """)

    static func main() { ToolMain.run(Tool.self) }

    func run() throws { throw ToolError("not implemented yet (see --help for what is planned)") }
}
