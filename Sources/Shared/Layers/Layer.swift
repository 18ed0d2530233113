/// A network building block: a differentiable function with named parameters.
/// (Shaped after mlx-swift's `Module`: small classes with `callAsFunction`.)
public protocol Layer: AnyObject {
    func callAsFunction(_ x: Variable) -> Variable
    /// Trainable tensors with stable names, as stored in `.safetensors` files.
    var namedParameters: [(name: String, variable: Variable)] { get }
    /// Element-wise bounds on the output for inputs anywhere in `input`
    /// (interval bound propagation, paper C section 3.1).
    func bounds(_ input: Interval) -> Interval
}

extension Layer {
    public var parameters: [Variable] { namedParameters.map(\.variable) }

    /// Freezes the layer: its parameters need no gradient, so no op computes one for them
    /// (no weight-gradient products). Gradients still flow through the layer to whatever
    /// needs them, an input image for an attack or a latent code for HMC.
    public func freeze() { Autodiff.setFrozen(parameters, true) }
    /// Makes every parameter trainable again.
    public func unfreeze() { Autodiff.setFrozen(parameters, false) }
    /// Whether no parameter of the layer needs a gradient.
    public var isFrozen: Bool { parameters.allSatisfy { !$0.requiresGrad } }
}

/// A layer that can also run on channels-last `[N, H, W, C]` feature maps.
public protocol ChannelsLastLayer: Layer {
    /// Whether this instance can (an activation that mixes channels cannot).
    var runsChannelsLast: Bool { get }
    /// The layer on channels-last input, giving channels-last output.
    func channelsLast(_ x: Variable) -> Variable
}

/// A convolution or transposed convolution: runs channels-last, optionally fused with the
/// ReLU after it.
public protocol ConvolutionLayer: ChannelsLastLayer {
    func channelsLast(_ x: Variable, relu: Bool) -> Variable
}

/// Layers applied one after another; parameter names are prefixed with the layer index.
///
/// Each stretch of layers that starts with a convolution or transposed convolution and
/// continues with convolutions and element-wise activations runs channels-last
/// (`Variable.conv2dChannelsLast`, `Variable.convTranspose2dChannelsLast`), with one layout
/// change at each end (a reshape for paper D's 1×1 latent map and one-channel images) and
/// each convolution fused with a ReLU that follows it; everything else runs layer by layer as
/// written.
public final class Sequential: Layer {
    public let layers: [any Layer]
    public init(_ layers: [any Layer]) { self.layers = layers }
    public func callAsFunction(_ x: Variable) -> Variable {
        var h = x, i = 0
        while i < layers.count {
            if layers[i] is any ConvolutionLayer && h.shape.count == 4 {
                h = h.channelsLast()
                while i < layers.count, let l = layers[i] as? any ChannelsLastLayer, l.runsChannelsLast {
                    // a convolution and the ReLU after it run as one op
                    if let conv = l as? any ConvolutionLayer, i + 1 < layers.count, (layers[i + 1] as? Activation)?.kind == .relu {
                        h = conv.channelsLast(h, relu: true)
                        i += 2
                    } else {
                        h = l.channelsLast(h)
                        i += 1
                    }
                }
                h = h.channelsFirst()
            } else {
                h = layers[i](h)
                i += 1
            }
        }
        return h
    }
    public var namedParameters: [(name: String, variable: Variable)] {
        layers.enumerated().flatMap { i, l in l.namedParameters.map { ("\(i).\($0.name)", $0.variable) } }
    }
    public func bounds(_ input: Interval) -> Interval { layers.reduce(input) { $1.bounds($0) } }
}

/// Reshapes each sample (the batch dimension is kept): flattening conv features for a
/// linear layer, or unflattening a vector into feature maps.
public final class Reshape: Layer {
    public let sampleShape: [Int]
    public init(_ sampleShape: [Int]) { self.sampleShape = sampleShape }
    public func callAsFunction(_ x: Variable) -> Variable { x.reshaped([x.shape[0]] + sampleShape) }
    public var namedParameters: [(name: String, variable: Variable)] { [] }
    public func bounds(_ input: Interval) -> Interval { input.map { self($0) } }
}

/// Parameter initialisation shared by the layers: PyTorch's default
/// U(−1/√fanIn, 1/√fanIn) for weights and biases.
enum Init {
    static func uniformFanIn(_ shape: [Int], fanIn: Int, rng: inout RNG) -> Variable {
        let bound = 1 / Float(max(fanIn, 1)).squareRoot()
        return Variable(rng.uniformTensor(shape, -bound, bound), requiresGrad: true)
    }
}
