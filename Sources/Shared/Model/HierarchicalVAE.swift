import Foundation

/// A small hierarchical VAE of the NVAE family (paper D section 2.1 and 4.3; NVAE is paper D's
/// [39]), K latent groups z_1 … z_K of `latent` dimensions each (with latent maps, the groups
/// below the top one are C×7×7 maps instead, see below):
///
///     p(x, z) = p(x | z_1..K) ∏_k p(z_k | z_>k),       p(z_K) = N(0, I)
///     q(z | x) = q(z_K | x) ∏_{k<K} q(z_k | z_>k, x)   (top-down inference, paper D [37])
///
/// - A bottom-up deterministic path over x: two 3×3 stride-2 convolutions (28 → 14 → 7), a
///   linear layer to `width` features r_1, and r_{k+1} = relu(linear(r_k)); group k reads r_k,
///   so the top group sees the deepest features.
/// - A top-down path that carries the state s: the top group's prior is N(0, I); below it,
///   p(z_k | z_>k) = N(μ_p(s_k), σ_p(s_k)) and s_{k−1} = s_k + relu(linear([s_k, z_k])) (residual,
///   as NVAE's top-down cells are; `config.topDown == "residual"`, and
///   s_{k−1} = relu(linear([s_k, z_k])) for files written before that), starting from
///   s_{K−1} = relu(linear(z_K)). The decoder reads s_0: a linear layer to 64×7×7 and two 4×4
///   stride-2 transposed convolutions back to the image's logits.
/// - Every hidden layer followed by a ReLU starts from He's initialisation (uniform with bound
///   √(6 / fan-in)); the heads (posteriors, priors, the decoder's last layer) from the default
///   fan-in bound 1/√fan-in. Fan-in is counted as PyTorch counts it: for the transposed
///   convolution, output channels × k², which is c1/16 times the 64 · 2 · 2 inputs that each
///   of its outputs sees at stride 2 (equal to them with the default c1 = 16; twice them with
///   c1 = 32, so that layer then gets half He's variance). With the default alone, each hidden
///   layer shrank the signal's variance about sixfold, and a model with two or three groups
///   stayed on the collapsed-posterior plateau for several epochs (see the README's
///   measurements).
/// - Posteriors relative to their priors (NVAE's residual normal):
///   q(z_k | z_>k, x) = N(μ_p + Δμ, σ_p · Δσ) with (Δμ, log Δσ) = linear([s_k, r_k]) (a 3×3
///   convolution for latent maps), so that
///   KL_k = Σ [−log Δσ + ½(Δσ² + (Δμ/σ_p)²) − ½] in closed form. Log scales are soft-clamped
///   with NVAE's soft_clamp5, log σ = 5 · tanh(h / 5). NVAE's code also clamps the means and
///   adds 0.01 to σ; clamping only the log scales keeps the closed-form KL above exact.
///
/// - With `config.latentMap` = C (`--latent-map`), the groups below the top one are C×7×7
///   latent maps, as NVAE's groups are: the top-down state is a 64×7×7 map,
///   s_{K−1} = relu(linear(z_K)) reshaped, each lower group's prior and posterior come from
///   3×3 convolutions of s_k and of [s_k, r_k] (r_k the bottom-up 7×7 feature map),
///   s_{k−1} = s_k + relu(conv([s_k, z_k])), and the decoder is the two transposed
///   convolutions on s_0. The top group stays a vector read from the linear features.
///
/// Latent codes are stored as one row per image, `[N, codeDimension]`, top group first
/// (z_K, z_{K−1}, …, z_1), each group `groupSizes[i]` wide (a map channel by channel, row by
/// row). With K = 1 the model is a plain VAE with a N(0, I) prior.
public final class HierarchicalVAE {
    public private(set) var config: ModelConfig
    public let likelihood: Likelihood
    public var groups: Int { config.groups ?? 1 }
    public var groupSize: Int { config.latent }

    let bottomUp: Sequential
    /// With latent maps, `bottomUp` in two: the convolutions to the 7×7 map the lower groups
    /// read, and the linear layer from it to the top group's features.
    let bottomUpMap: Sequential?, bottomUpTop: Sequential?
    /// r_k → r_{k+1}: K − 1 linear layers (vector groups), or K − 2 3×3 convolutions on the
    /// lower groups' 7×7 feature maps (latent maps).
    let up: [any Layer]
    /// The top group's posterior (Δμ, log Δσ) from r_K.
    let topPosterior: Linear
    /// Per lower group k (index k − 1): the prior from s_k, the posterior from [s_k, r_k],
    /// and the state step s_{k−1} = s_k + relu(step([s_k, z_k])) (without the s_k when the
    /// file's top-down update is the plain one, `residualState` false). Linear layers for
    /// vector groups, 3×3 convolutions for latent maps.
    let priors: [any Layer], posteriors: [any Layer], steps: [any Layer]
    /// s_{K−1} from z_K.
    let topStep: Linear
    let decoder: Sequential
    /// Channels C of each lower group's C×7×7 latent map, nil for vector groups.
    public var mapChannels: Int? { config.latentMap }
    /// Channels of the top-down state map when the lower groups are latent maps.
    static let stateChannels = 64

    /// `hidden` = [bottom-up channels 1, channels 2, width] (default 16, 32, 256; see the README for why).
    public init(config: ModelConfig) throws {
        let (ch, h, w) = (config.inputShape[0], config.inputShape[1], config.inputShape[2])
        guard h == 28 && w == 28 else { throw ToolError("--arch hvae needs 28x28 images, got \(h)x\(w)") }
        let k = config.groups ?? 1
        guard (1...8).contains(k) else { throw ToolError.usage("--groups must be between 1 and 8, got \(k)") }
        guard config.hidden.count == 3, config.hidden.allSatisfy({ $0 > 0 }) else {
            throw ToolError.usage("--arch hvae takes 3 hidden sizes (channels, channels, width; default 16,32,256)")
        }
        if let c = config.latentMap, c < 1 { throw ToolError.usage("--latent-map must be at least 1, got \(c)") }
        let (c1, c2, width, m) = (config.hidden[0], config.hidden[1], config.hidden[2], config.latent)
        var rng = RNG(seed: config.seed).derived(1)
        let conv1 = Conv2d(ch, c1, kernel: 3, stride: 2, padding: 1, rng: &rng)
        let conv2 = Conv2d(c1, c2, kernel: 3, stride: 2, padding: 1, rng: &rng)
        let features = Linear(c2 * 49, width, rng: &rng)
        bottomUp = Sequential([conv1, Activation.relu, conv2, Activation.relu, Reshape([c2 * 49]), features, Activation.relu])
        var hiddenWeights = [conv1.weight, conv2.weight, features.weight]
        if let c = config.latentMap {
            // NVAE's way: lower groups are C×7×7 maps on a top-down feature map, read and
            // written by 3×3 convolutions; the top group stays a vector
            let s = HierarchicalVAE.stateChannels
            bottomUpMap = Sequential(Array(bottomUp.layers.prefix(4)))
            bottomUpTop = Sequential(Array(bottomUp.layers.dropFirst(4)))
            // each convolution alone in a Sequential, so that it runs on the channels-last
            // kernels as the trunk's and decoder's do (not timed against the NCHW path)
            let ups = (0..<max(0, k - 2)).map { _ in Conv2d(c2, c2, kernel: 3, padding: 1, rng: &rng) }
            up = ups.map { Sequential([$0]) }
            topPosterior = Linear(width, 2 * m, rng: &rng)
            priors = (0..<(k - 1)).map { _ in Sequential([Conv2d(s, 2 * c, kernel: 3, padding: 1, rng: &rng)]) }
            posteriors = (0..<(k - 1)).map { _ in Sequential([Conv2d(s + c2, 2 * c, kernel: 3, padding: 1, rng: &rng)]) }
            let convSteps = (0..<(k - 1)).map { _ in Conv2d(s + c, s, kernel: 3, padding: 1, rng: &rng) }
            steps = convSteps.map { Sequential([$0]) }
            topStep = Linear(m, s * 49, rng: &rng)
            let deconv = ConvTranspose2d(s, c1, kernel: 4, stride: 2, padding: 1, rng: &rng)
            decoder = Sequential([deconv, Activation.relu, ConvTranspose2d(c1, ch, kernel: 4, stride: 2, padding: 1, rng: &rng)])
            hiddenWeights += [topStep.weight, deconv.weight] + ups.map(\.weight) + convSteps.map(\.weight)
        } else {
            bottomUpMap = nil; bottomUpTop = nil
            let ups = (0..<(k - 1)).map { _ in Linear(width, width, rng: &rng) }
            up = ups
            topPosterior = Linear(width, 2 * m, rng: &rng)
            priors = (0..<(k - 1)).map { _ in Linear(width, 2 * m, rng: &rng) }
            posteriors = (0..<(k - 1)).map { _ in Linear(2 * width, 2 * m, rng: &rng) }
            let linearSteps = (0..<(k - 1)).map { _ in Linear(width + m, width, rng: &rng) }
            steps = linearSteps
            topStep = Linear(m, width, rng: &rng)
            let toMap = Linear(width, 64 * 49, rng: &rng)
            let deconv = ConvTranspose2d(64, c1, kernel: 4, stride: 2, padding: 1, rng: &rng)
            decoder = Sequential([
                toMap, Activation.relu, Reshape([64, 7, 7]),
                deconv, Activation.relu,
                ConvTranspose2d(c1, ch, kernel: 4, stride: 2, padding: 1, rng: &rng),
            ])
            hiddenWeights += [toMap.weight, deconv.weight] + (ups + linearSteps + [topStep]).map(\.weight)
        }
        likelihood = try Likelihood(name: config.likelihood, sigma0: config.sigma0)
        guard config.topDown == nil || config.topDown == "residual" else {
            throw ToolError("unknown hierarchical top-down update '\(config.topDown!)' (residual)")
        }
        guard config.latentMap == nil || k > 1 else {
            throw ToolError.usage("--latent-map shapes the groups below the top one: it needs --groups 2 or more")
        }
        guard config.latentMap == nil || config.topDown == "residual" else {
            throw ToolError("latent maps need the residual top-down update, not the plain one")
        }
        residualState = config.topDown == "residual"
        self.config = config
        // He's bound √(6 / fan-in) is √6 times the default's 1/√fan-in: scaling the drawn
        // weights keeps the random stream (and so every other layer's draw) as it was
        let he = Float(6).squareRoot()
        for w in hiddenWeights { w.value = w.value * he }
    }

    /// Each group's code width, top first: `latent` for the top group, and `latent` (vector
    /// groups) or C·49 (C×7×7 latent maps, stored channel by channel, row by row) below it.
    public var groupSizes: [Int] {
        [groupSize] + Array(repeating: mapChannels.map { $0 * 49 } ?? groupSize, count: groups - 1)
    }

    /// Whether s_{k−1} = s_k + relu(linear([s_k, z_k])) (true) or relu(linear([s_k, z_k])).
    let residualState: Bool

    public var namedParameters: [(name: String, variable: Variable)] {
        func named(_ prefix: String, _ l: any Layer) -> [(name: String, variable: Variable)] {
            l.namedParameters.map { ("\(prefix).\($0.name)", $0.variable) }
        }
        var out = named("bottom_up", bottomUp) + named("top_posterior", topPosterior) + named("top_step", topStep)
        for (i, l) in up.enumerated() { out += named("up.\(i)", l) }
        for i in 0..<(groups - 1) {
            out += named("prior.\(i)", priors[i]) + named("posterior.\(i)", posteriors[i]) + named("step.\(i)", steps[i])
        }
        return out + named("decoder", decoder)
    }
    public func recordTraining(_ record: TrainingRecord) { config.training = record }

    /// The mean and standard deviation in a head's output, `[N, 2·latent]` or `[N, 2C, 7, 7]`
    /// (means in the first half of axis 1), as `[N, latent]` or `[N, C·49]` rows; log σ
    /// soft-clamped.
    static func gaussian(_ head: Variable) -> (mu: Variable, sigma: Variable) {
        let half = head.shape[1] / 2
        func rows(_ v: Variable) -> Variable { v.shape.count == 2 ? v : v.reshaped([v.shape[0], v.shape.dropFirst().reduce(1, *)]) }
        return (rows(head.slice(axis: 1, 0..<half)), rows(((head.slice(axis: 1, half..<(2 * half)) * 0.2).tanh() * 5).exp()))
    }

    /// One group on the top-down path: its prior and (given data features) its posterior.
    public struct Group {
        public let priorMu: Variable?, priorSigma: Variable?   // nil: N(0, I) (the top group)
        public let mu: Variable, sigma: Variable               // q(z_k | z_>k, x); the prior without data
        public let z: Variable
        /// KL(q(z_k | z_>k, x) ‖ p(z_k | z_>k)) per image, in closed form.
        public var kl: Variable {
            guard let pm = priorMu, let ps = priorSigma else { return DiagonalGaussian.klToStandard(mu: mu, sigma: sigma) }
            return DiagonalGaussian.kl(mu1: mu, sigma1: sigma, mu2: pm, sigma2: ps)
        }
        /// log p(z_k | z_>k) per image.
        public var logPrior: Variable {
            guard let pm = priorMu, let ps = priorSigma else { return DiagonalGaussian.standardLogDensity(z) }
            return DiagonalGaussian.logDensity(z, mu: pm, sigma: ps)
        }
        /// log q(z_k | z_>k, x) per image.
        public var logPosterior: Variable { DiagonalGaussian.logDensity(z, mu: mu, sigma: sigma) }
    }

    /// How each group's code is chosen on the top-down path.
    public enum Choice {
        /// z_k ~ q(z_k | z_>k, x) (reparameterised, from the generator).
        case sample
        /// z_k = the posterior mean.
        case mean
        /// z_k given (`[N, groupSizes[i]]`): the generative path at known codes.
        case given(Variable)
    }

    /// Bottom-up features r_1 … r_K of images `[N, C, H, W]`: vectors, or with latent maps
    /// 7×7 maps for the lower groups (r_1 the trunk's, r_{k+1} = relu(conv(r_k))) and the
    /// trunk's linear features for the top group.
    public func features(_ x: Variable) -> [Variable] {
        if let trunk = bottomUpMap, let top = bottomUpTop {
            var r = [trunk(x)]
            for l in up { r.append(l(r.last!).relu()) }
            return r + [top(r.last!)]
        }
        var r = [bottomUp(x)]
        for l in up { r.append(l(r.last!).relu()) }
        return r
    }

    /// The top-down path, top group first: `choose(k)` picks group k's code (k = K … 1),
    /// `features` are r_1 … r_K from `features(_:)` (nil: the generative path alone, where
    /// each group's posterior is its prior, so `.mean` and `.sample` take the prior's mean or a
    /// draw from it; `rows` is then the batch size). Returns the groups and the decoder's logits.
    public func topDown(features r: [Variable]?, rows: Int = 0, rng: inout RNG, choose: (Int) -> Choice) -> (groups: [Group], logits: Variable) {
        let k = groups
        var out: [Group] = []
        var state: Variable? = nil
        for level in stride(from: k, through: 1, by: -1) {
            // prior from the state (N(0, I) at the top), posterior relative to it
            var prior: (mu: Variable, sigma: Variable)? = nil
            if let s = state { prior = HierarchicalVAE.gaussian(priors[level - 1](s)) }
            var post: (mu: Variable, sigma: Variable)
            if let r {
                let data = r[level - 1]
                let head = state.map { posteriors[level - 1](Variable.concat([$0, data], axis: 1)) } ?? topPosterior(data)
                let (dmu, dsigma) = HierarchicalVAE.gaussian(head)
                post = prior.map { ($0.mu + dmu, $0.sigma * dsigma) } ?? (dmu, dsigma)
            } else {
                let n = state?.shape[0] ?? rows
                post = prior ?? (Variable(Tensor.zeros([n, groupSize])), Variable(Tensor(shape: [n, groupSize], repeating: 1)))
            }
            let z: Variable
            switch choose(level) {
            case .sample: z = post.mu + post.sigma * Variable(rng.normalTensor(post.mu.shape))
            case .mean: z = post.mu
            case .given(let code): z = code
            }
            out.append(Group(priorMu: prior?.mu, priorSigma: prior?.sigma, mu: post.mu, sigma: post.sigma, z: z))
            state = state.map { s in
                // a latent map's row back to its C×7×7 map beside the state map
                let zin = s.shape.count == 4 ? z.reshaped([z.shape[0], mapChannels!, 7, 7]) : z
                let update = steps[level - 1](Variable.concat([s, zin], axis: 1)).relu()
                return residualState ? s + update : update
            } ?? {
                let s0 = topStep(z).relu()
                return mapChannels == nil ? s0 : s0.reshaped([z.shape[0], HierarchicalVAE.stateChannels, 7, 7])
            }()
        }
        return (out, decoder(state!))
    }

    /// Codes `[N, codeDimension]` (top group first) cut into groups, top first.
    public func split(_ codes: Variable) -> [Variable] {
        let sizes = groupSizes
        precondition(codes.shape.count == 2 && codes.shape[1] == sizes.reduce(0, +), "codes \(codes.shape) for groups of \(sizes)")
        var start = 0
        return sizes.map { n in defer { start += n }; return codes.slice(axis: 1, start..<(start + n)) }
    }

    /// The generative path at codes `[N, codeDimension]`: log p(x | z) needs these logits, and
    /// Σ_k log p(z_k | z_>k) the groups' priors.
    public func generate(_ codes: Variable) -> (groups: [Group], logits: Variable) {
        let z = split(codes)
        var none = RNG(seed: 0)
        return topDown(features: nil, rows: codes.shape[0], rng: &none) { .given(z[groups - $0]) }
    }

    /// One reparameterised sample of every group: the ELBO's pieces per image,
    /// log p(x|z) and the per-group KLs (top first), and the codes.
    public func elboTerms(_ x: Variable, rng: inout RNG) -> (logpx: Variable, kl: [Variable], codes: Variable) {
        let (g, logits) = topDown(features: features(x), rng: &rng) { _ in .sample }
        return (likelihood.logProb(x, logits: logits), g.map(\.kl), Variable.concat(g.map(\.z), axis: 1))
    }

    /// The minibatch loss: minus the mean of log p(x|z) − β Σ_k KL_k (`beta` carries the
    /// KL warm-up, see `TrainingOptions.klWarmupEpochs`).
    public func loss(_ images: Tensor, objective: Objective, beta: Float = 1, rng: inout RNG) -> BatchLoss {
        precondition(objective == .elbo, "the hierarchical VAE trains on the ELBO (β-weighted)")
        let (logpx, kl) = elboParts(Variable(images), rng: &rng)
        let obj = logpx - kl * beta
        return BatchLoss(loss: -obj.mean(), elbo: (logpx - kl).value.mean(), logLikelihood: logpx.value.mean(), kl: kl.value.mean())
    }

    /// Per-image importance-sampled log-likelihood bound over all levels with `samples`
    /// draws of q (IWAE): log (1/S) Σ_s p(x | z^s) ∏_k p(z_k^s | z_>k^s) / q(z_k^s | z_>k^s, x).
    /// Never below the ELBO in expectation; with S = 1, the ELBO's estimate with sampled
    /// instead of analytic KL terms.
    public func importanceLogLikelihood(_ x: Variable, samples: Int, rng: inout RNG) -> Variable {
        let r = features(x)
        let terms = (0..<samples).map { _ in logWeight(x, features: r, rng: &rng).reshaped([x.shape[0], 1]) }
        return Variable.concat(terms, axis: 1).logSumExp(axis: 1) - Float(Foundation.log(Double(samples)))
    }

    /// log p(x | z) + Σ_k log p(z_k | z_>k) − log q(z_k | z_>k, x) per image, at one top-down
    /// sample z of q (the importance weight), given the images' bottom-up `features`.
    func logWeight(_ x: Variable, features r: [Variable], rng: inout RNG) -> Variable {
        let (g, logits) = topDown(features: r, rng: &rng) { _ in .sample }
        return g.reduce(likelihood.logProb(x, logits: logits)) { $0 + $1.logPrior - $1.logPosterior }
    }

    /// Mean per-image ELBO (one sample), mean per-pixel squared error of the reconstruction
    /// with every group at its posterior mean, over a dataset in batches.
    public func evaluate(_ images: Tensor, batch: Int = 500, seed: UInt64 = 0) -> (elbo: Double, mse: Double) {
        var rng = RNG(seed: seed)
        var elbo = 0.0, sq = 0.0
        Autodiff.withoutGradients {
            for r in Batches.ranges(count: images.shape[0], size: batch) {
                let xb = images.rows(r), x = Variable(xb)
                elbo += Double(elboSample(x, rng: &rng).value.sum())
                let (_, logits) = topDown(features: features(x), rng: &rng) { _ in .mean }
                sq += Double((logits.sigmoid().value - xb).map { $0 * $0 }.sum())
            }
        }
        return (elbo / Double(images.shape[0]), sq / Double(images.count))
    }
}

extension HierarchicalVAE: LatentHierarchy {
    public var codeDimension: Int { groupSizes.reduce(0, +) }
    /// log p(x | z) + Σ_k log p(z_k | z_>k) at codes `[N, codeDimension]` (top group first).
    public func logJoint(_ x: Tensor, codes: Variable) -> Variable {
        let (g, logits) = generate(codes)
        return g.reduce(likelihood.logProb(Variable(x), logits: logits)) { $0 + $1.logPrior }
    }
}

extension HierarchicalVAE {
    /// Full codes `[N, codeDimension]` from the groups marked `code` in `levels` (top first; `codes`
    /// holds those groups in order), the others the prior's mean (`mean`) or a draw from it
    /// (`sample`) given the groups above.
    public func completeCodes(_ codes: Tensor, levels: [String], rng: inout RNG) -> Tensor {
        precondition(levels.count == groups)
        var given: [Int: Tensor] = [:], column = 0
        let sizes = groupSizes
        for (i, l) in levels.enumerated() where l == "code" {
            given[i] = codes.slice(axis: 1, column..<(column + sizes[i])); column += sizes[i]
        }
        return Autodiff.withoutGradients {
            let g = topDown(features: nil, rows: codes.shape[0], rng: &rng) { level in
                let i = groups - level
                if let c = given[i] { return .given(Variable(c)) }
                return levels[i] == "mean" ? .mean : .sample
            }.groups
            return Variable.concat(g.map(\.z), axis: 1).value
        }
    }
}
