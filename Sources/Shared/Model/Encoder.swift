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
/// σ may instead be a constant (paper A Theorem 2's fixed-σ setting), a learned σ may be
/// clipped to an ℓ2 norm (`sigmaMaxNorm`, the paper A authors' Lemma 1.1 models), and σ gets
/// the offset τ added (paper B section 4.2), after any clip.
public final class Encoder {
    public let trunk: (any Layer)?
    public let meanHead: any Layer
    public let scaleHead: (any Layer)?
    public let scale: ScaleParameterization
    public let fixedSigma: Float?
    public let sigmaOffset: Float
    /// Largest ℓ2 norm of a learned σ(x) row (nil: no clip).
    public let sigmaMaxNorm: Float?

    public init(trunk: (any Layer)?, meanHead: any Layer, scaleHead: (any Layer)?, scale: ScaleParameterization,
                fixedSigma: Float?, sigmaOffset: Float, sigmaMaxNorm: Float? = nil) {
        precondition(scaleHead != nil || fixedSigma != nil, "an encoder needs a scale head or a fixed σ")
        precondition(sigmaMaxNorm.map { $0 > 0 } ?? true, "a σ clip needs a positive norm")
        self.trunk = trunk; self.meanHead = meanHead; self.scaleHead = scaleHead
        self.scale = scale; self.fixedSigma = fixedSigma; self.sigmaOffset = sigmaOffset; self.sigmaMaxNorm = sigmaMaxNorm
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
        // every σ transform is increasing, so bounds map through it (paper C Eq. 13); the
        // clip is not element-wise, and has its own bounds
        var s = head.bounds(h).monotone { positive($0) }
        if let c = sigmaMaxNorm { s = Encoder.clipRowNormBounds(s, to: c) }
        return (mu, sigmaOffset == 0 ? s : s.monotone { $0 + sigmaOffset })
    }

    private func sigma(_ h: Variable, mu: Variable) -> Variable {
        if let s = fixedSigma {
            return Variable(Tensor(shape: mu.shape, repeating: s + sigmaOffset))
        }
        return transform(scaleHead!(h))
    }

    private func transform(_ raw: Variable) -> Variable {
        var s = positive(raw)
        if let c = sigmaMaxNorm { s = Encoder.clipRowNorm(s, to: c) }
        return sigmaOffset == 0 ? s : s + sigmaOffset
    }

    /// The head's output made a positive σ.
    private func positive(_ raw: Variable) -> Variable {
        switch scale {
        case .sigmoid: raw.sigmoid()
        case .logVariance: (raw * 0.5).exp()
        case .logSigma: raw.exp()
        }
    }

    /// Rows `[N, d]` with an ℓ2 norm above `c` scaled onto the sphere of radius c, the others
    /// unchanged: s · min(1, c / ‖s‖₂), as the paper A authors' `Clip` layer, which bounds
    /// ‖σ(x)‖₂ by (r/M)/√8 so that Lemma 1.1's m₁ is positive for every input. It is the
    /// projection onto a convex ball, so 1-Lipschitz: the σ network's constant c of Lemma 1.1
    /// still bounds the clipped σ.
    public static func clipRowNorm(_ s: Variable, to c: Float) -> Variable { s * clipFactor(s, c) }

    /// min(1, c / ‖row‖₂) per row, `[N, 1]`; 10⁻²⁰ is added under the root so that a zero row
    /// (a σ underflowed to 0) has a finite gradient. The squares are taken in Float, so a σ
    /// entry above about 10¹⁹ (possible only with an exp head) overflows the norm.
    static func clipFactor(_ s: Variable, _ c: Float) -> Variable {
        ((s.square().sum(axis: 1, keepDim: true) + 1e-20).sqrt().pow(-1) * c).clamped(0, 1)
    }

    /// Element-wise bounds on `clipRowNorm` over a box of non-negative rows [lo, hi]: with
    /// f(s) = min(1, c/‖s‖₂) between min(1, c/‖hi‖₂) and min(1, c/‖lo‖₂), and every clipped
    /// entry at most its row's norm c,
    /// lo_i · min(1, c/‖hi‖₂) ≤ clip(s)_i ≤ min(hi_i · min(1, c/‖lo‖₂), c); the cap is
    /// c · (1 + 10⁻⁶), since the clip computed in Float can exceed c by an ulp.
    static func clipRowNormBounds(_ s: Interval, to c: Float) -> Interval {
        Interval(lo: s.lo * clipFactor(s.hi, c), hi: (s.hi * clipFactor(s.lo, c)).clamped(0, c * (1 + 1e-6)))
    }

    public var namedParameters: [(name: String, variable: Variable)] {
        (trunk?.namedParameters.map { ("trunk.\($0.name)", $0.variable) } ?? [])
            + meanHead.namedParameters.map { ("mean.\($0.name)", $0.variable) }
            + (scaleHead?.namedParameters.map { ("scale.\($0.name)", $0.variable) } ?? [])
    }
}
