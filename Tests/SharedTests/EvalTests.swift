import Foundation
import XCTest
import Shared

final class EvalTests: XCTestCase {
    var rng = RNG(seed: 41)
    let dir = tempDir()

    /// An independent numpy implementation: 2-D Gaussian kernel (outer product), valid
    /// correlation through sliding windows, the same window fitting and pooling rules.
    static let numpySSIM = """
    import numpy as np, sys
    from numpy.lib.stride_tricks import sliding_window_view as win
    W = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    def gauss(n, s=1.5):
        c = np.arange(n) - n // 2
        g = np.exp(-c**2 / (2 * s * s)); return g / g.sum()
    def filt(x, k):
        return (win(x, k.shape) * k).sum(axis=(-1, -2))
    def ssim_cs(x, y, size):
        n = max(1, min(size, *x.shape)); g = gauss(n); k = np.outer(g, g)
        mx, my = filt(x, k), filt(y, k)
        sxx = filt(x * x, k) - mx**2; syy = filt(y * y, k) - my**2; sxy = filt(x * y, k) - mx * my
        C1, C2 = 0.01**2, 0.03**2
        cs = (2 * sxy + C2) / (sxx + syy + C2); l = (2 * mx * my + C1) / (mx**2 + my**2 + C1)
        return (l * cs).mean(), cs.mean()
    def pool(x):
        h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
        x = x[:h, :w]
        return x.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    def msssim(x, y):
        cs, last = [], 0
        for j in range(5):
            s, c = ssim_cs(x, y, 11)
            cs.append(max(c, 0)); last = max(s, 0)
            if j < 4: x, y = pool(x), pool(y)
        return np.prod([cs[j] ** W[j] for j in range(4)]) * last ** W[4]
    a = np.load(sys.argv[1]).astype(np.float64); b = np.load(sys.argv[2]).astype(np.float64)
    for i in range(a.shape[0]):
        ch = range(a.shape[1])
        print(repr(float(np.mean([ssim_cs(a[i, c], b[i, c], 11)[0] for c in ch]))),
              repr(float(np.mean([msssim(a[i, c], b[i, c]) for c in ch]))))
    """

    func testSSIMAndMSSSIMAgainstNumpy() throws {
        try (EvalTests.numpySSIM).write(toFile: dir + "/ssim.py", atomically: true, encoding: .utf8)
        for (c, h, w) in [(1, 28, 28), (3, 28, 28), (1, 32, 24), (1, 64, 64)] {
            // random noise, a structured image (smooth blobs) and a noisy copy of it, and an identical pair
            let a = rng.uniformTensor([4, c, h, w])
            var blobs = Tensor.zeros([4, c, h, w])
            for i in 0..<blobs.count { let x = Float(i % w), y = Float((i / w) % h); blobs.data[i] = 0.5 + 0.4 * sin(x / 3) * cos(y / 5) }
            let noisy = blobs.zipMap(rng.normalTensor(blobs.shape)) { min(1, max(0, $0 + 0.1 * $1)) }
            let first = Tensor.concat([a.rows(0..<2), blobs.rows(0..<2)], axis: 0)
            let second = Tensor.concat([rng.uniformTensor([2, c, h, w]), noisy.rows(0..<1), blobs.rows(1..<2)], axis: 0)
            try Npy.write(first, to: dir + "/a.npy"); try Npy.write(second, to: dir + "/b.npy")
            let ref = try python("exec(open('\(dir)/ssim.py').read())".replacingOccurrences(of: "exec(", with: "import sys; sys.argv=['x','\(dir)/a.npy','\(dir)/b.npy']; exec("))
            let rows = ref.split(separator: "\n").map { $0.split(separator: " ").map { Double($0)! } }
            for i in 0..<4 {
                let x = first.rows(i..<(i + 1)).reshaped([c, h, w]), y = second.rows(i..<(i + 1)).reshaped([c, h, w])
                XCTAssertEqual(try SSIM.ssim(x, y), rows[i][0], accuracy: 1e-5, "ssim \(c)x\(h)x\(w) #\(i)")
                XCTAssertEqual(try SSIM.msssim(x, y), rows[i][1], accuracy: 1e-5, "msssim \(c)x\(h)x\(w) #\(i)")
            }
            // identical images give 1
            XCTAssertEqual(try SSIM.msssim(blobs.rows(0..<1).reshaped([c, h, w]), blobs.rows(0..<1).reshaped([c, h, w])), 1, accuracy: 1e-9)
            XCTAssertEqual(rows[3][0], 1, accuracy: 1e-9)
        }
        assertThrows(try SSIM.ssim(Tensor.zeros([1, 4, 4]), Tensor.zeros([1, 4, 5])), containing: "same [C, H, W] shape")
    }

    /// Paper D's MS-SSIM: jorge-pessoa's pytorch-msssim `msssim(img1, img2, window_size=14,
    /// normalize='relu')` as its code calls it, ported to numpy line by line (torch ops by
    /// their numpy equivalents: `F.conv2d(..., groups=channel)` a per-channel valid
    /// cross-correlation, `F.avg_pool2d(x, (2, 2))` a floor 2×2 mean). The copy paper D
    /// imports guards the pooling of a 1×1 image after the last scale; here that pooling
    /// yields an empty array that is never used, the same numbers.
    static let publishedMSSSIM = """
    import numpy as np, sys
    from math import exp
    def gaussian(window_size, sigma):
        gauss = np.array([exp(-(x - window_size//2)**2/float(2*sigma**2)) for x in range(window_size)])
        return gauss/gauss.sum()
    def create_window(window_size, channel=1):
        _1D_window = gaussian(window_size, 1.5)[:, None]
        _2D_window = (_1D_window @ _1D_window.T)[None, None]
        window = np.broadcast_to(_2D_window, (channel, 1, window_size, window_size)).copy()
        return window
    def conv2d(img, window, padding=0, groups=1):
        _, c, h, w = img.shape; k = window.shape[-1]
        out = np.zeros((1, c, h - k + 1, w - k + 1))
        for ch in range(c):
            for i in range(h - k + 1):
                for j in range(w - k + 1):
                    out[0, ch, i, j] = (img[0, ch, i:i + k, j:j + k] * window[ch, 0]).sum()
        return out
    def avg_pool2d(img, kernel):
        _, c, h, w = img.shape; oh, ow = h // 2, w // 2
        return img[:, :, :oh * 2, :ow * 2].reshape(1, c, oh, 2, ow, 2).mean(axis=(3, 5))
    def ssim(img1, img2, window_size=11, window=None, size_average=True, full=False, val_range=None):
        if val_range is None:
            if np.max(img1) > 128:
                max_val = 255
            else:
                max_val = 1
            if np.min(img1) < -0.5:
                min_val = -1
            else:
                min_val = 0
            L = max_val - min_val
        else:
            L = val_range
        padd = 0
        (_, channel, height, width) = img1.shape
        if window is None:
            real_size = min(window_size, height, width)
            window = create_window(real_size, channel=channel)
        mu1 = conv2d(img1, window, padding=padd, groups=channel)
        mu2 = conv2d(img2, window, padding=padd, groups=channel)
        mu1_sq = mu1 ** 2
        mu2_sq = mu2 ** 2
        mu1_mu2 = mu1 * mu2
        sigma1_sq = conv2d(img1 * img1, window, padding=padd, groups=channel) - mu1_sq
        sigma2_sq = conv2d(img2 * img2, window, padding=padd, groups=channel) - mu2_sq
        sigma12 = conv2d(img1 * img2, window, padding=padd, groups=channel) - mu1_mu2
        C1 = (0.01 * L) ** 2
        C2 = (0.03 * L) ** 2
        v1 = 2.0 * sigma12 + C2
        v2 = sigma1_sq + sigma2_sq + C2
        cs = np.mean(v1 / v2)
        ssim_map = ((2 * mu1_mu2 + C1) * v1) / ((mu1_sq + mu2_sq + C1) * v2)
        if size_average:
            ret = ssim_map.mean()
        else:
            ret = ssim_map.mean(1).mean(1).mean(1)
        if full:
            return ret, cs
        return ret
    def msssim(img1, img2, window_size=11, size_average=True, val_range=None, normalize=None):
        weights = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])
        levels = weights.shape[0]
        ssims = []
        mcs = []
        for _ in range(levels):
            sim, cs = ssim(img1, img2, window_size=window_size, size_average=size_average, full=True, val_range=val_range)
            if normalize == "relu":
                ssims.append(np.maximum(sim, 0))
                mcs.append(np.maximum(cs, 0))
            else:
                ssims.append(sim)
                mcs.append(cs)
            img1 = avg_pool2d(img1, (2, 2))
            img2 = avg_pool2d(img2, (2, 2))
        ssims = np.stack(ssims)
        mcs = np.stack(mcs)
        pow1 = mcs ** weights
        pow2 = ssims ** weights
        output = np.prod(pow1[:-1] * pow2[-1])
        return output
    a = np.load(sys.argv[1]).astype(np.float64); b = np.load(sys.argv[2]).astype(np.float64)
    print(' '.join(repr(float(msssim(a[i:i + 1], b[i:i + 1], window_size=14, normalize='relu'))) for i in range(a.shape[0])))
    """

    func testKuzinaMSSSIMAgainstThePublishedFunction() throws {
        try (EvalTests.publishedMSSSIM).write(toFile: dir + "/published.py", atomically: true, encoding: .utf8)
        for c in [1, 3] {
            // paper-D-shaped pairs: a digit-like blob against noisy, shifted and unrelated images
            var blob = Tensor.zeros([1, c, 28, 28])
            for i in 0..<blob.count {
                let x = Float(i % 28) - 14, y = Float((i / 28) % 28) - 14, ch = Float(i / 784)
                blob.data[i] = max(0, min(1, 1.2 * exp(-(x * x + y * y) / (40 + 10 * ch)) + 0.1 * sin(x / 2)))
            }
            let noisy = blob.zipMap(rng.normalTensor(blob.shape)) { min(1, max(0, $0 + 0.15 * $1)) }
            var shifted = Tensor.zeros(blob.shape)
            for i in 0..<blob.count where i % 28 >= 2 { shifted.data[i] = blob.data[i - 2] }
            let first = Tensor.concat([blob, blob, blob, blob, blob.map { $0 * 255 }, blob.map { $0 * 2 - 1 }], axis: 0)
            let second = Tensor.concat([noisy, shifted, rng.uniformTensor(blob.shape), blob, noisy.map { $0 * 255 }, noisy.map { $0 * 2 - 1 }], axis: 0)
            try Npy.write(first, to: dir + "/pa.npy"); try Npy.write(second, to: dir + "/pb.npy")
            let out = try python("import sys; sys.argv = ['x', '\(dir)/pa.npy', '\(dir)/pb.npy']; exec(open('\(dir)/published.py').read())")
            let ref = out.split(separator: " ").map { Double($0)! }
            XCTAssertEqual(ref.count, 6)
            for i in 0..<6 {
                let x = first.rows(i..<(i + 1)).reshaped([c, 28, 28]), y = second.rows(i..<(i + 1)).reshaped([c, 28, 28])
                XCTAssertEqual(try SSIM.msssim(x, y, variant: .kuzina), ref[i], accuracy: 1e-9 + 1e-7 * abs(ref[i]), "\(c)x28x28 pair \(i)")
            }
            XCTAssertEqual(ref[3], 1, accuracy: 1e-12, "identical images")
        }
    }

    /// A decoder that ignores z makes the posterior equal the prior and log p(x) = log p(x|·)
    /// exactly; the importance-weighted estimate with an encoder that differs from the prior
    /// must converge to it. The proposal q = N(0.2, 0.95²) is wider than 1/√2, so the weights
    /// p(z)/q(z) have finite variance: about 0.24 here, a standard error near 0.005 at K = 10,000.
    func testNLLOfAModelWithKnownMarginal() throws {
        var c = ModelConfig(architecture: "mlp", latent: 2, inputShape: [1, 3, 3], data: "t", seed: 1)
        c.hidden = [4]
        let model = try VAE(config: c)
        let dec = model.namedParameters.filter { $0.name.hasPrefix("decoder") }
        for (name, p) in dec where name.hasSuffix("weight") { p.value = Tensor.zeros(p.value.shape) }
        // encoder: constant mean 0.2 and σ = sigmoid(2.9444) = 0.95 through the last biases
        for (name, p) in model.namedParameters where name.hasPrefix("encoder") {
            if name.hasSuffix("weight") { p.value = Tensor.zeros(p.value.shape) }
            if name == "encoder.mean.1.2.bias" { p.value = Tensor(shape: [2], repeating: 0.2) }
            if name == "encoder.scale.1.2.bias" { p.value = Tensor(shape: [2], repeating: 2.944439) }
        }
        let (mu0, s0) = Autodiff.withoutGradients { model.encode(Variable(Tensor.zeros([1, 1, 3, 3]))) }
        XCTAssertEqual(mu0.value.data, [0.2, 0.2], accuracy: 1e-6)
        XCTAssertEqual(s0.value.data, [0.95, 0.95], accuracy: 1e-5)
        let x = rng.uniformTensor([3, 1, 3, 3])
        let logits = Autodiff.withoutGradients { model.decodeLogits(Variable(Tensor.zeros([1, 2]))) }
        let exact = Autodiff.withoutGradients { model.likelihood.logProb(Variable(x), logits: logits + Variable(Tensor.zeros([3, 1, 3, 3]))) }.value
        let est = model.logMarginalPerImage(x, samples: 10_000, seed: 3)
        for i in 0..<3 { XCTAssertEqual(est[i], Double(exact.data[i]), accuracy: 0.025, "image \(i)") }
        // and the ELBO is below it by the KL (the reconstruction term is constant in z)
        let elbo = model.elboPerImage(x, samples: 1)
        for i in 0..<3 { XCTAssertLessThanOrEqual(elbo[i], Double(exact.data[i]) + 1e-4) }
        // its two terms (vae-eval elbo): log p(x|z) is that constant, the KL the closed form of
        // N(0.2, 0.95²) against N(0, 1) in two dimensions, and they make up the same ELBO
        let klExact = 2 * 0.5 * (0.2 * 0.2 + 0.95 * 0.95 - 1 - Foundation.log(0.95 * 0.95))
        let terms = model.elboTermsPerImage(x, samples: 2)
        for i in 0..<3 {
            XCTAssertEqual(terms[i].logpx, Double(exact.data[i]), accuracy: 1e-4, "log p(x|z), image \(i)")
            XCTAssertEqual(terms[i].kl, klExact, accuracy: 1e-5, "KL, image \(i)")
            XCTAssertEqual(terms[i].elbo, terms[i].logpx - terms[i].kl, accuracy: 1e-9)
            XCTAssertEqual(terms[i].elbo, elbo[i], accuracy: 1e-4, "the same ELBO as elboPerImage")
        }
    }

    func testAdversarialAccuracyBookkeeping() throws {
        XCTAssertEqual(try AdversarialAccuracy.referenceIndex(adversarial: 6, references: 2), [0, 0, 0, 1, 1, 1])
        // 2 references predicted 3 and 7; 3 restarts each
        let m = try AdversarialAccuracy.matches(adversarial: [3, 3, 1, 7, 2, 7], reference: [3, 7])
        XCTAssertEqual(m, [1, 1, 0, 1, 0, 1])
        XCTAssertEqual(Summary(m).mean, 4.0 / 6.0, accuracy: 1e-12)
        assertThrows(try AdversarialAccuracy.referenceIndex(adversarial: 5, references: 2), containing: "do not divide")
        let s = Summary([1, 2, 3, 4])
        XCTAssertEqual(s.mean, 2.5); XCTAssertEqual(s.standardError, (1.6666666666666667 / 4).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(s.standardDeviation, 1.6666666666666667.squareRoot(), accuracy: 1e-12)
        XCTAssertTrue(Summary([7]).standardDeviation.isNaN); XCTAssertTrue(Summary([7]).standardError.isNaN)  // undefined, not 0
    }

    func testLatentActivity() {
        // unit 0 moves (values 0, 2, 4: variance 8/3), unit 1 barely (0.1, 0.2, 0.0: 2/300), unit 2 not at all
        let a = LatentActivity.activity([[0, 0.1, 5], [2, 0.2, 5], [4, 0.0, 5]])
        XCTAssertEqual(a[0], 8.0 / 3, accuracy: 1e-12); XCTAssertEqual(a[1], 2.0 / 300, accuracy: 1e-12); XCTAssertEqual(a[2], 0)
        XCTAssertEqual(LatentActivity.activeUnits(a), 1)
        XCTAssertEqual(LatentActivity.activity([]), [])
        XCTAssertTrue(LatentActivity.activity([[1, 2]]).allSatisfy(\.isNaN), "one image has no spread")
    }

    func testWilsonInterval() {
        let w = Wilson.interval(successes: 30, trials: 100)
        // closed form for p = 0.3, n = 100, z = 1.96: (0.2189, 0.3958)
        XCTAssertEqual(w.low, 0.2189, accuracy: 5e-4); XCTAssertEqual(w.high, 0.3958, accuracy: 5e-4)
        XCTAssertEqual(Wilson.interval(successes: 0, trials: 10).low, 0)
    }

    /// Paper B Eq. 5's damage by mode: each mode takes μ and σ from the input the mode names
    /// (checked draw by draw against the formula, with the η replayed from the seed in the
    /// documented order: one generator, image after image, chunks of 250), the draws do not
    /// depend on the perturbation, and r-robustness counts the same norms.
    func testReconstructionDamageByMode() throws {
        var c = ModelConfig(architecture: "mlp", latent: 3, inputShape: [1, 4, 4], data: "t", seed: 4)
        c.hidden = [8]
        let model = try VAE(config: c)
        let x = rng.uniformTensor([2, 1, 4, 4]), xp = rng.uniformTensor([2, 1, 4, 4])
        let none = model.reconstructionChangeNorms(x, samples: 40, seed: 9)
        for mode in AttackPath.allCases {
            XCTAssertEqual(model.reconstructionChangeNorms(x, perturbed: x, through: mode, samples: 40, seed: 9), none)
        }
        let k = 300  // two chunks per image
        let (e, ep) = Autodiff.withoutGradients { (model.encode(Variable(x)), model.encode(Variable(xp))) }
        var byMode: [[[Float]]] = []
        for mode in AttackPath.allCases {
            let got = model.reconstructionChangeNorms(x, perturbed: xp, through: mode, samples: k, seed: 3)
            var replay = RNG(seed: 3)
            for i in 0..<2 {
                let mu = (mode == .sigma ? e.mu : ep.mu).value.rows(i..<(i + 1)), sd = (mode == .mu ? e.sigma : ep.sigma).value.rows(i..<(i + 1))
                let ref = Autodiff.withoutGradients { model.decodeMean(Variable(e.mu.value.rows(i..<(i + 1)))).value }
                var want: [Float] = []
                for chunk in [250, 50] {
                    let eta = replay.normalTensor([chunk, 3])
                    for s in 0..<chunk {
                        var z = mu
                        for j in 0..<3 { z.data[j] += eta.data[s * 3 + j] * sd.data[j] }
                        let g = Autodiff.withoutGradients { model.decodeMean(Variable(z)).value }
                        want.append(zip(g.data, ref.data).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot())
                    }
                }
                XCTAssertEqual(got[i].count, k)
                for s in 0..<k { XCTAssertEqual(got[i][s], want[s], accuracy: 1e-5 * max(1, want[s]), "\(mode) image \(i) draw \(s)") }
            }
            byMode.append(got)
            // the damage is the mean and sd of these norms
            let d = model.reconstructionDamage(x, perturbed: xp, through: mode, samples: k, seed: 3)
            for i in 0..<2 {
                let v = got[i].map(Double.init), mean = v.reduce(0, +) / Double(k)
                let sd = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(k - 1)).squareRoot()
                XCTAssertEqual(d[i].mean, mean, accuracy: 1e-9)
                XCTAssertEqual(d[i].sd, sd, accuracy: 1e-9)
            }
        }
        // every mode differs from every other and from no perturbation, draw by draw
        let unperturbed = model.reconstructionChangeNorms(x, samples: k, seed: 3)
        for (a, b) in [(0, 1), (0, 2), (1, 2)] { XCTAssertNotEqual(byMode[a], byMode[b]) }
        for m in byMode { XCTAssertNotEqual(m, unperturbed) }
        // r-robustness is the share of the same norms within r
        let r: Float = 0.05
        let norms = model.reconstructionChangeNorms(x, perturbed: xp, through: .both, samples: 200, seed: 1)
        let p = model.rRobustness(x, perturbed: xp, through: .both, r: r, samples: 200, seed: 1)
        for i in 0..<2 { XCTAssertEqual(p[i].p, Double(norms[i].filter { $0 <= r }.count) / 200) }
    }

    func testRobustnessRatioAndJacobian() throws {
        var c = ModelConfig(architecture: "mlp", latent: 3, inputShape: [1, 4, 4], data: "t", seed: 2)
        c.hidden = [8]
        let model = try VAE(config: c)
        let x = rng.uniformTensor([2, 1, 4, 4])
        // r-robustness: a radius beyond the image diagonal always holds, a tiny one never
        XCTAssert(model.rRobustness(x, r: 100, samples: 50).allSatisfy { $0.p == 1 })
        XCTAssert(model.rRobustness(x, r: 1e-6, samples: 50).allSatisfy { $0.p == 0 })
        XCTAssert(model.rRobustness(x, perturbed: x, r: 100, samples: 10).allSatisfy { $0.p == 1 })
        // posterior ratio: zero for equal codes, antisymmetric, and equal to a direct computation
        let z1 = rng.normalTensor([2, 3]), z2 = rng.normalTensor([2, 3])
        XCTAssertEqual(model.logPosteriorRatio(x, z1: z1, z2: z1), [0, 0])
        let r12 = model.logPosteriorRatio(x, z1: z1, z2: z2), r21 = model.logPosteriorRatio(x, z1: z2, z2: z1)
        for i in 0..<2 { XCTAssertEqual(r12[i], -r21[i], accuracy: 1e-9) }
        func logJoint(_ z: Tensor) -> [Double] {
            let lp = Autodiff.withoutGradients { model.likelihood.logProb(Variable(x), logits: model.decodeLogits(Variable(z))) }.value
            return (0..<2).map { i in Double(lp.data[i]) - (0..<3).reduce(0.0) { $0 + 0.5 * Double(z.data[i * 3 + $1] * z.data[i * 3 + $1]) + 0.5 * log(2 * .pi) } }
        }
        let (a, b) = (logJoint(z1), logJoint(z2))
        for i in 0..<2 { XCTAssertEqual(r12[i], a[i] - b[i], accuracy: 1e-3) }
        // encoder Jacobian Frobenius norm against central differences
        let stats = model.encoderStats(x)
        for i in 0..<2 {
            var frob = 0.0
            let xi = x.rows(i..<(i + 1))
            for j in 0..<16 {
                var p = xi, m = xi
                p.data[j] += 1e-3; m.data[j] -= 1e-3
                let (mp, mm) = Autodiff.withoutGradients { (model.encode(Variable(p)).mu.value, model.encode(Variable(m)).mu.value) }
                for k in 0..<3 { let d = Double(mp.data[k] - mm.data[k]) / 2e-3; frob += d * d }
            }
            XCTAssertEqual(stats[i].jacobianFrobenius, frob.squareRoot(), accuracy: 1e-2 * max(1, frob.squareRoot()))
            let s = Autodiff.withoutGradients { model.encode(Variable(xi)).sigma.value }
            XCTAssertEqual(stats[i].minSigma, Double(s.data.min()!), accuracy: 1e-7)
        }
    }

    func testLatentPlotWritesAReadablePNG() throws {
        let means = rng.normalTensor([20, 2]), stds = rng.uniformTensor([20, 2], 0.1, 0.5)
        let img = try LatentPlot.render(means: means, stds: stds, labels: (0..<20).map { $0 % 10 }, size: 200)
        XCTAssertEqual(img.shape, [3, 200, 200])
        XCTAssert(img.data.contains { $0 < 0.5 }, "something was drawn")
        try PNG.write(img, to: dir + "/latent.png")
        let back = try PNG.read(dir + "/latent.png")
        assertClose(back, img.map { ($0 * 255).rounded() / 255 }, tol: 1e-6, "PNG reload")
        assertThrows(try LatentPlot.render(means: Tensor.zeros([2, 3]), stds: Tensor.zeros([2, 3])), containing: "2-D latent")
    }
}
