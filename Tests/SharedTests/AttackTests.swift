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

    func trainedVAE() throws -> VAE { try trainedSyntheticVAE() }

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

    /// Without the pixel box (`--no-pixel-box`) the projection is onto the ball alone, in closed
    /// form: L∞ clamps each coordinate to [−r, r], L2 scales a row longer than r onto the
    /// sphere; rows then leave [0, 1] where the box would have stopped them, and an attack
    /// (PGD and sgd, whose start enters only the box) keeps every result in the ball.
    func testProjectionsWithoutThePixelBoxAreOntoTheBallAlone() throws {
        let x = rng.uniformTensor([6, 40], 0, 0.05), v = rng.normalTensor([6, 40]) * 0.5
        let pinf = BallProjection.project(v, around: x, norm: .linf, radius: 0.1, pixelBox: false)
        for k in 0..<v.count { XCTAssertEqual(pinf.data[k], min(max(v.data[k], -0.1), 0.1)) }
        XCTAssertLessThan((0..<x.count).map { x.data[$0] + pinf.data[$0] }.min()!, -0.04, "pixels below 0")
        let p2 = BallProjection.project(v, around: x, norm: .l2, radius: 0.8, pixelBox: false)
        for (i, n) in BallProjection.norms(v, norm: .l2).enumerated() {
            let row = p2.rows(i..<(i + 1)), c = n > 0.8 ? Float(0.8 / n) : 1
            assertClose(row, v.rows(i..<(i + 1)) * c, tol: 1e-5, "row \(i) scaled onto the ball")
            XCTAssertLessThanOrEqual(BallProjection.norms(row, norm: .l2)[0], Double(Float(0.8)), "row \(i) inside the ball after rounding")
        }
        XCTAssertEqual(BallProjection.box(v, around: x, pixelBox: false), v)
        // infinite entries: the limit of the projection, inside the ball; NaN counts as 0
        var w = Tensor.zeros([1, 4])
        w.data = [.infinity, 3, .nan, -.infinity]
        let pw = BallProjection.project(w, around: Tensor.zeros([1, 4]), norm: .l2, radius: 1, pixelBox: false)
        XCTAssertEqual(pw.data[1], 0); XCTAssertEqual(pw.data[2], 0)
        XCTAssertEqual(Double(pw.data[0]), 0.5 * 2.0.squareRoot(), accuracy: 1e-6); XCTAssertEqual(Double(pw.data[3]), -0.5 * 2.0.squareRoot(), accuracy: 1e-6)
        XCTAssertLessThanOrEqual(BallProjection.norms(pw, norm: .l2)[0], 1)
        // attacks from a zero start (so only the steps can leave the box), every optimiser and
        // norm, and sgd with no step at all (its start projected at the end)
        let vae = try tinyVAE()
        let refs = rng.uniformTensor([4, 1, 4, 4], 0, 0.05)
        for optimizer in AttackOptimizer.allCases {
            for norm in PerturbationNorm.allCases {
                // the ELBO attack: unlike the symmetric KL, its gradient at δ = 0 is not zero
                var s = AttackSettings(kind: .elbo)
                s.pixelBox = false; s.optimizer = optimizer; s.norm = norm; s.steps = 5; s.initialization = .zero
                s.radius = norm == .linf ? 0.2 : 1.5; s.step = s.radius / 4; s.lr = s.radius / 2
                let res = Attack.run(vae, references: refs, settings: s)
                for n in res.norms { XCTAssertLessThanOrEqual(n, Double(s.radius) * (1 + 1e-6), "\(optimizer) \(norm): inside the ball") }
                XCTAssertLessThan(res.images.data.min()!, -1e-3, "\(optimizer) \(norm): the steps left the box")
            }
        }
        var s0 = AttackSettings(kind: .skl)
        s0.pixelBox = false; s0.optimizer = .sgd; s0.steps = 0; s0.initialization = .normal(0.5); s0.radius = 0.1
        let res0 = Attack.run(vae, references: refs, settings: s0)
        for n in res0.norms { XCTAssertLessThanOrEqual(n, 0.1 * (1 + 1e-6), "sgd without a step: its start projected onto the ball") }
        XCTAssertLessThan(res0.images.data.min()!, -0.05, "and not onto the box")
    }

    func testObjectiveGradientsMatchFiniteDifferences() throws {
        let vae = try tinyVAE()
        var c = ModelConfig(architecture: "linear-classifier", latent: 3, inputShape: [1, 4, 4], data: "t", seed: 1)
        c.classes = 4
        let clf = LatentClassifier(latent: 3, classes: 4, config: c)
        let x0 = rng.uniformTensor([3, 1, 4, 4], 0.2, 0.8), targets = rng.uniformTensor([3, 1, 4, 4])
        let cases = AttackKind.allCases.map { ($0, DamageReference.mean) } + [(.maxDamage, .sample), (.maxDamage, .coupled)]
        for (kind, reference) in cases {
            var s = AttackSettings(kind: kind)
            s.samples = 2; s.penalty = kind == .latent ? 0.5 : 0; s.damageReference = reference
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

    /// sgd and adam against a line-by-line numpy port of paper D's attack loop
    /// (AKuzina/defend_vae_mcmc, attack/attacker.py, `AttackVAE.train_eps` for an
    /// unsupervised L∞ attack with the `skl` loss of utils/divergence.py `gaus_skl`, and
    /// `torch.optim.SGD` / `Adam` / `ReduceLROnPlateau` as PyTorch documents them), on the same
    /// model, references and starts. The port returns its last iterate, as the authors' code.
    func testSGDAndAdamMatchAPortOfPaperDsAttackLoop() throws {
        var c = ModelConfig(architecture: "mlp", latent: 3, inputShape: [1, 5, 5], data: "test", seed: 8)
        c.hidden = [12]
        let vae = try VAE(config: c)
        vae.freeze()
        // binarised references with both 0 and 1 (the authors clamp to [min x, max x])
        var refs = rng.uniformTensor([3, 1, 5, 5]).map { $0 > 0.5 ? 1 : 0 }
        refs.data[0] = 0; refs.data[1] = 1; refs.data[25] = 0; refs.data[26] = 1; refs.data[50] = 0; refs.data[51] = 1
        let dir = tempDir()
        for (name, p) in vae.encoder.namedParameters { try Npy.write(p.value, to: "\(dir)/\(name).npy") }
        try Npy.write(refs, to: "\(dir)/x.npy")
        for optimizer in [AttackOptimizer.sgd, .adam] {
            var s = AttackSettings(kind: .skl)
            s.optimizer = optimizer; s.lr = optimizer == .sgd ? 1 : 0.02; s.steps = 40; s.restarts = 2
            s.radius = 0.1; s.initialization = .normal(0.2); s.iterate = .last
            s.patience = 4; s.factor = 0.5  // short patience so that the rate is reduced in 40 steps
            let ours = Attack.run(vae, references: refs, settings: s)
            try Npy.write(Attack.starts(s, rows: 6, size: 25), to: "\(dir)/starts.npy")
            let out = try python("""
            import numpy as np
            d = '\(dir)'
            P = {n: np.load(f'{d}/{n}.npy').astype(np.float64) for n in
                 ['mean.1.0.weight', 'mean.1.0.bias', 'mean.1.2.weight', 'mean.1.2.bias',
                  'scale.1.0.weight', 'scale.1.0.bias', 'scale.1.2.weight', 'scale.1.2.bias']}
            def head(x, h):
                a = x @ P[h + '.1.0.weight'].T + P[h + '.1.0.bias']
                return a, np.maximum(a, 0) @ P[h + '.1.2.weight'].T + P[h + '.1.2.bias']
            def q_z(x):  # the model: mu, and log sigma^2 of sigma = sigmoid(...)
                _, m = head(x, 'mean'); _, s = head(x, 'scale')
                return m, 2 * np.log(1 / (1 + np.exp(-s)))
            def back(x, h, g):  # vector-Jacobian product of one head's output
                a, _ = head(x, h)
                ga = (g @ P[h + '.1.2.weight']) * (a > 0)
                return ga @ P[h + '.1.0.weight']
            def loss_and_grad(x, z_m, z_logv):  # -gaus_skl(m_a, logv_a, m_r, logv_r).sum(1), unsupervised
                m_a, lv_a = q_z(x)
                dif = lv_a - z_logv  # q = adversarial, p = reference
                mu2 = (m_a - z_m) ** 2
                skl = (0.25 * (np.exp(-dif) + np.exp(dif) + mu2 * (np.exp(-z_logv) + np.exp(-lv_a))) - 0.5).sum()
                g_m = 0.5 * (m_a - z_m) * (np.exp(-z_logv) + np.exp(-lv_a))
                g_lv = 0.25 * (np.exp(dif) - np.exp(-dif) - mu2 * np.exp(-lv_a))
                _, s = head(x, 'scale')
                g_s = g_lv * 2 * (1 - 1 / (1 + np.exp(-s)))
                return -skl, -(back(x, 'mean', g_m) + back(x, 'scale', g_s))
            class Plateau:  # torch.optim.lr_scheduler.ReduceLROnPlateau(mode='min', threshold=1e-4)
                def __init__(self, lr, patience, factor): self.lr, self.patience, self.factor, self.best, self.bad = lr, patience, factor, np.inf, 0
                def step(self, loss):
                    if loss < self.best * (1 - 1e-4): self.best, self.bad = loss, 0
                    else: self.bad += 1
                    if self.bad > self.patience:
                        new = self.lr * self.factor
                        if self.lr - new > 1e-8: self.lr = new
                        self.bad = 0
            def train_eps(x_ref, eps, z_info, opt, lr, eps_norm, patience, factor, max_iter):
                sched = Plateau(lr, patience, factor)
                m = np.zeros_like(eps); v = np.zeros_like(eps); t = 0
                mi, ma = x_ref.min(), x_ref.max()
                for i in range(max_iter):
                    eps = np.clip(x_ref + eps, mi, ma) - x_ref
                    loss, grad = loss_and_grad(x_ref + eps, *z_info)
                    if opt == 'sgd':
                        eps = eps - sched.lr * grad
                    else:  # torch.optim.Adam, betas (0.9, 0.999), eps 1e-8
                        t += 1
                        m = m + (grad - m) * (1 - 0.9); v = v * 0.999 + (1 - 0.999) * grad * grad
                        denom = np.sqrt(v) / np.sqrt(1 - 0.999 ** t) + 1e-8
                        eps = eps - sched.lr / (1 - 0.9 ** t) * m / denom
                    sched.step(loss)
                    eps = np.clip(eps, -eps_norm, eps_norm)
                    if sched.lr < 1e-6: break
                return np.clip(x_ref + eps, mi, ma), sched.lr
            X = np.load(f'{d}/x.npy').reshape(3, 25).astype(np.float64)
            S = np.load(f'{d}/starts.npy').astype(np.float64)
            rows, rates = [], []
            for r in range(6):
                x_ref = X[r // 2:r // 2 + 1]
                z_info = q_z(x_ref)
                out, lr = train_eps(x_ref, S[r:r + 1], z_info, '\(optimizer.rawValue)', \(s.lr), 0.1, \(s.patience), \(s.factor), \(s.steps))
                rows.append(out); rates.append(lr)
            assert min(rates) < \(s.lr), rates  # the plateau rule fired at least once
            print(' '.join(f'{v:.9g}' for v in np.concatenate(rows).ravel()))
            """)
            let port = out.split(separator: " ").map { Float($0)! }
            XCTAssertEqual(port.count, ours.images.count)
            var worst: Float = 0
            for (a, b) in zip(ours.images.data, port) { worst = max(worst, abs(a - b)) }
            XCTAssertLessThan(worst, 2e-5, "\(optimizer): largest pixel difference to the port")
            // the port moved: the attack is not its start
            let start = (refs.gatherRows((0..<6).map { $0 / 2 }) + BallProjection.project(Attack.starts(s, rows: 6, size: 25).reshaped([6, 1, 5, 5]),
                         around: refs.gatherRows((0..<6).map { $0 / 2 }), norm: .linf, radius: 0.1))
            XCTAssertGreaterThan(zip(start.data, port).map { abs($0 - $1) }.max()!, 0.05, "\(optimizer): the attack moved")
        }
    }

    /// The adaptive attack (paper D appendix C.3): with `throughHMC` the skl objective is the
    /// symmetric KL at the end of the HMC chain started from μ(x+δ), and its gradient is the
    /// straight-through one, that of SKL(μ(x+δ) + c, σ(x+δ)) with c = z_T − μ(x+δ) held fixed.
    func testThroughHMCIsTheObjectiveAtTheChainsEndWithAStraightThroughGradient() throws {
        let vae = try tinyVAE()
        let x0 = rng.uniformTensor([3, 1, 4, 4], 0.2, 0.8)
        var s = AttackSettings(kind: .skl)
        s.throughHMC = 3; s.hmc.leapfrog = 4; s.hmc.stepSize = 0.1; s.seed = 9
        let f = Attack.objective(vae, clean: x0, targets: nil, classifier: nil, settings: s)
        let x = x0 + rng.uniformTensor(x0.shape, -0.1, 0.1)
        let (values, grad) = Autodiff.valueAndGradient(at: x) { f($0, 2) }
        // the chain the objective runs at step 2, chain 0, by hand
        var h = s.hmc
        h.steps = 3
        var g = RNG(seed: 9).derived(0x4A00_0000_0000 ^ (UInt64(2) << 16 | 0))
        h.seed = g.next()
        let (mu, sigma) = Autodiff.withoutGradients { vae.encode(Variable(x)) }
        let (mu0, sigma0) = Autodiff.withoutGradients { vae.encode(Variable(x0)) }
        let zT = HMC.sample(VAEPosteriorEnergy(vae: vae, inputs: x), from: mu.value, parameters: vae.parameters, settings: h).z
        XCTAssertGreaterThan((zT - mu.value).map { abs($0) }.sum(), 1e-3, "the chain moved")
        let c = zT - mu.value
        let (expected, expectedGrad) = Autodiff.valueAndGradient(at: x) { xv in
            let (m, sg) = vae.encode(xv)
            return DiagonalGaussian.symmetricKL(mu1: m + Variable(c), sigma1: sg, mu2: mu0, sigma2: sigma0)
        }
        assertClose(values, expected, tol: 1e-5, "objective at the chain's end")
        assertClose(grad, expectedGrad, tol: 1e-5, "straight-through gradient")
        let plain = Autodiff.withoutGradients { DiagonalGaussian.symmetricKL(mu1: mu, sigma1: sigma, mu2: mu0, sigma2: sigma0).value }
        XCTAssertNotEqual(plain, values, "HMC changed the objective")
    }
}

extension AttackTests {
    /// Paper D's gradient through the chain (`--hmc-gradient detach-accepted`): the objective's
    /// value is the same chain end, but a row whose chain accepted a proposal passes no
    /// gradient through its code (only through σ(x+δ)), and a row that never accepted passes
    /// the plain gradient. The batch is chosen to hold rows of both kinds.
    func testDetachAcceptedPassesNoGradientThroughTheCodeOfAMovedChain() throws {
        let vae = try tinyVAE()
        let x0 = rng.uniformTensor([8, 1, 4, 4], 0.2, 0.8)
        var s = AttackSettings(kind: .skl)
        s.throughHMC = 1; s.hmc.burnIn = 0; s.hmc.leapfrog = 3; s.hmc.stepSize = 0.6; s.hmc.adaptation = .none; s.seed = 4
        s.throughHMCGradient = .detachAccepted
        let f = Attack.objective(vae, clean: x0, targets: nil, classifier: nil, settings: s)
        let x = x0 + rng.uniformTensor(x0.shape, -0.1, 0.1)
        let (values, grad) = Autodiff.valueAndGradient(at: x) { f($0, 1) }
        var h = s.hmc
        h.steps = s.throughHMC
        var g = RNG(seed: 4).derived(0x4A00_0000_0000 ^ (UInt64(1) << 16 | 0))
        h.seed = g.next()
        let (mu, _) = Autodiff.withoutGradients { vae.encode(Variable(x)) }
        let (mu0, sigma0) = Autodiff.withoutGradients { vae.encode(Variable(x0)) }
        let chain = HMC.sample(VAEPosteriorEnergy(vae: vae, inputs: x), from: mu.value, parameters: vae.parameters, settings: h)
        XCTAssertTrue(chain.moved.contains(true) && chain.moved.contains(false), "the batch holds moved and unmoved chains: \(chain.moved)")
        // rows that moved: the chain's end as a constant; rows that did not: μ(x+δ) itself
        let (fixed, fixedGrad) = Autodiff.valueAndGradient(at: x) { xv in
            DiagonalGaussian.symmetricKL(mu1: Variable(chain.z), sigma1: vae.encode(xv).sigma, mu2: mu0, sigma2: sigma0)
        }
        let (plain, plainGrad) = Autodiff.valueAndGradient(at: x) { xv in
            let (m, sg) = vae.encode(xv)
            return DiagonalGaussian.symmetricKL(mu1: m, sigma1: sg, mu2: mu0, sigma2: sigma0)
        }
        let d = 16
        for (i, moved) in chain.moved.enumerated() {
            let (v, gr) = moved ? (fixed, fixedGrad) : (plain, plainGrad)
            XCTAssertEqual(values.data[i], v.data[i], accuracy: 1e-5 * max(1, abs(v.data[i])), "row \(i) value")
            for k in 0..<d {
                XCTAssertEqual(grad.data[i * d + k], gr.data[i * d + k], accuracy: 1e-5, "row \(i) gradient \(k)")
            }
            // a moved row's gradient is not the straight-through one (μ's part is missing)
            if moved {
                let gap = (0..<d).map { abs(grad.data[i * d + $0] - plainGrad.data[i * d + $0]) }.max()!
                XCTAssertGreaterThan(gap, 1e-4, "row \(i): the code's gradient was dropped")
            }
        }
    }
}

extension AttackTests {
    /// Paper D's code in full (`--hmc-gradient kuzina`): the objective's value is that of
    /// detach-accepted, and its gradient is detach-accepted's plus, for every position z_v where
    /// the sampler takes the energy's gradient (`HMCResult.path`, checked against a port of
    /// the authors' sampler in HMCTests), ∂ log p(x | z_v)/∂x, which for the Bernoulli decoder
    /// is the decoder's logits at z_v (∂/∂x of Σ x·l − softplus(l)).
    func testKuzinaGradientAddsTheLikelihoodGradientsAlongTheChain() throws {
        let vae = try tinyVAE()
        XCTAssertEqual(vae.likelihood, .bernoulli)
        // 16 rows: HMC integrates them in two halves (BatchSplit)
        let x0 = rng.uniformTensor([16, 1, 4, 4], 0.2, 0.8)
        var s = AttackSettings(kind: .skl)
        s.throughHMC = 2; s.hmc.leapfrog = 3; s.hmc.stepSize = 0.6; s.hmc.adaptation = .none; s.seed = 4
        let x = x0 + rng.uniformTensor(x0.shape, -0.1, 0.1)
        s.throughHMCGradient = .detachAccepted
        let (detachValues, detachGrad) = Autodiff.valueAndGradient(at: x) { Attack.objective(vae, clean: x0, targets: nil, classifier: nil, settings: s)($0, 1) }
        s.throughHMCGradient = .kuzina
        let (values, grad) = Autodiff.valueAndGradient(at: x) { Attack.objective(vae, clean: x0, targets: nil, classifier: nil, settings: s)($0, 1) }
        XCTAssertEqual(values, detachValues, "the leaked term adds nothing to the value")
        // the chain the objective runs at step 1, chain 0, replayed with its path
        var h = s.hmc
        h.steps = 2
        var g = RNG(seed: 4).derived(0x4A00_0000_0000 ^ (UInt64(1) << 16 | 0))
        h.seed = g.next()
        let (mu, _) = Autodiff.withoutGradients { vae.encode(Variable(x)) }
        let chain = HMC.sample(VAEPosteriorEnergy(vae: vae, inputs: x), from: mu.value, parameters: vae.parameters, settings: h, recordPath: true)
        XCTAssertEqual(chain.path.count, (h.burnInSteps + h.steps) * (h.leapfrog + 1))
        var expected = detachGrad
        let limit = Float(log((1 - 1e-5) / 1e-5))  // the authors' probability clamp, as a logit
        for z in chain.path {
            let logits = Autodiff.withoutGradients { vae.decodeLogits(Variable(z)).value }
            for k in 0..<expected.count { expected.data[k] += min(max(logits.data[k], -limit), limit) }
        }
        assertClose(grad, expected, tol: 1e-4, "detach-accepted's gradient plus the logits along the chain")
        XCTAssertGreaterThan(zip(grad.data, detachGrad.data).map { abs($0 - $1) }.max()!, 1e-2, "the leaked term is not negligible")
    }
}
