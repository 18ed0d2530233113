import XCTest
import Foundation
import Shared

/// Finite-difference checks of every op's backward rule (inputs and, for layers, parameters).
final class AutodiffOpsTests: XCTestCase {
    var rng = RNG(seed: 1)

    func testBroadcastingArithmetic() {
        let a = rng.normalTensor([3, 4]), b = rng.normalTensor([4]), c = rng.normalTensor([3, 1])
        gradCheck([a, b]) { $0[0] + $0[1] }
        gradCheck([a, c]) { $0[0] - $0[1] }
        gradCheck([a, b]) { $0[0] * $0[1] }
        let pos = rng.uniformTensor([3, 1], 0.5, 2)
        gradCheck([a, pos]) { $0[0] / $0[1] }
        gradCheck([a, Tensor(scalar: 0.7)]) { $0[0] * $0[1] }
        gradCheck([a]) { -(2 * $0[0] + 1) / 3 - 0.5 }
        // a rank-3 broadcast on both sides: [2,1,4] with [3,1]
        gradCheck([rng.normalTensor([2, 1, 4]), rng.normalTensor([3, 1])]) { $0[0] * $0[1] + $0[1] }
    }

    /// `zeroValued`: value zero (also where its input is not finite), gradient its input's
    /// (so, by design, not the finite difference of its value).
    func testZeroValuedAddsAGradientAndNoValue() {
        let a = rng.normalTensor([3, 4])
        let v = Variable(a, requiresGrad: true)
        let z = (v.square() * 0.5).zeroValued() + v
        XCTAssertEqual(z.value, a, "the value is v's alone")
        z.backward(seed: Tensor(shape: [3, 4], repeating: 1))
        assertClose(v.grad!, a + 1, tol: 1e-6, "∂(½v²) + ∂v")
        var bad = a
        bad.data[0] = .nan; bad.data[1] = .infinity
        let w = Variable(bad, requiresGrad: true)
        let y = w.exp().zeroValued()
        XCTAssertEqual(y.value, Tensor.zeros([3, 4]), "zero even where the input is not finite")
        y.backward(seed: Tensor(shape: [3, 4], repeating: 1))
        assertClose(w.grad!.reshaped([12]).slice(axis: 0, 2..<12), a.map { Foundation.exp($0) }.reshaped([12]).slice(axis: 0, 2..<12), tol: 1e-6, "∂ of exp")
    }

    func testBroadcastForwardMatchesNumpyRules() {
        let a = Tensor(shape: [2, 1, 3], data: [1, 2, 3, 4, 5, 6]), b = Tensor(shape: [2, 1], data: [10, 20])
        let s = a + b
        XCTAssertEqual(s.shape, [2, 2, 3])
        XCTAssertEqual(s.data, [11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26])
        XCTAssertNil(Broadcast.shape([2, 3], [4]))
    }

    func testUnaryOps() {
        let x = rng.normalTensor([2, 5])
        let pos = rng.uniformTensor([2, 5], 0.2, 3)
        gradCheck([x]) { $0[0].exp() }
        gradCheck([pos]) { $0[0].log() }
        gradCheck([pos]) { $0[0].sqrt() }
        gradCheck([x]) { $0[0].square() }
        gradCheck([pos]) { $0[0].pow(1.7) }
        gradCheck([x]) { $0[0].sigmoid() }
        gradCheck([x]) { $0[0].tanh() }
        gradCheck([x * 4]) { $0[0].softplus() }
        gradCheck([x * 4]) { $0[0].logSigmoid() }
        let k = awayFromZero([2, 5], rng: &rng)
        gradCheck([k]) { $0[0].relu() }
        gradCheck([k]) { $0[0].abs() }
        gradCheck([k]) { $0[0].clamped(-0.05, 0.05) + $0[0] * 0.1 }
    }

    func testStableFunctionsAtExtremes() {
        let x = Variable(Tensor(shape: [4], data: [-200, -30, 30, 200]))
        XCTAssertEqual(x.softplus().value.data, [0, Float(exp(-30.0)), 30, 200].map { Float($0) }, accuracy: 1e-6)
        XCTAssertEqual(x.logSigmoid().value.data[0], -200, accuracy: 1e-4)
        XCTAssertEqual(x.sigmoid().value.data, [0, Float(1 / (1 + exp(30.0))), Float(1 / (1 + exp(-30.0))), 1], accuracy: 1e-7)
        XCTAssert(x.softplus().value.isFinite && x.logSigmoid().value.isFinite)
    }

    func testLogSumExpOfInfinities() {
        let x = Variable(Tensor(shape: [3, 3], data: [-.infinity, -.infinity, -.infinity, 1, .infinity, 2, 0, 1, 2]), requiresGrad: true)
        let y = x.logSumExp(axis: 1)
        XCTAssertEqual(y.value.data[0], -.infinity)
        XCTAssertEqual(y.value.data[1], .infinity)
        XCTAssertEqual(Double(y.value.data[2]), log(1 + exp(1.0) + exp(2.0)), accuracy: 1e-6)
        y.sum().backward()
        // the softmax: nothing for an all −∞ row, everything on the +∞ entry
        XCTAssertEqual(Array(x.grad!.data[0..<6]), [0, 0, 0, 0, 1, 0])
        XCTAssertTrue(x.grad!.isFinite)
    }

    func testReductions() {
        let x = rng.normalTensor([3, 4, 2])
        gradCheck([x]) { $0[0].sum() }
        gradCheck([x]) { $0[0].mean() }
        for axis in 0..<3 {
            gradCheck([x]) { $0[0].sum(axis: axis) }
            gradCheck([x]) { $0[0].mean(axis: axis, keepDim: true) }
            gradCheck([x * 3]) { $0[0].logSumExp(axis: axis) }
        }
    }

    func testLogSumExpIsStableAndCorrect() {
        let x = Tensor(shape: [2, 3], data: [1000, 1000, 1000, -1, 0, 1])
        let l = Variable(x).logSumExp(axis: 1).value
        XCTAssertEqual(l.data[0], 1000 + log(3), accuracy: 1e-3)
        XCTAssertEqual(l.data[1], Float(log(exp(-1.0) + 1 + exp(1.0))), accuracy: 1e-5)
    }

    func testShapeOps() {
        let x = rng.normalTensor([2, 6])
        gradCheck([x]) { $0[0].reshaped([3, 4]) }
        gradCheck([x]) { $0[0].transposed() }
        gradCheck([rng.normalTensor([2, 5, 3])]) { $0[0].slice(axis: 1, 1..<4) }
        gradCheck([rng.normalTensor([2, 2, 3]), rng.normalTensor([2, 1, 3])]) { Variable.concat([$0[0], $0[1]], axis: 1) }
        let t = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(t.transposed().data, [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(t.slice(axis: 1, 1..<3).data, [2, 3, 5, 6])
    }

    func testMatmulAllTransposes() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = rng.normalTensor(ta ? [4, 3] : [3, 4]), b = rng.normalTensor(tb ? [5, 4] : [4, 5])
            gradCheck([a, b]) { Variable.matmul($0[0], $0[1], transA: ta, transB: tb) }
        }
        // forward against a direct loop
        let a = rng.normalTensor([3, 4]), b = rng.normalTensor([4, 2])
        let c = Tensor.matmul(a, b)
        for i in 0..<3 { for j in 0..<2 {
            var s: Float = 0
            for k in 0..<4 { s += a.data[i * 4 + k] * b.data[k * 2 + j] }
            XCTAssertEqual(c.data[i * 2 + j], s, accuracy: 1e-5)
        } }
    }

    func testLinearOp() {
        let x = rng.normalTensor([4, 3]), w = rng.normalTensor([5, 3]), b = rng.normalTensor([5])
        gradCheck([x, w, b]) { Variable.linear($0[0], weight: $0[1], bias: $0[2]) }
        gradCheck([x, w]) { Variable.linear($0[0], weight: $0[1], bias: nil) }
    }

    func testGradientsAccumulateOverSharedUse() {
        // x used three times: d/dx (x*x + x) = 2x + 1
        let x = Variable(Tensor(shape: [3], data: [1, -2, 0.5]), requiresGrad: true)
        (x * x + x).sum().backward()
        XCTAssertEqual(x.grad!.data, [3, -3, 2])
        // a second backward accumulates into the leaf
        (x * 2).sum().backward()
        XCTAssertEqual(x.grad!.data, [5, -1, 4])
    }

    func testNoGraphWithoutGradients() {
        let w = Variable(rng.normalTensor([3, 3]), requiresGrad: true)
        let y = Autodiff.withoutGradients { Variable.matmul(w, w) }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(Variable.matmul(w, w).requiresGrad)
    }

    func testGradientWithRespectToInput() {
        // d/dx Σ sigmoid(x)² = 2 σ(x) σ(x)(1 − σ(x))
        let x = rng.normalTensor([6])
        let (value, g) = Autodiff.gradient(at: x) { $0.sigmoid().square().sum() }
        let s = x.map { 1 / (1 + exp(-$0)) }
        XCTAssertEqual(value, s.data.map { $0 * $0 }.reduce(0, +), accuracy: 1e-5)
        assertClose(g, s.map { 2 * $0 * $0 * (1 - $0) }, tol: 1e-5)
    }
}

func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
