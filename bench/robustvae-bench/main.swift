import Foundation
import Shared

/// Throughput benchmarks. Prints one JSON line per measurement on stdout.
///
/// The host's speed drifts by up to 1.5x within seconds, so every figure is reported next to the sgemm
/// rate measured alternately with it in the same run: compare runs by those ratios.
///
///   robustvae-bench [--threads N] [--seconds S] [--suite core|train|gradients|attack|hmc|all|profile] [--only CASE]
/// `--only` restricts the training suite to one case (mlp, lipschitz_mlp,
/// lipschitz_mlp_identity_gradient, conv), e.g. for `perf`;
/// `--suite profile` splits the `mlp` training step into forward, backward and Adam.

var threads = 2
var only: String? = nil
var seconds = 1.0
var suite = "all"
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--threads": threads = Int(args.popFirst() ?? "") ?? threads
    case "--seconds": seconds = Double(args.popFirst() ?? "") ?? seconds
    case "--suite": suite = args.popFirst() ?? suite
    case "--only": only = args.popFirst()
    default:
        FileHandle.standardError.write(Data("usage: robustvae-bench [--threads N] [--seconds S] [--suite core|train|gradients|attack|hmc|all|profile] [--only CASE]\n".utf8)); exit(2)
    }
}
Runtime.configure(blasThreads: threads)

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Runs `body` repeatedly for about `seconds` (after one warm-up) and returns calls per second.
func rate(_ body: () -> Void) -> Double {
    body()
    var n = 0
    let t0 = now()
    while now() - t0 < seconds { body(); n += 1 }
    return Double(n) / (now() - t0)
}

func emit(_ d: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: d, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
    fflush(stdout)
}

var rng = RNG(seed: 0)

/// GFLOP/s of one m×k·k×n sgemm.
func sgemmRate(_ m: Int, _ n: Int, _ k: Int) -> Double {
    let a = rng.normalTensor([m, k]), b = rng.normalTensor([k, n])
    var c = Tensor.zeros([m, n])
    let r = rate {
        a.data.withUnsafeBufferPointer { ab in b.data.withUnsafeBufferPointer { bb in c.data.withUnsafeMutableBufferPointer { cb in
            BLAS.sgemm(m: m, n: n, k: k, a: ab.baseAddress!, lda: k, b: bb.baseAddress!, ldb: n, c: cb.baseAddress!, ldc: n)
        } } }
    }
    return r * 2 * Double(m * n * k) / 1e9
}

/// Alternating short measurements of sgemm (512³) and `body` (calls per second), paired so
/// that both see the same machine speed. The host's speed drifts within seconds, so this
/// reports the median over rounds of the body rate, the sgemm rate, and their ratio (the
/// figure to compare across runs), rather than best-of figures taken at different moments.
func againstSgemm(rounds: Int = 8, _ body: () -> Void) -> (perSecond: Double, gflops: Double, perGflops: Double) {
    let saved = seconds
    seconds = saved / 4
    defer { seconds = saved }
    var g: [Double] = [], r: [Double] = []
    for _ in 0..<rounds {
        g.append(sgemmRate(512, 512, 512))
        r.append(rate(body))
    }
    func median(_ v: [Double]) -> Double { let s = v.sorted(); return (s[(s.count - 1) / 2] + s[s.count / 2]) / 2 }
    return (median(r), median(g), median(zip(r, g).map { $0 / $1 }))
}

/// Paper A's 3-layer MLP (784-512-512-10) at batch 128: forward + backward as a fraction of
/// sgemm; 20 Björck iterations of a 512×512 weight; two conv layers of paper D's encoder.
func runCore() {
    let batch = 128
    let mlp = Sequential([Linear(784, 512, rng: &rng), Activation.relu, Linear(512, 512, rng: &rng), Activation.relu,
                          Linear(512, 10, rng: &rng)])
    let x = Variable(rng.uniformTensor([batch, 784]))
    let weights = Variable(rng.normalTensor([batch, 10]))
    let (steps, g512, _) = againstSgemm {
        (mlp(x) * weights).sum().backward()
        for p in mlp.parameters { p.grad = nil }
    }
    let gMLP = sgemmRate(128, 512, 784)
    let sgemm = max(g512, gMLP)
    emit(["bench": "sgemm", "threads": threads, "gflops_512": g512, "gflops_128x784x512": gMLP])
    // matmul FLOPs: forward 2·B·Σ(in·out); backward twice that, less the input gradient of layer 1
    let layerMACs = [784 * 512, 512 * 512, 512 * 10]
    let flops = Double(batch) * 2 * Double(3 * layerMACs.reduce(0, +) - layerMACs[0])
    let achieved = steps * flops / 1e9
    emit(["bench": "mlp_forward_backward", "batch": batch, "steps_per_s": steps, "images_per_s": steps * Double(batch),
          "gflops": achieved, "fraction_of_sgemm": achieved / sgemm, "target_fraction": 0.7])

    let w = Variable(rng.normalTensor([512, 512]) * (1 / 512), requiresGrad: true)
    let bj = rate {
        w.bjorckOrthonormalized(iterations: 20).sum().backward()
        w.grad = nil
    }
    emit(["bench": "bjorck_512x512_20it_fwd_bwd", "per_s": bj, "gflops": bj * 20 * 3 * 2 * 2 * pow(512.0, 3) / 1e9])

    let conv = Conv2d(1, 32, kernel: 3, stride: 2, padding: 1, rng: &rng)
    let conv2 = Conv2d(32, 64, kernel: 3, stride: 2, padding: 1, rng: &rng)
    let img = Variable(rng.uniformTensor([batch, 1, 28, 28]))
    let cr = rate {
        conv2(conv(img).relu()).sum().backward()
        for p in conv.parameters + conv2.parameters { p.grad = nil }
    }
    emit(["bench": "conv_2layer_fwd_bwd_batch128", "images_per_s": cr * Double(batch)])
}

/// Training throughput (forward, backward, Adam step, Lipschitz projection) of the
/// model families on Fashion-MNIST (the synthetic set when it is not installed), batch 128.
/// Targets in images/s per sgemm GFLOP/s; PyTorch on this machine reaches about 46 (mlp),
/// 0.6 (Lipschitz-VAE with Björck every forward pass) and 8 (conv).
func runTraining() {
    let data = (try? DatasetCatalog.load("fashion-mnist:train[0:4096]")) ?? (try! DatasetCatalog.load("synthetic:train"))
    func config(_ arch: String, lipschitz: Bool) -> ModelConfig {
        var c = ModelConfig(architecture: arch, latent: Architectures.defaultLatent(arch), inputShape: data.imageShape,
                            data: data.source, seed: 0)
        c.hidden = Architectures.defaultHidden(arch)
        if lipschitz {
            c.lipschitzDecoder = 5; c.lipschitzMean = 5; c.lipschitzStd = 5; c.bjorckIterations = 20; c.groupSize = 2
            c.likelihood = "cbernoulli"
        }
        return c
    }
    var identity = config("mlp", lipschitz: true)
    identity.bjorckGradient = .identity
    let cases: [(String, ModelConfig, Double)] = [
        ("mlp", config("mlp", lipschitz: false), 65),
        ("lipschitz_mlp", config("mlp", lipschitz: true), 6),
        ("lipschitz_mlp_identity_gradient", identity, 6),
        ("conv", config("conv", lipschitz: false), 8),
    ]
    for (name, c, target) in cases where only == nil || only == name {
        let model = try! VAE(config: c)
        let adam = Adam(parameters: model.parameters, learningRate: 1e-4)
        var noise = RNG(seed: 1)
        var b = 0
        let nb = data.count / 128
        let (steps, g, stepsPerGflops) = againstSgemm {
            let xb = data.images.rows((b % nb) * 128..<((b % nb) + 1) * 128)
            b += 1
            do { model.loss(xb, objective: .elbo, rng: &noise).loss.backward() }  // graph freed before the step
            adam.step()
            model.projectLipschitzLayers()
        }
        emit(["bench": "train_\(name)", "data": data.source, "threads": threads, "images_per_s": steps * 128,
              "sgemm_gflops": g, "images_per_s_per_sgemm_gflops": stepsPerGflops * 128, "target_per_gflops": target])
    }
}

/// Phase split of the mlp training step (forward, backward, Adam), for profiling.
func profileMLP() {
    let data = (try? DatasetCatalog.load("fashion-mnist:train[0:4096]")) ?? (try! DatasetCatalog.load("synthetic:train"))
    var c = ModelConfig(architecture: "mlp", latent: 10, inputShape: data.imageShape, data: data.source, seed: 0)
    c.hidden = [512, 512]
    let model = try! VAE(config: c)
    let adam = Adam(parameters: model.parameters, learningRate: 1e-4)
    var noise = RNG(seed: 1)
    var tf = 0.0, tb = 0.0, ta = 0.0
    let n = 300
    for i in 0..<n + 20 {
        let nb = data.count / 128
        let xb = data.images.rows((i % nb) * 128..<((i % nb) + 1) * 128)
        let t0 = now()
        var t1 = 0.0
        do {
            let l = model.loss(xb, objective: .elbo, rng: &noise).loss
            t1 = now()
            l.backward()
        }
        let t2 = now()
        adam.step()
        let t3 = now()
        if i >= 20 { tf += t1 - t0; tb += t2 - t1; ta += t3 - t2 }
    }
    let g = sgemmRate(512, 512, 512)
    emit(["bench": "profile_mlp", "forward_ms": tf / Double(n) * 1000, "backward_ms": tb / Double(n) * 1000, "adam_ms": ta / Double(n) * 1000,
          "sgemm": g, "per_gflops": 128 / ((tf + tb + ta) / Double(n)) / g])
}

/// Value plus input gradient, the inner step of every attack and HMC transition: the `conv`
/// encoder's symmetric KL to a fixed reference posterior w.r.t. 500 images (paper D's
/// encoder attack), and the `mlp` decoder's Bernoulli log-likelihood plus log prior w.r.t.
/// 500 latent codes (paper D's HMC energy). Each runs with the weights trainable (every
/// weight gradient computed too, as before freezing existed) and frozen, alternating, and
/// reports the median ratio of their rates.
func runGradients() {
    let data = (try? DatasetCatalog.load("fashion-mnist:test[0:500]")) ?? (try! DatasetCatalog.load("synthetic:test[0:500]"))
    func model(_ arch: String) -> VAE {
        var c = ModelConfig(architecture: arch, latent: Architectures.defaultLatent(arch), inputShape: data.imageShape, data: data.source, seed: 0)
        c.hidden = Architectures.defaultHidden(arch)
        return try! VAE(config: c)
    }
    let conv = model("conv"), mlp = model("mlp")
    let refImages = data.images.rows(0..<500)
    let (mu0, s0) = Autodiff.withoutGradients { conv.encode(Variable(refImages)) }
    var r = RNG(seed: 5)
    let xAdv = (refImages + r.uniformTensor(refImages.shape, -0.1, 0.1)).map { min(max($0, 0), 1) }
    let z = r.normalTensor([500, mlp.config.latent])
    let target = Variable(data.images.rows(0..<500))
    let cases: [(String, VAE, () -> Void)] = [
        ("conv_encoder_skl_input_gradient", conv, {
            _ = Autodiff.valueAndGradient(at: xAdv) { x in
                let (mu, s) = conv.encode(x)
                return DiagonalGaussian.symmetricKL(mu1: mu, sigma1: s, mu2: mu0, sigma2: s0)
            }
        }),
        ("mlp_decoder_bernoulli_latent_gradient", mlp, {
            _ = Autodiff.valueAndGradient(at: z) { zv in
                mlp.likelihood.logProb(target, logits: mlp.decodeLogits(zv)) + DiagonalGaussian.standardLogDensity(zv)
            }
        }),
    ]
    func median(_ v: [Double]) -> Double { let s = v.sorted(); return (s[(s.count - 1) / 2] + s[s.count / 2]) / 2 }
    for (name, vae, body) in cases where only == nil || only == name {
        // rounds of trainable, frozen, frozen, trainable (ABBA: a drift in the host's speed
        // within a round cancels); the figure is the median over rounds of the rate ratio
        let saved = seconds
        seconds = saved / 4
        var before: [Double] = [], after: [Double] = [], ratio: [Double] = []
        let g = sgemmRate(512, 512, 512)
        for _ in 0..<8 {
            vae.unfreeze(); let a1 = rate { body(); for p in vae.parameters { p.grad = nil } }
            vae.freeze(); let b1 = rate(body), b2 = rate(body)
            vae.unfreeze(); let a2 = rate { body(); for p in vae.parameters { p.grad = nil } }
            before.append((a1 + a2) / 2); after.append((b1 + b2) / 2); ratio.append((b1 + b2) / (a1 + a2))
        }
        seconds = saved
        emit(["bench": name, "batch": 500, "threads": threads, "sgemm_gflops": g,
              "trainable_weights_per_s": median(before), "frozen_weights_per_s": median(after), "speedup": median(ratio)])
    }
}

/// Paper D's attack setting: 50 references × 10 restarts, 50 PGD steps of the symmetric-KL
/// attack at L∞ radius 0.1 on the `conv` model (as `vae-attack skl --restarts 10`).
func runAttack() {
    let data = (try? DatasetCatalog.load("fashion-mnist:test@50")) ?? (try! DatasetCatalog.load("synthetic:test@50"))
    var c = ModelConfig(architecture: "conv", latent: 64, inputShape: data.imageShape, data: data.source, seed: 0)
    c.hidden = Architectures.defaultHidden("conv")
    let vae = try! VAE(config: c)
    vae.freeze()
    var s = AttackSettings(kind: .skl)
    s.restarts = 10; s.steps = 50; s.radius = 0.1; s.step = 0.01
    var times: [Double] = []
    for _ in 0..<3 {
        let g = sgemmRate(512, 512, 512)
        let t0 = now()
        _ = Attack.run(vae, references: data.images, settings: s)
        times.append(now() - t0)
        emit(["bench": "attack_skl_conv_50x10_50steps", "seconds": times.last!, "sgemm_gflops": g, "threads": threads])
    }
}

/// Paper D's defence: 500 chains × 100 HMC transitions × 20 leapfrog steps on the `mlp`
/// model (784-512-512-10 decoder, Bernoulli likelihood), no burn-in, `--adapt rule`, from the
/// encoder means of the first 500 Fashion-MNIST test images. Each leapfrog step is one decoder
/// forward pass plus its input gradient at batch 500, about 2.67 MFLOP per chain, so the run
/// is 2.67 TFLOP; reported as seconds per point and as GFLOP/s next to sgemm's rate.
func runHMC() {
    let data = (try? DatasetCatalog.load("fashion-mnist:test[0:500]")) ?? (try! DatasetCatalog.load("synthetic:test[0:500]"))
    var c = ModelConfig(architecture: "mlp", latent: 10, inputShape: data.imageShape, data: data.source, seed: 0)
    c.hidden = Architectures.defaultHidden("mlp")
    let vae = try! VAE(config: c)
    vae.freeze()
    let z0 = vae.encoderMeans(data.images)
    var s = HMCSettings()
    s.steps = 100; s.leapfrog = 20; s.burnIn = 0; s.stepSize = 0.05
    let flop = 2.0 * Double(10 * 512 + 512 * 512 + 512 * 784) * 2 * 500 * 100 * 20
    for _ in 0..<3 {
        let g = sgemmRate(512, 512, 512)
        let t0 = now()
        _ = HMC.sample(VAEPosteriorEnergy(vae: vae, inputs: data.images), from: z0, parameters: vae.parameters, settings: s)
        let t = now() - t0
        emit(["bench": "hmc_mlp_500x100x20", "seconds": t, "seconds_per_point": t / 500, "gflops": flop / t / 1e9,
              "sgemm_gflops": g, "threads": threads])
    }
}

if suite == "hmc" || suite == "all" { runHMC() }
if suite == "core" || suite == "all" { runCore() }
if suite == "attack" || suite == "all" { runAttack() }
if suite == "gradients" || suite == "all" { runGradients() }
if suite == "train" || suite == "all" { runTraining() }
if suite == "profile" { profileMLP() }
