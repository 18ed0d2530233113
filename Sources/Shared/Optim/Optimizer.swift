import Foundation

/// An optimizer updates a fixed list of parameters from their accumulated gradients.
/// The driver walks the parameters and applies a per-parameter update (the shape of
/// mlx-swift's `Optimizers.swift`; the update loop itself is flat, as in llm.c).
public protocol Optimizer: AnyObject {
    var parameters: [Variable] { get }
    var learningRate: Float { get set }
    /// Updates parameter `index` (its value) from `gradient`.
    func update(_ index: Int, _ value: inout Tensor, gradient: Tensor)
}

extension Optimizer {
    /// One step over every parameter that received a gradient, then clears the gradients.
    public func step() {
        for (i, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            update(i, &p.value, gradient: g)
            p.grad = nil
        }
    }

    /// Clears gradients without stepping.
    public func zeroGrad() { for p in parameters { p.grad = nil } }
}

/// Adam (Kingma & Ba 2015) with bias correction and optional decoupled weight decay
/// (AdamW when `decoupledWeightDecay` is non-zero).
public final class Adam: Optimizer {
    public let parameters: [Variable]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    public let decoupledWeightDecay: Float
    private var m: [[Float]], v: [[Float]], t: [Int]

    /// Per-parameter moments and step counts, for checkpoints.
    public var state: [(m: [Float], v: [Float], t: Int)] {
        get { (0..<parameters.count).map { (m[$0], v[$0], t[$0]) } }
        set {
            precondition(newValue.count == parameters.count)
            for (i, s) in newValue.enumerated() {
                precondition(s.m.count == m[i].count && s.v.count == v[i].count, "Adam state does not match parameter \(i)")
                m[i] = s.m; v[i] = s.v; t[i] = s.t
            }
        }
    }

    public init(parameters: [Variable], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, decoupledWeightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.decoupledWeightDecay = decoupledWeightDecay
        m = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        v = m
        t = [Int](repeating: 0, count: parameters.count)
    }

    public func update(_ index: Int, _ value: inout Tensor, gradient: Tensor) {
        t[index] += 1
        let (b1, b2, eps, lr, wd) = (beta1, beta2, epsilon, learningRate, decoupledWeightDecay)
        let c1 = 1 - Float(Foundation.pow(Double(b1), Double(t[index])))
        let c2 = 1 - Float(Foundation.pow(Double(b2), Double(t[index])))
        let stepSize = lr / c1
        let c2root = c2.squareRoot()
        m[index].withUnsafeMutableBufferPointer { mb in
            v[index].withUnsafeMutableBufferPointer { vb in
                gradient.data.withUnsafeBufferPointer { gb in
                    value.data.withUnsafeMutableBufferPointer { w in
                        Adam.kernel(w: w.baseAddress!, m: mb.baseAddress!, v: vb.baseAddress!, g: gb.baseAddress!, count: w.count,
                                    b1: b1, b2: b2, scaledEps: eps * c2root, scaledStep: stepSize * c2root, decay: lr * wd)
                    }
                }
            }
        }
    }

    /// The update loop, eight parameters at a time (the compiler cannot prove the four
    /// buffers distinct, so it would not vectorise the plain loop: 2.5 ns per parameter).
    /// `w -= lr/c1 · m / (√v/√c2 + ε)` is evaluated as `w -= (lr/c1·√c2) · m / (√v + ε√c2)`:
    /// the same quantity with one division per element instead of two.
    @inline(__always)
    static func kernel(w: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                       g: UnsafePointer<Float>, count: Int, b1: Float, b2: Float, scaledEps: Float, scaledStep: Float,
                       decay: Float) {
        typealias V = SIMD8<Float>
        let keep = 1 - decay
        var i = 0
        while i + 8 <= count {
            let gi = UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
            var mi = UnsafeRawPointer(m + i).loadUnaligned(as: V.self)
            var vi = UnsafeRawPointer(v + i).loadUnaligned(as: V.self)
            var wi = UnsafeRawPointer(w + i).loadUnaligned(as: V.self)
            mi = b1 * mi + (1 - b1) * gi
            vi = b2 * vi + (1 - b2) * gi * gi
            if decay != 0 { wi *= keep }
            wi -= scaledStep * mi / (vi.squareRoot() + scaledEps)
            UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: V.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: V.self)
            UnsafeMutableRawPointer(w + i).storeBytes(of: wi, as: V.self)
            i += 8
        }
        while i < count {
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            if decay != 0 { w[i] *= keep }
            w[i] -= scaledStep * m[i] / (v[i].squareRoot() + scaledEps)
            i += 1
        }
    }
}

/// Plain stochastic gradient descent with optional (heavy-ball) momentum.
public final class SGD: Optimizer {
    public let parameters: [Variable]
    public var learningRate: Float
    public let momentum: Float
    private var velocity: [[Float]]

    public init(parameters: [Variable], learningRate: Float, momentum: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        velocity = momentum == 0 ? [] : parameters.map { [Float](repeating: 0, count: $0.value.count) }
    }

    public func update(_ index: Int, _ value: inout Tensor, gradient: Tensor) {
        let (lr, mu) = (learningRate, momentum)
        gradient.data.withUnsafeBufferPointer { gb in
            value.data.withUnsafeMutableBufferPointer { w in
                if mu == 0 {
                    for i in 0..<w.count { w[i] -= lr * gb[i] }
                } else {
                    velocity[index].withUnsafeMutableBufferPointer { vb in
                        for i in 0..<w.count { vb[i] = mu * vb[i] + gb[i]; w[i] -= lr * vb[i] }
                    }
                }
            }
        }
    }
}
