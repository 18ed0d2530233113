import XCTest
import Shared

/// Paper A's certificates: Lemma 1.1's m₁ against the values its derivation gives, m₂ against
/// a scan of p₂ in numpy, Theorem 2 as Lemma 1.1 with c = 0, and Theorem 1's bound below a
/// Monte Carlo estimate of the probability it bounds.
final class CertifyTests: XCTestCase {
    let ten = LipschitzConstants(a: 10, b: 10, c: 10)

    func testM1FromP1() {
        // a = b = c = 10, r = 8: m₁ = 0.04 at ‖σ‖ = 0, 0.03469 at 0.05, 0.02873 at 0.1, 0.01464 at 0.2
        for (s, m) in [(0.0, 0.04), (0.05, 0.034686), (0.1, 0.028730), (0.2, 0.014641)] {
            let m1 = LipschitzMargins.m1(r: 8, ten, sigmaNorm: s)
            XCTAssertEqual(m1, m, accuracy: 1e-6, "m1 at ‖σ‖ = \(s)")
            // it is where p₁ reaches 1/2
            XCTAssertEqual(LipschitzMargins.p1(r: 8, ten, sigmaNorm: s, deltaNorm: m1), 0.5, accuracy: 1e-9)
        }
        XCTAssertEqual(LipschitzMargins.m1(r: 8, ten, sigmaNorm: 0.3), 0, "4‖σ‖² ≥ (r/a)²/2: nothing certified by p₁")
        // a higher threshold certifies less
        XCTAssertLessThan(LipschitzMargins.m1(r: 8, ten, sigmaNorm: 0.05, threshold: 0.9), LipschitzMargins.m1(r: 8, ten, sigmaNorm: 0.05))
    }

    /// m₂ against the first ‖δ‖ of a fine numpy scan where p₂ (written out again in numpy)
    /// exceeds 1 − t, and p₂ non-decreasing along the scan.
    func testM2ByBisectionMatchesAScan() throws {
        for (k, s, d, t) in [(LipschitzConstants(a: 2, b: 2, c: 1), 0.05, 5, 0.5), (LipschitzConstants(a: 3, b: 1.5, c: 0.5), 0.1, 10, 0.5),
                             (LipschitzConstants(a: 2, b: 2, c: 1), 0.05, 5, 0.8), (LipschitzConstants(a: 1, b: 2, c: 0), 0.2, 3, 0.5)] {
            let r = 4.0
            let m2 = LipschitzMargins.m2(r: r, k, sigmaNorm: s, latent: d, threshold: t)
            XCTAssertGreaterThan(m2, 0)
            XCTAssertLessThanOrEqual(LipschitzMargins.p2(r: r, k, sigmaNorm: s, deltaNorm: m2, latent: d), 1 - t)
            XCTAssertGreaterThan(LipschitzMargins.p2(r: r, k, sigmaNorm: s, deltaNorm: m2 * (1 + 1e-6), latent: d), 1 - t)
            let out = try python("""
            import numpy as np, math
            a, b, c, s, d, r, t = \(k.a), \(k.b), \(k.c), \(s), \(d), \(r), \(t)
            D = np.linspace(0, r / (a * b), 2000001)
            base = r / a - b * D; u = base**2 / (c * D + 2 * s)**2
            C = math.exp(0.5 * (d - (d - 1) * math.log(d))) / math.sqrt(math.pi)
            with np.errstate(all='ignore'):
                g = np.where(u > d - 2, C * u**(d / 2) * np.exp(-u / 2) / (u - d + 2), 1.0)
            p2 = np.minimum(1, np.where(base >= 0, g, 1.0))
            assert (np.diff(p2) >= -1e-12).all(), 'p2 not monotone'
            print(D[np.argmax(p2 > 1 - t)])
            """)
            let scan = Double(out)!
            XCTAssertEqual(m2, scan, accuracy: 2 * (4.0 / (k.a * k.b)) / 2e6 + 1e-12, "m2 for \(k), ‖σ‖ \(s), d \(d), t \(t)")
        }
    }

    func testTheorem2IsLemma11WithAFixedSigma() {
        let (r, a, b, s, d) = (8.0, 10.0, 10.0, 0.05, 5)
        let global = LipschitzMargins.globalMargin(r: r, a: a, b: b, sigmaNorm: s, latent: d)
        XCTAssertEqual(global, LipschitzMargins.margin(r: r, LipschitzConstants(a: a, b: b, c: 0), sigmaNorm: s, latent: d))
        // Theorem 2's m₁ in closed form
        XCTAssertEqual(LipschitzMargins.m1(r: r, LipschitzConstants(a: a, b: b, c: 0), sigmaNorm: s), (0.5 * (r / a) * (r / a) - 4 * s * s).squareRoot() / b, accuracy: 1e-12)
        XCTAssertGreaterThanOrEqual(global, LipschitzMargins.margin(r: r, ten, sigmaNorm: s, latent: d), "an input-dependent σ (c > 0) certifies less")
    }

    /// Theorem 1 on a linear VAE whose constants are known exactly: decoder g(z) = A z with
    /// ‖A‖₂ = a, encoder mean B x with ‖B‖₂ = b, a fixed σ (c = 0). The bound stays below the
    /// Monte Carlo probability (numpy, 400k draws) at every perturbation size.
    func testTheorem1BoundsTheProbability() throws {
        let (a, b, s, d, r) = (1.5, 2.0, 0.3, 4, 2.0)
        let sizes = [0.0, 0.1, 0.2, 0.4, 0.6]
        let out = try python("""
        import numpy as np
        rng = np.random.default_rng(3)
        dz, dx = \(d), 6
        def scaled(m, n, norm):
            M = rng.standard_normal((m, n)); return M * (norm / np.linalg.norm(M, 2))
        A, B = scaled(8, dz, \(a)), scaled(dz, dx, \(b))
        sigma = np.full(dz, \(s) / np.sqrt(dz))
        x = rng.standard_normal(dx)
        res = []
        for size in \(sizes):
            # the worst direction for the mean shift: B's top right singular vector
            _, _, vt = np.linalg.svd(B); delta = vt[0] * size
            n = 400000
            z1 = B @ (x + delta) + sigma * rng.standard_normal((n, dz)); z0 = B @ x + sigma * rng.standard_normal((n, dz))
            res.append(np.mean(np.linalg.norm((z1 - z0) @ A.T, axis=1) <= \(r)))
        print(' '.join(map(str, res)))
        """).split(separator: " ").map { Double($0)! }
        for (size, p) in zip(sizes, out) {
            let bound = LipschitzMargins.probabilityBound(r: r, LipschitzConstants(a: a, b: b, c: 0), sigmaNorm: s, deltaNorm: size, latent: d)
            XCTAssertLessThanOrEqual(bound, p + 0.003, "‖δ‖ = \(size): bound \(bound), Monte Carlo \(p)")
        }
        XCTAssertGreaterThan(LipschitzMargins.probabilityBound(r: r, LipschitzConstants(a: a, b: b, c: 0), sigmaNorm: s, deltaNorm: 0, latent: d), 0.3, "the bound says something")
    }

    /// Every layer's bounds against numpy's SVD (lower ≤ σ_max ≤ upper), the network constants
    /// as products of them (with the final sigmoid's ¼), and a Lipschitz-VAE's Björck layers
    /// at their scale.
    func testWeightBoundsBracketTheSingularValues() throws {
        var c = ModelConfig(architecture: "mlp", latent: 3, inputShape: [1, 4, 4], data: "t", seed: 4)
        c.hidden = [8, 6]
        for lipschitz in [nil, Float(2)] {
            c.lipschitzDecoder = lipschitz; c.lipschitzMean = lipschitz; c.lipschitzStd = lipschitz
            let vae = try VAE(config: c)
            let (dec, mean, sigma) = try XCTUnwrap(WeightCertificate.measure(vae))
            let dir = tempDir()
            // the applied weights, exported for numpy
            var applied: [Tensor] = []
            func collect(_ l: any Layer) {
                if let s = l as? Sequential { s.layers.forEach(collect) }
                else if let w = l as? Linear { applied.append(w.weight.value) }
                else if let w = l as? BjorckLinear { applied.append(Autodiff.withoutGradients { w.effectiveWeight().value }) }
            }
            collect(vae.decoder); collect(vae.encoder.meanHead); collect(vae.encoder.scaleHead!)
            let all = dec.layers + mean.layers + sigma.layers
            XCTAssertEqual(applied.count, all.count)
            for (k, w) in applied.enumerated() { try Npy.write(w, to: "\(dir)/w\(k).npy") }
            let svd = try python("""
            import numpy as np
            print(' '.join(str(np.linalg.norm(np.load('\(dir)/w%d.npy' % k).astype(np.float64), 2)) for k in range(\(applied.count))))
            """).split(separator: " ").map { Double($0)! }
            for (b, s) in zip(all, svd) {
                XCTAssertLessThanOrEqual(b.lower, s * (1 + 1e-5), "\(b.name) lower")
                XCTAssertGreaterThanOrEqual(b.upper, s, "\(b.name) upper")
                XCTAssertLessThanOrEqual(b.upper, s * 1.5, "\(b.name) upper is not absurdly loose")
                if lipschitz != nil { XCTAssertEqual(s, pow(2, 1.0 / 3), accuracy: 2e-3, "Björck layer at scale 2^(1/3)") }
            }
            let product = { (l: [LayerBound]) in l.reduce(1.0) { $0 * $1.upper } }
            XCTAssertEqual(dec.lipschitz, product(dec.layers) / 4, accuracy: 1e-12)
            XCTAssertEqual(mean.lipschitz, product(mean.layers), accuracy: 1e-12)
            XCTAssertEqual(sigma.lipschitz, product(sigma.layers) / 4, accuracy: 1e-12)
            if lipschitz != nil { XCTAssertEqual(dec.beforeSigmoid, 2, accuracy: 5e-3) }
        }
    }

    /// A convolution's bound √(kh·kw)·‖W_mat‖ stays above its operator norm, estimated by
    /// power iteration on KᵀK through the op (without bias: the bound is on the linear part) and
    /// its gradient.
    func testConvolutionBoundIsAboveItsOperatorNorm() throws {
        var r = RNG(seed: 12)
        for (conv, shape) in [(Conv2d(3, 5, kernel: 3, stride: 2, padding: 1, bias: false, rng: &r), [1, 3, 9, 9]), (Conv2d(2, 4, kernel: 3, stride: 1, padding: 1, bias: false, rng: &r), [1, 2, 8, 8])] {
            conv.freeze()
            let bound = try XCTUnwrap(WeightCertificate.bounds(conv)).first!.upper
            var v = r.normalTensor(shape)
            var norm = 0.0
            for _ in 0..<200 {
                let g = Autodiff.pullback(at: v) { conv($0) }
                let kv = g.value
                let ktkv = g(kv)
                norm = Double(kv.map { $0 * $0 }.sum()).squareRoot() / Double(v.map { $0 * $0 }.sum()).squareRoot()
                v = ktkv * (1 / ktkv.map { $0 * $0 }.sum().squareRoot())
            }
            XCTAssertGreaterThan(norm, 0)
            XCTAssertGreaterThanOrEqual(bound, norm * (1 - 1e-4), "conv operator norm \(norm) within its bound \(bound)")
        }
    }

    func testMismatchesAreReportedBeyondTheTolerance() {
        let m = WeightCertificate.mismatches([("decoder", 5, 5.04), ("encoder_mean", 5, 5.2), ("encoder_sigma", nil, 100)])
        XCTAssertEqual(m, ["encoder_mean measures 5.2 but claims 5.0"])
    }

    /// Paper C's bound holds pointwise in ε: for the draw it uses, it lies below the ELBO sample
    /// of every input in the ball (random points, and the ball's corners towards the box's ends):
    /// the ball clipped to [0, 1] by default, and the whole ball, x ± ε, without the pixel box.
    func testIBPBoundIsBelowTheELBOOfEveryPointOfTheBall() throws {
        var c = ModelConfig(architecture: "mlp", latent: 3, inputShape: [1, 4, 4], data: "t", seed: 6)
        c.hidden = [8]
        let vae = try VAE(config: c)
        vae.freeze()
        var r = RNG(seed: 2)
        let x = r.uniformTensor([4, 1, 4, 4])
        let eps: Float = 0.05
        var g = RNG(seed: 5)
        let bound = Autodiff.withoutGradients { vae.elboLowerBound(Variable(x), epsilon: eps, rng: &g).bound.value }
        var g1 = RNG(seed: 5)
        let wholeBall = Autodiff.withoutGradients { vae.elboLowerBound(Variable(x), epsilon: eps, pixelBox: false, rng: &g1).bound.value }
        var g2 = RNG(seed: 5)
        let noise = g2.normalTensor([4, 3])  // the draw the bounds used
        var leftTheBox = 0
        for trial in 0..<120 {
            var xp = x + r.uniformTensor(x.shape, -eps, eps)
            if trial % 60 < 2 { xp = x + Tensor(shape: x.shape, repeating: trial % 60 == 0 ? eps : -eps) }
            let clipped = trial < 60
            if clipped { xp = xp.map { Swift.min(Swift.max($0, 0), 1) } } else if xp.data.contains(where: { $0 < 0 || $0 > 1 }) { leftTheBox += 1 }
            let elbo = Autodiff.withoutGradients { () -> Tensor in
                let (mu, sigma) = vae.encode(Variable(xp))
                let z = mu + sigma * Variable(noise)
                return (vae.likelihood.logProb(Variable(xp), logits: vae.decodeLogits(z)) - DiagonalGaussian.klToStandard(mu: mu, sigma: sigma)).value
            }
            for i in 0..<4 {
                if clipped { XCTAssertLessThanOrEqual(bound.data[i], elbo.data[i] + 1e-3, "image \(i), point \(trial)") }
                XCTAssertLessThanOrEqual(wholeBall.data[i], elbo.data[i] + 1e-3, "whole ball: image \(i), point \(trial)")
            }
        }
        XCTAssertGreaterThan(leftTheBox, 30, "the whole-ball points must leave [0, 1] for the test to mean anything")
        // interval arithmetic is monotone under inclusion: the whole ball's bound is the looser,
        // strictly where the ball leaves the box, and the same where it lies inside it
        for i in 0..<4 { XCTAssertLessThan(wholeBall.data[i], bound.data[i] - 1e-4, "image \(i)") }
        let inner = x.map { 0.1 + 0.8 * $0 }  // in [0.1, 0.9]: the ball of 0.05 lies inside the box
        var g5 = RNG(seed: 5), g6 = RNG(seed: 5)
        let innerBox = Autodiff.withoutGradients { vae.elboLowerBound(Variable(inner), epsilon: eps, rng: &g5).bound.value }
        let innerWhole = Autodiff.withoutGradients { vae.elboLowerBound(Variable(inner), epsilon: eps, pixelBox: false, rng: &g6).bound.value }
        assertClose(innerWhole, innerBox, tol: 1e-5, "a ball inside the box")
        // at ε = 0 the bound is the ELBO sample itself
        var g3 = RNG(seed: 5), g4 = RNG(seed: 5)
        let b0 = Autodiff.withoutGradients { vae.elboLowerBound(Variable(x), epsilon: 0, rng: &g3).bound.value }
        let noise0 = g4.normalTensor([4, 3])
        let e0 = Autodiff.withoutGradients { () -> Tensor in
            let (mu, sigma) = vae.encode(Variable(x))
            return (vae.likelihood.logProb(Variable(x), logits: vae.decodeLogits(mu + sigma * Variable(noise0))) - DiagonalGaussian.klToStandard(mu: mu, sigma: sigma)).value
        }
        assertClose(b0, e0, tol: 1e-3, "bound at ε = 0")
    }

    /// Theorem 1 on a trained Lipschitz-VAE (M = 2, fixed σ), with the constants `weights`
    /// measures: the bound never exceeds the sampled probability P[‖g(z_δ) − g(z)‖₂ ≤ r] for
    /// perturbations of several sizes, in random directions and in the direction of a
    /// maximum-damage attack.
    func testTheorem1HoldsOnATrainedLipschitzVAE() throws {
        var c = ModelConfig(architecture: "mlp", latent: 3, inputShape: [1, 28, 28], data: "synthetic", seed: 7)
        c.hidden = [32]; c.lipschitzDecoder = 2; c.lipschitzMean = 2; c.fixedSigma = 0.05
        let vae = try VAE(config: c)
        var o = TrainingOptions()
        o.epochs = 1; o.batch = 64; o.output = tempDir() + "/l.safetensors"; o.trainLimit = 500
        _ = try Trainer(model: vae, trainSet: try DatasetCatalog.load("synthetic:train"),
                        testSet: try DatasetCatalog.load("synthetic:test[0:20]"), options: o).run()
        vae.freeze()
        let (dec, mean, _) = try XCTUnwrap(WeightCertificate.measure(vae))
        let k = LipschitzConstants(a: dec.lipschitz, b: mean.lipschitz, c: 0)
        let x = try DatasetCatalog.load("synthetic:test[0:4]").images
        let s = 0.05 * Double(3).squareRoot(), r = 0.3, draws = 2000
        var rng = RNG(seed: 8)
        var a = AttackSettings(kind: .maxDamage)
        a.norm = .l2; a.steps = 20; a.samples = 0; a.through = .mu
        var checked = 0
        for size in [0.05, 0.1, 0.3, 0.6] {
            a.radius = Float(size); a.step = Float(size) / 10
            let attacked = Attack.run(vae, references: x, settings: a).images - x
            for direction in [rng.normalTensor(x.shape), attacked] {
                // δ of norm `size` per image (the attack's may be shorter: scaled up, still in [0, 1] or not, it is a perturbation)
                var delta = direction
                let d = delta.count / 4
                for i in 0..<4 {
                    let n = (0..<d).reduce(0.0) { $0 + Double(delta.data[i * d + $1] * delta.data[i * d + $1]) }.squareRoot()
                    for j in 0..<d { delta.data[i * d + j] *= Float(size / max(n, 1e-12)) }
                }
                let bound = LipschitzMargins.probabilityBound(r: r, k, sigmaNorm: s, deltaNorm: size, latent: 3)
                let (mu1, s1) = Autodiff.withoutGradients { vae.encode(Variable(x + delta)) }
                let (mu0, s0) = Autodiff.withoutGradients { vae.encode(Variable(x)) }
                var within = [Int](repeating: 0, count: 4)
                for _ in 0..<(draws / 100) {
                    let rows = (0..<400).map { $0 / 100 }
                    let g1 = Autodiff.withoutGradients { vae.decodeMean(Variable(mu1.value.gatherRows(rows)) + Variable(s1.value.gatherRows(rows)) * Variable(rng.normalTensor([400, 3]))).value }
                    let g0 = Autodiff.withoutGradients { vae.decodeMean(Variable(mu0.value.gatherRows(rows)) + Variable(s0.value.gatherRows(rows)) * Variable(rng.normalTensor([400, 3]))).value }
                    let dist = (g1 - g0).map { $0 * $0 }
                    for q in 0..<400 {
                        let e = dist.data[(q * 784)..<((q + 1) * 784)].reduce(0, +)
                        if Double(e).squareRoot() <= r { within[q / 100] += 1 }
                    }
                }
                for i in 0..<4 {
                    let p = Double(within[i]) / Double(draws)
                    XCTAssertLessThanOrEqual(bound, p + 3 * (max(p * (1 - p), 1e-4) / Double(draws)).squareRoot(), "‖δ‖ \(size), image \(i): bound \(bound), sampled \(p)")
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, 32)
        XCTAssertGreaterThan(LipschitzMargins.probabilityBound(r: r, k, sigmaNorm: s, deltaNorm: 0.1, latent: 3), 0.5, "a non-trivial bound")
    }
}
