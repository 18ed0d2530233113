import Foundation

/// Mean and standard error of per-item values (the summary line of every vae-eval metric).
public struct Summary {
    public let count: Int
    public let mean: Double
    /// Sample standard deviation (divisor n − 1). NaN for fewer than two items, where it is
    /// undefined: one image says nothing about the spread (JSON output writes it as `null`).
    public let standardDeviation: Double
    /// Standard error of the mean: sample standard deviation / √n (NaN for fewer than two items).
    public var standardError: Double { standardDeviation / Double(count).squareRoot() }

    public init(_ values: [Double]) {
        count = values.count
        mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        if values.count > 1 {
            let m = mean
            standardDeviation = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
        } else {
            standardDeviation = .nan
        }
    }
}

/// Per-image evaluation of a VAE, in batches and without a graph unless gradients are needed.
extension VAE {
    /// log p(x|z) + log p(z) − log q(z|x) at `m` draws z ~ q(z|x) of one image `x` `[1, ...]`:
    /// the importance weights of `LatentModel.logMarginalPerImage`.
    public func logImportanceWeights(_ x: Tensor, count m: Int, rng: inout RNG) -> Tensor {
        let (mu, sigma) = encode(Variable(x))
        // m copies of the one image's posterior: [m, latent]
        let muB = Variable(Tensor.zeros([m, mu.shape[1]])) + mu, sigmaB = Variable(Tensor.zeros([m, mu.shape[1]])) + sigma
        let (z, _) = sample(mu: muB, sigma: sigmaB, rng: &rng)
        let xs = Variable(Tensor.zeros([m] + Array(x.shape.dropFirst()))) + Variable(x)
        let lp = likelihood.logProb(xs, logits: decodeLogits(z))
        return (lp + DiagonalGaussian.standardLogDensity(z) - DiagonalGaussian.logDensity(z, mu: muB, sigma: sigmaB)).value
    }

    /// Paper D Eq. 11: log p(z₁|x) − log p(z₂|x) = log p(x|z₁) + log p(z₁) − log p(x|z₂) − log p(z₂)
    /// (the marginal p(x) cancels), per image.
    public func logPosteriorRatio(_ images: Tensor, z1: Tensor, z2: Tensor) -> [Double] {
        // log p(x|z) + log p(z) is minus the HMC energy
        let u = VAEPosteriorEnergy(vae: self, inputs: images)
        return Autodiff.withoutGradients {
            let a = u(Variable(z1)).value, b = u(Variable(z2)).value
            return (0..<a.count).map { Double(b.data[$0]) - Double(a.data[$0]) }
        }
    }

    /// Paper B Eq. 1-5: per image, the norms ‖Δ_k(x)‖₂ of the reconstruction changes for
    /// `samples` draws η_k ~ N(0, I),
    ///     Δ_k(x) = g(μ_A + η_k∘σ_B) − g(μ(x)),
    /// with g the decoder mean and g(μ(x)) the clean maximum-likelihood reconstruction (Eq. 5's
    /// reference). Without `perturbed`, (μ_A, σ_B) = (μ(x), σ(x)): the encoder's own noise
    /// (Eq. 2). With a perturbed x′ (row i of `perturbed` for image i), `through` says which
    /// encoder outputs come from x′: `mu` (μ(x′), σ(x)) as Eq. 3, `sigma` (μ(x), σ(x′)), `both`
    /// (μ(x′), σ(x′)) as the attack of Eq. 5 acts (paper B Figure 4's three modes).
    /// The η come in order from one generator of `seed`, image after image, and do not depend
    /// on the perturbation: two calls with the same images, seed and `samples` see the same
    /// draws, so modes and attacks compare on common noise.
    public func reconstructionChangeNorms(_ images: Tensor, perturbed: Tensor? = nil, through: AttackPath = .mu,
                                          samples: Int, seed: UInt64 = 0) -> [[Float]] {
        var rng = RNG(seed: seed)
        var out: [[Float]] = []
        Autodiff.withoutGradients {
            for i in 0..<images.shape[0] {
                let x = images.rows(i..<(i + 1))
                let (mu, sigma) = encode(Variable(x))
                let ref = decodeMean(mu).value
                var (muA, sigmaB) = (mu, sigma)
                if let p = perturbed {
                    let (muP, sigmaP) = encode(Variable(p.rows(i..<(i + 1))))
                    if through != .sigma { muA = muP }
                    if through != .mu { sigmaB = sigmaP }
                }
                var norms: [Float] = []
                norms.reserveCapacity(samples)
                for chunk in Batches.ranges(count: samples, size: 250) {
                    let m = chunk.count
                    let eta = rng.normalTensor([m, mu.shape[1]])
                    let rec = decodeMean(muA + sigmaB * Variable(eta)).value
                    let d = rec.shape.dropFirst().reduce(1, *)
                    for s in 0..<m {
                        var sq: Float = 0
                        for j in 0..<d { let v = rec.data[s * d + j] - ref.data[j]; sq += v * v }
                        norms.append(sq.squareRoot())
                    }
                }
                out.append(norms)
            }
        }
        return out
    }

    /// Paper B Eq. 1-3: the share of `samples` draws whose reconstruction change has
    /// ‖Δ‖₂ ≤ r (`reconstructionChangeNorms`: Eq. 2 without `perturbed`, Eq. 3 with it and
    /// `through` mu). Returns per image the estimate and its 95% Wilson score interval.
    public func rRobustness(_ images: Tensor, perturbed: Tensor? = nil, through: AttackPath = .mu, r: Float, samples: Int, seed: UInt64 = 0)
        -> [(p: Double, low: Double, high: Double)] {
        reconstructionChangeNorms(images, perturbed: perturbed, through: through, samples: samples, seed: seed).map { norms in
            Wilson.interval(successes: norms.filter { $0 <= r }.count, trials: samples)
        }
    }

    /// Paper B Eq. 5's damage measured afresh: per image the mean and standard deviation over
    /// `samples` draws of ‖Δ(x)‖₂ (`reconstructionChangeNorms`), the expected change an
    /// attack (or, without `perturbed`, the encoder's own noise) causes.
    public func reconstructionDamage(_ images: Tensor, perturbed: Tensor? = nil, through: AttackPath = .both, samples: Int, seed: UInt64 = 0)
        -> [(mean: Double, sd: Double)] {
        reconstructionChangeNorms(images, perturbed: perturbed, through: through, samples: samples, seed: seed).map { norms in
            let s = Summary(norms.map(Double.init))
            return (s.mean, s.standardDeviation)
        }
    }

    /// Paper B Figure 9: per image ‖σ(x)‖₂, min σ(x) and the Frobenius norm of the encoder-mean
    /// Jacobian ∂μ/∂x (`Autodiff.jacobian`, with the weights frozen for the duration); also the
    /// mean μ(x) itself, for `LatentActivity`.
    public func encoderStats(_ images: Tensor, batch: Int = 100) -> [(sigmaNorm: Double, minSigma: Double, jacobianFrobenius: Double, mu: [Double])] {
        Autodiff.withFrozen(parameters) {
            Batches.map(images, size: batch) { x in
                var sigma = Tensor.zeros([0])
                let (mu, jac) = Autodiff.jacobian(at: x) { let e = encode($0); sigma = e.sigma.value; return e.mu }
                let (n, m) = (mu.shape[0], mu.shape[1]), d = jac.count / max(n, 1)
                return (0..<n).map { i in
                    let frob = (0..<d).reduce(0.0) { acc, k in let v = Double(jac.data[i * d + k]); return acc + v * v }
                    let s = (0..<m).map { Double(sigma.data[i * m + $0]) }
                    return ((s.reduce(0) { $0 + $1 * $1 }).squareRoot(), s.min() ?? .nan, frob.squareRoot(),
                            (0..<m).map { Double(mu.data[i * m + $0]) })
                }
            }
        }
    }
}

/// Which latent dimensions a model uses: Burda, Grosse & Salakhutdinov (2016, "Importance
/// Weighted Autoencoders", section 5.2) call unit u active when A_u = Cov_x(E_{q(u|x)}[u]), the
/// variance over images of its encoder mean μ_u(x), exceeds 0.01. An inactive unit's mean
/// hardly moves with the image, so it tells the decoder almost nothing about it; the checks
/// that average over the whole encoder (its Jacobian, its smallest σ) do not see one such unit.
public enum LatentActivity {
    public static let threshold = 0.01

    /// A_u for every dimension u of `means` (one row of μ(x) per image), with divisor n as in
    /// Burda et al.'s code (`np.var`; He et al. 2019's widely copied version divides by n − 1,
    /// a difference of n/(n − 1)). Empty for no images, NaN for one: a single image has no spread.
    public static func activity(_ means: [[Double]]) -> [Double] {
        guard let d = means.first?.count else { return [] }
        guard means.count > 1 else { return Array(repeating: .nan, count: d) }
        let n = Double(means.count)
        return (0..<d).map { u in
            let m = means.reduce(0) { $0 + $1[u] } / n
            return means.reduce(0) { $0 + ($1[u] - m) * ($1[u] - m) } / n
        }
    }

    /// How many of `activity`'s units exceed the threshold (NaN ones do not).
    public static func activeUnits(_ activity: [Double]) -> Int { activity.filter { $0 > threshold }.count }
}

/// The Wilson score interval of a binomial proportion (95% by default).
public enum Wilson {
    public static func interval(successes: Int, trials: Int, z: Double = StandardNormal.quantile(0.975)) -> (p: Double, low: Double, high: Double) {
        let n = Double(trials), p = Double(successes) / n
        let denom = 1 + z * z / n
        let centre = (p + z * z / (2 * n)) / denom
        let half = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / denom
        // the ends are exactly 0 and 1 at p = 0 and p = 1 (rounding would leave ±1e-17)
        return (p, successes == 0 ? 0 : max(0, centre - half), successes == trials ? 1 : min(1, centre + half))
    }
}

/// Paper D's adversarial accuracy: the share of adversarial inputs whose predicted class
/// equals the prediction on their clean reference. With R references and R·k adversarial
/// inputs (k restarts each), input i belongs to reference i / k: the restarts of one
/// reference are consecutive, as vae-attack writes them.
public enum AdversarialAccuracy {
    /// The reference index of every adversarial input, or an error when the counts do not fit.
    public static func referenceIndex(adversarial n: Int, references r: Int) throws -> [Int] {
        guard r > 0, n % r == 0 else {
            throw ToolError("\(n) adversarial inputs do not divide into \(r) references (restarts must be consecutive blocks)")
        }
        let k = n / r
        return (0..<n).map { $0 / k }
    }

    /// Per input: 1 where the adversarial prediction matches its reference's prediction, else 0.
    public static func matches(adversarial: [Int], reference: [Int]) throws -> [Double] {
        let idx = try referenceIndex(adversarial: adversarial.count, references: reference.count)
        return zip(adversarial, idx).map { $0 == reference[$1] ? 1 : 0 }
    }
}
