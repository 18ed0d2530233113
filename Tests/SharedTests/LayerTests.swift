import XCTest
import Shared

/// Layers: parameter gradients by finite differences, GroupSort's properties, Björck's
/// orthonormality and Lipschitz scaling.
final class LayerTests: XCTestCase {
    var rng = RNG(seed: 4)

    /// Checks a layer's gradient with respect to its input and every parameter.
    func checkLayer(_ layer: any Layer, input: Tensor, tol: Float = 1e-2, file: StaticString = #filePath, line: UInt = #line) {
        // the input
        gradCheck([input], tol: tol, file: file, line: line) { layer($0[0]) }
        for q in layer.parameters { q.grad = nil }
        // parameters themselves: differentiate the layer with respect to its real parameters
        for (name, p) in layer.namedParameters {
            let base = p.value
            let out = layer(Variable(input))
            var r = RNG(seed: 5)
            let wts = r.normalTensor(out.shape)
            (out * Variable(wts)).sum().backward()
            guard let g = p.grad else { XCTFail("\(name) got no gradient", file: file, line: line); continue }
            p.grad = nil
            var numeric = Tensor.zeros(base.shape)
            let h: Float = 1e-2
            for i in 0..<base.count {
                p.value.data[i] = base.data[i] + h
                let lp = Autodiff.withoutGradients { (layer(Variable(input)).value * wts).sum() }
                p.value.data[i] = base.data[i] - h
                let lm = Autodiff.withoutGradients { (layer(Variable(input)).value * wts).sum() }
                p.value.data[i] = base.data[i]
                numeric.data[i] = (lp - lm) / (2 * h)
            }
            for q in layer.parameters { q.grad = nil }
            assertClose(g, numeric, tol: tol, "parameter \(name)", file: file, line: line)
        }
    }

    func testLinearLayer() {
        var r = RNG(seed: 6)
        checkLayer(Linear(4, 3, rng: &r), input: rng.normalTensor([5, 4]))
        checkLayer(Linear(4, 3, bias: false, rng: &r), input: rng.normalTensor([2, 4]))
    }

    func testConvLayers() {
        var r = RNG(seed: 7)
        checkLayer(Conv2d(2, 3, kernel: 3, stride: 2, padding: 1, rng: &r), input: rng.normalTensor([2, 2, 5, 5]))
        checkLayer(ConvTranspose2d(2, 2, kernel: 3, stride: 2, padding: 1, outputPadding: 1, rng: &r), input: rng.normalTensor([1, 2, 3, 3]))
    }

    func testBjorckLinearGradientFlowsThroughIterations() {
        var r = RNG(seed: 8)
        for (fin, fout) in [(4, 3), (3, 5)] {
            // a fixed number of iterations (no early stop), from a weight away from orthonormal
            let layer = BjorckLinear(fin, fout, scale: 1.5, iterations: 5, scaling: .none, tolerance: 0, rng: &r)
            layer.weight.value = layer.weight.value * 0.8 + rng.normalTensor(layer.weight.shape) * 0.1
            checkLayer(layer, input: rng.normalTensor([3, fin]), tol: 2e-2)
        }
    }

    /// At an orthonormal Q the gradient through the Björck iterations is the tangent
    /// projection G − Q·sym(QᵀG) (G − sym(GQᵀ)·Q for wide Q): the tangent op equals the
    /// autodiff gradient through 25 iterations, and central differences through them; a
    /// projected layer uses it by default, and the identity on request.
    func testBjorckTangentGradientIsTheGradientThroughTheIterations() {
        var r = RNG(seed: 12)
        for shape in [[6, 4], [4, 6], [5, 5]] {
            let q = r.normalTensor(shape).bjorckOrthonormalized(iterations: 80, scaling: .safe)
            let seed = r.normalTensor(shape)
            let tangent = Autodiff.gradient(at: q) { (($0.stiefelTangentGradient()) * Variable(seed)).sum() }.gradient
            let through = Autodiff.gradient(at: q) { ($0.bjorckOrthonormalized(iterations: 25) * Variable(seed)).sum() }.gradient
            assertClose(tangent, through, tol: 1e-4, "tangent vs iterations \(shape)")
            // finite differences of ⟨seed, Björck₂₅(W)⟩ at W = Q
            let h: Float = 1e-2
            var numeric = Tensor.zeros(shape)
            for k in 0..<q.count {
                var qp = q, qm = q
                qp.data[k] += h; qm.data[k] -= h
                func f(_ w: Tensor) -> Double {
                    let b = w.bjorckOrthonormalized(iterations: 25)
                    return (0..<b.count).reduce(0.0) { $0 + Double(b.data[$1]) * Double(seed.data[$1]) }
                }
                numeric.data[k] = Float((f(qp) - f(qm)) / (2 * Double(h)))
            }
            assertClose(tangent, numeric, tol: 2e-2, "tangent vs finite differences \(shape)")
            // and it differs from the identity by the normal component
            XCTAssertGreaterThan((tangent - seed).map { $0 * $0 }.sum(), 1e-3)
        }
        for (choice, expectIdentity) in [(BjorckGradient.tangent, false), (.identity, true)] {
            let layer = BjorckLinear(5, 3, gradient: choice, rng: &r)
            layer.project()
            let x = Variable(r.normalTensor([4, 5]))
            let g = r.normalTensor([4, 3])
            (layer(x) * Variable(g)).sum().backward()
            let identityGrad = Tensor.matmul(g, x.value, transA: true) * layer.scale   // dW of y = s·W x
            let expected = expectIdentity ? identityGrad
                : Autodiff.gradient(at: layer.weight.value) { ($0.stiefelTangentGradient() * Variable(identityGrad)).sum() }.gradient
            assertClose(layer.weight.grad!, expected, tol: 1e-5, "\(choice)")
        }
    }

    func testSequentialWithActivations() {
        var r = RNG(seed: 9)
        let net = Sequential([Linear(4, 6, rng: &r), Activation.groupSort(2), Linear(6, 4, rng: &r), Activation.softplus,
                              Linear(4, 2, rng: &r), Activation.sigmoid])
        checkLayer(net, input: rng.normalTensor([3, 4]))
        XCTAssertEqual(net.namedParameters.map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"])
    }

    func testGroupSortGradients() {
        // values spaced apart so no finite-difference step crosses a tie
        var vals = (0..<24).map { Float($0) * 0.3 - 3.5 }
        rng.shuffle(&vals)
        let x = Tensor(shape: [2, 12], data: vals)
        for k in [1, 2, 3, 4, 12] { gradCheck([x]) { $0[0].groupSort(groupSize: k) } }
    }

    func testGroupSortProperties() {
        let x = rng.normalTensor([8, 12]), y = rng.normalTensor([8, 12])
        for k in [2, 3, 4] {
            let sx = Variable(x).groupSort(groupSize: k).value, sy = Variable(y).groupSort(groupSize: k).value
            for g in stride(from: 0, to: x.count, by: k) {
                let group = Array(sx.data[g..<(g + k)])
                XCTAssertEqual(group, group.sorted(), "group sorted ascending")
                XCTAssertEqual(group, Array(x.data[g..<(g + k)]).sorted(), "group is a permutation of its inputs")
            }
            // 1-Lipschitz in L2 (sorting is non-expansive)
            let dIn = (x - y).map { $0 * $0 }.sum(), dOut = (sx - sy).map { $0 * $0 }.sum()
            XCTAssertLessThanOrEqual(dOut, dIn * (1 + 1e-6))
        }
        // MaxMin: (1 0) GroupSort((y, 0)) = ReLU(y)... with ascending sort the first is min, the second max
        let pairs = Tensor(shape: [1, 6], data: [-2, 0, 3, 0, 0.5, 0])
        let out = Variable(pairs).groupSort(groupSize: 2).value
        XCTAssertEqual([out.data[1], out.data[3], out.data[5]], [0, 3, 0.5])
    }

    func testBjorckOrthonormalizes() {
        for (rows, cols) in [(64, 32), (32, 64), (40, 40)] {
            let w = rng.normalTensor([rows, cols])
            let q = w.bjorckOrthonormalized(iterations: 60, scaling: .safe)
            // tall: QᵀQ = I; wide: QQᵀ = I
            let gram = rows >= cols ? Tensor.matmul(q, q, transA: true) : Tensor.matmul(q, q, transB: true)
            let n = min(rows, cols)
            var worst: Float = 0
            for i in 0..<n { for j in 0..<n { worst = max(worst, abs(gram.data[i * n + j] - (i == j ? 1 : 0))) } }
            XCTAssertLessThan(worst, 1e-4, "\(rows)x\(cols) Gram deviates from I by \(worst)")
            XCTAssertEqual(q.spectralNorm(), 1, accuracy: 1e-4)
        }
    }

    func testBjorckAutoScalingAndEarlyStop() {
        // singular values around 10: the unscaled order-1 iteration diverges, auto-scaling converges
        let w = rng.normalTensor([30, 20]) * 3
        XCTAssertGreaterThan(w.spectralNorm(), 5)
        XCTAssertFalse(w.bjorckOrthonormalized(iterations: 30, scaling: .none).isFinite && w.bjorckOrthonormalized(iterations: 30, scaling: .none).spectralNorm() < 1.01)
        let q = w.bjorckOrthonormalized(iterations: 60, scaling: .auto, tolerance: 1e-4)
        XCTAssertLessThan(Tensor.identityDeviation(Tensor.matmul(q, q, transA: true)), 1e-4)
        // an already orthonormal matrix is returned as is when within tolerance
        XCTAssertEqual(q.bjorckOrthonormalized(iterations: 20, scaling: .auto, tolerance: 1e-3), q)
        // a layer's projection keeps its weight orthonormal, and the forward pass then uses it directly
        var r = RNG(seed: 13)
        let layer = BjorckLinear(20, 12, rng: &r)
        layer.weight.value = layer.weight.value + rng.normalTensor(layer.weight.shape) * 0.05
        layer.project()
        XCTAssertLessThan(Tensor.identityDeviation(Tensor.matmul(layer.weight.value, layer.weight.value, transB: true)), 1e-3)
        XCTAssertEqual(layer.orthonormalWeight().value, layer.weight.value, "no iteration: the weight itself, with the tangent gradient")
        layer.gradient = .identity
        XCTAssert(layer.orthonormalWeight() === layer.weight)
    }

    func testBjorckLinearHasChosenLipschitzConstant() {
        var r = RNG(seed: 10)
        let layer = BjorckLinear(20, 30, scale: 2.5, iterations: 40, rng: &r)
        let w = Autodiff.withoutGradients { layer.orthonormalWeight().value }
        XCTAssertEqual(w.spectralNorm() * layer.scale, 2.5, accuracy: 1e-3)
        // and the layer never stretches a difference by more than the scale
        let a = rng.normalTensor([10, 20]), b = rng.normalTensor([10, 20])
        let (fa, fb) = Autodiff.withoutGradients { (layer(Variable(a)).value, layer(Variable(b)).value) }
        for i in 0..<10 {
            let din = (0..<20).reduce(Float(0)) { $0 + pow(a.data[i * 20 + $1] - b.data[i * 20 + $1], 2) }
            let dout = (0..<30).reduce(Float(0)) { $0 + pow(fa.data[i * 30 + $1] - fb.data[i * 30 + $1], 2) }
            XCTAssertLessThanOrEqual(dout.squareRoot(), 2.5 * din.squareRoot() * 1.001)
        }
    }

    func testSpectralNormAgainstNumpy() throws {
        let w = rng.normalTensor([7, 5])
        let list = w.data.map { String($0) }.joined(separator: ",")
        let ref = try python("import numpy as np; print(np.linalg.norm(np.array([\(list)]).reshape(7,5), 2))")
        XCTAssertEqual(w.spectralNorm(), Float(ref)!, accuracy: 1e-4)
    }

    /// The certified bound lies above numpy's exact largest singular value, for tall, wide,
    /// near-orthonormal and far-from-orthonormal matrices.
    func testSpectralNormUpperBound() throws {
        var r = RNG(seed: 17)
        let mats = [r.normalTensor([20, 30]) * 0.2, r.normalTensor([30, 20]), r.normalTensor([16, 16]).bjorckOrthonormalized(iterations: 30, scaling: .safe)]
        for (k, m) in mats.enumerated() {
            let dir = tempDir()
            try Npy.write(m, to: dir + "/m.npy")
            let exact = Double(try python("import numpy as np; print(repr(float(np.linalg.norm(np.load('\(dir)/m.npy').astype(np.float64), 2))))"))!
            let bound = Double(m.spectralNormUpperBound())
            XCTAssertGreaterThanOrEqual(bound, exact, "matrix \(k)")
            if k == 2 { XCTAssertLessThan(bound, exact + 1e-3, "tight near orthonormal") }
        }
    }
}
