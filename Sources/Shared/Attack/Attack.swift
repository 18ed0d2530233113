import Foundation

/// The attacks of the four papers as objectives to maximise over x + δ, one value per row.
/// Every one is a function of the perturbed images alone, so `Autodiff.valueAndGradient`
/// gives all references and restarts their gradients in one backward pass, with the model
/// frozen.
public enum AttackKind: String, CaseIterable, Sendable {
    /// Paper A Eq. 2-3: minimise KL(q(z|x+δ) ‖ q(z|x_t)) (+ λ‖δ‖₂ with a penalty), supervised.
    case latent
    /// Paper D Table 1, the unsupervised encoder attack: maximise SKL(q(z|x+δ), q(z|x)).
    case skl
    /// Paper D Table 1, supervised: minimise ‖g(z̃_δ) − g(z̃_t)‖² with decoder means g,
    /// z̃_δ ~ q(z|x+δ) and z̃_t ~ q(z|x_t) reparameterised with the same noise (`samples` 0:
    /// the encoder means).
    case output
    /// Paper B Eq. 5, paper A Eq. 4: maximise ‖g(z_δ) − g(z_ref)‖₂, through μ, σ or both; the
    /// reference is chosen by `DamageReference`.
    case maxDamage = "max-damage"
    /// Paper C Figure 3: minimise the ELBO of x + δ.
    case elbo
    /// Paper D's adversarial accuracy: maximise the cross-entropy of the latent classifier on
    /// z ~ q(z|x+δ) against its prediction on the clean input.
    case classifier
    /// Paper D Table 1 [13]: maximise the 2-Wasserstein distance between q(z|x+δ) and q(z|x)
    /// (its square is what is maximised and reported).
    case wasserstein
    /// Paper D appendix C.3 Eq. 64-66: maximise ‖z̃ᵃ − z̃ʳ‖², z̃ᵃ ~ q(z|x+δ) and z̃ʳ ~ q(z|x)
    /// (reparameterised samples; `samples` 0: the means), both after `throughHMC` transitions.
    case latentDistance = "latent-distance"

    /// The kinds that `throughHMC` applies to: those that act through the attacked code.
    public var attacksThroughCode: Bool { [.skl, .wasserstein, .maxDamage, .classifier, .latentDistance].contains(self) }

    public var needsTarget: Bool { self == .latent || self == .output }
    public var usesSamples: Bool { [.maxDamage, .elbo, .classifier, .output, .latentDistance].contains(self) }
}

/// Which encoder outputs a maximum-damage perturbation acts through (paper B Figure 4); the
/// others keep their clean values.
public enum AttackPath: String, CaseIterable, Sendable {
    case mu, sigma, both
}

/// What a maximum-damage attack measures its damage from.
public enum DamageReference: String, CaseIterable, Sendable {
    /// g(μ(x)), the maximum-likelihood reconstruction: paper B Eq. 5.
    case mean
    /// g(z) for z ~ q(z|x) drawn independently of the attacked sample: paper A Eq. 4.
    case sample
    /// g(μ(x) + σ(x)·ε) with the attacked sample's own noise ε: a coupled, lower-variance
    /// variant of paper A's.
    case coupled
}

/// How a perturbation moves from one iterate to the next.
public enum AttackOptimizer: String, CaseIterable, Sendable {
    /// Projected gradient ascent: the signed gradient times `step` for L∞, the normalised
    /// gradient times `step` for L2.
    case pgd
    /// Plain gradient ascent with learning rate `lr` and reduce-on-plateau, as paper D's code
    /// runs its attacks (its Table 8: lr 1, 50 steps).
    case sgd
    /// Adam (PyTorch's `torch.optim.Adam` update, β = (0.9, 0.999), ε = 1e-8) with learning
    /// rate `lr` and reduce-on-plateau.
    case adam
}

/// How the gradient of an attack through the HMC defence (`AttackSettings.throughHMC`) passes
/// the chain: the sampler's own derivatives would need second derivatives of the energy,
/// which the autodiff does not take, so each option stands in for ∂z_T/∂z₀.
public enum ThroughHMCGradient: String, CaseIterable, Sendable {
    /// The forward value is the chain's end, the backward pass treats the transitions as the
    /// identity (∂z_T/∂z₀ = I): the attack keeps the encoder's gradient.
    case straightThrough = "straight-through"
    /// The chain part of paper D's code (attack/attacker.py with vae/model/hmc.py
    /// `HMC_sampler`): every proposal is computed from detached tensors and an accepted one
    /// overwrites the chain's row, so a row whose chain accepted any proposal passes no
    /// gradient through its code, and one that never accepted passes the identity.
    case detachAccepted = "detach-accepted"
    /// Paper D's code in full: `detachAccepted`, plus what torch adds to the perturbation's
    /// gradient while the sampler runs. `VaeTarget.grad_E` calls `E.sum().backward()` with x
    /// = x_ref + ε still attached to ε, so each of its calls (at every transition's start and
    /// every leapfrog position, `HMCResult.path`) also accumulates ∂E(z_v, x)/∂ε into
    /// `eps.grad`, which `optimizer.step()` then uses with the loss's own gradient. Here: the
    /// objective's value is unchanged and its gradient gains Σ_v ∂ log p(x | z_v)/∂x (the
    /// attack ascends the negated loss; the prior term has no x). For a Bernoulli decoder
    /// that is Σ_v of the decoder's logits at z_v: it pulls x towards the decodings along the
    /// chain, not away from the reference. The authors' `log_Bernoulli` clamps the decoder's
    /// probabilities to [1e-5, 1 − 1e-5], so for a Bernoulli decoder each logit enters clamped
    /// to ±`kuzinaLogitLimit` (other likelihoods, which their attack does not use, enter as
    /// the model defines them). Like the objective, the term is averaged over `hmcSamples`
    /// chains and `samples` draws.
    case kuzina

    /// log((1 − 10⁻⁵)/10⁻⁵) ≈ 11.513: the logit of the bounds to which paper D's
    /// utils/distributions.py `log_Bernoulli` clamps the decoder's probabilities.
    public static let kuzinaLogitLimit = Float(Foundation.log((1 - 1e-5) / 1e-5))
}

/// Which iterate of a row becomes its result.
public enum AttackIterate: String, CaseIterable, Sendable {
    /// The iterate with the highest objective seen.
    case best
    /// The final iterate, as paper D's code returns it.
    case last
}

/// How the perturbation of each restart starts.
public enum AttackInit: Equatable, Sendable {
    case zero
    case uniform            // uniform over the L∞ cube of the radius, then projected
    case normal(Float)      // N(0, σ²) per pixel, then projected (paper D Table 8: σ = 0.2)
}

/// Everything an attack run needs besides the model and the images.
public struct AttackSettings: Sendable {
    public var kind: AttackKind
    public var norm: PerturbationNorm = .linf
    public var radius: Float = 0.1
    /// Whether x + δ stays in the pixel box [0, 1] (the default). Paper C does not say its
    /// attacks clip, and on MNIST, whose pixels are mostly exactly 0 or 1, the box halves what
    /// an L∞ attack can do to most pixels (REPRODUCTION.md, paper C Figure 3).
    public var pixelBox = true
    public var steps = 50
    /// PGD step: the signed gradient times `step` for L∞, the normalised gradient times `step`
    /// for L2.
    public var step: Float = 0.01
    public var optimizer: AttackOptimizer = .pgd
    /// The learning rate of `sgd` and `adam`.
    public var lr: Float = 1
    /// Reduce-on-plateau of `sgd` and `adam` (PyTorch's `ReduceLROnPlateau`, relative
    /// threshold 1e-4): a row's rate is multiplied by `factor` once its loss has not improved
    /// for more than `patience` steps; a row stops moving once its rate falls below 1e-6.
    public var patience = 20
    public var factor: Float = 0.5
    public var iterate: AttackIterate = .best
    /// The adaptive attack of paper D appendix C.3: the objective sees the attacked code after
    /// this many HMC transitions (0: none), `hmc` giving the sampler's other settings.
    public var throughHMC = 0
    public var throughHMCGradient = ThroughHMCGradient.straightThrough
    public var hmc = HMCSettings()
    /// HMC chains per row and evaluation, averaged.
    public var hmcSamples = 1
    public var restarts = 1
    public var initialization: AttackInit = .uniform
    /// Reparameterised samples per step for the sampling objectives (0: encoder means).
    public var samples = 1
    public var through: AttackPath = .both
    public var damageReference: DamageReference = .mean
    /// Paper A's penalty form of the latent attack: + λ‖δ‖₂.
    public var penalty: Float = 0
    public var seed: UInt64 = 0
    /// The index of the first reference in the whole run: every random draw of a row (its
    /// start, its noise per step) comes from the seed and the row's global index, so results
    /// do not depend on how the references are cut into batches (up to the rounding of the
    /// model's products, which may differ with the row count).
    public var firstReference = 0
    public init(kind: AttackKind) { self.kind = kind }
}

/// The result of an attack: the perturbed images (row r·K + k is restart k of reference r),
/// their final objective values and perturbation norms.
public struct AttackResult {
    public var images: Tensor
    public var objective: [Double]
    public var norms: [Double]
}

public enum Attack {
    /// Gradient ascent on `settings.kind`'s objective for every reference and restart at once.
    /// Each row's result is its best iterate (the highest objective seen) or its last
    /// (`settings.iterate`); either lies in the ball and the pixel box (the ball alone without
    /// `settings.pixelBox`). Every iterate does, except the start of `sgd` and `adam`, which is
    /// clamped to the box only (paper D's loop; not at all without the box) and never a result. `targets` (one row per reference) are needed by `latent` and
    /// `output`, `classifier` by `classifier`.
    public static func run(_ vae: VAE, references x: Tensor, targets: Tensor? = nil, classifier: LatentClassifier? = nil,
                           settings s: AttackSettings) -> AttackResult {
        run(references: x, parameters: vae.parameters + (classifier?.layer.parameters ?? []), settings: s) { x0, rows in
            Attack.objective(vae, clean: x0, targets: targets?.gatherRows(rows), classifier: classifier, settings: s)
        }
    }

    /// The symmetric-KL attack on a hierarchical VAE (paper D section 4.3, after its [28]):
    /// Σ over the top `topGroups` groups of SKL[q(z_k | z̄_>k, x + δ), q(z_k | z̄ʳ_>k, x)], each
    /// group's posterior given the posterior means z̄ of the groups above it (of the attacked
    /// input and of the reference respectively), so the objective is deterministic.
    public static func runTopGroups(_ model: HierarchicalVAE, references x: Tensor, topGroups: Int, settings s: AttackSettings) -> AttackResult {
        precondition(s.kind == .skl && s.throughHMC == 0 && (1...model.groups).contains(topGroups))
        func top(_ x: Variable) -> [HierarchicalVAE.Group] {
            var none = RNG(seed: 0)
            return Array(model.topDown(features: model.features(x), rng: &none) { _ in .mean }.groups.prefix(topGroups))
        }
        return run(references: x, parameters: model.parameters, settings: s) { x0, _ in
            let reference = Autodiff.withoutGradients { top(Variable(x0)) }
            return { x, _ in
                let terms = zip(top(x), reference).map { a, r in DiagonalGaussian.symmetricKL(mu1: a.mu, sigma1: a.sigma, mu2: r.mu, sigma2: r.sigma) }
                return terms.dropFirst().reduce(terms[0], +)
            }
        }
    }

    /// The ascent loop every attack shares, with `parameters` frozen throughout. `build` makes
    /// the objective from the clean rows (each reference repeated `restarts` times) and the
    /// reference index of each row.
    static func run(references x: Tensor, parameters: [Variable], settings s: AttackSettings,
                    objective build: (_ clean: Tensor, _ rows: [Int]) -> (Variable, Int) -> Variable) -> AttackResult {
        let (nRef, k) = (x.shape[0], s.restarts)
        let rows = (0..<(nRef * k)).map { $0 / k }
        let x0 = x.gatherRows(rows)
        return Autodiff.withFrozen(parameters) {
            let objective = build(x0, rows)
            let d = x0.count / max(1, x0.shape[0])
            var delta = Attack.starts(s, rows: x0.shape[0], size: d).reshaped(x0.shape)
            // PGD starts inside the ball and the box. sgd and adam follow paper D's code
            // (attack/attacker.py, train_eps): the start is clamped to the box only, the first
            // gradient is taken there, and the ball applies from the first step on; that first
            // iterate can lie outside the ball and is never a result.
            let startFeasible = s.optimizer == .pgd
            delta = startFeasible ? BallProjection.project(delta, around: x0, norm: s.norm, radius: s.radius, pixelBox: s.pixelBox)
                                  : BallProjection.box(delta, around: x0, pixelBox: s.pixelBox)
            var stepper = AttackStepper(settings: s, rows: x0.shape[0], size: d)
            // the projected start stands in until a finite value is seen
            var best = startFeasible ? delta : BallProjection.project(delta, around: x0, norm: s.norm, radius: s.radius, pixelBox: s.pixelBox)
            var bestValue = [Double](repeating: -.infinity, count: x0.shape[0])
            for t in 0...s.steps {
                let feasible = t > 0 || startFeasible
                if t == s.steps {
                    // without a single step an sgd or adam start still has to enter the ball
                    if !feasible { delta = BallProjection.project(delta, around: x0, norm: s.norm, radius: s.radius, pixelBox: s.pixelBox) }
                    // the final iterate needs its value only
                    // (HMC inside the objective takes gradients itself, so it needs recording on)
                    let values = s.throughHMC > 0 ? Autodiff.valueAndGradient(at: x0 + delta) { objective($0, t) }.values
                                                  : Autodiff.withoutGradients { objective(Variable(x0 + delta), t).value }
                    for i in 0..<values.count where s.iterate == .last || Double(values.data[i]) > bestValue[i] {
                        bestValue[i] = Double(values.data[i])
                        best.data.replaceSubrange((i * d)..<((i + 1) * d), with: delta.data[(i * d)..<((i + 1) * d)])
                    }
                    break
                }
                let (values, grad) = Autodiff.valueAndGradient(at: x0 + delta) { objective($0, t) }
                if feasible && s.iterate == .best {
                    for i in 0..<values.count where Double(values.data[i]) > bestValue[i] {
                        bestValue[i] = Double(values.data[i])
                        best.data.replaceSubrange((i * d)..<((i + 1) * d), with: delta.data[(i * d)..<((i + 1) * d)])
                    }
                }
                delta = BallProjection.project(stepper.step(delta, gradient: grad, values: values), around: x0, norm: s.norm, radius: s.radius,
                                               pixelBox: s.pixelBox)
            }
            return AttackResult(images: x0 + best, objective: bestValue, norms: BallProjection.norms(best, norm: s.norm))
        }
    }

    /// The unprojected starts of `rows` rows of `size` pixels, row i drawn from the seed and
    /// its global index `firstReference · restarts + i`.
    public static func starts(_ s: AttackSettings, rows: Int, size d: Int) -> Tensor {
        Tensor.concatRows((0..<rows).map { i -> Tensor in
            var rng = RNG(seed: s.seed).derived(0xA77A_0000_0000 + UInt64(s.firstReference * s.restarts + i))
            switch s.initialization {
            case .zero: return Tensor.zeros([1, d])
            case .uniform: return rng.uniformTensor([1, d], -s.radius, s.radius)
            case .normal(let sd): return rng.normalTensor([1, d]) * sd
            }
        })
    }

    /// The step direction: sign(g)·step for L∞, g/‖g‖·step for L2 (rows with a zero gradient
    /// stay where they are).
    static func ascent(_ g: Tensor, norm: PerturbationNorm, step: Float) -> Tensor {
        switch norm {
        case .linf: return g.map { $0 > 0 ? step : ($0 < 0 ? -step : 0) }
        case .l2:
            let n = g.shape[0], d = g.count / max(1, n)
            var out = g
            for i in 0..<n {
                let norm = (0..<d).reduce(0.0) { $0 + Double(g.data[i * d + $1]) * Double(g.data[i * d + $1]) }.squareRoot()
                let c = norm > 0 ? Float(Double(step) / norm) : 0
                for j in 0..<d { out.data[i * d + j] *= c }
            }
            return out
        }
    }

    /// The objective to maximise, as a function of the perturbed images and the step (the
    /// sampling objectives draw fixed noise per step from the seed, the same for every
    /// evaluation within a step).
    public static func objective(_ vae: VAE, clean x0: Tensor, targets: Tensor?, classifier: LatentClassifier?,
                              settings s: AttackSettings) -> (Variable, Int) -> Variable {
        let (mu0, sigma0) = Autodiff.withoutGradients { vae.encode(Variable(x0)) }
        let latent = mu0.shape[1]
        let rowsBefore = s.firstReference * s.restarts
        func noise(_ t: Int, _ j: Int) -> Variable {
            // per row, from the seed, the step, the sample and the row's global index
            Variable(Tensor.concatRows((0..<x0.shape[0]).map { i in
                var r = RNG(seed: s.seed).derived(0xA700_0000_0000_0000 ^ (UInt64(t) << 40 | UInt64(j) << 32 | UInt64(rowsBefore + i)))
                return r.normalTensor([1, latent])
            }))
        }
        /// The chain of `throughHMC` transitions of HMC on p(z|x) started at `code`, chain j
        /// (its draws from the seed, the attack step and j).
        func chain(from code: Tensor, _ x: Tensor, _ t: Int, _ j: Int, recordPath: Bool = false) -> HMCResult {
            var h = s.hmc
            h.steps = s.throughHMC
            var g = RNG(seed: s.seed).derived(0x4A00_0000_0000 ^ (UInt64(t) << 16 | UInt64(j)))
            h.seed = g.next()
            h.firstChain = rowsBefore
            return HMC.sample(VAEPosteriorEnergy(vae: vae, inputs: x), from: code, parameters: vae.parameters, settings: h,
                              recordPath: recordPath)
        }
        /// `f` of the attacked code after the chain (`f` of `code` itself without HMC): the
        /// forward value is `f` at the chain's end, the gradient as `throughHMCGradient` says
        /// (straight-through: ∂z_T/∂z₀ = I; detach-accepted: zero for rows whose chain
        /// accepted a proposal, I for the others; kuzina: detach-accepted plus the likelihood
        /// gradients paper D's code leaks into the perturbation's).
        func defended(_ code: Variable, _ x: Variable, _ t: Int, _ j: Int, _ f: (Variable) -> Variable) -> Variable {
            guard s.throughHMC > 0 else { return f(code) }
            let c = chain(from: code.value, x.value, t, j, recordPath: s.throughHMCGradient == .kuzina)
            switch s.throughHMCGradient {
            case .straightThrough:
                return f(code + Variable(c.z - code.value))
            case .detachAccepted:
                return f(detachingMoved(code, c))
            case .kuzina:
                var leak: Variable? = nil
                for z in c.path {
                    var logits = Autodiff.withoutGradients { vae.decodeLogits(Variable(z)).value }
                    if vae.likelihood == .bernoulli {
                        // the authors' log_Bernoulli clamps the probabilities (see `kuzinaLogitLimit`)
                        let m = ThroughHMCGradient.kuzinaLogitLimit
                        logits = logits.map { Swift.min(Swift.max($0, -m), m) }
                    }
                    let term = vae.likelihood.logProb(x, logits: Variable(logits))
                    leak = leak.map { $0 + term } ?? term
                }
                guard let leak else { return f(detachingMoved(code, c)) }
                return f(detachingMoved(code, c)) + leak.zeroValued()
            }
        }
        /// The chain's end, with the code's gradient kept only for rows that never moved
        /// (they end where they started, so their value is the code's).
        func detachingMoved(_ code: Variable, _ c: HMCResult) -> Variable {
            let d = code.value.count / max(1, code.value.shape[0])
            var keep = Tensor.zeros(code.value.shape)
            for (i, moved) in c.moved.enumerated() where !moved {
                for k in 0..<d { keep.data[i * d + k] = 1 }
            }
            return code * Variable(keep) + Variable(c.z * keep.map { 1 - $0 })
        }
        /// The mean of `f` over the HMC chains (one value without HMC).
        func overChains(_ f: (Int) -> Variable) -> Variable {
            let k = s.throughHMC > 0 ? s.hmcSamples : 1
            var total = f(0)
            for j in 1..<max(1, k) { total = total + f(j) }
            return k > 1 ? total * (1 / Float(k)) : total
        }
        switch s.kind {
        case .skl:
            return { x, t in
                let (mu, sg) = vae.encode(x)
                return overChains { j in defended(mu, x, t, j) { DiagonalGaussian.symmetricKL(mu1: $0, sigma1: sg, mu2: mu0, sigma2: sigma0) } }
            }
        case .wasserstein:
            return { x, t in
                let (mu, sg) = vae.encode(x)
                return overChains { j in defended(mu, x, t, j) { DiagonalGaussian.wasserstein2Squared(mu1: $0, sigma1: sg, mu2: mu0, sigma2: sigma0) } }
            }
        case .latentDistance:
            // z̃ʳ: one sample of q(z|x) per row (its own noise stream), after the same HMC (its
            // path is not needed: the reference is fixed)
            let refStream = 0xFF_FFFF  // a step index no attack reaches
            let refStart = s.samples == 0 ? mu0 : mu0 + sigma0 * noise(refStream, 0xFF)
            let zRef = s.throughHMC > 0 ? chain(from: refStart.value, x0, refStream, 0xFF).z : refStart.value
            return { x, t in
                let (mu, sg) = vae.encode(x)
                let draws = max(1, s.samples)
                var total: Variable? = nil
                for i in 0..<draws {
                    let start = s.samples == 0 ? mu : mu + sg * noise(t, i)
                    let d = overChains { j in defended(start, x, t, i * 16 + j) { ($0 - Variable(zRef)).square().sum(axis: 1) } }
                    total = total.map { $0 + d } ?? d
                }
                return total! * (1 / Float(draws))
            }
        case .latent:
            let (muT, sigmaT) = Autodiff.withoutGradients { vae.encode(Variable(targets!)) }
            return { x, _ in
                let (mu, sg) = vae.encode(x)
                var loss = DiagonalGaussian.kl(mu1: mu, sigma1: sg, mu2: muT, sigma2: sigmaT)
                if s.penalty > 0 { loss = loss + ((x - Variable(x0)).square().flattened().sum(axis: 1) + 1e-12).sqrt() * s.penalty }
                return -loss
            }
        case .output:
            let (muT, sigmaT) = Autodiff.withoutGradients { vae.encode(Variable(targets!)) }
            let meanTarget = s.samples == 0 ? Autodiff.withoutGradients { vae.decodeMean(muT).value } : nil
            return { x, t in
                let (mu, sg) = vae.encode(x)
                if let rt = meanTarget { return -(vae.decodeMean(mu) - Variable(rt)).square().flattened().sum(axis: 1) }
                var total: Variable? = nil
                for j in 0..<s.samples {
                    // the same noise for both samples (common random numbers): the distance
                    // vanishes once q(z|x+δ) = q(z|x_t)
                    let e = noise(t, j)
                    let rt = Autodiff.withoutGradients { vae.decodeMean(muT + sigmaT * e).value }
                    let d = (vae.decodeMean(mu + sg * e) - Variable(rt)).square().flattened().sum(axis: 1)
                    total = total.map { $0 + d } ?? d
                }
                return -(total! * (1 / Float(s.samples)))
            }
        case .maxDamage:
            let meanRef = s.samples == 0 || s.damageReference == .mean ? Autodiff.withoutGradients { vae.decodeMean(mu0).value } : nil
            return { x, t in
                let (mu, sg) = vae.encode(x)
                let muA = s.through == .sigma ? mu0 : mu, sgA = s.through == .mu ? sigma0 : sg
                if s.samples == 0 {
                    return overChains { j in defended(muA, x, t, j) { ((vae.decodeMean($0) - Variable(meanRef!)).square().flattened().sum(axis: 1) + 1e-12).sqrt() } }
                }
                var total: Variable? = nil
                for j in 0..<s.samples {
                    let e = noise(t, j)
                    let ref: Tensor
                    switch s.damageReference {
                    case .mean: ref = meanRef!
                    case .sample: ref = Autodiff.withoutGradients { vae.decodeMean(mu0 + sigma0 * noise(t, s.samples + j)).value }
                    case .coupled: ref = Autodiff.withoutGradients { vae.decodeMean(mu0 + sigma0 * e).value }
                    }
                    let dist = ((vae.decodeMean(muA + sgA * e) - Variable(ref)).square().flattened().sum(axis: 1) + 1e-12).sqrt()
                    total = total.map { $0 + dist } ?? dist
                }
                return total! * (1 / Float(s.samples))
            }
        case .elbo:
            return { x, t in
                let (mu, sg) = vae.encode(x)  // once per evaluation; only z is sampled
                var total: Variable? = nil
                for j in 0..<max(1, s.samples) {
                    // --samples 0: the ELBO's likelihood at the encoder mean (no draw)
                    let z = s.samples == 0 ? mu : mu + sg * noise(t, j)
                    let elbo = vae.likelihood.logProb(x, logits: vae.decodeLogits(z)) - DiagonalGaussian.klToStandard(mu: mu, sigma: sg)
                    total = total.map { $0 + elbo } ?? elbo
                }
                return -(total! * (1 / Float(max(1, s.samples))))
            }
        case .classifier:
            let clf = classifier!
            let cleanPred = clf.predict(mu0.value)
            var onehot = Tensor.zeros([x0.shape[0], clf.config.classes ?? 10])
            for (i, c) in cleanPred.enumerated() { onehot.data[i * onehot.shape[1] + c] = 1 }
            let target = Variable(onehot)
            return { x, t in
                let (mu, sg) = vae.encode(x)
                var total: Variable? = nil
                for j in 0..<max(1, s.samples) {
                    let ce: Variable
                    if s.samples == 0 {
                        ce = overChains { c in
                            defended(mu, x, t, c) { code in
                                let logits = clf.logits(code)
                                return logits.logSumExp(axis: 1) - (logits * target).sum(axis: 1)
                            }
                        }
                    } else {
                        let logits = clf.logits(mu + sg * noise(t, j))
                        ce = logits.logSumExp(axis: 1) - (logits * target).sum(axis: 1)
                    }
                    total = total.map { $0 + ce } ?? ce
                }
                return total! * (1 / Float(max(1, s.samples)))
            }
        }
    }
}
