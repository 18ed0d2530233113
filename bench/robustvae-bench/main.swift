import Foundation
import Shared

/// Throughput benchmarks. Prints one JSON line per measurement on stdout.
///
/// The host's speed drifts (ENGINEERING.md), so every run first measures the sgemm rate and
/// reports the model throughputs against it: compare runs by those ratios.
///
///   robustvae-bench [--threads N] [--seconds S]

var threads = 2
var seconds = 1.0
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--threads": threads = Int(args.popFirst() ?? "") ?? threads
    case "--seconds": seconds = Double(args.popFirst() ?? "") ?? seconds
    default:
        FileHandle.standardError.write(Data("usage: robustvae-bench [--threads N] [--seconds S]\n".utf8)); exit(2)
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
}

var rng = RNG(seed: 0)

// sgemm: 512³ and the first MLP layer's 128×784·784×512 shape
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

// Paper A's 3-layer MLP, width 512 (784-512-512-10), batch 128: forward + backward with
// respect to the parameters (the training step's arithmetic, without the optimizer).
let batch = 128
let mlp = Sequential([Linear(784, 512, rng: &rng), Activation.relu, Linear(512, 512, rng: &rng), Activation.relu,
                      Linear(512, 10, rng: &rng)])
let x = Variable(rng.uniformTensor([batch, 784]))
let weights = Variable(rng.normalTensor([batch, 10]))
func mlpStepsPerSecond() -> Double {
    rate {
        let out = mlp(x)
        (out * weights).sum().backward()
        for p in mlp.parameters { p.grad = nil }
    }
}
// The host's speed drifts within seconds, so sgemm and the MLP are measured alternately
// and the best of each is kept: both then describe the machine at its best moment.
var (g512, gMLP, steps) = (0.0, 0.0, 0.0)
for _ in 0..<3 {
    g512 = max(g512, sgemmRate(512, 512, 512))
    gMLP = max(gMLP, sgemmRate(128, 512, 784))
    steps = max(steps, mlpStepsPerSecond())
}
let sgemm = max(g512, gMLP)
emit(["bench": "sgemm", "threads": threads, "gflops_512": g512, "gflops_128x784x512": gMLP])
// matmul FLOPs: forward 2·B·Σ(in·out); backward twice that, less the input gradient of layer 1
let layerMACs = [784 * 512, 512 * 512, 512 * 10]
let flops = Double(batch) * 2 * Double(3 * layerMACs.reduce(0, +) - layerMACs[0])
let achieved = steps * flops / 1e9
emit(["bench": "mlp_forward_backward", "batch": batch, "steps_per_s": steps, "images_per_s": steps * Double(batch),
      "gflops": achieved, "fraction_of_sgemm": achieved / sgemm, "target_fraction": 0.7])

// Björck orthonormalisation of a 512×512 weight, 20 order-1 iterations with gradient
let w = Variable(rng.normalTensor([512, 512]) * (1 / 512), requiresGrad: true)
let bj = rate {
    w.bjorckOrthonormalized(iterations: 20).sum().backward()
    w.grad = nil
}
emit(["bench": "bjorck_512x512_20it_fwd_bwd", "per_s": bj, "gflops": bj * 20 * 3 * 2 * 2 * pow(512.0, 3) / 1e9])

// Paper D's first conv layer shape: 128×1×28×28 → 32 channels, 3×3 stride 2
let conv = Conv2d(1, 32, kernel: 3, stride: 2, padding: 1, rng: &rng)
let conv2 = Conv2d(32, 64, kernel: 3, stride: 2, padding: 1, rng: &rng)
let img = Variable(rng.uniformTensor([batch, 1, 28, 28]))
let cr = rate {
    let y = conv2(conv(img).relu())
    y.sum().backward()
    for p in conv.parameters + conv2.parameters { p.grad = nil }
}
emit(["bench": "conv_2layer_fwd_bwd_batch128", "images_per_s": cr * Double(batch)])
