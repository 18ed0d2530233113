import ArgumentParser
import Foundation
import Shared

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the images (and labels) a dataset spec selects as .npy files.",
        discussion: "Example: vae-eval export --input fashion-mnist:test@50 -o ref.npy --labels-out ref-labels.npy")
    @OptionGroup var data: DataOptions
    @Option(name: .shortAndLong, help: "Output .npy of images [N,C,H,W] float32 (- for stdout).")
    var output: String
    @Option(name: .customLong("labels-out"), help: "Also write the labels as an int64 .npy.")
    var labelsOut: String?
    @Option(name: .customLong("color-labels-out"), help: "Also write color-mnist's colour labels as an int64 .npy.")
    var colorLabelsOut: String?

    func run() throws {
        try ToolRunner.run("vae-eval export") {
            let ds = try data.load()
            if labelsOut != nil && ds.labels == nil { throw ToolError("\(data.input) has no labels to write") }
            if colorLabelsOut != nil && ds.colorLabels == nil { throw ToolError("\(data.input) has no colour labels (only color-mnist does)") }
            try Npy.write(ds.images, to: output)
            if let p = labelsOut, let l = ds.labels { try Npy.write(Tensor(shape: [l.count], data: l.map(Float.init)), to: p, dtype: .int64) }
            if let p = colorLabelsOut, let l = ds.colorLabels { try Npy.write(Tensor(shape: [l.count], data: l.map(Float.init)), to: p, dtype: .int64) }
            ToolRunner.log("exported \(ds.count) images of shape \(ds.imageShape) from \(data.input)")
        }
    }
}

struct Grid: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tile image batches into one PNG: one row per .npy file.",
        discussion: "Example: vae-eval grid ref.npy rec.npy --label clean --label recon -o grid.png")
    @Argument(help: "Image batches (.npy, [N,C,H,W] or [N,H,W]), one row each.")
    var files: [String]
    @Option(name: .long, help: "A label per row (repeat once per file).")
    var label: [String] = []
    @Option(name: .long, help: "Images per row at most.")
    var columns: Int = 16
    @Option(name: .long, help: "Integer up-scaling of each pixel.")
    var scale: Int = 3
    @Option(name: .shortAndLong, help: "Output PNG.")
    var output: String

    func run() throws {
        try ToolRunner.run("vae-eval grid") {
            guard !files.isEmpty else { throw ToolError("give at least one .npy file") }
            guard columns > 0, (1...32).contains(scale) else { throw ToolError("--columns must be positive and --scale in 1...32") }
            let rows = try files.map { f -> Tensor in
                let ds = try DatasetCatalog.load(f)
                return ds.images.rows(0..<min(columns, ds.count))
            }
            let img = try ImageGrid.make(rows: rows, labels: label, scale: scale)
            try PNG.write(img, to: output)
            ToolRunner.log("wrote \(output) (\(img.shape[2])x\(img.shape[1]))")
        }
    }
}
