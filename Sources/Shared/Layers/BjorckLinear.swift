/// A Lipschitz-constrained linear layer (paper A Algorithm 1):
/// `y = scale · Björck(W) x + b`. Björck(W) has all singular values ≈ 1, so the layer is
/// `scale`-Lipschitz; an L-layer network with `scale = M^(1/L)` per layer and 1-Lipschitz
/// activations is M-Lipschitz (paper A Appendix B.2).
public final class BjorckLinear: Layer {
    public let weight: Variable
    public let bias: Variable?
    public var scale: Float
    /// Björck iterations per forward pass (20 while training in the authors' code).
    public var iterations: Int
    public var scaling: BjorckScaling

    public init(_ inFeatures: Int, _ outFeatures: Int, scale: Float = 1, iterations: Int = 20,
                scaling: BjorckScaling = .none, bias: Bool = true, rng: inout RNG) {
        // Start orthonormal-ish: uniform fan-in init keeps singular values well inside (0, √3)
        // after one safe pass; Björck then refines it every forward pass.
        let w = Init.uniformFanIn([outFeatures, inFeatures], fanIn: inFeatures, rng: &rng)
        weight = Variable(w.value.bjorckOrthonormalized(iterations: 30, scaling: .safe), requiresGrad: true)
        self.bias = bias ? Init.uniformFanIn([outFeatures], fanIn: inFeatures, rng: &rng) : nil
        self.scale = scale
        self.iterations = iterations
        self.scaling = scaling
    }

    /// The orthonormalised weight this layer applies (before `scale`).
    public func orthonormalWeight() -> Variable {
        weight.bjorckOrthonormalized(iterations: iterations, scaling: scaling)
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        let w = orthonormalWeight()
        return Variable.linear(x, weight: scale == 1 ? w : w * scale, bias: bias)
    }

    public var namedParameters: [(name: String, variable: Variable)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}
