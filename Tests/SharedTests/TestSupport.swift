import Foundation
import XCTest
import Shared

/// Runs a Python snippet (numpy is available on every machine) and returns its stdout.
/// Used for cross-checks against independent implementations and for file round trips.
func python(_ code: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", code]
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        XCTFail("python failed: \(String(decoding: e, as: UTF8.self))", file: file, line: line)
        throw ToolError("python failed")
    }
    return String(decoding: o, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Whether the Python package can be imported (safetensors is optional on a dev machine).
func pythonHas(_ module: String) -> Bool { (try? python("import \(module); print(1)")) == "1" }

/// A fresh temporary directory, removed at exit of the test process.
func tempDir() -> String {
    let d = NSTemporaryDirectory() + "robustvae-tests-\(getpid())-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

func assertClose(_ a: Tensor, _ b: Tensor, tol: Float, _ what: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, "\(what): shapes", file: file, line: line)
    guard a.shape == b.shape else { return }
    var worst: Float = 0, at = 0
    for i in 0..<a.count {
        let d = abs(a.data[i] - b.data[i]) / max(1, abs(b.data[i]))
        if !(d <= worst) { worst = d; at = i }
    }
    XCTAssert(worst <= tol, "\(what): max relative difference \(worst) at \(at) (\(a.data[at]) vs \(b.data[at])) > \(tol)", file: file, line: line)
}

/// Finite-difference gradient check.
///
/// `inputs` are made differentiable leaves; `f` builds an output from them; the scalar
/// loss is Σ out ⊙ R with a fixed random R, so every output element matters. Each input
/// element's analytic gradient is compared with the central difference
/// (L(x+h) − L(x−h)) / 2h.
func gradCheck(_ inputs: [Tensor], h: Float = 1e-2, tol: Float = 1e-2, seed: UInt64 = 99,
               file: StaticString = #filePath, line: UInt = #line, _ f: ([Variable]) -> Variable) {
    var rng = RNG(seed: seed)
    let vars = inputs.map { Variable($0, requiresGrad: true) }
    let out = f(vars)
    let weights = rng.normalTensor(out.shape)
    let loss = (out * Variable(weights)).sum()
    loss.backward()
    func lossAt(_ xs: [Tensor]) -> Float {
        Autodiff.withoutGradients {
            let o = f(xs.map { Variable($0) }).value
            // accumulate in Double to keep the finite difference clean
            var s = 0.0
            for i in 0..<o.count { s += Double(o.data[i]) * Double(weights.data[i]) }
            return Float(s)
        }
    }
    for (k, x) in inputs.enumerated() {
        guard let g = vars[k].grad else { XCTFail("input \(k) received no gradient", file: file, line: line); continue }
        XCTAssertEqual(g.shape, x.shape, "gradient shape of input \(k)", file: file, line: line)
        var numeric = Tensor.zeros(x.shape)
        for i in 0..<x.count {
            var xp = inputs, xm = inputs
            xp[k].data[i] += h
            xm[k].data[i] -= h
            numeric.data[i] = (lossAt(xp) - lossAt(xm)) / (2 * h)
        }
        assertClose(g, numeric, tol: tol, "gradient of input \(k)", file: file, line: line)
    }
}

/// Random values whose magnitude is at least `margin`, so kinks (ReLU, abs, GroupSort ties)
/// are further than the finite-difference step away.
func awayFromZero(_ shape: [Int], margin: Float = 0.1, rng: inout RNG) -> Tensor {
    rng.normalTensor(shape).map { $0 >= 0 ? $0 + margin : $0 - margin }
}

/// A small `mlp` VAE (hidden 64, latent 4) trained briefly on the synthetic shapes (a second
/// or so), frozen: the attacks' and the defence's tests run on it.
func trainedSyntheticVAE(epochs: Int = 3, images: Int = 1000) throws -> VAE {
    var c = ModelConfig(architecture: "mlp", latent: 4, inputShape: [1, 28, 28], data: "synthetic", seed: 3)
    c.hidden = [64]
    let model = try VAE(config: c)
    var o = TrainingOptions()
    o.epochs = epochs; o.batch = 64; o.output = tempDir() + "/m.safetensors"; o.trainLimit = images
    _ = try Trainer(model: model, trainSet: try DatasetCatalog.load("synthetic:train"),
                    testSet: try DatasetCatalog.load("synthetic:test[0:50]"), options: o).run()
    model.freeze()
    return model
}


/// The sample mean and covariance of the rows of `samples` `[n, d]` against a Gaussian's
/// `mean` and row-major `covariance`, each within 4 standard errors (of a mean: √(C_aa / n);
/// of a sample covariance: √((C_aa C_bb + C_ab²) / n)).
func assertGaussianMoments(_ samples: Tensor, mean: [Double], covariance cov: [Double], _ what: String,
                           file: StaticString = #filePath, line: UInt = #line) {
    let (n, d) = (samples.shape[0], samples.shape[1])
    var m = [Double](repeating: 0, count: d), c = [Double](repeating: 0, count: d * d)
    for i in 0..<n { for a in 0..<d { m[a] += Double(samples.data[i * d + a]) / Double(n) } }
    for i in 0..<n { for a in 0..<d { for b in 0..<d {
        c[a * d + b] += (Double(samples.data[i * d + a]) - m[a]) * (Double(samples.data[i * d + b]) - m[b]) / Double(n - 1)
    } } }
    for a in 0..<d {
        XCTAssertEqual(m[a], mean[a], accuracy: 4 * (cov[a * d + a] / Double(n)).squareRoot(), "\(what) mean \(a)", file: file, line: line)
        for b in 0..<d {
            let se = ((cov[a * d + a] * cov[b * d + b] + cov[a * d + b] * cov[a * d + b]) / Double(n)).squareRoot()
            XCTAssertEqual(c[a * d + b], cov[a * d + b], accuracy: 4 * se, "\(what) covariance \(a),\(b)", file: file, line: line)
        }
    }
}
