import Foundation

/// How the encoder's scale head becomes the standard deviation σ of q(z|x).
public enum ScaleParameterization: String, Codable, CaseIterable, Sendable {
    /// σ = sigmoid(h): paper A's encoder-σ network (final sigmoid).
    case sigmoid
    /// σ = exp(h / 2), h = log σ²: paper D's log-variance head.
    case logVariance
    /// σ = exp(h), h = log σ: paper C's log-σ head.
    case logSigma

    /// How `vae-train --sigma-head` and its messages spell it (the raw value is the file's).
    public var optionName: String {
        switch self {
        case .sigmoid: "sigmoid"
        case .logVariance: "log-variance"
        case .logSigma: "log-sigma"
        }
    }
}

/// The encoder q(z|x) = N(μ(x), diag σ(x)²). An optional shared trunk feeds a mean head and
/// a scale head (paper C and D share the trunk; paper A's three networks have none).
/// σ may instead be a constant (paper A Theorem 2's fixed-σ setting), and gets the offset τ
/// added (paper B section 4.2).
public final class Encoder {
    public let trunk: (any Layer)?
    public let meanHead: any Layer
    public let scaleHead: (any Layer)?
    public let scale: ScaleParameterization
    public let fixedSigma: Float?
    public let sigmaOffset: Float

    public init(trunk: (any Layer)?, meanHead: any Layer, scaleHead: (any Layer)?, scale: ScaleParameterization,
                fixedSigma: Float?, sigmaOffset: Float) {
        precondition(scaleHead != nil || fixedSigma != nil, "an encoder needs a scale head or a fixed σ")
        self.trunk = trunk; self.meanHead = meanHead; self.scaleHead = scaleHead
        self.scale = scale; self.fixedSigma = fixedSigma; self.sigmaOffset = sigmaOffset
    }

    /// μ(x) and σ(x), each `[N, latent]`.
    public func callAsFunction(_ x: Variable) -> (mu: Variable, sigma: Variable) {
        let h = trunk.map { $0(x) } ?? x
        let mu = meanHead(h)
        return (mu, sigma(h, mu: mu))
    }

    /// Element-wise bounds on μ and σ over an input box (paper C Eq. 16-17).
    public func bounds(_ x: Interval) -> (mu: Interval, sigma: Interval) {
        let h = trunk.map { $0.bounds(x) } ?? x
        let mu = meanHead.bounds(h)
        guard let head = scaleHead else {
            let s = sigma(h.lo, mu: mu.lo)
            return (mu, Interval(point: s))
        }
        // every σ transform is increasing, so bounds map through it (paper C Eq. 13)
        return (mu, head.bounds(h).monotone { transform($0) })
    }

    private func sigma(_ h: Variable, mu: Variable) -> Variable {
        if let s = fixedSigma {
            return Variable(Tensor(shape: mu.shape, repeating: s + sigmaOffset))
        }
        return transform(scaleHead!(h))
    }

    private func transform(_ raw: Variable) -> Variable {
        let s: Variable
        switch scale {
        case .sigmoid: s = raw.sigmoid()
        case .logVariance: s = (raw * 0.5).exp()
        case .logSigma: s = raw.exp()
        }
        return sigmaOffset == 0 ? s : s + sigmaOffset
    }

    public var namedParameters: [(name: String, variable: Variable)] {
        (trunk?.namedParameters.map { ("trunk.\($0.name)", $0.variable) } ?? [])
            + meanHead.namedParameters.map { ("mean.\($0.name)", $0.variable) }
            + (scaleHead?.namedParameters.map { ("scale.\($0.name)", $0.variable) } ?? [])
    }
}
