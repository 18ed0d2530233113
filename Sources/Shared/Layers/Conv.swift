/// 2-D convolution, weight `[out, in, k, k]` (PyTorch layout).
public final class Conv2d: ConvolutionLayer {
    public let weight: Variable
    public let bias: Variable?
    public let geometry: ConvGeometry

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, bias: Bool = true, rng: inout RNG) {
        let fanIn = inChannels * kernel * kernel
        weight = Init.uniformFanIn([outChannels, inChannels, kernel, kernel], fanIn: fanIn, rng: &rng)
        self.bias = bias ? Init.uniformFanIn([outChannels], fanIn: fanIn, rng: &rng) : nil
        geometry = ConvGeometry(kernel: kernel, stride: stride, padding: padding, dilation: dilation)
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        Variable.conv2d(x, weight: weight, bias: bias, geometry: geometry)
    }

    public var runsChannelsLast: Bool { true }
    public func channelsLast(_ x: Variable) -> Variable { channelsLast(x, relu: false) }
    /// On channels-last input, optionally fused with a following ReLU.
    public func channelsLast(_ x: Variable, relu: Bool) -> Variable {
        Variable.conv2dChannelsLast(x, weight: weight, bias: bias, geometry: geometry, relu: relu)
    }

    /// Paper C Eq. 12 (a convolution is linear).
    public func bounds(_ input: Interval) -> Interval {
        let absW = weight.abs()
        return input.linear({ Variable.conv2d($0, weight: weight, bias: bias, geometry: geometry) },
                            abs: { Variable.conv2d($0, weight: absW, bias: nil, geometry: geometry) })
    }

    public var namedParameters: [(name: String, variable: Variable)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}

/// 2-D transposed convolution, weight `[in, out, k, k]` (PyTorch layout).
public final class ConvTranspose2d: ConvolutionLayer {
    public let weight: Variable
    public let bias: Variable?
    public let geometry: ConvGeometry
    public let outputPadding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, dilation: Int = 1, bias: Bool = true, rng: inout RNG) {
        let fanIn = outChannels * kernel * kernel  // PyTorch computes fan-in from weight.size(1)
        weight = Init.uniformFanIn([inChannels, outChannels, kernel, kernel], fanIn: fanIn, rng: &rng)
        self.bias = bias ? Init.uniformFanIn([outChannels], fanIn: fanIn, rng: &rng) : nil
        geometry = ConvGeometry(kernel: kernel, stride: stride, padding: padding, dilation: dilation)
        self.outputPadding = outputPadding
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        Variable.convTranspose2d(x, weight: weight, bias: bias, geometry: geometry, outputPadding: outputPadding)
    }

    public var runsChannelsLast: Bool { true }
    public func channelsLast(_ x: Variable) -> Variable { channelsLast(x, relu: false) }
    /// On channels-last input, optionally fused with a following ReLU.
    public func channelsLast(_ x: Variable, relu: Bool) -> Variable {
        Variable.convTranspose2dChannelsLast(x, weight: weight, bias: bias, geometry: geometry, outputPadding: outputPadding, relu: relu)
    }

    /// Paper C Eq. 12 (a transposed convolution is linear).
    public func bounds(_ input: Interval) -> Interval {
        let absW = weight.abs()
        return input.linear({ Variable.convTranspose2d($0, weight: weight, bias: bias, geometry: geometry, outputPadding: outputPadding) },
                            abs: { Variable.convTranspose2d($0, weight: absW, bias: nil, geometry: geometry, outputPadding: outputPadding) })
    }

    public var namedParameters: [(name: String, variable: Variable)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}
