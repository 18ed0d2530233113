import Foundation

/// The log-normaliser of the continuous Bernoulli distribution (Loaiza-Ganem & Cunningham
/// 2019; paper A's likelihood), written in terms of the logit l with λ = σ(l):
///
///     C(λ) = 2 atanh(1 − 2λ) / (1 − 2λ)  =  l / tanh(l / 2)
///
/// because 1 − 2σ(l) = −tanh(l/2) and atanh of that is −l/2. In this form it is even and
/// smooth in l, with no division by (1 − 2λ). Near l = 0 (λ near 1/2, where torch switches
/// to a Taylor expansion) the series log 2 + l²/12 − 7l⁴/1440 is used.
/// Derivative: d/dl log C = 1/l − 1/sinh(l)  (≈ l/6 − 7l³/360 near 0).
enum ContinuousBernoulli {
    static let taylorBelow: Float = 1e-2

    @inlinable static func logNormalizer(_ l: Float) -> Float {
        let a = Swift.abs(l)
        if a < taylorBelow { let l2 = l * l; return Float(M_LN2) + l2 / 12 - 7 * l2 * l2 / 1440 }
        return Foundation.log(a / Foundation.tanh(a / 2))
    }

    @inlinable static func logNormalizerDerivative(_ l: Float) -> Float {
        let a = Swift.abs(l)
        if a < taylorBelow { return l / 6 - 7 * l * l * l / 360 }
        if a > 80 { return 1 / l }  // sinh overflows; 1/sinh is 0 in Float there
        return 1 / l - 1 / Foundation.sinh(l)
    }
}

extension Variable {
    /// log C(σ(self)) element-wise: the continuous Bernoulli log-normaliser from logits.
    public func continuousBernoulliLogNormalizer() -> Variable {
        elementwise({ ContinuousBernoulli.logNormalizer($0) },
                    derivative: { x, _ in ContinuousBernoulli.logNormalizerDerivative(x) })
    }
}
