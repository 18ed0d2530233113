import XCTest
import Shared

/// A linear-Gaussian model: x = W z + b + noise of standard deviation s, z ~ N(0, I), so that
/// U(z) = ‖x − W z − b‖² / (2 s²) + ½‖z‖² (+ a constant) and the posterior is Gaussian with
/// precision Λ = WᵀW/s² + I and mean Λ⁻¹ Wᵀ(x − b)/s².
struct LinearGaussianEnergy: PotentialEnergy {
    let w: Tensor, b: Tensor, x: Tensor, s: Float
    var dimension: Int { w.shape[1] }
    func chains(_ rows: Range<Int>) -> (any PotentialEnergy)? { LinearGaussianEnergy(w: w, b: b, x: x.rows(rows), s: s) }
    func callAsFunction(_ z: Variable) -> Variable {
        let r = Variable(x) - Variable.linear(z, weight: Variable(w), bias: Variable(b))
        return r.square().sum(axis: 1) * (0.5 / (s * s)) + z.square().sum(axis: 1) * 0.5
    }
}

/// HMC: leapfrog reversibility and its η² energy error, closed-form Gaussian posteriors
/// under both adaptation schemes, adaptation reaching its target, and the defence on a
/// trained model (paper D section 4.1, Eq. 11).
final class HMCTests: XCTestCase {
    var rng = RNG(seed: 61)

    /// Chains of one input each: `n` copies of x.
    func gaussian(chains n: Int, d: Int = 3, observed m: Int = 4) -> LinearGaussianEnergy {
        let w = rng.normalTensor([m, d]) * 0.8, b = rng.normalTensor([m]), x = rng.normalTensor([1, m])
        return LinearGaussianEnergy(w: w, b: b, x: x.gatherRows([Int](repeating: 0, count: n)), s: 0.7)
    }

    func testLeapfrogIsReversibleAndItsEnergyErrorShrinksAsEtaSquared() {
        let u = gaussian(chains: 8)
        let z0 = rng.normalTensor([8, 3]), p0 = rng.normalTensor([8, 3])
        let g0 = Autodiff.valueAndGradient(at: z0) { u($0) }
        let forward = HMC.leapfrog(u, z: z0, p: p0, gradient: g0.1, stepSizes: [Float](repeating: 0.1, count: 8), steps: 15)
        let back = HMC.leapfrog(u, z: forward.z, p: forward.p * -1, gradient: forward.gradient, stepSizes: [Float](repeating: 0.1, count: 8), steps: 15)
        assertClose(back.z, z0, tol: 1e-4, "z after going back")
        assertClose(back.p * -1, p0, tol: 1e-4, "p after going back")
        // the same trajectory length 1 with η and η/2: the energy error falls fourfold
        func error(_ eta: Float, _ l: Int) -> Double {
            let e = HMC.leapfrog(u, z: z0, p: p0, gradient: g0.1, stepSizes: [Float](repeating: eta, count: 8), steps: l)
            var total = 0.0
            for i in 0..<8 {
                let k0 = (0..<3).reduce(0.0) { $0 + Double(p0.data[i * 3 + $1] * p0.data[i * 3 + $1]) }
                let k1 = (0..<3).reduce(0.0) { $0 + Double(e.p.data[i * 3 + $1] * e.p.data[i * 3 + $1]) }
                total += abs(Double(e.energy.data[i]) + 0.5 * k1 - Double(g0.0.data[i]) - 0.5 * k0)
            }
            return total / 8
        }
        let (e1, e2, e3) = (error(0.2, 5), error(0.1, 10), error(0.05, 20))
        XCTAssertEqual(e1 / e2, 4, accuracy: 1, "energy error ratio for η 0.2 → 0.1 (\(e1) → \(e2))")
        XCTAssertEqual(e2 / e3, 4, accuracy: 1, "energy error ratio for η 0.1 → 0.05 (\(e2) → \(e3))")
    }

    /// 3000 independent chains of one linear-Gaussian posterior: their final states' mean and
    /// covariance against the closed form (numpy), within Monte Carlo error. The trajectories
    /// are short (3 leapfrog steps, from η₀ = 0.3 as adapted): with 5 steps the rule's shared
    /// step size settled where a trajectory nears half the posterior's shortest period and
    /// reflects z instead of mixing it.
    func testSamplesMatchTheClosedFormGaussianPosterior() throws {
        let n = 3000
        let u = gaussian(chains: n)
        let out = try python("""
        import numpy as np
        W = np.array(\(u.w.data)).reshape(4, 3); b = np.array(\(u.b.data)); x = np.array(\(Array(u.x.data[0..<4]))); s = \(u.s)
        P = W.T @ W / s**2 + np.eye(3); C = np.linalg.inv(P); m = C @ W.T @ (x - b) / s**2
        print(' '.join(map(str, list(m) + list(C.ravel()))))
        """).split(separator: " ").map { Double($0)! }
        let (mean, cov) = (Array(out[0..<3]), Array(out[3..<12]))
        for adaptation in [StepSizeAdaptation.rule, .dualAveraging] {
            var s = HMCSettings()
            s.steps = 60; s.leapfrog = 3; s.stepSize = 0.3; s.adaptation = adaptation; s.seed = 3
            let r = HMC.sample(u, from: rng.normalTensor([n, 3]) * 2, parameters: [], settings: s)
            assertGaussianMoments(r.z, mean: mean, covariance: cov, "\(adaptation)")
        }
    }

    func testAdaptationReachesItsTargetAcceptance() {
        for (adaptation, target) in [(StepSizeAdaptation.rule, 0.7), (.rule, 0.9), (.dualAveraging, 0.65), (.dualAveraging, 0.8), (.dualAveraging, 0.9)] {
            var s = HMCSettings()
            s.steps = 200; s.leapfrog = 5; s.stepSize = adaptation == .rule ? 1.5 : 0.1; s.adaptation = adaptation; s.targetAccept = target; s.burnIn = 1
            let u = gaussian(chains: 200)
            let r = HMC.sample(u, from: rng.normalTensor([200, 3]), parameters: [], settings: s)
            let mean = r.acceptance.reduce(0, +) / 200
            if adaptation == .rule {
                XCTAssertEqual(mean, target, accuracy: 0.05, "\(adaptation) towards \(target)")
            } else {
                // dual averaging steers the burn-in's acceptance probability to the target; the
                // averaged step size it keeps then accepts at least as often
                XCTAssertEqual(r.burnInAcceptance.reduce(0, +) / 200, target, accuracy: 0.03, "\(adaptation) burn-in towards \(target)")
                XCTAssertGreaterThan(mean, target - 0.03, "\(adaptation) sampling at \(target)")
            }
        }
        // no adaptation keeps the step size
        var s = HMCSettings()
        s.steps = 5; s.adaptation = .none; s.stepSize = 0.25
        XCTAssertEqual(HMC.sample(gaussian(chains: 4), from: rng.normalTensor([4, 3]), parameters: [], settings: s).stepSize, [0.25, 0.25, 0.25, 0.25])
    }

    /// The leapfrog integrates the batch's two halves concurrently when the energy can be cut
    /// by chains; the end points must be those of one pass over the whole batch, and
    /// OpenBLAS must get its thread count back.
    func testLeapfrogOnTwoHalvesMatchesOnePass() throws {
        struct Whole: PotentialEnergy {
            let u: any PotentialEnergy
            var dimension: Int { u.dimension }
            func callAsFunction(_ z: Variable) -> Variable { u(z) }
        }
        var c = ModelConfig(architecture: "mlp", latent: 4, inputShape: [1, 28, 28], data: "synthetic", seed: 5)
        c.hidden = [64, 64]
        let vae = try VAE(config: c)
        XCTAssertNil(VAEPosteriorEnergy(vae: vae, inputs: Tensor.zeros([4, 1, 28, 28])).chains(0..<2), "a trainable model is not cut")
        vae.freeze()
        let n = 40
        let x = try DatasetCatalog.load("synthetic:test[0:\(n)]").images
        let energies: [any PotentialEnergy] = [gaussian(chains: n), VAEPosteriorEnergy(vae: vae, inputs: x)]
        let threads = BLAS.threads
        for u in energies {
            XCTAssertNotNil(u.chains(0..<20), "\(type(of: u)) cuts by chains")
            let z0 = rng.normalTensor([n, u.dimension]), p0 = rng.normalTensor([n, u.dimension])
            let eta = (0..<n).map { Float(0.02 + 0.001 * Double($0)) }
            let g0 = Autodiff.valueAndGradient(at: z0) { u($0) }.1
            let split = HMC.leapfrog(u, z: z0, p: p0, gradient: g0, stepSizes: eta, steps: 7)
            let whole = HMC.leapfrog(Whole(u: u), z: z0, p: p0, gradient: g0, stepSizes: eta, steps: 7)
            assertClose(split.z, whole.z, tol: 1e-4, "\(type(of: u)) z")
            assertClose(split.p, whole.p, tol: 1e-3, "\(type(of: u)) p")
            assertClose(split.energy, whole.energy, tol: 1e-3, "\(type(of: u)) energy")
            assertClose(split.gradient, whole.gradient, tol: 1e-3, "\(type(of: u)) gradient")
            XCTAssertEqual(BLAS.threads, threads, "OpenBLAS threads restored")
        }
    }

    func testChainsDoNotDependOnTheBatching() {
        var s = HMCSettings()
        s.steps = 6; s.leapfrog = 4; s.stepSize = 0.2; s.adaptation = .dualAveraging
        let u = gaussian(chains: 6), z0 = rng.normalTensor([6, 3])
        let whole = HMC.sample(u, from: z0, parameters: [], settings: s)
        var s2 = s; s2.firstChain = 4
        let tail = HMC.sample(LinearGaussianEnergy(w: u.w, b: u.b, x: u.x.rows(4..<6), s: u.s), from: z0.rows(4..<6), parameters: [], settings: s2)
        // the same draws; the energy's products may round differently with the row count
        assertClose(tail.z, whole.z.rows(4..<6), tol: 1e-4, "rows 4-5 alone")
        XCTAssertEqual(HMC.sample(u, from: z0, parameters: [], settings: s).z, whole.z, "the seed fixes everything")
    }

    /// Paper D section 4.1 on a small trained model: HMC on p(z|x_adv) from the attacked codes
    /// lowers the log posterior ratio log p(z_ref|x_ref) − log p(z|x_ref) (Eq. 11) on average,
    /// and brings the reconstructions back towards the reference's (MS-SSIM rises).
    func testHMCUndoesAnEncoderAttack() throws {
        let vae = try trainedSyntheticVAE(epochs: 4, images: 1500)
        let refs = try DatasetCatalog.load("synthetic:test@20").images
        var a = AttackSettings(kind: .skl)
        a.radius = 0.2; a.step = 0.02; a.steps = 40
        let adv = Attack.run(vae, references: refs, settings: a).images
        var r = RNG(seed: 5)
        let (muR, sigmaR) = Autodiff.withoutGradients { vae.encode(Variable(refs)) }
        let (muA, sigmaA) = Autodiff.withoutGradients { vae.encode(Variable(adv)) }
        let zRef = (muR.value + sigmaR.value * r.normalTensor(muR.shape)), zAdv = muA.value + sigmaA.value * r.normalTensor(muA.shape)
        var s = HMCSettings()
        s.steps = 60; s.stepSize = 0.05
        let defended = HMC.sample(VAEPosteriorEnergy(vae: vae, inputs: adv), from: zAdv, parameters: vae.parameters, settings: s)
        let before = vae.logPosteriorRatio(refs, z1: zRef, z2: zAdv), after = vae.logPosteriorRatio(refs, z1: zRef, z2: defended.z)
        let (mb, ma) = (before.reduce(0, +) / 20, after.reduce(0, +) / 20)
        XCTAssertLessThan(ma, mb, "log posterior ratio \(mb) → \(ma)")
        func msssim(_ z: Tensor) throws -> Double {
            let rec = vae.decoderMeans(z), rr = vae.decoderMeans(muR.value)
            return try (0..<20).reduce(0.0) { $0 + (try SSIM.msssim(rr.rows($1..<($1 + 1)).reshaped([1, 28, 28]), rec.rows($1..<($1 + 1)).reshaped([1, 28, 28]))) } / 20
        }
        let (simBefore, simAfter) = (try msssim(zAdv), try msssim(defended.z))
        XCTAssertGreaterThan(simAfter, simBefore, "MS-SSIM to the reference's reconstruction \(simBefore) → \(simAfter)")
        XCTAssertTrue(defended.acceptance.allSatisfy { $0 > 0 }, "every chain moved")
    }

    /// Momenta `[total, n, d]`, uniforms `[total, n]` and starts `[n, d]` drawn by numpy into
    /// `dir`, and the draws closure that feeds them to `HMC.sample`.
    func numpyDraws(_ dir: String, seed: Int, total: Int, n: Int, d: Int, startScale: Double) throws -> (z0: Tensor, draws: HMCDraws) {
        _ = try python("""
        import numpy as np
        r = np.random.default_rng(\(seed))
        np.save('\(dir)/p.npy', r.standard_normal((\(total), \(n), \(d))).astype(np.float32))
        np.save('\(dir)/u.npy', r.uniform(size=(\(total), \(n))))
        np.save('\(dir)/z0.npy', (\(startScale) * r.standard_normal((\(n), \(d)))).astype(np.float32))
        print(1)
        """)
        let p = try Npy.read("\(dir)/p.npy"), uniforms = try Npy.read("\(dir)/u.npy")
        return (try Npy.read("\(dir)/z0.npy"), { t, chains, dim in
            (p.rows(t..<(t + 1)).reshaped([chains, dim]), (0..<chains).map { Foundation.log(Double(uniforms.data[t * chains + $0])) })
        })
    }

    /// A line-by-line numpy port of paper D's sampler (vae/model/hmc.py, `HMC_sampler.sample`
    /// and `transition` with `adaptive=True`) on the linear-Gaussian energy of `u`, fed the
    /// momenta and uniforms `numpyDraws` saved in `dir`. Its `grad_E` also does what torch's
    /// `E.sum().backward()` does to inputs x that require a gradient: it adds ∂E(z, x)/∂x to
    /// `x_grad` at every call. A test appends its own driver lines.
    func paperDSamplerPort(_ u: LinearGaussianEnergy, chains n: Int, dir: String) -> String {
        """
        import numpy as np
        W = np.array(\(u.w.data)).reshape(4, 3); b = np.array(\(u.b.data)); x = np.tile(np.array(\(Array(u.x.data[0..<4]))), (\(n), 1)); s = \(u.s)
        P = np.load('\(dir)/p.npy').astype(np.float64); U = np.load('\(dir)/u.npy'); z0 = np.load('\(dir)/z0.npy').astype(np.float64)
        x_grad = np.zeros_like(x)
        def E(z): return 0.5 * ((x - z @ W.T - b) ** 2).sum(1) / s**2 + 0.5 * (z ** 2).sum(1)
        def grad_E(z):
            global x_grad
            x_grad = x_grad + (x - z @ W.T - b) / s**2   # what E.sum().backward() adds to x.grad
            return -((x - z @ W.T - b) @ W) / s**2 + z
        class HMC_sampler:
            def __init__(self, eps, L, adaptive): self.eps, self.L, self.adaptive = eps, L, adaptive
            def transition(self, z_s, p_s):
                z_end = z_s.copy(); p_end = p_s.copy()
                z_grad = grad_E(z_end)
                p_end = p_end + (-0.5 * self.eps) * z_grad
                for i in range(self.L):
                    z_end = z_end + self.eps * p_end
                    z_grad = grad_E(z_end)
                    if i < self.L - 1: p_end = p_end + (-self.eps) * z_grad
                    else: p_end = p_end + (-0.5 * self.eps) * z_grad
                q_ratio = 0.5 * ((p_s ** 2).sum(1) - (p_end ** 2).sum(1))
                target_ratio = E(z_s) - E(z_end)
                return z_end, q_ratio + target_ratio
            def sample(self, z_0, N, burn_in):
                z_curr = z_0.copy(); rates = []
                for i in range(burn_in + N):
                    z_proposed, ratio = self.transition(z_curr, P[i])
                    log_u = np.log(U[i])
                    accept_flag = log_u < ratio
                    z_curr[accept_flag] = z_proposed[accept_flag]
                    prop_accepted = np.mean(accept_flag.astype(float))
                    if self.adaptive: self.eps += 0.01 * ((prop_accepted - 0.9) / 0.9) * self.eps
                    if i >= burn_in: rates.append(prop_accepted)
                return z_curr, rates

        """
    }

    /// The sampler against a line-by-line numpy port of paper D's code (vae/model/hmc.py,
    /// `HMC_sampler.sample` and `transition` with `adaptive=True`, as `sample_posterior` runs
    /// it: 0.5·T burn-in transitions, then T), fed the same momenta and uniforms, on the
    /// linear-Gaussian energy with its gradient in closed form.
    func testSamplerMatchesAPortOfPaperDsHMC() throws {
        let (n, d, total) = (12, 3, 30)
        let u = gaussian(chains: n)
        let dir = tempDir()
        let (z0, draws) = try numpyDraws(dir, seed: 7, total: total, n: n, d: d, startScale: 2)
        var s = HMCSettings()
        s.steps = 20; s.burnIn = 0.5; s.leapfrog = 6; s.stepSize = 0.35; s.adaptation = .rule
        XCTAssertEqual(s.burnInSteps + s.steps, total)
        let ours = HMC.sample(u, from: z0, parameters: [], settings: s, draws: draws)
        let out = try python(paperDSamplerPort(u, chains: n, dir: dir) + """
        Q = HMC_sampler(\(s.stepSize), \(s.leapfrog), True)
        z, rates = Q.sample(z0, \(s.steps), int(0.5 * \(s.steps)))
        print(' '.join(map(str, list(z.ravel()) + [Q.eps, np.mean(rates)])))
        """).split(separator: " ").map { Double($0)! }
        for k in 0..<(n * d) { XCTAssertEqual(Double(ours.z.data[k]), out[k], accuracy: 1e-4, "z element \(k)") }
        XCTAssertEqual(ours.stepSize[0], out[n * d], accuracy: 1e-5 * out[n * d], "final step size")
        XCTAssertEqual(ours.acceptance.reduce(0, +) / Double(n), out[n * d + 1], accuracy: 1e-12, "acceptance rate")
        XCTAssertGreaterThan(out[n * d + 1], 0.2, "chains moved")
        XCTAssertLessThan(out[n * d + 1], 0.99, "not every proposal accepted")
    }

    /// `recordPath` against the same port of paper D's sampler, where `grad_E` also does what
    /// torch's `E.sum().backward()` does to an input x that requires a gradient (the attack
    /// through the sampler, `ThroughHMCGradient.kuzina`): it adds ∂E(z, x)/∂x at every call.
    /// The recorded positions must be exactly where the authors' code calls `grad_E`: Σ over
    /// them of ∂E/∂x = (x − Wz − b)/s², computed here from our path, equals the port's sum,
    /// and there are (L + 1) per transition.
    func testRecordedPathIsWhereAPortOfPaperDsSamplerTakesGradients() throws {
        // 18 chains: the leapfrog runs in two halves (BatchSplit cuts batches of 16 or more),
        // whose paths are joined
        let (n, d, m, total) = (18, 3, 4, 15)
        let u = gaussian(chains: n)
        let dir = tempDir()
        let (z0, draws) = try numpyDraws(dir, seed: 13, total: total, n: n, d: d, startScale: 1.5)
        var s = HMCSettings()
        s.steps = 10; s.burnIn = 0.5; s.leapfrog = 5; s.stepSize = 0.3; s.adaptation = .rule
        XCTAssertEqual(s.burnInSteps + s.steps, total)
        let ours = HMC.sample(u, from: z0, parameters: [], settings: s, draws: draws, recordPath: true)
        XCTAssertEqual(ours.path.count, total * (s.leapfrog + 1), "positions per transition")
        XCTAssertTrue(ours.path.allSatisfy { $0.shape == [n, d] })
        XCTAssertTrue(HMC.sample(u, from: z0, parameters: [], settings: s, draws: draws).path.isEmpty, "no path unless asked for")
        var leak = [Double](repeating: 0, count: n * m)
        for z in ours.path {
            for i in 0..<n {
                for j in 0..<m {
                    var r = Double(u.x.data[i * m + j]) - Double(u.b.data[j])
                    for k in 0..<d { r -= Double(u.w.data[j * d + k]) * Double(z.data[i * d + k]) }
                    leak[i * m + j] += r / Double(u.s * u.s)
                }
            }
        }
        let out = try python(paperDSamplerPort(u, chains: n, dir: dir) + """
        Q = HMC_sampler(\(s.stepSize), \(s.leapfrog), True)
        z, _ = Q.sample(z0, \(s.steps), int(0.5 * \(s.steps)))
        print(' '.join(map(str, list(z.ravel()) + list(x_grad.ravel()))))
        """).split(separator: " ").map { Double($0)! }
        for k in 0..<(n * d) { XCTAssertEqual(Double(ours.z.data[k]), out[k], accuracy: 1e-4, "z element \(k)") }
        for k in 0..<(n * m) {
            XCTAssertEqual(leak[k], out[n * d + k], accuracy: 1e-4 * max(1, abs(out[n * d + k])), "Σ ∂E/∂x, element \(k)")
        }
        XCTAssertGreaterThan(leak.map(abs).max()!, 1, "the sum is not trivially small")
    }

    /// Dual averaging against a numpy port of Stan's update (`stepsize_adaptation::learn_stepsize`,
    /// γ = 0.05, t₀ = 10, κ = 0.75, μ = log 10η₀, then exp(x̄) after burn-in), per chain, on the
    /// same transition and the same draws.
    func testDualAveragingMatchesAPortOfStansUpdate() throws {
        let (n, d, total) = (10, 3, 30)
        let u = gaussian(chains: n)
        let dir = tempDir()
        let (z0, draws) = try numpyDraws(dir, seed: 11, total: total, n: n, d: d, startScale: 1)
        var s = HMCSettings()
        s.steps = 15; s.burnIn = 1; s.leapfrog = 4; s.stepSize = 0.2; s.adaptation = .dualAveraging; s.targetAccept = 0.8
        XCTAssertEqual(s.burnInSteps + s.steps, total)
        let ours = HMC.sample(u, from: z0, parameters: [], settings: s, draws: draws)
        let out = try python("""
        import numpy as np
        W = np.array(\(u.w.data)).reshape(4, 3); b = np.array(\(u.b.data)); x = np.array(\(Array(u.x.data[0..<4]))); s = \(u.s)
        P = np.load('\(dir)/p.npy').astype(np.float64); U = np.load('\(dir)/u.npy'); z = np.load('\(dir)/z0.npy').astype(np.float64)
        def E(z): return 0.5 * ((x - z @ W.T - b) ** 2).sum(1) / s**2 + 0.5 * (z ** 2).sum(1)
        def grad_E(z): return -((x - z @ W.T - b) @ W) / s**2 + z
        def transition(z_s, p_s, eps, L):
            e = eps[:, None]; z_end = z_s.copy(); p_end = p_s - 0.5 * e * grad_E(z_s)
            for i in range(L):
                z_end = z_end + e * p_end
                p_end = p_end - (e if i < L - 1 else 0.5 * e) * grad_E(z_end)
            return z_end, E(z_s) - E(z_end) + 0.5 * ((p_s ** 2).sum(1) - (p_end ** 2).sum(1))
        eps0, delta, burn, L = \(s.stepSize), \(s.targetAccept), \(s.burnInSteps), \(s.leapfrog)
        eps = np.full(\(n), eps0); mu = np.log(10 * eps0); s_bar = np.zeros(\(n)); x_bar = np.zeros(\(n)); counter = 0
        for i in range(burn + \(s.steps)):
            z_prop, ratio = transition(z, P[i], eps, L)
            accept = np.log(U[i]) < ratio
            z[accept] = z_prop[accept]
            if i < burn:
                adapt_stat = np.minimum(1, np.exp(ratio))
                counter += 1
                eta = 1.0 / (counter + 10)
                s_bar = (1.0 - eta) * s_bar + eta * (delta - adapt_stat)
                xx = mu - s_bar * np.sqrt(counter) / 0.05
                x_eta = counter ** -0.75
                x_bar = (1.0 - x_eta) * x_bar + x_eta * xx
                eps = np.exp(xx)
                if i == burn - 1: eps = np.exp(x_bar)
        print(' '.join(map(str, list(z.ravel()) + list(eps))))
        """).split(separator: " ").map { Double($0)! }
        // dual averaging multiplies the acceptance statistic by √m/γ (about 100 here), so float32
        // rounding in the energies moves the step sizes by about 1e-4 relative
        for k in 0..<(n * d) { XCTAssertEqual(Double(ours.z.data[k]), out[k], accuracy: 2e-3, "z element \(k)") }
        for i in 0..<n { XCTAssertEqual(ours.stepSize[i], out[n * d + i], accuracy: 1e-3 * out[n * d + i], "step size of chain \(i)") }
        XCTAssertGreaterThan(Set(ours.stepSize.map { Float($0) }).count, 1, "each chain adapts its own step size")
    }
}
