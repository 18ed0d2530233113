/// Parameter-free activation layers, so they can sit in a `Sequential`.
public final class Activation: Layer {
    public enum Kind: Equatable, Sendable {
        case relu, sigmoid, softplus, tanh
        /// Paper A section B.3; group size 2 is MaxMin.
        case groupSort(Int)
    }
    public let kind: Kind
    public init(_ kind: Kind) { self.kind = kind }

    public func callAsFunction(_ x: Variable) -> Variable {
        switch kind {
        case .relu: return x.relu()
        case .sigmoid: return x.sigmoid()
        case .softplus: return x.softplus()
        case .tanh: return x.tanh()
        case .groupSort(let k): return x.groupSort(groupSize: k)
        }
    }

    public var namedParameters: [(name: String, variable: Variable)] { [] }

    /// All these activations are non-decreasing (paper C Eq. 13). GroupSort is too, in the
    /// sense that matters: x ≤ y element-wise implies sort(x) ≤ sort(y) element-wise.
    public func bounds(_ input: Interval) -> Interval { input.monotone { self($0) } }

    public static var relu: Activation { Activation(.relu) }
    public static var sigmoid: Activation { Activation(.sigmoid) }
    public static var softplus: Activation { Activation(.softplus) }
    public static func groupSort(_ k: Int = 2) -> Activation { Activation(.groupSort(k)) }
}

extension Activation: ChannelsLastLayer {
    /// Element-wise activations do not care about the layout; GroupSort groups channels.
    public var runsChannelsLast: Bool {
        if case .groupSort = kind { return false }
        return true
    }
    public func channelsLast(_ x: Variable) -> Variable { self(x) }
}
