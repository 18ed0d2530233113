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
    /// Stop iterating once ‖G − I‖_F is below this (0: always run `iterations`).
    public var tolerance: Float
    /// The gradient the shortcut below gives the raw weight (see `BjorckGradient`).
    public var gradient: BjorckGradient
    /// The weight as last projected by `project()`: while the parameter still holds exactly
    /// this tensor it is known to be orthonormal within `tolerance`, and the forward pass
    /// uses it without another Gram check.
    private var projected: Tensor? = nil

    /// `orthonormalizeInit` false skips the initial orthonormalisation of the drawn weight, for
    /// a layer whose weight a file replaces at once (the draws, and so the random stream, are
    /// the same either way).
    public init(_ inFeatures: Int, _ outFeatures: Int, scale: Float = 1, iterations: Int = 20,
                scaling: BjorckScaling = .auto, tolerance: Float = 1e-3, gradient: BjorckGradient = .tangent, bias: Bool = true,
                orthonormalizeInit: Bool = true, rng: inout RNG) {
        // Start orthonormal-ish: uniform fan-in init keeps singular values well inside (0, √3)
        // after one safe pass; Björck then refines it every forward pass.
        let w = Init.uniformFanIn([outFeatures, inFeatures], fanIn: inFeatures, rng: &rng)
        weight = Variable(orthonormalizeInit ? w.value.bjorckOrthonormalized(iterations: 30, scaling: .safe) : w.value, requiresGrad: true)
        self.bias = bias ? Init.uniformFanIn([outFeatures], fanIn: inFeatures, rng: &rng) : nil
        self.scale = scale
        self.iterations = iterations
        self.scaling = scaling
        self.tolerance = tolerance
        self.gradient = gradient
    }

    /// The orthonormalised weight this layer applies (before `scale`). The gradient flows
    /// through whatever iterations this takes. While the weight is the one `project()` left
    /// (orthonormal within `tolerance`), no iteration runs: the weight is used as it is, with
    /// the gradient `gradient` chooses.
    public func orthonormalWeight() -> Variable {
        if let p = projected, tolerance > 0, p == weight.value {
            return gradient == .tangent ? weight.stiefelTangentGradient() : weight
        }
        return weight.bjorckOrthonormalized(iterations: iterations, scaling: scaling, tolerance: tolerance)
    }

    /// Replaces the raw weight by its orthonormalised version (no gradient). Called after
    /// each optimizer step, it keeps the parameter near the orthonormal matrices, so the
    /// next orthonormalisation starts warm and converges in one or two iterations instead
    /// of running all of them from scratch on every forward pass.
    public func project() {
        weight.value = weight.value.bjorckOrthonormalized(iterations: iterations, scaling: scaling, tolerance: tolerance)
        projected = weight.value
    }

    /// Declares the current weight to be a projected one (as `project()` left it): a resumed
    /// run loads weights that `project()` wrote, and must take the same path as the
    /// uninterrupted run, which knew them to be projected.
    public func markProjected() { projected = weight.value }

    /// The weight actually applied: `scale · Björck(W)`.
    public func effectiveWeight() -> Variable {
        let w = orthonormalWeight()
        return scale == 1 ? w : w * scale
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        Variable.linear(x, weight: effectiveWeight(), bias: bias)
    }

    /// Paper C Eq. 12 with the orthonormalised, scaled weight.
    public func bounds(_ input: Interval) -> Interval {
        let w = effectiveWeight()
        let absW = w.abs()
        return input.linear({ Variable.linear($0, weight: w, bias: bias) }, abs: { Variable.linear($0, weight: absW, bias: nil) })
    }

    public var namedParameters: [(name: String, variable: Variable)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}

/// The gradient a Björck layer's raw weight gets when the weight is already orthonormal
/// (after `BjorckLinear.project()`), so that no iteration needs to run in the forward pass.
public enum BjorckGradient: String, Codable, Sendable {
    /// What paper A's gradient through the iterations is at an orthonormal Q: every order-1
    /// Björck step has there the Jacobian E ↦ E − Q·sym(QᵀE), a projection onto the tangent
    /// space of the orthonormal matrices, so any number of steps back-propagates
    /// G ↦ G − Q·sym(QᵀG) (Q tall; G − sym(GQᵀ)·Q for a wide Q). The default.
    case tangent
    /// The identity: G itself, including its component normal to the orthonormal matrices,
    /// which the projection after the step then removes. The shortcut's original gradient.
    case identity
}
