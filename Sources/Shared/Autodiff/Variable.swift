/// A node of the reverse-mode autodiff graph: a value, its gradient, and how to send
/// a gradient back to the nodes it was computed from.
///
/// The graph is built dynamically as ops run (define-by-run). Any `Variable` can ask for
/// its gradient — parameters for training, an input image for attacks (paper D Table 1),
/// a latent code for HMC (paper D Algorithm 1), encoder inputs for Jacobians (paper B).
/// Ops whose inputs need no gradient record nothing, so inference builds no graph.
public final class Variable {
    public var value: Tensor
    /// Accumulated d(loss)/d(value) after `backward()`; nil until a gradient arrives.
    public var grad: Tensor?
    /// Whether gradients flow to (and through) this node. Ops read it when they run and
    /// when they back-propagate, and skip every product whose only use is a gradient that
    /// nobody asked for (a frozen weight's, an input image's during training).
    ///
    /// Settable on leaves only: a parameter is frozen by setting it to false (see
    /// `Layer.freeze()`), an input made differentiable by setting it to true. An op result's
    /// flag is fixed when the op runs.
    public var requiresGrad: Bool {
        didSet { precondition(isLeaf, "requiresGrad can only be changed on a leaf (a parameter or an input)") }
    }
    /// Whether this node was created as a leaf (a constant, parameter or input).
    public let isLeaf: Bool
    /// Nodes this one was computed from (empty for leaves and constants).
    let parents: [Variable]
    /// Maps the gradient of this node to gradients of `parents` (nil entries: no gradient).
    let backwardFn: ((Tensor) -> [Tensor?])?

    /// A leaf: a constant, or a parameter/input when `requiresGrad` is true.
    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.isLeaf = true
        self.parents = []
        self.backwardFn = nil
    }

    /// An op result. Records the backward rule only when some parent needs a gradient
    /// and recording is enabled. Public so that other modules can define their own ops.
    public init(_ value: Tensor, parents: [Variable], backward: @escaping (Tensor) -> [Tensor?]) {
        self.value = value
        let needs = Autodiff.isRecording && parents.contains { $0.requiresGrad }
        self.requiresGrad = needs
        self.isLeaf = false
        self.parents = needs ? parents : []
        self.backwardFn = needs ? backward : nil
    }

    public var shape: [Int] { value.shape }

    /// Back-propagates from this node. A scalar node is seeded with 1; otherwise pass the seed.
    public func backward(seed: Tensor? = nil) {
        let s = seed ?? {
            precondition(value.count == 1, "backward() without a seed needs a scalar, got \(shape)")
            return Tensor(shape: value.shape, repeating: 1)
        }()
        precondition(s.shape == value.shape, "backward seed shape \(s.shape) != \(value.shape)")
        guard requiresGrad else { return }
        let order = topologicalOrder()
        // Gradients of intermediate nodes live only for this pass.
        var pending: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): s]
        for node in order.reversed() {
            guard let g = pending.removeValue(forKey: ObjectIdentifier(node)) else { continue }
            guard let fn = node.backwardFn else {
                node.accumulate(g)  // a leaf that wants its gradient
                continue
            }
            let grads = fn(g)
            for (p, pg) in zip(node.parents, grads) where p.requiresGrad {
                guard let pg else { continue }
                let key = ObjectIdentifier(p)
                if var acc = pending[key] {
                    pending[key] = nil  // keep the buffer uniquely referenced for in-place add
                    acc.addInPlace(pg)
                    pending[key] = acc
                } else {
                    pending[key] = pg
                }
            }
        }
    }

    private func accumulate(_ g: Tensor) {
        if grad == nil { grad = g } else { grad!.addInPlace(g) }
    }

    /// Nodes reachable from self, parents before children (iterative DFS: graphs can be deep).
    private func topologicalOrder() -> [Variable] {
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            let id = ObjectIdentifier(node)
            if visited.contains(id) { continue }
            visited.insert(id)
            stack.append((node, true))
            for p in node.parents where p.requiresGrad && !visited.contains(ObjectIdentifier(p)) {
                stack.append((p, false))
            }
        }
        return order
    }
}

/// Global switches of the autodiff engine.
public enum Autodiff {
    nonisolated(unsafe) static var recordingDepth = 0
    /// False inside `withoutGradients`.
    public static var isRecording: Bool { recordingDepth == 0 }

    /// Runs `body` without recording a graph (evaluation, sampling, saving).
    public static func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
        recordingDepth += 1
        defer { recordingDepth -= 1 }
        return try body()
    }
}

extension Tensor {
    /// `self += other` elementwise (same shape), without reallocating when uniquely referenced.
    public mutating func addInPlace(_ other: Tensor) {
        precondition(shape == other.shape, "addInPlace: \(shape) vs \(other.shape)")
        other.data.withUnsafeBufferPointer { o in
            data.withUnsafeMutableBufferPointer { d in
                for i in 0..<d.count { d[i] += o[i] }
            }
        }
    }
}
