import XCTest
import Shared

/// Input and latent gradients with frozen weights (what attacks, HMC and Jacobians use):
/// values against finite differences and closed forms, and proof that frozen weights get no
/// gradient and no weight-gradient product runs for them.
final class GradientsTests: XCTestCase {
    var rng = RNG(seed: 31)

    func convVAE(latent: Int = 5) throws -> VAE {
        var c = ModelConfig(architecture: "conv", latent: latent, inputShape: [1, 28, 28], data: "test", seed: 7)
        c.hidden = [4, 6, 6, 8]
        return try VAE(config: c)
    }

    func mlpVAE() throws -> VAE {
        var c = ModelConfig(architecture: "mlp", latent: 4, inputShape: [1, 28, 28], data: "test", seed: 8)
        c.hidden = [16, 12]
        return try VAE(config: c)
    }

    /// Central differences of the per-row function `f` at `count` random coordinates of each
    /// row, against the batched gradient.
    func checkRowGradients(_ x: Tensor, count: Int, h: Float = 1e-2, tol: Float = 2e-2,
                           file: StaticString = #filePath, line: UInt = #line, _ f: (Variable) -> Variable) {
        let (values, grad) = Autodiff.valueAndGradient(at: x, f)
        XCTAssertEqual(grad.shape, x.shape, file: file, line: line)
        let plain = Autodiff.withoutGradients { f(Variable(x)).value }
        XCTAssertEqual(values.data, plain.data, "values equal a plain forward pass", file: file, line: line)
        let n = x.shape[0], d = x.count / n
        for i in 0..<n {
            for _ in 0..<count {
                let k = i * d + Int(rng.next() % UInt64(d))
                var xp = x, xm = x
                xp.data[k] += h; xm.data[k] -= h
                let fp = Autodiff.withoutGradients { f(Variable(xp)).value }, fm = Autodiff.withoutGradients { f(Variable(xm)).value }
                // the other rows must not move: f treats rows independently
                for j in 0..<n where j != i { XCTAssertEqual(fp.data[j], plain.data[j], file: file, line: line) }
                let numeric = (fp.data[i] - fm.data[i]) / (2 * h)
                XCTAssertEqual(grad.data[k], numeric, accuracy: tol * max(1, abs(numeric)), "row \(i), element \(k - i * d)", file: file, line: line)
            }
        }
    }

    func testConvEncoderInputGradientWithFrozenWeights() throws {
        let vae = try convVAE()
        vae.freeze()
        XCTAssertTrue(vae.isFrozen)
        let x = rng.uniformTensor([3, 1, 28, 28])
        // a paper-D-like objective: the symmetric KL to a fixed reference posterior
        let (mu0, s0) = Autodiff.withoutGradients { vae.encode(Variable(rng.uniformTensor([3, 1, 28, 28]))) }
        checkRowGradients(x, count: 25) { xv in
            let (mu, s) = vae.encode(xv)
            return DiagonalGaussian.symmetricKL(mu1: mu, sigma1: s, mu2: mu0, sigma2: s0)
        }
        for p in vae.parameters { XCTAssertNil(p.grad, "a frozen weight received a gradient") }
    }

    func testDecoderLatentGradientWithFrozenWeights() throws {
        let vae = try mlpVAE()
        vae.freeze()
        let x = Variable(rng.uniformTensor([4, 1, 28, 28]))
        let z = rng.normalTensor([4, 4])
        checkRowGradients(z, count: 4) { zv in
            vae.likelihood.logProb(x, logits: vae.decodeLogits(zv)) + DiagonalGaussian.standardLogDensity(zv)
        }
        for p in vae.parameters { XCTAssertNil(p.grad) }
    }

    func testRowGradientsEqualSingleRowGradients() throws {
        let vae = try convVAE()
        vae.freeze()
        let x = rng.uniformTensor([20, 1, 28, 28])  // 20 rows: the convolutions split the batch
        let f: (Variable) -> Variable = { vae.encode($0).mu.square().sum(axis: 1) }
        let (values, grad) = Autodiff.valueAndGradient(at: x, f)
        for i in [0, 9, 10, 19] {
            let (v, g) = Autodiff.gradient(at: x.rows(i..<(i + 1))) { f($0).sum() }
            XCTAssertEqual(values.data[i], v, accuracy: 1e-4 * max(1, abs(v)))
            assertClose(grad.rows(i..<(i + 1)), g, tol: 1e-4, "row \(i)")
        }
    }

    /// Counts the matrix products one backward pass runs.
    func productsInBackward(_ out: Variable) -> Int {
        let before = BLAS.productCount
        out.sum().backward()
        return BLAS.productCount - before
    }

    func testFrozenLayersRunNoWeightGradientProducts() {
        let mlp = Sequential([Linear(10, 32, rng: &rng), Activation.relu, Linear(32, 32, rng: &rng), Activation.relu, Linear(32, 7, rng: &rng)])
        let x = rng.normalTensor([5, 10])
        // training: weight gradients (3), input gradients of layers 2 and 3 only (2)
        XCTAssertEqual(productsInBackward(mlp(Variable(x))), 5)
        XCTAssertTrue(mlp.parameters.allSatisfy { $0.grad != nil })
        // frozen, gradient w.r.t. the input: one input-gradient product per layer, nothing else
        mlp.freeze()
        XCTAssertTrue(mlp.isFrozen && mlp.parameters.allSatisfy { $0.grad == nil })
        let xv = Variable(x, requiresGrad: true)
        XCTAssertEqual(productsInBackward(mlp(xv)), 3)
        XCTAssertNotNil(xv.grad)
        XCTAssertTrue(mlp.parameters.allSatisfy { $0.grad == nil })
        mlp.unfreeze()
        XCTAssertEqual(productsInBackward(mlp(Variable(x, requiresGrad: true))), 6)

        // convolutions, a batch of 20 split into two parts: one product per part and gradient
        let conv = Conv2d(2, 3, kernel: 3, stride: 2, padding: 1, rng: &rng)
        let deconv = ConvTranspose2d(2, 3, kernel: 4, stride: 2, padding: 1, rng: &rng)
        let img = rng.normalTensor([20, 2, 8, 8])
        for layer in [conv, deconv] as [any Layer] {
            XCTAssertEqual(productsInBackward(layer(Variable(img))), 2, "training: weight gradient only")
            layer.freeze()
            let v = Variable(img, requiresGrad: true)
            XCTAssertEqual(productsInBackward(layer(v)), 2, "frozen: input gradient only")
            XCTAssertTrue(layer.parameters.allSatisfy { $0.grad == nil })
            layer.unfreeze()
            XCTAssertEqual(productsInBackward(layer(Variable(img, requiresGrad: true))), 4, "both")
        }
    }

    func testFrozenConvolutionGradientsMatchUnfrozen() {
        // skipping the weight gradient must not change the input gradient
        let conv = Conv2d(2, 3, kernel: 3, stride: 2, padding: 1, rng: &rng)
        let deconv = ConvTranspose2d(3, 2, kernel: 4, stride: 2, padding: 1, rng: &rng)
        let x = rng.normalTensor([18, 2, 8, 8])
        let f: (Variable) -> Variable = { deconv(conv($0).tanh()).square().flattened().sum(axis: 1) }
        let trainable = Autodiff.valueAndGradient(at: x, f).gradient
        let frozen = Autodiff.withFrozen(conv.parameters + deconv.parameters) { Autodiff.valueAndGradient(at: x, f).gradient }
        XCTAssertEqual(trainable.data, frozen.data)
        XCTAssertFalse(conv.isFrozen || deconv.isFrozen, "withFrozen gives the parameters back their state")
        // ... and the gradients they held
        conv(Variable(x)).sum().backward()
        let held = conv.weight.grad!
        _ = Autodiff.withFrozen(conv.parameters) { Autodiff.valueAndGradient(at: x, f) }
        XCTAssertEqual(conv.weight.grad, held)
        gradCheck([rng.normalTensor([3, 2, 8, 8])]) { v in Autodiff.withFrozen(conv.parameters) { conv(v[0]).tanh() } }
    }

    func testJacobianOfLinearAndTanhLayers() {
        let lin = Linear(6, 4, rng: &rng)
        lin.freeze()
        let x = rng.normalTensor([3, 6])
        let (y, j) = Autodiff.jacobian(at: x) { lin($0) }
        XCTAssertEqual(y.shape, [3, 4])
        XCTAssertEqual(j.shape, [3, 4, 6])
        for i in 0..<3 { assertClose(j.rows(i..<(i + 1)).reshaped([4, 6]), lin.weight.value, tol: 1e-6, "J = W") }
        // tanh(Wx + b): J = diag(1 − y²) W
        let (t, jt) = Autodiff.jacobian(at: x) { lin($0).tanh() }
        for i in 0..<3 { for a in 0..<4 { for b in 0..<6 {
            let expected = (1 - t.data[i * 4 + a] * t.data[i * 4 + a]) * lin.weight.value.data[a * 6 + b]
            XCTAssertEqual(jt.data[(i * 4 + a) * 6 + b], expected, accuracy: 1e-6)
        } } }
    }

    func testEncoderStatsUseTheJacobian() throws {
        let vae = try mlpVAE()
        let x = rng.uniformTensor([3, 1, 28, 28])
        let stats = vae.encoderStats(x, batch: 2)
        let (_, j) = Autodiff.withFrozen(vae.parameters) { Autodiff.jacobian(at: x) { vae.encode($0).mu } }
        let d = j.count / 3
        for i in 0..<3 {
            let frob = (0..<d).reduce(0.0) { $0 + Double(j.data[i * d + $1]) * Double(j.data[i * d + $1]) }.squareRoot()
            XCTAssertEqual(stats[i].jacobianFrobenius, frob, accuracy: 1e-9 * frob)
            // the means it reports are the encoder's
            let mu = Autodiff.withoutGradients { vae.encode(Variable(x.rows(i..<(i + 1)))).mu.value }
            for u in 0..<4 { XCTAssertEqual(stats[i].mu[u], Double(mu.data[u]), accuracy: 1e-5) }
            // against finite differences of μ along a random direction: ‖J v‖ for unit v
            var v = rng.normalTensor([1, 1, 28, 28]); let nv = v.data.reduce(0) { $0 + $1 * $1 }.squareRoot(); v = v * (1 / nv)
            let xi = x.rows(i..<(i + 1)), h: Float = 1e-2
            let mp = Autodiff.withoutGradients { vae.encode(Variable(xi + v * h)).mu.value }, mm = Autodiff.withoutGradients { vae.encode(Variable(xi - v * h)).mu.value }
            let jv = Tensor.matmul(j.rows(i..<(i + 1)).reshaped([4, 784]), v.reshaped([784, 1]))
            assertClose(jv.reshaped([1, 4]), (mp - mm) * (1 / (2 * h)), tol: 2e-2, "J v")
        }
        XCTAssertFalse(vae.isFrozen, "encoderStats leaves a trainable model trainable")
        XCTAssertTrue(vae.parameters.allSatisfy { $0.grad == nil }, "and gives its weights no gradient")
    }

    func testPullbackOfAConstantIsZero() {
        let c = rng.normalTensor([2, 3])
        let p = Autodiff.pullback(at: rng.normalTensor([2, 5])) { _ in Variable(c).sum(axis: 1) }
        XCTAssertEqual(p(Tensor.ones([2])).data, [Float](repeating: 0, count: 10))
    }

    func testLoadedModelsAreFrozen() throws {
        let dir = tempDir()
        let vae = try mlpVAE()
        try vae.save(to: dir + "/m.safetensors")
        XCTAssertTrue(try VAE.load(dir + "/m.safetensors").model.isFrozen)
        XCTAssertFalse(try VAE.load(dir + "/m.safetensors", trainable: true).model.isFrozen)
    }
}
