import Foundation

/// How the leapfrog step size adapts.
public enum StepSizeAdaptation: String, CaseIterable, Sendable {
    /// Paper D Eq. 67: η ← η + 0.01 · (α − α*)/α* · η after every transition (burn-in and
    /// sampling alike, as its code does), with α the share of the batch's chains that
    /// accepted: one step size for the whole batch.
    case rule
    /// Dual averaging (the update of Hoffman & Gelman 2014, Algorithm 5, with L fixed rather
    /// than the trajectory length and no initial-step heuristic; Stan's and NumPyro's
    /// constants γ = 0.05, t₀ = 10, κ = 0.75, μ = log 10η₀) towards α* on each chain's own
    /// acceptance probability, during burn-in only; sampling then uses each chain's averaged
    /// step size. The burn-in's mean acceptance probability meets α*; the averaged step
    /// size then accepts more often (on a 3-d Gaussian with 5 leapfrog steps, measured about
    /// 0.77 for α* = 0.65 and 0.92-0.97 for 0.8, as an independent numpy run of the same
    /// algorithm also gives).
    case dualAveraging = "dual-averaging"
    /// A fixed step size.
    case none
}

/// Everything an HMC run needs besides the energy and the starting codes.
public struct HMCSettings: Sendable {
    /// Transitions after burn-in (T).
    public var steps = 100
    /// Leapfrog steps per transition (L; paper D: 20).
    public var leapfrog = 20
    /// The initial step size η₀.
    public var stepSize: Float = 0.05
    /// Burn-in transitions as a fraction of T, run before the T (paper D's code: 0.5, rounded down).
    public var burnIn = 0.5
    public var adaptation = StepSizeAdaptation.rule
    /// The acceptance rate the adaptation aims at (paper D: 0.9).
    public var targetAccept = 0.9
    public var seed: UInt64 = 0
    /// The global index of the first chain: every chain's draws come from the seed and its
    /// index, whatever the batch. (The results still depend on the batch through a step size
    /// the `rule` shares, and through the energy's matrix products, which may round
    /// differently with the row count.)
    public var firstChain = 0
    public init() {}

    public var burnInSteps: Int { Int(burnIn * Double(steps)) }
}

/// The random draws of one transition for `chains` chains of `dimension` coordinates: the
/// momenta `[chains, dimension]` and log u of the Metropolis test per chain. By default each
/// chain draws from its own stream of the seed; tests feed a port of the authors' code the
/// same numbers through this.
public typealias HMCDraws = (_ transition: Int, _ chains: Int, _ dimension: Int) -> (momentum: Tensor, logUniform: [Double])

/// The state after an HMC run, per chain.
public struct HMCResult {
    /// The final codes `[N, d]`.
    public var z: Tensor
    /// The share of the T sampling transitions that were accepted.
    public var acceptance: [Double]
    /// The mean Metropolis acceptance probability min(1, e^ratio) over the burn-in transitions
    /// (what dual averaging steers to the target; 0 without burn-in).
    public var burnInAcceptance: [Double]
    /// U at the final codes.
    public var energy: [Double]
    /// The step size after the last adaptation (for `rule`, the value the update after the
    /// last transition gives, as the authors' `Q.eps`).
    public var stepSize: [Double]
    /// Whether the chain accepted at least one proposal, burn-in included (so its final code
    /// is not its start).
    public var moved: [Bool]
    /// With `recordPath`, every position `[N, d]` at which paper D's transition
    /// (vae/model/hmc.py `HMC_sampler.transition`) calls `grad_E`, in order: each transition's
    /// start, then its L leapfrog positions, burn-in included ((L + 1) per transition).
    /// The authors' attack through the sampler leaks ∂E/∂x at each of them into its gradient
    /// (`ThroughHMCGradient.kuzina`). Empty otherwise.
    public var path: [Tensor] = []
}

/// Hamiltonian Monte Carlo over a batch of independent chains (paper D Algorithm 1, Eq. 9-10),
/// all chains advancing together: each leapfrog step is one batched evaluation of the energy
/// and its gradient with respect to the codes (`Autodiff.valueAndGradient`), with the
/// model's weights frozen, or one per half of the batch when the energy can be cut by chains
/// (see `leapfrog`). The transition follows paper D's code (vae/model/hmc.py
/// `HMC_sampler.transition`): momentum p ~ N(0, I), a half step of p, L steps of z with full
/// steps of p between them and a half step at the end, and the Metropolis test on
/// U(z) − U(z′) + ½(‖p‖² − ‖p′‖²). The energy and gradient at the current state are kept from
/// the previous transition instead of being recomputed, which changes no number.
public enum HMC {
    /// One energy evaluation: values `[N]` and gradients `[N, d]`.
    static func evaluate(_ u: any PotentialEnergy, _ z: Tensor) -> (energy: Tensor, gradient: Tensor) {
        let (v, g) = Autodiff.valueAndGradient(at: z) { u($0) }
        return (v, g)
    }

    /// Leapfrog integration of L steps with per-row step sizes from (z, p), given the energy
    /// and gradient at z. Returns the end point with its energy and gradient.
    ///
    /// When the energy can be cut by chains (`PotentialEnergy.chains`), the batch's two
    /// halves (`BatchSplit`, a fixed two parts whatever the core count) integrate
    /// concurrently, each with single-threaded OpenBLAS: measured here, two independent
    /// single-threaded products of half the rows run 10-14% faster than one two-threaded
    /// product, and the halves need no synchronisation between leapfrog steps. Each chain's
    /// arithmetic is the same either way, up to the rounding of products with fewer rows.
    /// With `recordPath`, `path` holds the L positions after each step (empty otherwise).
    public static func leapfrog(_ u: any PotentialEnergy, z z0: Tensor, p p0: Tensor, gradient g0: Tensor,
                                stepSizes eta: [Float], steps: Int, recordPath: Bool = false)
        -> (z: Tensor, p: Tensor, energy: Tensor, gradient: Tensor, path: [Tensor]) {
        let n = z0.shape[0]
        precondition(eta.count == n && p0.shape == z0.shape && g0.shape == z0.shape)
        let ranges = BatchSplit.ranges(n)
        let parts = ranges.compactMap { r in u.chains(r).map { (r, $0) } }
        guard ranges.count > 1, parts.count == ranges.count else {
            return leapfrogInOnePart(u, z: z0, p: p0, gradient: g0, stepSizes: eta, steps: steps, recordPath: recordPath)
        }
        let ends = BatchSplit.map(parts) { r, part in
            leapfrogInOnePart(part, z: z0.rows(r), p: p0.rows(r), gradient: g0.rows(r), stepSizes: Array(eta[r]), steps: steps, recordPath: recordPath)
        }
        let path = recordPath ? (0..<steps).map { step in Tensor.concatRows(ends.map { $0.path[step] }) } : []
        return (Tensor.concatRows(ends.map(\.z)), Tensor.concatRows(ends.map(\.p)),
                Tensor.concatRows(ends.map(\.energy)), Tensor.concatRows(ends.map(\.gradient)), path)
    }

    static func leapfrogInOnePart(_ u: any PotentialEnergy, z z0: Tensor, p p0: Tensor, gradient g0: Tensor,
                                  stepSizes eta: [Float], steps: Int, recordPath: Bool)
        -> (z: Tensor, p: Tensor, energy: Tensor, gradient: Tensor, path: [Tensor]) {
        let (n, d) = (z0.shape[0], z0.shape[1])
        var z = z0, p = p0, g = g0
        var energy = Tensor.zeros([n])
        var path: [Tensor] = []
        func kick(_ g: Tensor, _ f: Float) {
            for i in 0..<n { let c = f * eta[i]; for k in 0..<d { p.data[i * d + k] -= c * g.data[i * d + k] } }
        }
        kick(g, 0.5)
        for step in 0..<steps {
            for i in 0..<n { let c = eta[i]; for k in 0..<d { z.data[i * d + k] += c * p.data[i * d + k] } }
            if recordPath { path.append(z) }
            (energy, g) = evaluate(u, z)
            kick(g, step < steps - 1 ? 1 : 0.5)
        }
        if steps == 0 { energy = evaluate(u, z).energy }
        return (z, p, energy, g, path)
    }

    /// Runs `settings.burnInSteps` + `settings.steps` transitions of every chain from `z0`
    /// (row i a chain) and returns the last state (with `recordPath`, also the positions of
    /// `HMCResult.path`).
    public static func sample(_ u: any PotentialEnergy, from z0: Tensor, parameters: [Variable], settings s: HMCSettings,
                              draws: HMCDraws? = nil, recordPath: Bool = false) -> HMCResult {
        Autodiff.withFrozen(parameters) { run(u, from: z0, settings: s, draws: draws, recordPath: recordPath) }
    }

    static func run(_ u: any PotentialEnergy, from z0: Tensor, settings s: HMCSettings, draws: HMCDraws?, recordPath: Bool) -> HMCResult {
        let (n, d) = (z0.shape[0], z0.shape[1])
        precondition(d == u.dimension, "HMC: codes of size \(d), energy of dimension \(u.dimension)")
        var rngs = (0..<n).map { RNG(seed: s.seed).derived(0x4D43_0000_0000 + UInt64(s.firstChain + $0)) }
        var z = z0
        var (energy, gradient) = evaluate(u, z)
        var eta = [Float](repeating: s.stepSize, count: n)
        var dual = DualAveraging(stepSize: s.stepSize, chains: n, target: s.targetAccept)
        var accepted = [Int](repeating: 0, count: n), burnInProbability = [Double](repeating: 0, count: n)
        var moved = [Bool](repeating: false, count: n)
        var path: [Tensor] = []
        let burn = s.burnInSteps
        for t in 0..<(burn + s.steps) {
            // momentum, then the Metropolis draw, from each chain's own stream
            var p = Tensor.zeros([n, d]), logU = [Double](repeating: 0, count: n)
            if let draws {
                (p, logU) = draws(t, n, d)
            } else {
                for i in 0..<n {
                    for k in 0..<d { p.data[i * d + k] = rngs[i].normal() }
                    logU[i] = Foundation.log(Double(rngs[i].next() >> 11) * 0x1p-53)
                }
            }
            // the authors' transition evaluates grad_E at its start (ours keeps it from before)
            if recordPath { path.append(z) }
            let end = leapfrog(u, z: z, p: p, gradient: gradient, stepSizes: eta, steps: s.leapfrog, recordPath: recordPath)
            path += end.path
            var acceptProbability = [Double](repeating: 0, count: n), share = 0.0
            for i in 0..<n {
                var k0 = 0.0, k1 = 0.0
                for k in 0..<d {
                    k0 += Double(p.data[i * d + k]) * Double(p.data[i * d + k])
                    k1 += Double(end.p.data[i * d + k]) * Double(end.p.data[i * d + k])
                }
                let logRatio = Double(energy.data[i]) - Double(end.energy.data[i]) + 0.5 * (k0 - k1)
                acceptProbability[i] = logRatio.isNaN ? 0 : Swift.min(1, Foundation.exp(logRatio))
                if t < burn { burnInProbability[i] += acceptProbability[i] / Double(burn) }
                // a NaN ratio (a diverging trajectory) is rejected
                guard logU[i] < logRatio else { continue }
                share += 1
                moved[i] = true
                if t >= burn { accepted[i] += 1 }
                z.data.replaceSubrange((i * d)..<((i + 1) * d), with: end.z.data[(i * d)..<((i + 1) * d)])
                gradient.data.replaceSubrange((i * d)..<((i + 1) * d), with: end.gradient.data[(i * d)..<((i + 1) * d)])
                energy.data[i] = end.energy.data[i]
            }
            switch s.adaptation {
            case .rule:
                // paper D Eq. 67 on the batch's acceptance share
                let alpha = share / Double(n), e = Double(eta[0])
                let next = Float(e + 0.01 * ((alpha - s.targetAccept) / s.targetAccept) * e)
                eta = [Float](repeating: next, count: n)
            case .dualAveraging:
                if t < burn {
                    eta = dual.update(acceptProbability)
                    if t == burn - 1 { eta = dual.final }
                }
            case .none:
                break
            }
        }
        return HMCResult(z: z, acceptance: accepted.map { s.steps > 0 ? Double($0) / Double(s.steps) : 0 }, burnInAcceptance: burnInProbability,
                         energy: energy.data.map(Double.init), stepSize: eta.map(Double.init), moved: moved, path: path)
    }
}

/// Dual averaging of log step sizes per chain (Hoffman & Gelman 2014, Algorithm 5).
struct DualAveraging {
    let mu: Double, target: Double
    let gamma = 0.05, t0 = 10.0, kappa = 0.75
    var m = 0
    var hBar: [Double], logEta: [Double], logEtaBar: [Double]

    init(stepSize: Float, chains: Int, target: Double) {
        mu = Foundation.log(10 * Double(stepSize))
        self.target = target
        hBar = [Double](repeating: 0, count: chains)
        logEta = [Double](repeating: Foundation.log(Double(stepSize)), count: chains)
        logEtaBar = [Double](repeating: 0, count: chains)
    }

    /// The next step sizes after a transition with acceptance probabilities `alpha`.
    mutating func update(_ alpha: [Double]) -> [Float] {
        m += 1
        let w = 1 / (Double(m) + t0), mk = pow(Double(m), -kappa)
        for i in 0..<alpha.count {
            hBar[i] = (1 - w) * hBar[i] + w * (target - alpha[i])
            logEta[i] = mu - Double(m).squareRoot() / gamma * hBar[i]
            logEtaBar[i] = mk * logEta[i] + (1 - mk) * logEtaBar[i]
        }
        return logEta.map { Float(Foundation.exp($0)) }
    }

    /// The averaged step sizes, for sampling after burn-in.
    var final: [Float] { logEtaBar.map { Float(Foundation.exp($0)) } }
}
