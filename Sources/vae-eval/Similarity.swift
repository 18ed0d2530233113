import ArgumentParser
import Foundation
import Shared

/// Two image sets of equal shape, compared item by item.
struct ImagePair: ParsableArguments {
    @Argument(help: "First images (dataset spec or .npy).")
    var a: String
    @Argument(help: "Second images, the same count and shape.")
    var b: String

    /// `f` of every pair of `[C, H, W]` images, in order.
    func map(_ f: (Tensor, Tensor) throws -> Double) throws -> [Double] {
        let x = try DatasetCatalog.load(a).images, y = try DatasetCatalog.load(b).images
        guard x.shape == y.shape else { throw ToolError("\(a) has shape \(x.shape) but \(b) has \(y.shape)") }
        let shape = Array(x.shape.dropFirst())
        return try (0..<x.shape[0]).map { i in try f(x.rows(i..<(i + 1)).reshaped(shape), y.rows(i..<(i + 1)).reshaped(shape)) }
    }
}

struct MSSSIMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "msssim",
        abstract: "MS-SSIM per image pair (Wang et al. 2003; window fitted to small images).",
        discussion: """
        Gaussian window σ = 1.5, K1 = 0.01, K2 = 0.03, data range 1, weights
        0.0448 0.2856 0.3001 0.2363 0.1333, 2×2 average down-sampling; the 11-tap window shrinks to
        the image at scales where it does not fit. --variant kuzina reproduces paper D's tables.
        Colour images: the mean over channels.
        Example: vae-eval msssim ref.npy rec.npy
        """)
    @OptionGroup var pair: ImagePair
    @Option(help: "standard or kuzina (paper D's pytorch-msssim variant).")
    var variant = "standard"
    @OptionGroup var out: MetricOutput

    func run() throws {
        try ToolRunner.run("vae-eval msssim") {
            guard let v = SSIM.Variant(rawValue: variant) else { throw ToolError("--variant is standard or kuzina, got '\(variant)'") }
            let values = try pair.map { try SSIM.msssim($0, $1, variant: v) }
            try out.emit(metric: "msssim", key: "msssim", items: values.map { ["msssim": $0] }, extraSummary: ["variant": variant])
        }
    }
}

struct SSIMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssim", abstract: "SSIM per image pair (Wang et al. 2004; 11-tap Gaussian window, σ = 1.5, shrunk to small images).",
        discussion: "Example: vae-eval ssim ref.npy rec.npy")
    @OptionGroup var pair: ImagePair
    @OptionGroup var out: MetricOutput

    func run() throws {
        try ToolRunner.run("vae-eval ssim") {
            let values = try pair.map { try SSIM.ssim($0, $1) }
            try out.emit(metric: "ssim", key: "ssim", items: values.map { ["ssim": $0] })
        }
    }
}

struct MSE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mse", abstract: "Mean squared error per image pair (mean over pixels and channels).",
        discussion: "Example: vae-eval mse ref.npy rec.npy")
    @OptionGroup var pair: ImagePair
    @OptionGroup var out: MetricOutput

    func run() throws {
        try ToolRunner.run("vae-eval mse") {
            let values = try pair.map { x, y in
                x.data.indices.reduce(0.0) { acc, j in let v = Double(x.data[j] - y.data[j]); return acc + v * v } / Double(x.count)
            }
            try out.emit(metric: "mse", key: "mse", items: values.map { ["mse": $0] })
        }
    }
}
