import ArgumentParser
import CLI
import Shared

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the images (and labels) a dataset spec selects as .npy files.",
        discussion: "Images are float32 [N,C,H,W] in [0, 1]; labels int64.\nExample:\n  vae-eval export --input fashion-mnist:test@50 -o ref.npy --labels-out \\\n    ref-labels.npy")
    @OptionGroup var input: InputOptions
    @OptionGroup var labels: LabelsOption
    @OptionGroup var out: OutputOptions
    @Option(name: .customLong("labels-out"), help: ArgumentHelp("Also write the labels as an int64 .npy. Off by default.", valueName: "path"))
    var labelsOut: String?
    @Option(name: .customLong("color-labels-out"), help: ArgumentHelp("Also write color-mnist's colour labels as an int64 .npy. Off by default.", valueName: "path"))
    var colorLabelsOut: String?

    func validate() throws { try OutputOptions.validate([out.output, labelsOut, colorLabelsOut], inputs: [input.input, labels.labels]) }

    func run() throws {
        let ds = try input.load(labels: labels)
        try OutputOptions.checkWritable([out.output, labelsOut, colorLabelsOut])
        if labelsOut != nil && ds.labels == nil { throw ToolError("\(input.input) has no labels to write") }
        if colorLabelsOut != nil && ds.colorLabels == nil { throw ToolError("\(input.input) has no colour labels (only color-mnist does)") }
        try Npy.write(ds.images, to: out.output)
        if let p = labelsOut, let l = ds.labels { try Npy.write(Tensor(shape: [l.count], data: l.map(Float.init)), to: p, dtype: .int64) }
        if let p = colorLabelsOut, let l = ds.colorLabels { try Npy.write(Tensor(shape: [l.count], data: l.map(Float.init)), to: p, dtype: .int64) }
        Log.line("exported \(ds.count) images of shape \(ds.imageShape) from \(input.input)")
    }
}

struct Grid: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tile image batches into one PNG: one row per .npy file.",
        discussion: "Pixels are drawn clamped to [0, 1] (images from vae-attack --no-pixel-box may leave it).\nExample:\n  vae-eval grid ref.npy rec.npy --label clean --label recon -o grid.png")
    @Argument(help: ArgumentHelp("Image batches (dataset specs or .npy files, [N,C,H,W] or [N,H,W]), one row each.", valueName: "images"))
    var files: [String]
    @Option(help: ArgumentHelp("A label per row, repeated once per file, shown in capitals (the built-in font has none other). Default: no labels.", valueName: "text"))
    var label: [String] = []
    @Option(parsing: .unconditional, help: "Images per row at most.")
    var columns: Int = 16
    @Option(parsing: .unconditional, help: "Integer up-scaling of each pixel (1...32).")
    var scale: Int = 3
    @OptionGroup var out: OutputOptions

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one image batch") }
        guard columns > 0 else { throw ValidationError("--columns must be positive, got \(columns)") }
        guard (1...32).contains(scale) else { throw ValidationError("--scale must be in 1...32, got \(scale)") }
        guard label.isEmpty || label.count == files.count else {
            throw ValidationError("give one --label per image batch (\(files.count)), got \(label.count)")
        }
        try OutputOptions.validate([out.output], inputs: files)
    }

    func run() throws {
        try OutputOptions.checkWritable([out.output])
        let rows = try files.map { f -> Tensor in
            // a picture: pixels outside [0, 1] (vae-attack --no-pixel-box) are drawn clamped
            let ds = try DatasetCatalog.load(f, unitRange: false)
            if ds.count > columns { Log.line("\(f): showing the first \(columns) of \(ds.count) images (--columns)") }
            return ds.images.rows(0..<min(columns, ds.count))
        }
        let img = try ImageGrid.make(rows: rows, labels: label, scale: scale)
        try PNG.write(img, to: out.output)
        Log.line("wrote \(out.output) (\(img.shape[2])x\(img.shape[1]))")
    }
}
