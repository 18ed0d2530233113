import XCTest
import Shared

final class OptimizerTests: XCTestCase {
    /// Adam on a fixed gradient sequence, against an independent numpy implementation of
    /// Kingma & Ba's Algorithm 1 (bias-corrected moments, ε added to √v̂).
    func testAdamMatchesNumpyReference() throws {
        var rng = RNG(seed: 11)
        let w0 = rng.normalTensor([6])
        let grads = (0..<5).map { _ in rng.normalTensor([6]) }
        let p = Variable(w0, requiresGrad: true)
        let adam = Adam(parameters: [p], learningRate: 0.01, beta1: 0.8, beta2: 0.95, epsilon: 1e-6)
        for g in grads { p.grad = g; adam.step() }
        let list = { (t: Tensor) in "[" + t.data.map { String($0) }.joined(separator: ",") + "]" }
        let ref = try python("""
        import numpy as np
        w = np.array(\(list(w0)), dtype=np.float64); m = np.zeros(6); v = np.zeros(6)
        for t, g in enumerate([\(grads.map(list).joined(separator: ","))], 1):
            g = np.array(g); m = 0.8*m + 0.2*g; v = 0.95*v + 0.05*g*g
            w -= 0.01 * (m/(1-0.8**t)) / (np.sqrt(v/(1-0.95**t)) + 1e-6)
        print(" ".join(repr(float(x)) for x in w))
        """)
        let expected = Tensor(shape: [6], data: ref.split(separator: " ").map { Float($0)! })
        assertClose(p.value, expected, tol: 1e-5, "Adam")
        XCTAssertNil(p.grad, "step clears the gradient")
    }

    func testAdamMinimisesQuadratic() {
        let target = Tensor(shape: [3], data: [1, -2, 0.5])
        let p = Variable(Tensor.zeros([3]), requiresGrad: true)
        let adam = Adam(parameters: [p], learningRate: 0.05)
        for _ in 0..<500 { ((p - Variable(target)).square().sum()).backward(); adam.step() }
        assertClose(p.value, target, tol: 1e-2, "Adam converges")
    }

    func testSGDWithMomentum() {
        let p = Variable(Tensor(shape: [2], data: [1, 2]), requiresGrad: true)
        let sgd = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9)
        p.grad = Tensor(shape: [2], data: [1, 1]); sgd.step()   // v = g, w -= 0.1 g
        p.grad = Tensor(shape: [2], data: [1, 1]); sgd.step()   // v = 0.9 + 1
        XCTAssertEqual(p.value.data, [1 - 0.1 - 0.19, 2 - 0.1 - 0.19], accuracy: 1e-6)
        let plain = Variable(Tensor(shape: [1], data: [3]), requiresGrad: true)
        let s2 = SGD(parameters: [plain], learningRate: 0.5)
        plain.grad = Tensor(shape: [1], data: [2]); s2.step()
        XCTAssertEqual(plain.value.data, [2])
    }

    func testStepSchedule() {
        let s = StepSchedule(stepSize: 2, gamma: 0.5)
        var lr: Float = 1
        var seen: [Float] = []
        for e in 0..<6 { lr = s.rate(afterEpoch: e, validationLoss: 0, current: lr); seen.append(lr) }
        XCTAssertEqual(seen, [1, 0.5, 0.5, 0.25, 0.25, 0.125])
    }

    func testPlateauSchedule() {
        let s = PlateauSchedule(factor: 0.5, patience: 1, threshold: 0, minRate: 0.1)
        var lr: Float = 1
        var seen: [Float] = []
        for (e, loss) in [5, 4, 4, 4, 3, 3, 3, 3, 3, 3].enumerated() {
            lr = s.rate(afterEpoch: e, validationLoss: Float(loss), current: lr); seen.append(lr)
        }
        // improves, improves, bad 1, bad 2 → halve, improves, bad, bad → halve, bad, bad → halve (floored at 0.1)
        XCTAssertEqual(seen, [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125])
        let s2 = PlateauSchedule(factor: 0.5, patience: 0, minRate: 0.3)
        lr = 1
        for (e, loss) in [1, 2, 2, 2].enumerated() { lr = s2.rate(afterEpoch: e, validationLoss: Float(loss), current: lr) }
        XCTAssertEqual(lr, 0.3)
    }
}

final class RNGTests: XCTestCase {
    func testReproducibleFromSeed() {
        var a = RNG(seed: 42), b = RNG(seed: 42), c = RNG(seed: 43)
        let xa = (0..<10).map { _ in a.next() }, xb = (0..<10).map { _ in b.next() }, xc = (0..<10).map { _ in c.next() }
        XCTAssertEqual(xa, xb)
        XCTAssertNotEqual(xa, xc)
        var d1 = RNG(seed: 1).derived(1), d2 = RNG(seed: 1).derived(2)
        XCTAssertNotEqual(d1.normalTensor([4]), d2.normalTensor([4]))
    }

    func testDistributions() {
        var r = RNG(seed: 7)
        let n = 200_000
        let z = r.normalTensor([n])
        let mean = z.mean(), variance = z.map { $0 * $0 }.mean() - mean * mean
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
        let u = r.uniformTensor([n])
        XCTAssertEqual(u.mean(), 0.5, accuracy: 0.005)
        XCTAssert(u.data.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(r.permutation(100).sorted(), Array(0..<100))
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<50_000 { counts[r.int(below: 5)] += 1 }
        XCTAssert(counts.allSatisfy { abs($0 - 10_000) < 400 }, "\(counts)")
    }
}
