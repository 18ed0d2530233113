import Foundation

/// What a model's saved weights guarantee: certified upper bounds on each layer's largest
/// singular value (operator norm), and from them upper bounds on the Lipschitz constants of
/// paper A Theorem 1, for the weights as inference applies them (a Björck layer's
/// orthonormalised weight times its scale).
public struct LayerBound: Sendable {
    public var name: String
    /// Power iteration on the layer's matrix: a lower bound on its largest singular value
    /// (for a convolution, of its kernel matrix, not of the operator).
    public var lower: Double
    /// A certified upper bound on the operator norm.
    public var upper: Double
}

/// The certified constant of one network, with its layers.
public struct NetworkBound: Sendable {
    public var layers: [LayerBound]
    /// The product of the layers' upper bounds and the activations' constants (ReLU and
    /// GroupSort 1, the final sigmoid ¼ where the network has one): an upper bound on the
    /// network's Lipschitz constant. Infinite when a layer has no global constant (an
    /// exponential σ transform).
    public var lipschitz: Double
    /// The same without the final sigmoid: what a Lipschitz-VAE's configured constant M
    /// bounds (paper A scales the layers before the sigmoid).
    public var beforeSigmoid: Double
}

public enum WeightCertificate {
    /// Bounds for every linear and convolution layer of `layer`, in order, and whether all its
    /// activations are 1-Lipschitz (nil: a layer whose operator norm this cannot bound).
    ///
    /// - Linear / Björck: W as applied; the upper bound is `spectralNormUpperBound` (the
    ///   triangle inequality on the Gram matrix and Gershgorin, in double precision).
    /// - Convolutions (and transposed ones, which share the norm of the convolution they are
    ///   the adjoint of): each input pixel enters each of the T = kh·kw taps at most once, so
    ///   ‖im2col(x)‖ ≤ √T‖x‖ and ‖K‖ ≤ √T·‖W_mat‖ with W_mat the `[O, C·kh·kw]` kernel matrix.
    public static func bounds(_ layer: any Layer, prefix: String = "") -> [LayerBound]? {
        switch layer {
        case let s as Sequential:
            var out: [LayerBound] = []
            for (i, l) in s.layers.enumerated() {
                guard let b = bounds(l, prefix: "\(prefix)\(i).") else { return nil }
                out += b
            }
            return out
        case let l as Linear:
            return [matrixBound(l.weight.value, name: prefix + "weight")]
        case let l as BjorckLinear:
            return [matrixBound(Autodiff.withoutGradients { l.effectiveWeight().value }, name: prefix + "weight")]
        case let c as Conv2d:
            let w = c.weight.value
            return [matrixBound(w.reshaped([w.shape[0], w.count / w.shape[0]]), name: prefix + "weight", taps: w.shape[2] * w.shape[3])]
        case let c as ConvTranspose2d:
            let w = c.weight.value
            return [matrixBound(w.reshaped([w.shape[0], w.count / w.shape[0]]), name: prefix + "weight", taps: w.shape[2] * w.shape[3])]
        case let a as Activation:
            switch a.kind {
            case .relu, .groupSort: return []
            case .sigmoid: return [LayerBound(name: prefix + "sigmoid", lower: 0, upper: 0.25)]
            case .tanh, .softplus: return [LayerBound(name: prefix + "\(a.kind)", lower: 0, upper: 1)]
            }
        case is Reshape:
            return []
        default:
            return nil
        }
    }

    static func matrixBound(_ w: Tensor, name: String, taps: Int = 1) -> LayerBound {
        let root = Double(taps).squareRoot()
        return LayerBound(name: name, lower: Double(w.spectralNorm()), upper: root * Double(w.spectralNormUpperBound()))
    }

    static func network(_ layers: [LayerBound], finalSigmoid: Bool) -> NetworkBound {
        let product = layers.reduce(1.0) { $0 * $1.upper }
        return NetworkBound(layers: layers, lipschitz: finalSigmoid ? product / 4 : product, beforeSigmoid: product)
    }

    /// The decoder mean g = sigmoid(decoder(z)) (a), the encoder mean (b) and the encoder
    /// standard deviation (c; 0 for a fixed σ, whose offset changes no constant), or nil for
    /// a network with a layer this cannot bound. c is infinite for σ = exp(·) heads, which
    /// have no global Lipschitz constant. A σ clip (`Encoder.sigmaMaxNorm`) changes no
    /// constant: it is a projection onto a ball, 1-Lipschitz, so c bounds the clipped σ too.
    public static func measure(_ vae: VAE) -> (decoder: NetworkBound, mean: NetworkBound, sigma: NetworkBound)? {
        let enc = vae.encoder
        let trunk = enc.trunk.map { bounds($0, prefix: "encoder.trunk.") } ?? []
        guard let trunk, let dec = bounds(vae.decoder, prefix: "decoder."),
              let mean = bounds(enc.meanHead, prefix: "encoder.mean.") else { return nil }
        let sigma: NetworkBound
        if enc.fixedSigma != nil {
            sigma = NetworkBound(layers: [], lipschitz: 0, beforeSigmoid: 0)
        } else {
            guard let head = enc.scaleHead, let s = bounds(head, prefix: "encoder.scale.") else { return nil }
            switch enc.scale {
            case .sigmoid: sigma = network(trunk + s, finalSigmoid: true)
            case .logVariance, .logSigma:
                let n = network(trunk + s, finalSigmoid: false)
                sigma = NetworkBound(layers: n.layers, lipschitz: .infinity, beforeSigmoid: n.beforeSigmoid)
            }
        }
        return (network(dec, finalSigmoid: true), network(trunk + mean, finalSigmoid: false), sigma)
    }

    /// The networks whose measured constant before the sigmoid exceeds the configured one by
    /// more than `tolerance` (relative), as "name measures X but claims M". A Lipschitz-VAE's
    /// layers take their scale from the configuration and orthonormalise their weights in the
    /// forward pass, so a file whose raw weights were scaled, or whose claim was edited, still
    /// measures within its claim: this check guards the implementation (an orthonormalisation
    /// that did not converge, a layer that ignores its scale).
    public static func mismatches(_ measured: [(name: String, claim: Float?, measured: Double)], tolerance: Double = 0.01) -> [String] {
        measured.compactMap { m in
            guard let c = m.claim, m.measured > Double(c) * (1 + tolerance) else { return nil }
            return "\(m.name) measures \(String(format: "%.4g", m.measured)) but claims \(c)"
        }
    }

    /// The Björck layers whose stored weight is not orthonormal (largest singular value off 1
    /// by more than `tolerance`): training saves each one orthonormalised
    /// (`finalizeLipschitzLayers`), so such a file was edited after training. Its layers would
    /// still apply an orthonormalised weight, but the file is not the one training wrote.
    public static func editedBjorckWeights(_ vae: VAE, tolerance: Double = 0.01) -> [String] {
        vae.bjorckLayers.compactMap { name, layer in
            let s = Double(layer.weight.value.spectralNorm())
            guard abs(s - 1) > tolerance else { return nil }
            return "the stored weight \(name)weight has largest singular value \(String(format: "%.4g", s)), not 1 as training saves it (edited after training?)"
        }
    }
}
