import Foundation
import Shared

/// Throughput benchmarks. Prints one JSON line per measurement on stdout.
///
/// The host's speed drifts (ENGINEERING.md), so every figure is reported next to the sgemm
/// rate measured alternately with it in the same run: compare runs by those ratios.
///
///   robustvae-bench [--threads N] [--seconds S] [--suite core|train|all] [--only CASE]
/// `--only` restricts the training suite to one case (mlp, lipschitz_mlp, conv), e.g. for `perf`.

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
        FileHandle.standardError.write(Data("usage: robustvae-bench [--threads N] [--seconds S] [--suite core|train|all] [--only CASE]\n".utf8)); exit(2)
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

/// Training throughput (forward, backward, Adam step, Lipschitz projection) of issue 3's
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
    let cases: [(String, ModelConfig, Double)] = [
        ("mlp", config("mlp", lipschitz: false), 65),
        ("lipschitz_mlp", config("mlp", lipschitz: true), 6),
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

if suite == "core" || suite == "all" { runCore() }
if suite == "train" || suite == "all" { runTraining() }

/// Phase split of the mlp training step (forward, backward, Adam), for profiling.
func profileMLP() {
    let data = (try? DatasetCatalog.load("fashion-mnist:train[0:4096]"))!
    var c = ModelConfig(architecture: "mlp", latent: 10, inputShape: data.imageShape, data: data.source, seed: 0)
    c.hidden = [512, 512]
    let model = try! VAE(config: c)
    let adam = Adam(parameters: model.parameters, learningRate: 1e-4)
    var noise = RNG(seed: 1)
    var tf = 0.0, tb = 0.0, ta = 0.0
    let n = 300
    for i in 0..<n + 20 {
        let xb = data.images.rows((i % 32) * 128..<((i % 32) + 1) * 128)
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
    emit(["forward_ms": tf / Double(n) * 1000, "backward_ms": tb / Double(n) * 1000, "adam_ms": ta / Double(n) * 1000,
          "sgemm": g, "per_gflops": 128 / ((tf + tb + ta) / Double(n)) / g])
}
if suite == "profile" { profileMLP() }
func profileAdam() {
    let sizes = [784*512, 512, 512*512, 512, 10*512, 10]
    var params: [Variable] = []
    for _ in 0..<3 { for s in sizes { params.append(Variable(rng.normalTensor([s]), requiresGrad: true)) } }
    let grads = params.map { rng.normalTensor($0.shape) }
    let adam = Adam(parameters: params, learningRate: 1e-4)
    let r = rate {
        for (p, g) in zip(params, grads) { p.grad = g }
        adam.step()
    }
    let n = Double(params.map { $0.value.count }.reduce(0, +))
    let c = rate {
        for (p, g) in zip(params, grads) { p.value.data.withUnsafeMutableBufferPointer { w in g.data.withUnsafeBufferPointer { gb in for i in 0..<w.count { w[i] += gb[i] } } } }
    }
    emit(["adam_ms": 1000 / r, "ns_per_param": 1e9 / r / n, "axpy_ms": 1000 / c, "params": n])
}
if suite == "adam" { profileAdam() }
func profilePieces() {
    let data = (try? DatasetCatalog.load("fashion-mnist:train[0:4096]"))!
    var c = ModelConfig(architecture: "mlp", latent: 10, inputShape: data.imageShape, data: data.source, seed: 0)
    c.hidden = [512, 512]
    let model = try! VAE(config: c)
    var noise = RNG(seed: 1)
    var t = [Double](repeating: 0, count: 7)
    let n = 300
    for i in 0..<n + 20 {
        let xb = data.images.rows((i % 32) * 128..<((i % 32) + 1) * 128)
        var ts = [now()]
        do {
            let x = Variable(xb)
            let mu = model.encoder.meanHead(x); ts.append(now())
            let s = model.encoder.scaleHead!(x).sigmoid(); ts.append(now())
            let (z, _) = model.sample(mu: mu, sigma: s, rng: &noise); ts.append(now())
            let l = model.decodeLogits(z); ts.append(now())
            let lp = model.likelihood.logProb(x, logits: l); ts.append(now())
            let loss = -(lp - VAE.klToPrior(mu: mu, sigma: s)).mean(); ts.append(now())
            loss.backward(); ts.append(now())
        }
        if i >= 20 { for k in 0..<7 { t[k] += ts[k + 1] - ts[k] } }
    }
    let names = ["mean", "scale", "sample", "decoder", "logprob", "kl+mean", "backward"]
    emit(Dictionary(uniqueKeysWithValues: zip(names, t.map { $0 / Double(n) * 1000 })))
}
if suite == "pieces" { profilePieces() }
func profileLogProb() {
    let x = Variable(rng.uniformTensor([128, 1, 28, 28]))
    let l = Variable(rng.normalTensor([128, 1, 28, 28]), requiresGrad: true)
    let items: [(String, () -> Void)] = [
        ("mul", { _ = x * l }),
        ("softplus", { _ = l.softplus() }),
        ("sub", { _ = l - l }),
        ("flatsum", { _ = l.flattened().sum(axis: 1) }),
        ("relu", { _ = l.relu() }),
        ("sigmoid", { _ = l.sigmoid() }),
        ("logprob", { _ = Likelihood.bernoulli.logProb(x, logits: l) }),
        ("logprob+bwd", { Likelihood.bernoulli.logProb(x, logits: l).sum().backward(); l.grad = nil }),
    ]
    for (name, f) in items { emit([name: 1000 / rate(f)]) }
}
if suite == "logprob" { profileLogProb() }
func profileShapes() {
    func r(_ m: Int, _ n: Int, _ k: Int, tA: Bool, tB: Bool, beta: Float) -> Double {
        let a = rng.normalTensor([m * k]), b = rng.normalTensor([k * n])
        var c = Tensor.zeros([m * n])
        let rr = rate {
            a.data.withUnsafeBufferPointer { ab in b.data.withUnsafeBufferPointer { bb in c.data.withUnsafeMutableBufferPointer { cb in
                BLAS.sgemm(transA: tA, transB: tB, m: m, n: n, k: k, a: ab.baseAddress!, lda: tA ? m : k, b: bb.baseAddress!, ldb: tB ? k : n, beta: beta, c: cb.baseAddress!, ldc: n)
            } } }
        }
        return rr * 2 * Double(m * n * k) / 1e9
    }
    for t in [1, 2] {
        BLAS.setThreads(t)
        emit(["threads": t, "512x512x512": r(512, 512, 512, tA: false, tB: false, beta: 0),
              "dW 512x784x128 TN b0": r(512, 784, 128, tA: true, tB: false, beta: 0),
              "dW 512x784x128 TN b1": r(512, 784, 128, tA: true, tB: false, beta: 1),
              "fwd 128x512x784 NT b1": r(128, 512, 784, tA: false, tB: true, beta: 1),
              "dX 128x512x512 NN b0": r(128, 512, 512, tA: false, tB: false, beta: 0)])
    }
}
if suite == "shapes" { profileShapes() }
