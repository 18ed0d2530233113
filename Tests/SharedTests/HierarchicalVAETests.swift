import XCTest
import Shared

/// A linear-Gaussian hierarchy: z_2 ~ N(0, I₂), z_1 | z_2 ~ N(A z_2, s₁² I₂),
/// x | z_1 ~ N(W z_1 + b, s² I₃); codes are rows [z_2, z_1] (top first, as the hierarchical
/// VAE stores them), and the joint posterior p(z_2, z_1 | x) is Gaussian in closed form.
struct LinearHierarchy: LatentHierarchy {
    let a: Tensor, w: Tensor, b: Tensor, s1: Float, s: Float
    var codeDimension: Int { 4 }
    func logJoint(_ x: Tensor, codes: Variable) -> Variable {
        let z2 = codes.slice(axis: 1, 0..<2), z1 = codes.slice(axis: 1, 2..<4)
        let r1 = z1 - Variable.linear(z2, weight: Variable(a), bias: nil)
        let r = Variable(x) - Variable.linear(z1, weight: Variable(w), bias: Variable(b))
        return -(z2.square().sum(axis: 1) * 0.5 + r1.square().sum(axis: 1) * (0.5 / (s1 * s1)) + r.square().sum(axis: 1) * (0.5 / (s * s)))
    }
}

/// The hierarchical VAE (paper D section 2.1, 4.3): per-group KLs against NVAE's residual
/// closed form and against the sampled log densities, the K = 1 ELBO against the plain VAE's
/// formula computed in numpy, gradients against finite differences, the importance-sampled
/// bound against the ELBO, and HMC over all levels against a closed-form joint posterior.
final class HierarchicalVAETests: XCTestCase {
    func model(groups: Int, latent: Int = 3, hidden: [Int] = [4, 6, 8], seed: UInt64 = 1, topDown: String? = "residual", latentMap: Int? = nil) throws -> HierarchicalVAE {
        var c = ModelConfig(architecture: "hvae", latent: latent, inputShape: [1, 28, 28], data: "synthetic", seed: seed)
        c.hidden = hidden; c.groups = groups; c.topDown = topDown; c.latentMap = latentMap
        return try HierarchicalVAE(config: c)
    }

    /// Vector groups, and lower groups as C×7×7 latent maps (NVAE's way): most tests run on both.
    let layouts: [Int?] = [nil, 2]

    /// A lower group's code is a C×7×7 map, stored channel by channel and row by row, read by
    /// the 3×3 step convolution and the decoder's two 4×4 stride-2 transposed convolutions:
    /// a change at map cell (0, 0) of z_1 reaches image rows and columns 0…10 only
    /// (3×3: cells ≤ 1; each transposed convolution: row a → rows 2a − 1 … 2a + 2), and does
    /// reach them; a change at cell (6, 6) reaches rows and columns 17…27 only.
    func testLatentMapIsSpatial() throws {
        let m = try model(groups: 2, latentMap: 2)
        XCTAssertEqual(m.groupSizes, [3, 98])
        XCTAssertEqual(m.codeDimension, 101)
        var r = RNG(seed: 5)
        let a = r.normalTensor([1, 101])
        let base = Autodiff.withoutGradients { m.generate(Variable(a)).logits.value }
        for (cell, near) in [(0, 0...10), (48, 17...27)] {
            for channel in 0..<2 {
                var b = a
                b.data[3 + channel * 49 + cell] += 2
                let out = Autodiff.withoutGradients { m.generate(Variable(b)).logits.value }
                var inside: Float = 0, outside: Float = 0
                for y in 0..<28 { for x in 0..<28 {
                    let d = abs(out.data[y * 28 + x] - base.data[y * 28 + x])
                    if near.contains(y) && near.contains(x) { inside = max(inside, d) } else { outside = max(outside, d) }
                } }
                XCTAssertEqual(outside, 0, "cell \(cell) channel \(channel) changed pixels outside \(near)")
                XCTAssertGreaterThan(inside, 1e-4, "cell \(cell) channel \(channel) changed nothing")
            }
        }
    }

    /// The residual top-down state, s_0 = s_1 + relu(linear([s_1, z_1])), against the update of
    /// files written before it, relu(linear([s_1, z_1])): with that linear layer zeroed, the
    /// residual model's image depends on z_2 (through s_1) and not on z_1, and the plain one's
    /// on neither (s_0 = 0).
    func testResidualTopDownState() throws {
        var r = RNG(seed: 8)
        // codes are rows [z_2, z_1]: b changes a's z_1, c its z_2
        let a = r.normalTensor([3, 6])
        func changed(_ columns: Range<Int>) -> Tensor {
            var t = a
            for i in 0..<3 { for j in columns { t.data[i * 6 + j] += 1 } }
            return t
        }
        let b = changed(3..<6), c = changed(0..<3)
        for topDown in ["residual", nil] as [String?] {
            let m = try model(groups: 2, topDown: topDown)
            for (name, p) in m.namedParameters where name.hasPrefix("step.0.") { p.value = Tensor.zeros(p.value.shape) }
            let (la, lb, lc) = Autodiff.withoutGradients { (m.generate(Variable(a)).logits.value, m.generate(Variable(b)).logits.value, m.generate(Variable(c)).logits.value) }
            XCTAssertEqual(la.data, lb.data, "\(topDown ?? "plain"): z_1 changed the image")
            let diff = zip(la.data, lc.data).map { abs($0 - $1) }.max()!
            if topDown == nil { XCTAssertEqual(diff, 0, "plain: z_2 changed the image") }
            else { XCTAssertGreaterThan(diff, 1e-4, "residual: z_2 did not reach the image") }
        }
    }

    /// He's initialisation on the hidden layers (bound √(6 / fan-in)), the default fan-in bound
    /// 1/√fan-in on the heads: the largest |w| of each lies just under its bound.
    func testHiddenLayersStartFromHeInitialisation() throws {
        var weights: [String: Tensor] = [:]
        func check(_ name: String, fanIn: Int, he: Bool) {
            guard let w = weights[name] else { return XCTFail("no \(name) in \(weights.keys.sorted())") }
            let bound = (he ? Float(6) : 1) .squareRoot() / Float(fanIn).squareRoot()
            let top = w.data.map(abs).max()!
            XCTAssertLessThanOrEqual(top, bound, name)
            XCTAssertGreaterThan(top, 0.9 * bound, name)
        }
        let m = try model(groups: 2, hidden: [8, 16, 32])
        weights = Dictionary(uniqueKeysWithValues: m.namedParameters.map { ($0.name, $0.variable.value) })
        check("bottom_up.0.weight", fanIn: 9, he: true)
        check("bottom_up.2.weight", fanIn: 8 * 9, he: true)
        check("bottom_up.5.weight", fanIn: 16 * 49, he: true)
        check("up.0.weight", fanIn: 32, he: true)
        check("step.0.weight", fanIn: 32 + 3, he: true)
        check("top_step.weight", fanIn: 3, he: true)
        check("decoder.0.weight", fanIn: 32, he: true)
        check("decoder.3.weight", fanIn: 8 * 16, he: true)   // PyTorch's transposed fan-in: out channels × k²
        check("posterior.0.weight", fanIn: 64, he: false)
        check("prior.0.weight", fanIn: 32, he: false)
        check("top_posterior.weight", fanIn: 32, he: false)
        // latent maps: 3×3 convolutions on the 64-channel state map and 16-channel features
        let lm = try model(groups: 3, hidden: [8, 16, 32], latentMap: 2)
        weights = Dictionary(uniqueKeysWithValues: lm.namedParameters.map { ($0.name, $0.variable.value) })
        check("up.0.0.weight", fanIn: 16 * 9, he: true)
        check("step.0.0.weight", fanIn: (64 + 2) * 9, he: true)
        check("top_step.weight", fanIn: 3, he: true)
        check("decoder.0.weight", fanIn: 8 * 16, he: true)
        check("decoder.2.weight", fanIn: 16, he: false)
        check("posterior.1.0.weight", fanIn: (64 + 16) * 9, he: false)
        check("prior.0.0.weight", fanIn: 64 * 9, he: false)
        XCTAssertNil(weights["up.1.0.weight"], "K − 2 bottom-up convolutions")
    }
    func images(_ n: Int) throws -> Tensor { try DatasetCatalog.load("synthetic:test[0:\(n)]").images }

    /// KL(N(μ_p + Δμ, σ_p Δσ) ‖ N(μ_p, σ_p)) = Σ −log Δσ + ½(Δσ² + (Δμ/σ_p)²) − ½ (NVAE), in double.
    func testGroupKLMatchesTheResidualNormalClosedForm() throws {
        for layout in layouts { try groupKLMatchesTheResidualNormalClosedForm(latentMap: layout) }
    }
    func groupKLMatchesTheResidualNormalClosedForm(latentMap: Int?) throws {
        let m = try model(groups: 3, latentMap: latentMap)
        var rng = RNG(seed: 4)
        let x = Variable(try images(5))
        let (groups, _) = m.topDown(features: m.features(x), rng: &rng) { _ in .sample }
        XCTAssertEqual(groups.count, 3)
        XCTAssertNil(groups[0].priorMu, "the top group's prior is N(0, I)")
        for (k, g) in groups.enumerated() {
            let kl = g.kl.value, size = m.groupSizes[k]
            XCTAssertEqual(g.mu.shape, [5, size])
            for i in 0..<5 {
                var expected = 0.0
                for j in 0..<size {
                    let e = i * size + j
                    let mu = Double(g.mu.value.data[e]), sigma = Double(g.sigma.value.data[e])
                    let pm: Double = g.priorMu.map { Double($0.value.data[e]) } ?? 0
                    let ps: Double = g.priorSigma.map { Double($0.value.data[e]) } ?? 1
                    let dmu: Double = mu - pm, dsigma: Double = sigma / ps
                    let quadratic: Double = dsigma * dsigma + (dmu / ps) * (dmu / ps)
                    expected += -Foundation.log(dsigma) + 0.5 * quadratic - 0.5
                }
                XCTAssertEqual(Double(kl.data[i]), expected, accuracy: 1e-4 * max(1, abs(expected)), "latent map \(latentMap ?? 0): group \(k) image \(i)")
            }
        }
    }

    /// The ELBO with analytic KLs and the sampled log p(x, z) − log q(z | x) estimate the same
    /// number: their paired difference averages to zero within Monte Carlo error (K = 1, 3).
    func testAnalyticKLsAgreeWithTheSampledDensities() throws {
        for (k, latentMap) in [(1, nil), (3, nil), (3, 1)] as [(Int, Int?)] {
            let m = try model(groups: k, latentMap: latentMap)
            let n = 4000
            let x = Variable(try images(1).gatherRows([Int](repeating: 0, count: n)))
            var rng = RNG(seed: 9)
            let groups = Autodiff.withoutGradients { m.topDown(features: m.features(x), rng: &rng) { _ in .sample } }.groups
            var diffs = [Double](repeating: 0, count: n)
            for g in groups {
                let (kl, lp, lq) = (g.kl.value, g.logPrior.value, g.logPosterior.value)
                for i in 0..<n { diffs[i] += -Double(kl.data[i]) - (Double(lp.data[i]) - Double(lq.data[i])) }
            }
            let mean = diffs.reduce(0, +) / Double(n)
            let sd = (diffs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)).squareRoot()
            XCTAssertEqual(mean, 0, accuracy: 4 * sd / Double(n).squareRoot() + 1e-4, "K = \(k), latent map \(latentMap ?? 0): mean difference (sd \(sd))")
        }
    }

    /// With one group the model's ELBO is the plain VAE's: log p(x|z) − KL(q(z|x) ‖ N(0, I))
    /// with the Bernoulli log-likelihood, recomputed in numpy from the model's μ, σ, z and logits.
    func testOneGroupELBOIsThePlainVAEs() throws {
        let m = try model(groups: 1)
        let x = try images(4)
        var rng = RNG(seed: 2)
        let t = m.elboTerms(Variable(x), rng: &rng)
        rng = RNG(seed: 2)
        let (groups, logits) = m.topDown(features: m.features(Variable(x)), rng: &rng) { _ in .sample }
        let elbo = (t.logpx - t.kl[0]).value
        let out = try python("""
        import numpy as np
        x = np.array(\(x.data)).reshape(4, -1); l = np.array(\(logits.value.data)).reshape(4, -1)
        mu = np.array(\(groups[0].mu.value.data)).reshape(4, -1); s = np.array(\(groups[0].sigma.value.data)).reshape(4, -1)
        logpx = (x * l - np.logaddexp(0, l)).sum(1)
        kl = 0.5 * (mu**2 + s**2 - 1 - 2 * np.log(s)).sum(1)
        print(' '.join(map(str, logpx - kl)))
        """).split(separator: " ").map { Float($0)! }
        for i in 0..<4 { XCTAssertEqual(elbo.data[i], out[i], accuracy: 1e-3 * abs(out[i]), "image \(i)") }
        XCTAssertEqual(t.codes.shape, [4, 3])
    }

    /// The generative path at given codes (`generate`, `logJoint`, what HMC and decode use)
    /// retraces the inference path: the codes of a top-down sample, stored top group first,
    /// give back its logits and its priors.
    func testGenerativePathRetracesInference() throws {
        for layout in layouts { try generativePathRetracesInference(latentMap: layout) }
    }
    func generativePathRetracesInference(latentMap: Int?) throws {
        let m = try model(groups: 3, latentMap: latentMap)
        let x = Variable(try images(4))
        var rng = RNG(seed: 6)
        let (g, logits) = Autodiff.withoutGradients { m.topDown(features: m.features(x), rng: &rng) { _ in .sample } }
        let codes = Variable.concat(g.map(\.z), axis: 1)
        let (back, backLogits) = Autodiff.withoutGradients { m.generate(codes) }
        assertClose(backLogits.value, logits.value, tol: 1e-5, "logits")
        for k in 0..<3 { assertClose(back[k].logPrior.value, g[k].logPrior.value, tol: 1e-5, "log prior of group \(k)") }
        XCTAssertEqual(back[0].mu.shape, [4, 3], "the top group's prior has the batch's rows")
        let joint = g.reduce(m.likelihood.logProb(x, logits: logits)) { $0 + $1.logPrior }
        assertClose(Autodiff.withoutGradients { m.logJoint(x.value, codes: codes) }.value, joint.value, tol: 1e-5, "log p(x, z)")
        // and decode of the full codes is the decoder mean of those logits
        assertClose(m.decoderMeans(codes.value), logits.sigmoid().value, tol: 1e-5, "decode")
        // log p(x | z) at the codes (vae-eval log-likelihood), in batches smaller than N, is
        // log p(x, z) − Σ_k log p(z_k | z_>k)
        let lp = m.reconstructionLogLikelihood(x.value, codes: codes.value, batch: 3)
        let priors = g.reduce(Tensor.zeros([4])) { $0 + $1.logPrior.value }
        let expected = Autodiff.withoutGradients { m.logJoint(x.value, codes: codes) }.value - priors
        for i in 0..<4 { XCTAssertEqual(lp[i], Double(expected.data[i]), accuracy: 1e-3 * max(1, abs(lp[i])), "log p(x|z), image \(i)") }
    }

    /// U(z) = −log p(x|z) − Σ log p(z_k|z_>k) and its gradient in the codes, and the ELBO's
    /// gradient in the images, against finite differences.
    func testGradientsMatchFiniteDifferences() throws {
        for layout in layouts { try gradientsMatchFiniteDifferences(latentMap: layout.map { _ in 1 }) }
    }
    func gradientsMatchFiniteDifferences(latentMap: Int?) throws {
        let m = try model(groups: latentMap == nil ? 3 : 2, latent: 2, hidden: [2, 3, 5], latentMap: latentMap)
        // at He's scale, this tiny random network's ELBO bends so sharply (ReLU kinks and
        // large curvature within 1e-2 of the images, where float differences cannot go much
        // finer) that central differences are chords; at a smaller scale they are
        // derivatives. Every weight is scaled down by √6 here; the gradient code is the same at
        // any scale.
        for (name, p) in m.namedParameters where name.hasSuffix("weight") { p.value = p.value * (1 / Float(6).squareRoot()) }
        m.freeze()
        let x = try images(2)
        var r = RNG(seed: 3)
        let codes = r.normalTensor([2, m.codeDimension])
        gradCheck([codes], h: 1e-2, tol: 2e-2) { HierarchicalPosteriorEnergy(model: m, inputs: x, frozen: true)($0[0]) }
        gradCheck([x], h: 1e-2, tol: 2e-2) { v in
            var rng = RNG(seed: 5)
            let t = m.elboTerms(v[0], rng: &rng)
            return t.kl.reduce(t.logpx) { $0 - $1 }
        }
    }

    /// The importance-sampled bound over all levels: with one sample it is the sampled
    /// log p(x, z) − log q(z|x) itself, and with 64 it lies above the ELBO (IWAE NLL ≤ −ELBO).
    func testImportanceBoundOverAllLevels() throws {
        for layout in layouts { try importanceBoundOverAllLevels(latentMap: layout) }
    }
    func importanceBoundOverAllLevels(latentMap: Int?) throws {
        let m = try model(groups: 3, latentMap: latentMap)
        let x = Variable(try images(6))
        var a = RNG(seed: 8), b = RNG(seed: 8)
        let one = Autodiff.withoutGradients { m.importanceLogLikelihood(x, samples: 1, rng: &a).value }
        let (groups, logits) = Autodiff.withoutGradients { m.topDown(features: m.features(x), rng: &b) { _ in .sample } }
        let joint = groups.reduce(m.likelihood.logProb(x, logits: logits)) { $0 + $1.logPrior - $1.logPosterior }.value
        assertClose(one, joint, tol: 1e-4, "one-sample bound")
        var rng = RNG(seed: 10)
        let iwae = Autodiff.withoutGradients { m.importanceLogLikelihood(x, samples: 64, rng: &rng).value }
        var elbo = [Double](repeating: 0, count: 6)
        for _ in 0..<64 {
            let t = Autodiff.withoutGradients { m.elboTerms(x, rng: &rng) }
            let e = t.kl.reduce(t.logpx) { $0 - $1 }.value
            for i in 0..<6 { elbo[i] += Double(e.data[i]) / 64 }
        }
        for i in 0..<6 { XCTAssertGreaterThan(Double(iwae.data[i]), elbo[i], "image \(i): IWAE \(iwae.data[i]) vs ELBO \(elbo[i])") }
    }

    /// HMC over all levels at once (paper D section 3.2) on the linear-Gaussian hierarchy:
    /// 3000 chains' final states against the joint posterior's mean and covariance (numpy).
    func testHMCMatchesTheClosedFormJointPosterior() throws {
        var r = RNG(seed: 12)
        let h = LinearHierarchy(a: r.normalTensor([2, 2]) * 0.7, w: r.normalTensor([3, 2]) * 0.8, b: r.normalTensor([3]), s1: 0.8, s: 0.7)
        let n = 3000, x1 = r.normalTensor([1, 3])
        let u = HierarchicalPosteriorEnergy(model: h, inputs: x1.gatherRows([Int](repeating: 0, count: n)), frozen: true)
        let out = try python("""
        import numpy as np
        A = np.array(\(h.a.data)).reshape(2, 2); W = np.array(\(h.w.data)).reshape(3, 2); b = np.array(\(h.b.data)); x = np.array(\(x1.data))
        s1, s = \(h.s1), \(h.s)
        # -log p = 1/2 z2'z2 + |z1 - A z2|^2/(2 s1^2) + |x - W z1 - b|^2/(2 s^2), codes [z2, z1]
        P = np.zeros((4, 4))
        P[:2, :2] = np.eye(2) + A.T @ A / s1**2
        P[:2, 2:] = -A.T / s1**2; P[2:, :2] = -A / s1**2
        P[2:, 2:] = np.eye(2) / s1**2 + W.T @ W / s**2
        hvec = np.concatenate([np.zeros(2), W.T @ (x - b) / s**2])
        C = np.linalg.inv(P); m = C @ hvec
        print(' '.join(map(str, list(m) + list(C.ravel()))))
        """).split(separator: " ").map { Double($0)! }
        let (mean, cov) = (Array(out[0..<4]), Array(out[4..<20]))
        var s = HMCSettings()
        s.steps = 60; s.leapfrog = 3; s.stepSize = 0.3; s.seed = 3
        let res = HMC.sample(u, from: r.normalTensor([n, 4]), parameters: [], settings: s)
        assertGaussianMoments(res.z, mean: mean, covariance: cov, "joint posterior")
    }

    /// The skl attack on the top groups (paper D section 4.3): the results lie in the L∞ ball
    /// and the pixel box, the reported objective is the sum of the top groups' symmetric KLs
    /// recomputed at the result, and the attack raises it above the clean value (zero).
    func testTopGroupAttack() throws {
        for layout in layouts { try topGroupAttack(latentMap: layout) }
    }
    func topGroupAttack(latentMap: Int?) throws {
        let m = try model(groups: 3, latentMap: latentMap)
        m.freeze()
        let refs = try images(6)
        var s = AttackSettings(kind: .skl)
        s.radius = 0.1; s.step = 0.01; s.steps = 20
        let res = Attack.runTopGroups(m, references: refs, topGroups: 2, settings: s)
        for i in 0..<refs.count {
            XCTAssertLessThanOrEqual(abs(res.images.data[i] - refs.data[i]), 0.1 + 1e-6)
            XCTAssert((0...1).contains(res.images.data[i]))
        }
        var none = RNG(seed: 0)
        let (a, r) = Autodiff.withoutGradients {
            (m.topDown(features: m.features(Variable(res.images)), rng: &none) { _ in .mean }.groups,
             m.topDown(features: m.features(Variable(refs)), rng: &none) { _ in .mean }.groups)
        }
        let skl = (0..<2).map { DiagonalGaussian.symmetricKL(mu1: a[$0].mu, sigma1: a[$0].sigma, mu2: r[$0].mu, sigma2: r[$0].sigma).value }
        // a random point of the ball, for comparison
        var g = RNG(seed: 21)
        let noisy = (refs + g.uniformTensor(refs.shape, -0.1, 0.1)).map { min(max($0, 0), 1) }
        let b = Autodiff.withoutGradients { m.topDown(features: m.features(Variable(noisy)), rng: &none) { _ in .mean }.groups }
        let random = (0..<2).map { DiagonalGaussian.symmetricKL(mu1: b[$0].mu, sigma1: b[$0].sigma, mu2: r[$0].mu, sigma2: r[$0].sigma).value }
        for i in 0..<6 {
            let expected = Double(skl[0].data[i] + skl[1].data[i])
            XCTAssertEqual(res.objective[i], expected, accuracy: 1e-3 * max(1, expected), "image \(i)")
            XCTAssertGreaterThan(res.objective[i], 2 * Double(random[0].data[i] + random[1].data[i]), "image \(i): attack against a random point")
        }
    }

    /// vae-train's path: a short run of the hierarchical model raises its ELBO, and the file
    /// round-trips (weights by name, the group count in the configuration).
    func testTrainsAndRoundTrips() throws {
        for layout in layouts { try trainsAndRoundTrips(latentMap: layout) }
    }
    func trainsAndRoundTrips(latentMap: Int?) throws {
        let m = try model(groups: 2, latent: 4, hidden: [8, 16, 32], latentMap: latentMap)
        let test = try DatasetCatalog.load("synthetic:test[0:100]")
        let before = m.evaluate(test.images).elbo
        var o = TrainingOptions()
        o.epochs = 2; o.batch = 64; o.output = tempDir() + "/h.safetensors"; o.trainLimit = 800; o.klWarmupEpochs = 1
        _ = try Trainer(model: m, trainSet: try DatasetCatalog.load("synthetic:train"), testSet: test, options: o).run()
        let after = m.evaluate(test.images).elbo
        XCTAssertGreaterThan(after, before + 10, "ELBO \(before) → \(after)")
        let file = try SafeTensors.read(o.output)
        let config = try ModelConfig.from(file, name: o.output)
        XCTAssertEqual(config.groups, 2)
        XCTAssertEqual(config.latentMap, latentMap)
        XCTAssertEqual(config.training?.klWarmupEpochs, 1)
        let back = try HierarchicalVAE(config: config)
        try back.loadWeights(from: file, name: o.output)
        XCTAssertEqual(back.evaluate(test.images, seed: 3).elbo, m.evaluate(test.images, seed: 3).elbo, accuracy: 1e-6)
    }
}
