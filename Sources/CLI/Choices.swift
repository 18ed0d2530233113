import ArgumentParser
import Shared

/// Every option with a fixed set of values is an enum, so `--help` lists the values and the
/// parser rejects anything else with one line naming the choices.

extension SSIM.Variant: ExpressibleByArgument {}

/// Which encoder outputs a perturbation acts through: `vae-attack max-damage --through` and
/// `vae-eval damage` / `r-robustness --through`.
extension AttackPath: ExpressibleByArgument {}

/// What `vae-eval encode` writes.
public enum EncoderOutput: String, CaseIterable, ExpressibleByArgument, Sendable {
    case mean, std, sample
}

/// `vae-train --arch`.
public enum ArchitectureChoice: String, CaseIterable, ExpressibleByArgument, Sendable {
    case mlp, conv
    case convSmall = "conv-small"
    case hvae
}

/// `vae-train --objective`.
public enum ObjectiveChoice: String, CaseIterable, ExpressibleByArgument, Sendable {
    case elbo, tcvae, provae
}

/// `vae-train --likelihood`.
public enum LikelihoodChoice: String, CaseIterable, ExpressibleByArgument, Sendable {
    case bernoulli, cbernoulli, gaussian
}

/// `vae-train --lr-schedule`.
public enum ScheduleChoice: String, CaseIterable, ExpressibleByArgument, Sendable {
    case none, plateau, step
}

/// `vae-train --bjorck-gradient`.
extension BjorckGradient: ExpressibleByArgument, CaseIterable {
    public static var allCases: [BjorckGradient] { [.tangent, .identity] }
}

/// `vae-train --sigma-head` (the `mlp` encoder's σ head), spelt as `optionName`.
extension ScaleParameterization: ExpressibleByArgument {
    public init?(argument: String) {
        guard let head = Self.allCases.first(where: { $0.optionName == argument }) else { return nil }
        self = head
    }
    public static var allValueStrings: [String] { allCases.map(\.optionName) }
}

/// `vae-train --binarize`.
public enum BinarizeChoice: String, CaseIterable, ExpressibleByArgument, Sendable {
    case none, dynamic
}

/// `vae-train classifier --target`.
public enum ClassifierTarget: String, CaseIterable, ExpressibleByArgument, Sendable {
    case `class`, color
}

/// A comma-separated list of positive integers (`--hidden 512,512`).
public struct Widths: ExpressibleByArgument, Sendable {
    public let values: [Int]
    public init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else { return nil }
        values = parts.map { $0! }
    }
}
