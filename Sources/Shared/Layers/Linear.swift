/// A fully connected layer `y = x Wᵀ + b` with `W` of shape `[out, in]`.
public final class Linear: Layer {
    public let weight: Variable
    public let bias: Variable?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout RNG) {
        weight = Init.uniformFanIn([outFeatures, inFeatures], fanIn: inFeatures, rng: &rng)
        self.bias = bias ? Init.uniformFanIn([outFeatures], fanIn: inFeatures, rng: &rng) : nil
    }

    public func callAsFunction(_ x: Variable) -> Variable { Variable.linear(x, weight: weight, bias: bias) }

    /// Paper C Eq. 12.
    public func bounds(_ input: Interval) -> Interval {
        let absW = weight.abs()
        return input.linear({ Variable.linear($0, weight: weight, bias: bias) }, abs: { Variable.linear($0, weight: absW, bias: nil) })
    }

    public var namedParameters: [(name: String, variable: Variable)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}
