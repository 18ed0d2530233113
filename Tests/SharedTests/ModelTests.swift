import Foundation
import XCTest
import Shared

/// The VAE objectives against independent computations, interval bounds, Lipschitz layers,
/// saving and training.
final class ModelTests: XCTestCase {
    var rng = RNG(seed: 21)

    func tinyConfig(_ arch: String = "mlp", latent: Int = 3, shape: [Int] = [1, 4, 4]) -> ModelConfig {
        var c = ModelConfig(architecture: arch, latent: latent, inputShape: shape, data: "test", seed: 5)
        c.hidden = arch == "mlp" ? [6] : (arch == "conv" ? [4, 4, 4, 4] : [3, 4])
        return c
    }

    // MARK: likelihoods and objectives

    func testLikelihoodsMatchDirectFormulas() {
        let x = rng.uniformTensor([2, 1, 2, 3]), l = rng.normalTensor([2, 1, 2, 3]) * 3
        for lik in [Likelihood.bernoulli, .continuousBernoulli, .gaussian(sigma0: 0.3)] {
            let got = Autodiff.withoutGradients { lik.logProb(Variable(x), logits: Variable(l)).value }
            for n in 0..<2 {
                var ref = 0.0
                for i in 0..<6 {
                    let xi = Double(x.data[n * 6 + i]), li = Double(l.data[n * 6 + i]), lam = 1 / (1 + exp(-li))
                    switch lik {
                    case .bernoulli: ref += xi * log(lam) + (1 - xi) * log(1 - lam)
                    case .continuousBernoulli:
                        ref += xi * log(lam) + (1 - xi) * log(1 - lam) + log(2 * atanh(1 - 2 * lam) / (1 - 2 * lam))
                    case .gaussian(let s):
                        let s0 = Double(s)
                        ref += -(xi - lam) * (xi - lam) / (2 * s0 * s0) - 0.5 * log(2 * Double.pi * s0 * s0)
                    }
                }
                XCTAssertEqual(Double(got.data[n]), ref, accuracy: 1e-4 * max(1, abs(ref)), "\(lik)")
            }
        }
    }

    /// The fused per-image Bernoulli log-likelihood: values against a Double computation for
    /// rows that are whole vectors, a vector and a tail, and a tail only; gradients with respect
    /// to the logits (x − σ(l)) and the images (l, for attacks) by finite differences.
    func testFusedBernoulliLogLikelihood() {
        for d in [16, 19, 5] {
            let x = rng.uniformTensor([3, d]), l = rng.normalTensor([3, d]) * 4
            let got = Autodiff.withoutGradients { Variable.bernoulliLogLikelihood(Variable(x), logits: Variable(l)).value }
            for n in 0..<3 {
                var ref = 0.0
                for i in 0..<d {
                    let xi = Double(x.data[n * d + i]), li = Double(l.data[n * d + i])
                    ref += xi * li - (max(li, 0) + log1p(exp(-abs(li))))
                }
                XCTAssertEqual(Double(got.data[n]), ref, accuracy: 2e-6 * max(1, abs(ref)), "d = \(d)")
            }
            gradCheck([x, l], h: 1e-2, tol: 2e-3) { v in Variable.bernoulliLogLikelihood(v[0], logits: v[1]) }
        }
    }

    func testContinuousBernoulliNormalizerNearHalf() {
        // λ = σ(l) near 1/2: the Taylor branch against the closed form in Double
        for l in [-5e-3, 1e-3, 4e-3, 0.02, -0.5, 3, 30] as [Double] {
            let lam = 1 / (1 + exp(-l))
            // the λ form loses precision in Double once λ is within 1e-9 of 1; tanh(15) = 1 there
            let ref = l > 20 ? log(l) : log(2 * atanh(1 - 2 * lam) / (1 - 2 * lam))
            let got = Variable(Tensor(shape: [1], data: [Float(l)])).continuousBernoulliLogNormalizer().value.data[0]
            XCTAssertEqual(Double(got), ref, accuracy: 1e-5, "l = \(l)")
        }
        gradCheck([Tensor(shape: [6], data: [-3, -0.004, 0.003, 0.2, 2, 40])], h: 1e-3, tol: 2e-2) { $0[0].continuousBernoulliLogNormalizer() }
        gradCheck([rng.normalTensor([3, 4]), rng.normalTensor([4])]) { Variable.maximum($0[0], $0[1]) - Variable.minimum($0[0], $0[1]) * 2 }
    }

    /// The vectorised continuous Bernoulli log-normaliser and its derivative against Double,
    /// on both sides of the series/closed-form switch at |l| = 1/2, near 0, and for large |l|.
    func testContinuousBernoulliNormalizerAgainstDouble() {
        var ls: [Float] = [0, 1e-6, -1e-4, 1e-3, 0.01, 0.1, 0.3, 0.4999, 0.5, 0.5001, 0.7, 1, 2, 5, 10, 17, 30, 88, 100, 1e4]
        ls += (0..<400).map { _ in rng.uniform(-12, 12) }
        ls += ls.map { -$0 }
        let logits = Variable(Tensor(shape: [ls.count], data: ls), requiresGrad: true)
        let logC = logits.continuousBernoulliLogNormalizer()
        logC.sum().backward()
        for (i, lf) in ls.enumerated() {
            let l = Double(lf), a = Swift.abs(l)
            let ref = a < 1e-4 ? log(2) + l * l / 12 : log(a / tanh(a / 2))
            let dref = a < 1e-3 ? l / 6 - 7 * l * l * l / 360 : 1 / l - 1 / sinh(l)
            XCTAssertEqual(Double(logC.value.data[i]), ref, accuracy: 3e-7 * max(1, Swift.abs(ref)), "log C(\(l))")
            // the closed form cancels by up to 25x just above the switch: 3e-6 relative
            XCTAssertEqual(Double(logits.grad!.data[i]), dref, accuracy: 3e-6 * max(1e-2, Swift.abs(dref)), "d log C(\(l))")
        }
        let nan = Variable(Tensor(shape: [2], data: [.nan, 1])).continuousBernoulliLogNormalizer().value
        XCTAssert(nan.data[0].isNaN && nan.data[1].isFinite)
    }

    /// The continuous Bernoulli log-likelihood against a numpy port, line by line, of
    /// `torch.distributions.ContinuousBernoulli(probs=σ(l)).log_prob(x)`, the call paper A's code
    /// makes (Lipschitz_VAEs `VAE_MNIST_model.py`): `clamp_probs` (ε = float32's eps),
    /// `probs_to_logits(is_binary=True)`, the binary cross-entropy with logits, and
    /// `_cont_bern_log_norm` with its Taylor form for λ in (0.499, 0.501]. Logits out to ±40,
    /// so that many pixels lie beyond the clamp, and near 0 for the Taylor branch. Then the
    /// gradient: finite differences inside the clamp, exactly zero beyond it (as torch's clamp).
    func testContinuousBernoulliMatchesTorchPort() throws {
        let n = 4, d = 50
        var x = rng.uniformTensor([n, d])
        var ls = (0..<(n * d)).map { _ in rng.uniform(-40, 40) }
        for i in stride(from: 0, to: ls.count, by: 7) { ls[i] = rng.uniform(-0.006, 0.006) }
        for i in stride(from: 3, to: ls.count, by: 11) { x.data[i] = Float(i % 2) }
        let l = Tensor(shape: [n, d], data: ls)
        let got = Autodiff.withoutGradients { Likelihood.continuousBernoulli.logProb(Variable(x), logits: Variable(l)).value }
        func list(_ t: Tensor) -> String { "[" + t.data.map { "\(Double($0))" }.joined(separator: ",") + "]" }
        let out = try python("""
        import math, numpy as np
        x = np.array(\(list(x))).reshape(\(n), \(d)); l = np.array(\(list(l))).reshape(\(n), \(d))
        probs = 1 / (1 + np.exp(-l))
        eps = float(np.finfo(np.float32).eps)
        probs = np.clip(probs, eps, 1 - eps)                     # clamp_probs in __init__
        lims = (0.499, 0.501)
        outside = np.maximum(probs <= lims[0], probs > lims[1])  # _outside_unstable_region
        cut = np.where(outside, probs, lims[0] * np.ones_like(probs))
        below = np.where(cut <= 0.5, cut, np.zeros_like(cut))
        above = np.where(cut >= 0.5, cut, np.ones_like(cut))
        log_norm = np.log(np.abs(np.log1p(-cut) - np.log(cut))) - np.where(cut <= 0.5, np.log1p(-2.0 * below), np.log(2.0 * above - 1.0))
        t = (probs - 0.5) ** 2
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * t) * t
        norm = np.where(outside, log_norm, taylor)               # _cont_bern_log_norm
        pc = np.clip(probs, eps, 1 - eps)
        logits = np.log(pc) - np.log1p(-pc)                      # probs_to_logits(is_binary=True)
        bce = np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
        print(" ".join(repr(float(v)) for v in (-bce + norm).sum(1)))
        """).split(separator: " ").map { Double($0)! }
        for i in 0..<n { XCTAssertEqual(Double(got.data[i]), out[i], accuracy: 2e-5 * max(1, abs(out[i])), "image \(i)") }
        // inside the clamp: finite differences; beyond it: no gradient at all
        let inside = Tensor(shape: [2, 6], data: [-15, -9, -2, -0.3, 0.002, 0.4, 1.5, 3, 7, 12, 14.5, 15.5])
        gradCheck([rng.uniformTensor([2, 6]), inside], h: 1e-2, tol: 5e-3) { v in Likelihood.continuousBernoulli.logProb(v[0], logits: v[1]) }
        let beyond = Variable(Tensor(shape: [1, 4], data: [-40, -16, 16, 30]), requiresGrad: true)
        Likelihood.continuousBernoulli.logProb(Variable(rng.uniformTensor([1, 4])), logits: beyond).sum().backward()
        XCTAssertEqual(beyond.grad!.data, [0, 0, 0, 0])
        XCTAssertEqual(Double(Likelihood.cbLogitLimit), log((1 - 0x1p-23) / 0x1p-23), accuracy: 1e-5)
    }

    /// The ELBO and β-VAE loss against a recomputation from the model's own μ, σ, ε and logits.
    func testELBOAndBetaLossAgainstDirectComputation() throws {
        let model = try VAE(config: tinyConfig())
        let x = rng.uniformTensor([5, 1, 4, 4])
        for beta: Float in [1, 4] {
            var r1 = RNG(seed: 3), r2 = RNG(seed: 3)
            let l = model.loss(x, objective: .elbo, beta: beta, rng: &r1)
            let (mu, sigma) = Autodiff.withoutGradients { model.encode(Variable(x)) }
            let (z, _) = model.sample(mu: mu, sigma: sigma, rng: &r2)
            let logits = Autodiff.withoutGradients { model.decodeLogits(z) }.value
            var total = 0.0, elbo = 0.0
            for n in 0..<5 {
                var lp = 0.0, kl = 0.0
                for i in 0..<16 {
                    let xi = Double(x.data[n * 16 + i]), li = Double(logits.data[n * 16 + i])
                    lp += xi * li - log(1 + exp(li))
                }
                for j in 0..<3 {
                    let m = Double(mu.value.data[n * 3 + j]), s = Double(sigma.value.data[n * 3 + j])
                    kl += 0.5 * (m * m + s * s - 1 - log(s * s))
                }
                total += -(lp - Double(beta) * kl) / 5
                elbo += (lp - kl) / 5
            }
            XCTAssertEqual(Double(l.loss.value.scalar), total, accuracy: 1e-3)
            XCTAssertEqual(Double(l.elbo), elbo, accuracy: 1e-3)
        }
    }

    /// β-TCVAE's minibatch-weighted-sampling estimator against a brute-force double loop.
    func testTCDecompositionAgainstBruteForce() {
        let (m, d, n) = (6, 3, 1000)
        let z = rng.normalTensor([m, d]), mu = rng.normalTensor([m, d]), sigma = rng.uniformTensor([m, d], 0.3, 1.5)
        let (mi, tc, dimKL) = VAE.tcDecomposition(z: Variable(z), mu: Variable(mu), sigma: Variable(sigma), datasetSize: n)
        func logN(_ x: Double, _ m: Double, _ s: Double) -> Double { -0.5 * pow((x - m) / s, 2) - log(s) - 0.5 * log(2 * .pi) }
        func lse(_ v: [Double]) -> Double { let mx = v.max()!; return mx + log(v.map { exp($0 - mx) }.reduce(0, +)) }
        for i in 0..<m {
            func at(_ t: Tensor, _ a: Int, _ b: Int) -> Double { Double(t.data[a * d + b]) }
            let logNM = log(Double(n * m))
            let logQz = lse((0..<m).map { j in (0..<d).map { k in logN(at(z, i, k), at(mu, j, k), at(sigma, j, k)) }.reduce(0, +) }) - logNM
            let logQzProd = (0..<d).map { k in lse((0..<m).map { j in logN(at(z, i, k), at(mu, j, k), at(sigma, j, k)) }) - logNM }.reduce(0, +)
            let logQzx = (0..<d).map { k in logN(at(z, i, k), at(mu, i, k), at(sigma, i, k)) }.reduce(0, +)
            let logPz = (0..<d).map { k in logN(at(z, i, k), 0, 1) }.reduce(0, +)
            XCTAssertEqual(Double(mi.value.data[i]), logQzx - logQz, accuracy: 1e-4)
            XCTAssertEqual(Double(tc.value.data[i]), logQz - logQzProd, accuracy: 1e-4)
            XCTAssertEqual(Double(dimKL.value.data[i]), logQzProd - logPz, accuracy: 1e-4)
            // the three parts add up to log q(z|x) − log p(z)
            XCTAssertEqual(Double(mi.value.data[i] + tc.value.data[i] + dimKL.value.data[i]), logQzx - logPz, accuracy: 1e-4)
        }
        gradCheck([z, mu, sigma]) { v in
            let t = VAE.tcDecomposition(z: v[0], mu: v[1], sigma: v[2], datasetSize: n)
            return t.mi + t.tc * 2 + t.dimKL * 3
        }
    }

    func testProVAEBoundAtZeroRadiusEqualsELBO() throws {
        for arch in ["mlp", "conv-small"] {
            var c = tinyConfig(arch, shape: [1, 8, 8]); c.likelihood = "gaussian"; c.sigma0 = 0.5
            let model = try VAE(config: c)
            let x = rng.uniformTensor([4, 1, 8, 8])
            var r1 = RNG(seed: 9), r2 = RNG(seed: 9)
            let a = model.loss(x, objective: .elbo, rng: &r1), b = model.loss(x, objective: .provae(epsilon: 0, pixelBox: true), rng: &r2)
            XCTAssertEqual(a.loss.value.scalar, b.loss.value.scalar, accuracy: 1e-4 * abs(a.loss.value.scalar), arch)
            var r3 = RNG(seed: 9)
            XCTAssertLessThan(model.loss(x, objective: .provae(epsilon: 0.05, pixelBox: true), rng: &r3).loss.value.scalar, .infinity)
            var r4 = RNG(seed: 9)
            XCTAssertGreaterThan(model.loss(x, objective: .provae(epsilon: 0.05, pixelBox: true), rng: &r4).loss.value.scalar, a.loss.value.scalar, "a positive radius lowers the bound")
        }
    }

    // MARK: interval bounds

    /// For every architecture: μ, σ, decoder logits and the ELBO of random inputs inside an
    /// L∞ box lie within the propagated bounds (same reparameterisation noise).
    func testIntervalBoundsContainSampledOutputs() throws {
        var configs: [ModelConfig] = []
        var lip = tinyConfig(); lip.lipschitzDecoder = 3; lip.lipschitzMean = 2; lip.lipschitzStd = 1; lip.groupSize = 2
        lip.hidden = [6]; lip.likelihood = "cbernoulli"
        var conv = tinyConfig("conv", latent: 4, shape: [1, 28, 28]); conv.sigmaOffset = 0.1
        var small = tinyConfig("conv-small", latent: 3, shape: [2, 8, 8]); small.likelihood = "gaussian"; small.sigma0 = 0.3
        var fixed = tinyConfig(); fixed.fixedSigma = 0.2
        // clips that bind (sigmoid σ ≈ 0.5 per dimension: ‖σ‖₂ ≈ 0.87 in 3; exp σ ≈ 1)
        var clipped = tinyConfig(); clipped.sigmaMaxNorm = 0.5
        var clippedExp = tinyConfig("conv-small", latent: 3, shape: [1, 8, 8]); clippedExp.sigmaMaxNorm = 0.8
        configs = [tinyConfig(), lip, conv, small, fixed, clipped, clippedExp]
        for c in configs {
            let model = try VAE(config: c)
            let shape = [3] + c.inputShape
            let x = rng.uniformTensor(shape, 0.1, 0.9)
            let eps: Float = 0.05
            let box = Interval(center: Variable(x), radius: eps, clampTo: 0...1)
            let (muB, sigmaB) = Autodiff.withoutGradients { model.encoder.bounds(box) }
            var noise = RNG(seed: 4)
            let bound = Autodiff.withoutGradients { model.elboLowerBound(Variable(x), epsilon: eps, rng: &noise).bound.value }
            for _ in 0..<10 {
                let xp = x.zipMap(rng.uniformTensor(shape, -eps, eps)) { Swift.min(Swift.max($0 + $1, 0), 1) }
                let (mu, sigma) = Autodiff.withoutGradients { model.encode(Variable(xp)) }
                for i in 0..<mu.value.count {
                    XCTAssert(muB.lo.value.data[i] <= mu.value.data[i] + 1e-5 && mu.value.data[i] <= muB.hi.value.data[i] + 1e-5, "\(c.architecture) μ")
                    XCTAssert(sigmaB.lo.value.data[i] <= sigma.value.data[i] + 1e-5 && sigma.value.data[i] <= sigmaB.hi.value.data[i] + 1e-5, "\(c.architecture) σ")
                }
                // the same ε as the bound used: the sampled ELBO of the perturbed input is above the bound
                var n2 = RNG(seed: 4)
                let e = n2.normalTensor(mu.shape)
                let elbo = Autodiff.withoutGradients { () -> Tensor in
                    let z = mu + sigma * Variable(e)
                    let lp = model.likelihood.logProb(Variable(xp), logits: model.decodeLogits(z))
                    return (lp - DiagonalGaussian.klToStandard(mu: mu, sigma: sigma)).value
                }
                for n in 0..<3 { XCTAssertLessThanOrEqual(bound.data[n], elbo.data[n] + 1e-3 * abs(elbo.data[n]), "\(c.architecture) ELBO bound") }
            }
            // decoder bounds on a latent box
            let z = rng.normalTensor([3, c.latent])
            let zBox = Interval(center: Variable(z), radius: 0.1)
            let lB = Autodiff.withoutGradients { model.decoder.bounds(zBox) }
            for _ in 0..<10 {
                let zp = z + rng.uniformTensor(z.shape, -0.1, 0.1)
                let l = Autodiff.withoutGradients { model.decodeLogits(Variable(zp)) }.value
                for i in 0..<l.count { XCTAssert(lB.lo.value.data[i] <= l.data[i] + 1e-4 && l.data[i] <= lB.hi.value.data[i] + 1e-4, "\(c.architecture) decoder") }
            }
        }
    }

    func testLikelihoodLowerBoundsHoldInsideBoxes() {
        // logits near 0, and spread to ±30 with wide boxes, many crossing or beyond the
        // continuous Bernoulli's clamp at ±15.94
        for (lik, scale, r) in [Likelihood.bernoulli, .continuousBernoulli, .gaussian(sigma0: 0.4)].flatMap({ l in [(l, Float(2), Float(0.5)), (l, 12, 3)] }) {
            let xc = rng.uniformTensor([2, 10], 0.1, 0.9), lc = rng.normalTensor([2, 10]) * scale
            let xb = Interval(center: Variable(xc), radius: 0.1), lb = Interval(center: Variable(lc), radius: r)
            let bound = lik.logProbLowerBound(xb, logits: lb).value
            for _ in 0..<50 {
                let x = xc + rng.uniformTensor([2, 10], -0.1, 0.1), l = lc + rng.uniformTensor([2, 10], -r, r)
                let v = lik.logProb(Variable(x), logits: Variable(l)).value
                for n in 0..<2 { XCTAssertLessThanOrEqual(bound.data[n], v.data[n] + 1e-4 * max(1, abs(v.data[n])), "\(lik), scale \(scale)") }
            }
            // degenerate boxes give the exact value
            let exact = lik.logProb(Variable(xc), logits: Variable(lc)).value
            assertClose(lik.logProbLowerBound(Interval(point: Variable(xc)), logits: Interval(point: Variable(lc))).value, exact, tol: 1e-5, "\(lik)")
        }
    }

    // MARK: files and training

    func testSaveLoadRoundTrip() throws {
        let dir = tempDir()
        var c = tinyConfig("conv-small", shape: [1, 8, 8]); c.sigmaOffset = 0.2
        let model = try VAE(config: c)
        try model.save(to: dir + "/m.safetensors")
        let (back, _) = try VAE.load(dir + "/m.safetensors")
        XCTAssertEqual(back.config, model.config)
        let x = rng.uniformTensor([2, 1, 8, 8])
        let a = Autodiff.withoutGradients { model.encode(Variable(x)).mu.value }, b = Autodiff.withoutGradients { back.encode(Variable(x)).mu.value }
        XCTAssertEqual(a, b)
        // a file for another architecture is refused with a clear message
        var other = tinyConfig("mlp", shape: [1, 8, 8]); other.hidden = [7]
        let f = try SafeTensors.read(dir + "/m.safetensors")
        let wrong = try VAE(config: other)
        assertThrows(try wrong.loadWeights(from: f, name: "m.safetensors"), containing: "m.safetensors: missing weight")
    }

    /// `--sigma-head` for `mlp`: σ is the chosen transform of the σ network's output (sigmoid,
    /// exp(h / 2), exp(h)), the sigmoid when unset (files from before the option), and the head
    /// survives a save and load.
    func testMLPSigmaHeads() throws {
        let dir = tempDir()
        let x = Variable(rng.uniformTensor([3, 1, 8, 8]))
        for head in [nil, ScaleParameterization.sigmoid, .logVariance, .logSigma] {
            var c = tinyConfig("mlp", shape: [1, 8, 8]); c.sigmaHead = head
            let model = try VAE(config: c)
            let (sigma, raw) = Autodiff.withoutGradients { (model.encode(x).sigma.value, model.encoder.scaleHead!(x).value) }
            for (s, h) in zip(sigma.data, raw.data) {
                let expected: Float = switch head ?? .sigmoid {
                case .sigmoid: 1 / (1 + Foundation.exp(-h))
                case .logVariance: Foundation.exp(h / 2)
                case .logSigma: Foundation.exp(h)
                }
                XCTAssertEqual(s, expected, accuracy: 1e-5 * max(1, expected), "head \(String(describing: head))")
            }
            try model.save(to: dir + "/h.safetensors")
            let (back, _) = try VAE.load(dir + "/h.safetensors")
            XCTAssertEqual(back.config.sigmaHead, head)
            XCTAssertEqual(Autodiff.withoutGradients { back.encode(x).sigma.value }, sigma)
        }
    }

    /// `sigmaMaxNorm` (`--sigma-max-norm`), the paper A authors' `Clip`: a row of σ with an ℓ2
    /// norm above c comes out with norm c and the same direction, a row below it unchanged;
    /// the clip's gradient matches finite differences in both regimes; the encoder applies it
    /// to the head's σ, and the setting survives a save and load.
    func testSigmaMaxNormClipsRowsAndDifferentiates() throws {
        let c: Float = 1
        // row 0 norm ≈ 1.73 (clipped), row 1 norm ≈ 0.52 (kept)
        let s = Tensor(shape: [2, 3], data: [1.2, -0.7, 1.0, 0.3, 0.2, -0.38])
        let y = Autodiff.withoutGradients { Encoder.clipRowNorm(Variable(s), to: c).value }
        let n0 = (0..<3).map { Double(s.data[$0]) * Double(s.data[$0]) }.reduce(0, +).squareRoot()
        for j in 0..<3 {
            XCTAssertEqual(Double(y.data[j]), Double(s.data[j]) * Double(c) / n0, accuracy: 1e-6, "clipped row, entry \(j)")
            XCTAssertEqual(y.data[3 + j], s.data[3 + j], "a row inside the ball passes unchanged")
        }
        gradCheck([s], h: 1e-3, tol: 2e-3) { Encoder.clipRowNorm($0[0], to: c) }

        let dir = tempDir()
        let x = Variable(rng.uniformTensor([4, 1, 8, 8]))
        var plain = tinyConfig("mlp", shape: [1, 8, 8]); plain.latent = 6
        var clippedConfig = plain; clippedConfig.sigmaMaxNorm = 0.9
        let (a, b) = (try VAE(config: plain), try VAE(config: clippedConfig))
        let (free, clipped) = Autodiff.withoutGradients { (a.encode(x).sigma.value, b.encode(x).sigma.value) }
        for n in 0..<4 {
            let row = Array(free.data[(n * 6)..<((n + 1) * 6)]), out = Array(clipped.data[(n * 6)..<((n + 1) * 6)])
            let norm = row.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
            XCTAssertGreaterThan(norm, 0.9, "the clip binds for this test's sigmoid σ (≈ 0.5 × √6)")
            for j in 0..<6 { XCTAssertEqual(Double(out[j]), Double(row[j]) * 0.9 / norm, accuracy: 1e-6) }
        }
        try b.save(to: dir + "/c.safetensors")
        let (back, _) = try VAE.load(dir + "/c.safetensors")
        XCTAssertEqual(back.config.sigmaMaxNorm, 0.9)
        XCTAssertEqual(Autodiff.withoutGradients { back.encode(x).sigma.value }, clipped)
    }

    func train(_ config: ModelConfig, epochs: Int, output: String, resume: Bool = false, objective: String = "elbo", limit: Int = 400,
               stopAfter: Int? = nil, binarize: Bool = false, convergence: Double? = nil, warmup: Double? = nil) throws -> [String: Any] {
        let model = try VAE(config: config)
        var o = TrainingOptions()
        o.convergenceTolerance = convergence; o.klWarmupEpochs = warmup
        o.epochs = epochs; o.batch = 50; o.output = output; o.resume = resume; o.trainLimit = limit; o.objective = objective
        o.stopAfterBatches = stopAfter
        o.keepCheckpoint = true
        o.binarize = binarize
        o.epsTrain = 0.02
        return try Trainer(model: model, trainSet: try DatasetCatalog.load("synthetic:train"),
                           testSet: try DatasetCatalog.load("synthetic:test[0:100]"), options: o).run()
    }

    func testTrainingLowersTheLossOnSynthetic() throws {
        let dir = tempDir()
        var c = ModelConfig(architecture: "mlp", latent: 4, inputShape: [1, 28, 28], data: "synthetic", seed: 1)
        c.hidden = [64, 64]
        let model = try VAE(config: c)
        let before = model.evaluate(try DatasetCatalog.load("synthetic:test[0:100]").images).elbo
        let s = try train(c, epochs: 3, output: dir + "/s.safetensors")
        let after = s["test_elbo"] as! Double
        XCTAssertGreaterThan(after, before + 50, "ELBO \(before) → \(after)")
        XCTAssertEqual(s["epochs"] as? Int, 3)
        XCTAssert(FileManager.default.fileExists(atPath: dir + "/s.safetensors.ckpt"))
    }

    /// Two epochs straight and one epoch plus `--resume` for the second give the same weights.
    func testResumeContinuesExactly() throws {
        let dir = tempDir()
        var c = ModelConfig(architecture: "mlp", latent: 3, inputShape: [1, 28, 28], data: "synthetic", seed: 2)
        c.hidden = [32]
        let full = try train(c, epochs: 2, output: dir + "/a.safetensors")
        _ = try train(c, epochs: 1, output: dir + "/b.safetensors")
        _ = try train(c, epochs: 2, output: dir + "/b.safetensors", resume: true)
        let a = try SafeTensors.read(dir + "/a.safetensors"), b = try SafeTensors.read(dir + "/b.safetensors")
        for (name, t) in a.tensors { XCTAssertEqual(b[name], t, name) }
        // interrupted mid-epoch (after 3 of 8 batches of epoch 1), then resumed: still identical
        do {
            _ = try train(c, epochs: 2, output: dir + "/c.safetensors", stopAfter: 3)
            XCTFail("expected an interruption")
        } catch let e as ToolError {
            XCTAssertEqual(e.exitCode, 130)
            XCTAssert(e.message.contains("before batch 4"), e.message)
        }
        let resumed = try train(c, epochs: 2, output: dir + "/c.safetensors", resume: true)
        let cc = try SafeTensors.read(dir + "/c.safetensors")
        for (name, t) in a.tensors { XCTAssertEqual(cc[name], t, name) }
        XCTAssertEqual(resumed["train_elbo"] as? Double, full["train_elbo"] as? Double)
        // interrupted in the last epoch (after 8 + 3 batches): the resumed epoch reports the
        // training ELBO of all its batches, as an uninterrupted one does
        XCTAssertThrowsError(try train(c, epochs: 2, output: dir + "/d.safetensors", stopAfter: 11))
        let lastResumed = try train(c, epochs: 2, output: dir + "/d.safetensors", resume: true)
        XCTAssertEqual(lastResumed["train_elbo"] as? Double, full["train_elbo"] as? Double)
        // with dynamic binarisation too: the draws come from the seed, epoch and batch
        let fullBin = try train(c, epochs: 2, output: dir + "/e.safetensors", binarize: true)
        XCTAssertNotEqual(fullBin["train_elbo"] as? Double, full["train_elbo"] as? Double, "binarised data trains differently")
        XCTAssertThrowsError(try train(c, epochs: 2, output: dir + "/f.safetensors", stopAfter: 11, binarize: true))
        XCTAssertThrowsError(try train(c, epochs: 2, output: dir + "/f.safetensors", resume: true), "a resume without --binarize is refused")
        let resumedBin = try train(c, epochs: 2, output: dir + "/f.safetensors", resume: true, binarize: true)
        XCTAssertEqual(resumedBin["train_elbo"] as? Double, fullBin["train_elbo"] as? Double)
        XCTAssertEqual(resumedBin["test_elbo"] as? Double, fullBin["test_elbo"] as? Double)
        let e = try SafeTensors.read(dir + "/e.safetensors"), f = try SafeTensors.read(dir + "/f.safetensors")
        for (name, t) in e.tensors { XCTAssertEqual(f[name], t, name) }
    }

    /// `convergenceTolerance` (paper A's authors' "to convergence"): training stops after the
    /// first epoch whose mean batch loss is within the tolerance of the previous epoch's. The
    /// per-epoch losses come from the checkpoints of separate fixed-length runs; a tolerance
    /// between the first two changes must stop at the epoch the rule names, a zero one never
    /// stops early, and a run interrupted mid-epoch and resumed stops where the uninterrupted
    /// one does, with the same weights.
    func testConvergenceToleranceStopsWhereTheRuleSays() throws {
        let dir = tempDir()
        var c = ModelConfig(architecture: "mlp", latent: 3, inputShape: [1, 28, 28], data: "synthetic", seed: 4)
        c.hidden = [16]
        var losses: [Double] = []
        for e in 1...3 {
            _ = try train(c, epochs: e, output: dir + "/l\(e).safetensors")
            let ck = try SafeTensors.read(dir + "/l\(e).safetensors.ckpt")
            losses.append(Double(ck.metadata["last_epoch_loss"]!)!)
        }
        let d1 = abs(losses[1] - losses[0]), d2 = abs(losses[2] - losses[1])
        XCTAssert(d1 > 0 && d2 > 0 && d1 != d2, "\(losses)")
        // stops after epoch 2 when d1 is within the tolerance, after epoch 3 when only d2 is
        let (tol, stop) = d2 < d1 ? ((d1 + d2) / 2, 3) : ((d1 + d2) / 2, 2)
        let s = try train(c, epochs: 6, output: dir + "/conv.safetensors", convergence: tol)
        XCTAssertEqual(s["epochs"] as? Int, stop)
        XCTAssertEqual(s["converged"] as? Bool, true)
        XCTAssertEqual(s["max_epochs"] as? Int, 6)
        let rec = try ModelConfig.from(try SafeTensors.read(dir + "/conv.safetensors"), name: "conv").training!
        XCTAssertEqual(rec.epochsRun, stop); XCTAssertEqual(rec.converged, true); XCTAssertEqual(rec.convergenceTol, tol)
        XCTAssertEqual(rec.epochs, 6)
        // the stopped model is the fixed-length model of that many epochs
        let fixed = try SafeTensors.read(dir + "/l\(stop).safetensors"), conv = try SafeTensors.read(dir + "/conv.safetensors")
        for (name, t) in fixed.tensors { XCTAssertEqual(conv[name], t, name) }
        // a zero tolerance runs every epoch
        let none = try train(c, epochs: 3, output: dir + "/none.safetensors", convergence: 0)
        XCTAssertEqual(none["epochs"] as? Int, 3); XCTAssertEqual(none["converged"] as? Bool, false)
        // interrupted in epoch 2 (8 batches an epoch), resumed: the same stop and weights
        XCTAssertThrowsError(try train(c, epochs: 6, output: dir + "/r.safetensors", stopAfter: 11, convergence: tol))
        let r = try train(c, epochs: 6, output: dir + "/r.safetensors", resume: true, convergence: tol)
        XCTAssertEqual(r["epochs"] as? Int, stop)
        let rr = try SafeTensors.read(dir + "/r.safetensors")
        for (name, t) in conv.tensors { XCTAssertEqual(rr[name], t, name) }
        // with a 2-epoch KL warm-up, the first comparison is between epochs 3 and 4, even
        // for a tolerance that any two epochs meet
        let warm = try train(c, epochs: 9, output: dir + "/warm.safetensors", convergence: 1e9, warmup: 2)
        XCTAssertEqual(warm["epochs"] as? Int, 4)
        let warmHalf = try train(c, epochs: 9, output: dir + "/warm2.safetensors", convergence: 1e9, warmup: 1.5)
        XCTAssertEqual(warmHalf["epochs"] as? Int, 4, "epoch 2 starts at 1 < 1.5 epochs of warm-up")
        // a resume with another tolerance is refused
        XCTAssertThrowsError(try train(c, epochs: 6, output: dir + "/conv.safetensors", resume: true, convergence: tol * 2))
    }

    /// A NaN loss stops training with a message naming the batch, and writes no model.
    func testDivergenceStopsCleanly() throws {
        let dir = tempDir()
        var c = ModelConfig(architecture: "mlp", latent: 2, inputShape: [1, 28, 28], data: "synthetic", seed: 2)
        c.hidden = [8]
        var bad = try DatasetCatalog.load("synthetic:train[0:200]")
        bad.images.data[5 * 784 + 100] = .nan
        var o = TrainingOptions()
        o.epochs = 1; o.batch = 50; o.output = dir + "/nan.safetensors"; o.validationFraction = 0
        let trainer = try Trainer(model: try VAE(config: c), trainSet: bad, testSet: try DatasetCatalog.load("synthetic:test[0:10]"), options: o)
        assertThrows(try trainer.run(), containing: "training diverged (loss NaN) in epoch 1, batch")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/nan.safetensors"))
    }

    /// Loading builds a Lipschitz-VAE `forLoading` (no initial orthonormalisation of weights the
    /// file replaces): the random stream is the one a fresh model draws (same biases; its raw
    /// weights orthonormalise to the fresh model's), and the loaded model computes what the
    /// saved one did.
    func testLipschitzVAEBuiltForLoadingMatchesTheSavedModel() throws {
        let dir = tempDir()
        var c = ModelConfig(architecture: "mlp", latent: 3, inputShape: [1, 6, 6], data: "synthetic", seed: 5)
        c.hidden = [8]; c.lipschitzDecoder = 4; c.lipschitzMean = 3; c.lipschitzStd = 2; c.groupSize = 2; c.bjorckIterations = 20
        let fresh = try VAE(config: c), light = try VAE(config: c, forLoading: true)
        for ((name, a), (_, b)) in zip(fresh.namedParameters, light.namedParameters) {
            if name.hasSuffix("bias") { XCTAssertEqual(a.value, b.value, name) }
            else { assertClose(b.value.bjorckOrthonormalized(iterations: 30, scaling: .safe), a.value, tol: 1e-6, name) }
        }
        try fresh.save(to: dir + "/f.safetensors")
        let (back, _) = try VAE.load(dir + "/f.safetensors")
        let x = Variable(rng.uniformTensor([2, 1, 6, 6]))
        let (m1, s1) = Autodiff.withoutGradients { fresh.encode(x) }, (m2, s2) = Autodiff.withoutGradients { back.encode(x) }
        assertClose(m2.value, m1.value, tol: 1e-5, "μ"); assertClose(s2.value, s1.value, tol: 1e-5, "σ")
        let z = Variable(rng.normalTensor([2, 3]))
        assertClose(Autodiff.withoutGradients { back.decodeLogits(z).value }, Autodiff.withoutGradients { fresh.decodeLogits(z).value }, tol: 1e-5, "decoder")
    }

    /// A trained Lipschitz-VAE's saved layers have spectral norm ≤ 1 + 1e-3 before scaling,
    /// measured independently by numpy's SVD, and the metadata records them.
    func testLipschitzVAESavedLayersAreOrthonormal() throws {
        let dir = tempDir()
        var c = ModelConfig(architecture: "mlp", latent: 4, inputShape: [1, 28, 28], data: "synthetic", seed: 3)
        c.hidden = [32, 32]; c.lipschitzDecoder = 5; c.lipschitzMean = 5; c.fixedSigma = 0.1; c.groupSize = 2; c.bjorckIterations = 20
        c.likelihood = "cbernoulli"
        let s = try train(c, epochs: 1, output: dir + "/l.safetensors")
        XCTAssertLessThanOrEqual(s["max_spectral_norm"] as! Float, 1.001)
        let (model, file) = try VAE.load(dir + "/l.safetensors")
        XCTAssertEqual(model.config.spectralNorms?.count, 6)
        XCTAssertNil(file["encoder.scale.1.0.weight"], "fixed σ has no scale network")
        let out = try python("""
        import numpy as np, json
        from safetensors.numpy import load_file
        t = load_file('\(dir)/l.safetensors')
        print(max(np.linalg.norm(v.astype(np.float64), 2) for k, v in t.items() if k.endswith('weight')))
        """)
        XCTAssertLessThanOrEqual(Double(out)!, 1.001)
        // the certified bounds lie above every layer's exact largest singular value and near 1
        let bounds = try XCTUnwrap(model.config.spectralNormBounds)
        XCTAssertEqual(bounds.count, 6)
        XCTAssertLessThanOrEqual(s["max_spectral_norm_bound"] as! Float, 1.01)
        let exact = try python("""
        import numpy as np
        from safetensors.numpy import load_file
        t = load_file('\(dir)/l.safetensors')
        print(' '.join(k + '=' + repr(float(np.linalg.norm(v.astype(np.float64), 2))) for k, v in t.items() if k.endswith('weight')))
        """)
        for pair in exact.split(separator: " ") {
            let kv = pair.split(separator: "="), name = String(kv[0])
            let bound = try XCTUnwrap(bounds[name], name)
            XCTAssertGreaterThanOrEqual(Double(bound), Double(kv[1])!, name)
            XCTAssertLessThanOrEqual(Double(model.config.spectralNorms![name]!), Double(kv[1])! * (1 + 1e-5), "power iteration is a lower bound: \(name)")
        }
    }

    /// A Lipschitz-VAE resumed mid-run continues exactly: the loaded weights are the
    /// projected ones, so the resumed steps take the same path (and tangent gradient).
    func testLipschitzResumeContinuesExactly() throws {
        let dir = tempDir()
        var c = ModelConfig(architecture: "mlp", latent: 3, inputShape: [1, 28, 28], data: "synthetic", seed: 6)
        c.hidden = [16, 16]; c.lipschitzDecoder = 4; c.lipschitzMean = 4; c.lipschitzStd = 4; c.groupSize = 2; c.bjorckIterations = 20
        c.bjorckGradient = .tangent
        _ = try train(c, epochs: 2, output: dir + "/a.safetensors")
        XCTAssertThrowsError(try train(c, epochs: 2, output: dir + "/b.safetensors", stopAfter: 11))
        _ = try train(c, epochs: 2, output: dir + "/b.safetensors", resume: true)
        let a = try SafeTensors.read(dir + "/a.safetensors"), b = try SafeTensors.read(dir + "/b.safetensors")
        for (name, t) in a.tensors { XCTAssertEqual(b[name], t, name) }
    }

    func testProVAEAndTCVAETrain() throws {
        let dir = tempDir()
        var c = ModelConfig(architecture: "conv-small", latent: 4, inputShape: [1, 28, 28], data: "synthetic", seed: 4)
        c.hidden = [4, 8]; c.likelihood = "gaussian"; c.sigma0 = 0.5; c.epsTrain = 0.02
        let p = try train(c, epochs: 1, output: dir + "/p.safetensors", objective: "provae", limit: 200)
        XCTAssertLessThanOrEqual(p["test_elbo_bound"] as! Double, p["test_elbo"] as! Double)
        var t = ModelConfig(architecture: "mlp", latent: 3, inputShape: [1, 28, 28], data: "synthetic", seed: 4)
        t.hidden = [16]
        let r = try train(t, epochs: 1, output: dir + "/t.safetensors", objective: "tcvae", limit: 200)
        XCTAssert((r["test_elbo"] as! Double).isFinite)
    }

    func testClassifierLearnsSeparableCodes() {
        var c = ModelConfig(architecture: "linear-classifier", latent: 2, inputShape: [1, 1, 1], data: "t", seed: 1)
        c.classes = 3
        let clf = LatentClassifier(latent: 2, classes: 3, config: c)
        var r = RNG(seed: 5)
        let centers: [(Float, Float)] = [(3, 0), (-3, 0), (0, 3)]
        var labels: [Int] = [], feats: [Float] = []
        for i in 0..<300 { let k = i % 3; labels.append(k); feats += [centers[k].0 + r.normal() * 0.5, centers[k].1 + r.normal() * 0.5] }
        let acc = clf.train(features: Tensor(shape: [300, 2], data: feats), labels: labels, epochs: 10, batch: 32, learningRate: 0.1)
        XCTAssertGreaterThan(acc, 0.97)
        // cross-entropy against the direct formula
        let l = Tensor(shape: [2, 3], data: [1, 2, 3, 0, -1, 5])
        let ce = LatentClassifier.crossEntropy(Variable(l), labels: [0, 2]).value.scalar
        let ref = (log(exp(1.0) + exp(2.0) + exp(3.0)) - 1 + log(exp(0.0) + exp(-1.0) + exp(5.0)) - 5) / 2
        XCTAssertEqual(Double(ce), ref, accuracy: 1e-5)
    }
}
