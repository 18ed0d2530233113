import ArgumentParser
import CLI
import Shared

struct MSSSIMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "msssim",
        abstract: "MS-SSIM per image pair (Wang et al. 2003; window fitted to small images).",
        discussion: """
        Gaussian window σ = 1.5, K1 = 0.01, K2 = 0.03, data range 1, weights 0.0448 0.2856 0.3001 0.2363 0.1333, 2×2 average down-sampling; the 11-tap window shrinks to the image at scales where it does not fit. Colour images: the mean over channels. --variant kuzina reproduces paper D's tables: its code's pytorch-msssim function (14-tap window, ReLU, odd sizes cropped, colour as one 3-channel image); see the README.
        The second set may hold K images per image of the first, the K of each consecutive, as vae-attack writes its restarts: each is scored against its reference.
        Example:\n  vae-eval msssim ref.npy rec.npy
        """)
    @OptionGroup var pair: ImagePairOptions
    @Option(help: "standard (Wang et al.) or kuzina (the pytorch-msssim function behind paper D's tables).")
    var variant: SSIM.Variant = .standard
    @OptionGroup var out: MetricOutput

    func run() throws {
        try out.emit(metric: "msssim", key: "msssim", items: try pair.items("msssim") { try SSIM.msssim($0, $1, variant: variant) },
                     extraSummary: ["variant": variant.rawValue])
    }
}

struct SSIMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssim", abstract: "SSIM per image pair (Wang et al. 2004; 11-tap Gaussian window, σ = 1.5, shrunk to small images).",
        discussion: "Example:\n  vae-eval ssim ref.npy rec.npy")
    @OptionGroup var pair: ImagePairOptions
    @OptionGroup var out: MetricOutput

    func run() throws {
        try out.emit(metric: "ssim", key: "ssim", items: try pair.items("ssim") { try SSIM.ssim($0, $1) })
    }
}

struct MSE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mse", abstract: "Mean squared error per image pair (mean over pixels and channels).",
        discussion: "Example:\n  vae-eval mse ref.npy rec.npy")
    @OptionGroup var pair: ImagePairOptions
    @OptionGroup var out: MetricOutput

    func run() throws {
        try out.emit(metric: "mse", key: "mse", items: try pair.items("mse") { x, y in
            x.data.indices.reduce(0.0) { acc, j in let v = Double(x.data[j] - y.data[j]); return acc + v * v } / Double(x.count)
        })
    }
}
