/// Gradients with respect to what a caller asks for, and nothing else.
///
/// Attacks differentiate with respect to an input image (paper A Eq. 2-4, paper B Eq. 5,
/// paper C Figure 3, paper D Table 1), HMC with respect to a latent code (paper D
/// Algorithm 1), and paper B's margin bound needs the encoder Jacobian (paper B Theorem 1).
/// None of them needs a weight gradient, so they run with the model frozen
/// (`Layer.freeze()`, `VAE.freeze()`), and every op then skips the weight-gradient products.
/// All of them run hundreds of restarts or chains at once, so the entry points here take a
/// batch `[N, ...]` and return one value and one gradient per row.
extension Autodiff {
    /// Freezes (`true`) or unfreezes parameters. A frozen parameter needs no gradient, and
    /// any gradient it holds is dropped.
    public static func setFrozen(_ parameters: [Variable], _ frozen: Bool) {
        for p in parameters {
            p.requiresGrad = !frozen
            if frozen { p.grad = nil }
        }
    }

    /// Runs `body` with `parameters` frozen, then gives each back the state it had: whether
    /// it needs a gradient, and the gradient it holds (untouched, since a frozen parameter
    /// receives none).
    public static func withFrozen<T>(_ parameters: [Variable], _ body: () throws -> T) rethrows -> T {
        let saved = parameters.map(\.requiresGrad)
        for p in parameters { p.requiresGrad = false }
        defer { for (p, r) in zip(parameters, saved) { p.requiresGrad = r } }
        return try body()
    }

    /// `f` evaluated at `x`, with the vector-Jacobian product of its output ready to take:
    /// the one mechanism under `valueAndGradient` and `jacobian`.
    public static func pullback(at x: Tensor, _ f: (Variable) -> Variable) -> Pullback {
        precondition(isRecording, "pullback inside withoutGradients records no graph")
        let input = Variable(x, requiresGrad: true)
        return Pullback(input: input, output: f(input))
    }

    /// Per-row values and gradients of a batched scalar function.
    ///
    /// `f` maps a batch `[N, ...]` to one value per row, shape `[N]`, and must treat rows
    /// independently: row `i` of the output may depend on row `i` of the input alone. Every
    /// per-sample layer (linear, convolution, activations) and the per-row reductions
    /// (`sum(axis: 1)`) do; batch reductions (`sum()`, `mean()`) and the β-TCVAE estimator do
    /// not. Then the gradient of Σ_i f_i is, row by row, the gradient of each f_i with respect
    /// to its own row, and one backward pass gives all N of them.
    public static func valueAndGradient(at x: Tensor, _ f: (Variable) -> Variable) -> (values: Tensor, gradient: Tensor) {
        let p = pullback(at: x, f)
        precondition(p.value.shape == [x.shape[0]], "valueAndGradient: f must return one value per row, shape [\(x.shape[0])], got \(p.value.shape)")
        return (p.value, p(Tensor(shape: p.value.shape, repeating: 1)))
    }

    /// The gradient of a scalar function `f(x)`.
    public static func gradient(at x: Tensor, _ f: (Variable) -> Variable) -> (value: Float, gradient: Tensor) {
        let p = pullback(at: x, f)
        precondition(p.value.count == 1, "gradient: f must return a scalar, got \(p.value.shape)")
        return (p.value.scalar, p(Tensor(shape: p.value.shape, repeating: 1)))
    }

    /// Per-row Jacobians of a batched vector function: `f` maps `[N, ...]` to `[N, M]`,
    /// row by row independently; the result is `[N, M, ...]` with `J[i, j] = ∂f_ij/∂x_i`.
    /// One forward pass and M backward passes (one per output column, all rows at once):
    /// for an encoder M is the latent size, far smaller than the pixel count.
    public static func jacobian(at x: Tensor, _ f: (Variable) -> Variable) -> (values: Tensor, jacobian: Tensor) {
        let p = pullback(at: x, f)
        let n = x.shape[0]
        precondition(p.value.rank == 2 && p.value.shape[0] == n, "jacobian: f must return [\(n), M], got \(p.value.shape)")
        let m = p.value.shape[1], d = n == 0 ? 0 : x.count / n
        var jac = Tensor.zeros([n, m] + Array(x.shape.dropFirst()))
        for j in 0..<m {
            var seed = Tensor.zeros(p.value.shape)
            for i in 0..<n { seed.data[i * m + j] = 1 }
            let g = p(seed)
            g.data.withUnsafeBufferPointer { gb in
                jac.data.withUnsafeMutableBufferPointer { jb in
                    for i in 0..<n {
                        (jb.baseAddress! + (i * m + j) * d).update(from: gb.baseAddress! + i * d, count: d)
                    }
                }
            }
        }
        return (p.value, jac)
    }
}

/// A function's value at an input, and its vector-Jacobian product there: `pullback(seed)`
/// is Σ_k seed_k ∂f_k/∂x. It can be called any number of times on the one forward pass.
/// Trainable parameters in the graph collect their gradient on every call, so freeze them
/// first (`Autodiff.withFrozen`) unless that is wanted.
public struct Pullback {
    let input: Variable
    let output: Variable
    /// f(x).
    public var value: Tensor { output.value }

    /// The gradient of ⟨seed, f(x)⟩ with respect to x (zeros where f does not depend on x).
    public func callAsFunction(_ seed: Tensor) -> Tensor {
        input.grad = nil
        output.backward(seed: seed)
        return input.grad ?? Tensor.zeros(input.shape)
    }
}
