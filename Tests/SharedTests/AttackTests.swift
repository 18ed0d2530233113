import XCTest
import Shared

/// The attacks: exact projections, every objective's gradient against finite differences,
/// attacks that beat random perturbations of the same norm, supervised attacks that move
/// reconstructions towards their targets, and the restart layout.
final class AttackTests: XCTestCase {
    var rng = RNG(seed: 51)

    func tinyVAE() throws -> VAE {
        var c = ModelConfig(architecture: "mlp", latent: 3, inputShape: [1, 4, 4], data: "test", seed: 5)
        c.hidden = [6]
        let v = try VAE(config: c)
        v.freeze()
        return v
    }

    /// A VAE trained briefly on the synthetic shapes (a second or so).
    func trainedVAE() throws -> VAE {
        var c = ModelConfig(architecture: "mlp", latent: 4, inputShape: [1, 28, 28], data: "synthetic", seed: 3)
        c.hidden = [64]
        let model = try VAE(config: c)
        var o = TrainingOptions()
        o.epochs = 3; o.batch = 64; o.output = tempDir() + "/m.safetensors"; o.trainLimit = 1000
        _ = try Trainer(model: model, trainSet: try DatasetCatalog.load("synthetic:train"),
                        testSet: try DatasetCatalog.load("synthetic:test[0:50]"), options: o).run()
        model.freeze()
        return model
    }

    func testProjectionsAreExactAndNearest() {
        for norm in PerturbationNorm.allCases {
            let x = rng.uniformTensor([6, 40]), v = rng.normalTensor([6, 40]) * 0.5
            let r: Float = norm == .linf ? 0.1 : 0.8
            let p = BallProjection.project(v, around: x, norm: norm, radius: r)
            for (i, n) in BallProjection.norms(p, norm: norm).enumerated() { XCTAssertLessThanOrEqual(n, Double(r) * (1 + 1e-6), "row \(i) inside the ball") }
            for k in 0..<x.count { XCTAssert(x.data[k] + p.data[k] >= -1e-6 && x.data[k] + p.data[k] <= 1 + 1e-6, "pixel in [0, 1]") }
            // the nearest feasible point: no random feasible point is nearer to v
            for i in 0..<6 {
                let row = { (t: Tensor) in Array(t.data[(i * 40)..<((i + 1) * 40)]) }
                let pv = zip(row(p), row(v)).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
                for _ in 0..<300 {
                    let q = BallProjection.project(rng.normalTensor([1, 40]) * 0.5, around: x.rows(i..<(i + 1)), norm: norm, radius: r)
                    let qv = zip(q.data, row(v)).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
                    XCTAssertLessThanOrEqual(pv, qv + 1e-9)
                }
            }
        }
    }

    func testObjectiveGradientsMatchFiniteDifferences() throws {
        let vae = try tinyVAE()
        var c = ModelConfig(architecture: "linear-classifier", latent: 3, inputShape: [1, 4, 4], data: "t", seed: 1)
        c.classes = 4
        let clf = LatentClassifier(latent: 3, classes: 4, config: c)
        let x0 = rng.uniformTensor([3, 1, 4, 4], 0.2, 0.8), targets = rng.uniformTensor([3, 1, 4, 4])
        for kind in AttackKind.allCases {
            var s = AttackSettings(kind: kind)
            s.samples = 2; s.penalty = kind == .latent ? 0.5 : 0
            let f = Attack.objective(vae, clean: x0, targets: targets, classifier: clf, settings: s)
            let x = x0 + rng.uniformTensor(x0.shape, -0.1, 0.1)
            let (values, grad) = Autodiff.valueAndGradient(at: x) { f($0, 3) }
            XCTAssertTrue(values.isFinite && grad.isFinite, "\(kind)")
            let h: Float = 1e-2
            for k in [0, 5, 17, 30, 47] {
                var xp = x, xm = x
                xp.data[k] += h; xm.data[k] -= h
                let fp = Autodiff.withoutGradients { f(Variable(xp), 3).value }, fm = Autodiff.withoutGradients { f(Variable(xm), 3).value }
                let row = k / 16
                let numeric = (fp.data[row] - fm.data[row]) / (2 * h)
                XCTAssertEqual(grad.data[k], numeric, accuracy: 2e-2 * max(1, abs(numeric)), "\(kind) element \(k)")
            }
        }
    }

    func testAttacksBeatRandomPerturbationsAndReachTargets() throws {
        let vae = try trainedVAE()
        let refs = try DatasetCatalog.load("synthetic:test@10").images
        for kind in [AttackKind.skl, .wasserstein, .maxDamage, .elbo] {
            var s = AttackSettings(kind: kind)
            s.samples = 0; s.through = .mu; s.steps = 30; s.restarts = 2; s.step = 0.01
            let attacked = Attack.run(vae, references: refs, settings: s)
            // random perturbations of the same budget, scored by the same objective
            let f = Attack.objective(vae, clean: refs.gatherRows((0..<20).map { $0 / 2 }), targets: nil, classifier: nil, settings: s)
            var bestRandom = [Double](repeating: -.infinity, count: 20)
            for _ in 0..<10 {
                let x0 = refs.gatherRows((0..<20).map { $0 / 2 })
                let d = BallProjection.project(rng.uniformTensor(x0.shape, -0.1, 0.1).map { $0 > 0 ? 0.1 : -0.1 }, around: x0, norm: .linf, radius: 0.1)
                let v = Autodiff.withoutGradients { f(Variable(x0 + d), 0).value }
                for i in 0..<20 { bestRandom[i] = max(bestRandom[i], Double(v.data[i])) }
            }
            let attackMean = attacked.objective.reduce(0, +) / 20, randomMean = bestRandom.reduce(0, +) / 20
            // a wide margin: the unsupervised objectives are ≥ 0 at the clean point (−ELBO is not)
            if kind == .elbo { XCTAssertGreaterThan(attackMean - randomMean, 20, "\(kind)") }
            else { XCTAssertGreaterThan(attackMean, 1.5 * randomMean, "\(kind): \(attackMean) vs random \(randomMean)") }
            XCTAssertTrue(BallProjection.norms(attacked.images - refs.gatherRows((0..<20).map { $0 / 2 }), norm: .linf).allSatisfy { $0 <= 0.1 + 1e-6 })
        }
        // supervised: reconstructions move towards the targets' (MS-SSIM to them rises)
        let targets = try DatasetCatalog.load("synthetic:test[100:110]").images
        for kind in [AttackKind.latent, .output] {
            var s = AttackSettings(kind: kind)
            s.norm = .l2; s.radius = 4; s.step = 0.4; s.steps = 40
            let adv = Attack.run(vae, references: refs, targets: targets, settings: s).images
            func rec(_ x: Tensor) -> Tensor { vae.decoderMeans(vae.encoderMeans(x)) }
            let (ra, rr, rt) = (rec(adv), rec(refs), rec(targets))
            var before = 0.0, after = 0.0
            for i in 0..<10 {
                let t = rt.rows(i..<(i + 1)).reshaped([1, 28, 28])
                before += try SSIM.msssim(rr.rows(i..<(i + 1)).reshaped([1, 28, 28]), t)
                after += try SSIM.msssim(ra.rows(i..<(i + 1)).reshaped([1, 28, 28]), t)
            }
            XCTAssertGreaterThan(after, before, "\(kind): MS-SSIM to the target's reconstruction \(before / 10) → \(after / 10)")
            // and the squared distance to the target's reconstruction shrinks at least fourfold
            let dBefore = (rr - rt).map { $0 * $0 }.sum(), dAfter = (ra - rt).map { $0 * $0 }.sum()
            XCTAssertLessThan(dAfter * 4, dBefore, "\(kind): ‖rec − rec_t‖² \(dBefore) → \(dAfter)")
        }
    }

    func testRestartLayoutAndReproducibility() throws {
        let vae = try tinyVAE()
        let refs = rng.uniformTensor([4, 1, 4, 4])
        var s = AttackSettings(kind: .skl)
        s.restarts = 3; s.steps = 5; s.radius = 0.2; s.step = 0.05
        let a = Attack.run(vae, references: refs, settings: s)
        XCTAssertEqual(a.images.shape, [12, 1, 4, 4])
        XCTAssertEqual(a.objective.count, 12)
        // row r·3 + k belongs to reference r
        let d = BallProjection.norms(a.images - refs.gatherRows((0..<12).map { $0 / 3 }), norm: .linf)
        XCTAssertTrue(d.allSatisfy { $0 <= 0.2 + 1e-6 })
        XCTAssertEqual(Attack.run(vae, references: refs, settings: s).images, a.images, "the seed fixes everything")
        // references attacked in two parts give the same rows (draws are per row)
        var s2 = s; s2.firstReference = 2
        let tail = Attack.run(vae, references: refs.rows(2..<4), settings: s2)
        XCTAssertEqual(tail.images, a.images.rows(6..<12))
    }
}
