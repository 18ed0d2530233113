import ArgumentParser
import Foundation
import Shared

/// The option groups the five tools share, so that the same option means the same thing,
/// is checked the same way and is documented once.

/// `--model`: a model written by vae-train (loaded frozen: no tool that reads a model
/// trains it).
public struct ModelOptions: ParsableArguments {
    public init() {}
    @Option(help: ArgumentHelp("Trained model (.safetensors written by vae-train).", valueName: "path"))
    public var model: String

    /// The model, checked against the images it will see when `data` is given.
    public func load(for data: Dataset? = nil) throws -> VAE {
        let (m, _) = try VAE.load(model)
        if let d = data, d.imageShape != m.config.inputShape {
            throw d.shapeMismatch(expected: m.config.inputShape, model: model)
        }
        return m
    }

    /// Any model vae-train writes (one level or hierarchical), checked like `load`.
    public func loadAny(for data: Dataset? = nil) throws -> any LatentModel {
        let m = try Models.load(model)
        if let d = data, d.imageShape != m.config.inputShape {
            throw d.shapeMismatch(expected: m.config.inputShape, model: model)
        }
        return m
    }
}

/// `--levels`: per latent group of a hierarchical model, top group first, how its code is
/// chosen (a comma-separated list; one entry per group).
public struct LevelsOption: ParsableArguments {
    public init() {}
    @Option(help: ArgumentHelp("Per latent group of an hvae model, top group first: mean or sample, comma-separated; overrides --what and --sample (default: every group as those choose).", valueName: "l1,l2,..."))
    public var levels: String?

    /// Mean or sample per group of a model of `groups` groups; `fallback` for every group
    /// without --levels.
    public func choices(groups: Int, fallback: LevelChoice) throws -> [LevelChoice] {
        try LevelsOption.parse(levels, groups: groups, fallback: fallback.rawValue, allowed: LevelChoice.allCases.map(\.rawValue))
            .map { LevelChoice(rawValue: $0)! }
    }

    /// A `--levels` list (nil: `fallback` for every group), each entry one of `allowed`.
    public static func parse(_ levels: String?, groups: Int, fallback: String, allowed: [String]) throws -> [String] {
        guard let levels else { return [String](repeating: fallback, count: groups) }
        let items = levels.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard items.count == groups else {
            throw ToolError.usage("--levels has \(items.count) entr\(items.count == 1 ? "y" : "ies"), the model has \(groups) latent group\(groups == 1 ? "" : "s")")
        }
        for i in items where !allowed.contains(i) {
            throw ToolError.usage("--levels: '\(i)' is not one of \(allowed.joined(separator: ", "))")
        }
        return items
    }
}

/// `--input` alone: the images of a command that takes pixel values in [0, 1] only (its
/// certificates or statistics need them), so that it does not offer `--any-pixel-range`.
public struct ImagesOption: ParsableArguments {
    public init() {}
    @Option(help: ArgumentHelp(
        "Images: a dataset spec NAME:SPLIT[START:END]@N/SEED (datasets: \(DatasetCatalog.names.joined(separator: ", "))), a .npy file (optionally with [START:END]), or - for a .npy on stdin. @N:color and @N:joint stratify color-mnist by colour or by digit and colour; a final #bin or #bin/SEED binarises.",
        valueName: "spec"))
    public var input: String

    /// The images (pixel values in [0, 1]), with labels from `labels` for `.npy` inputs.
    public func load(labels: LabelsOption? = nil, unitRange: Bool = true) throws -> Dataset {
        try DatasetCatalog.load(input, labelsPath: labels?.labels, unitRange: unitRange)
    }
}

/// `--input` and `--any-pixel-range`: the images a command works on, which may leave [0, 1]
/// where the command allows it (images of `vae-attack --no-pixel-box`).
public struct InputOptions: ParsableArguments {
    public init() {}
    @OptionGroup public var images: ImagesOption
    @Flag(name: .customLong("any-pixel-range"), help: "Accept finite .npy pixel values outside [0, 1], as vae-attack --no-pixel-box writes them (off by default: the models were trained on [0, 1]; under a Bernoulli likelihood log p(x|z) is then no longer a log-probability).")
    public var anyPixelRange = false

    public var input: String { images.input }

    /// Refuses `--any-pixel-range` where a command's result needs images in [0, 1] in some
    /// of its modes (commands that never accept them take `ImagesOption` instead).
    public func requireUnitRange(_ why: String) throws {
        if anyPixelRange { throw ValidationError("--any-pixel-range: \(why)") }
    }

    /// The images, with labels from `labels` for `.npy` inputs.
    public func load(labels: LabelsOption? = nil) throws -> Dataset {
        try images.load(labels: labels, unitRange: !anyPixelRange)
    }
}

/// `--labels`, only on commands that use labels.
public struct LabelsOption: ParsableArguments {
    public init() {}
    @Option(help: ArgumentHelp("Labels for .npy images (.npy of integers, one per image); named datasets bring their own. Off by default.", valueName: "path"))
    public var labels: String?
}

/// `-o`: where a command writes its result, atomically (a temporary file renamed).
public struct OutputOptions: ParsableArguments {
    public init() {}
    @Option(name: .shortAndLong, help: ArgumentHelp("Output file (the command's description says which format); - writes it to stdout where the command allows.", valueName: "path"))
    public var output: String

    /// Command-line checks of a command's outputs: none empty, no two the same file however
    /// spelt (links followed), none the same file as an input (a model path or a `.npy`
    /// dataset spec), at most one on stdout (none when `stdoutAllowed` is false). Call from
    /// `validate()`.
    public static func validate(_ paths: [String?], inputs: [String?] = [], stdoutAllowed: Bool = true) throws {
        let given = paths.compactMap { $0 }
        if given.contains("") { throw ValidationError("an output path is empty") }
        if !stdoutAllowed && given.contains("-") { throw ValidationError("this command writes files, not stdout: give a path instead of -") }
        guard given.filter({ $0 == "-" }).count <= 1 else { throw ValidationError("only one output can go to stdout (-)") }
        var seen: [String: String] = [:]
        for f in given where f != "-" && !AtomicFile.isSpecialFile(f) {
            let c = AtomicFile.canonicalPath(f)
            if let other = seen[c] { throw ValidationError("\(other) and \(f) are the same file: give each output its own") }
            seen[c] = f
        }
        for input in inputs.compactMap({ $0 }) {
            let file: String
            if let spec = try? DatasetSpec(parsing: input) {
                guard case .npy(let path) = spec.source, path != "-" else { continue }
                file = path
            } else { file = input }
            if let out = seen[AtomicFile.canonicalPath(file)] { throw ValidationError("the output \(out) would overwrite the input \(input)") }
        }
    }

    /// Checks, before any work, that every output can be written, so a failure never
    /// leaves some outputs written and others not. Call at the start of `run()`.
    public static func checkWritable(_ paths: [String?]) throws {
        for p in paths.compactMap({ $0 }) { try AtomicFile.checkWritable(p) }
    }
}

/// `-o` for commands that write files only (a model and the checkpoint beside it).
public struct FileOutputOptions: ParsableArguments {
    public init() {}
    @Option(name: .shortAndLong, help: ArgumentHelp("Output file (a regular file: a checkpoint OUTPUT.ckpt may be written beside it).", valueName: "path"))
    public var output: String

    /// The output checks of `OutputOptions.validate`, stdout refused, and no device or pipe.
    public func check(also others: [String?] = [], inputs: [String?] = []) throws {
        try OutputOptions.validate([output] + others, inputs: inputs, stdoutAllowed: false)
        if AtomicFile.isSpecialFile(output) { throw ValidationError("\(output) is not a regular file: this command writes a file and a checkpoint beside it") }
    }
}

/// `--threads`: threads for matrix products.
public struct ThreadsOption: ParsableArguments {
    public init() {}
    @Option(parsing: .unconditional, help: "Threads for matrix products (OpenBLAS). Results agree up to rounding whatever the count.")
    public var threads = 2

    public func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1...256, got \(threads)") }
    }

    /// Applies the thread count (call at the start of `run()`).
    public func apply() { BLAS.setThreads(threads) }
}

/// `--seed`: every random choice of a command flows from it.
public struct SeedOption: ParsableArguments {
    public init() {}
    @Option(parsing: .unconditional, help: "Seed of every random choice: the same seed gives the same result.")
    public var seed: UInt64 = 0
}

/// `--data` for the commands that train: a dataset's train and test splits, optionally
/// only their first images (quick runs).
public struct TrainingDataOptions: ParsableArguments {
    public init() {}
    @Option(help: ArgumentHelp("Dataset (\(DatasetCatalog.names.joined(separator: ", "))): trains on NAME:train, reports on NAME:test.", valueName: "name"))
    public var data: String
    @Option(name: .customLong("train-limit"), parsing: .unconditional, help: ArgumentHelp("Use only the first N training images (default: all).", valueName: "N"))
    public var trainLimit: Int?
    @Option(name: .customLong("test-limit"), parsing: .unconditional, help: ArgumentHelp("Report on only the first N test images (default: all).", valueName: "N"))
    public var testLimit: Int?

    public func validate() throws {
        guard !data.contains(":") && !data.contains("[") && !data.contains("#") else {
            throw ValidationError("--data takes a dataset name such as mnist, got '\(data)'; limit it with --train-limit and --test-limit")
        }
        for (name, v) in [("--train-limit", trainLimit), ("--test-limit", testLimit)] {
            if let v, v < 1 { throw ValidationError("\(name) must be at least 1, got \(v)") }
        }
    }

    /// The train and test sets (only the parts asked for are built), binarised once from
    /// `binarizeSeed` when it is given (the `#bin/SEED` of a dataset spec). With
    /// `limitTraining: false` the whole training split comes back, for a caller that applies
    /// `--train-limit` itself (vae-train's Trainer, which records it).
    public func load(binarizeSeed: UInt64? = nil, limitTraining: Bool = true) throws -> (train: Dataset, test: Dataset) {
        func spec(_ split: String, _ limit: Int?) -> String {
            "\(data):\(split)" + (limit.map { "[0:\($0)]" } ?? "") + (binarizeSeed.map { "#bin/\($0)" } ?? "")
        }
        return (try DatasetCatalog.load(spec("train", limitTraining ? trainLimit : nil)), try DatasetCatalog.load(spec("test", testLimit)))
    }
}

/// Two image sets of equal shape, compared item by item (`msssim`, `ssim`, `mse`).
public struct ImagePairOptions: ParsableArguments {
    public init() {}
    @Argument(help: ArgumentHelp("First images (a dataset spec, a .npy, or -).", valueName: "a"))
    public var a: String
    @Argument(help: ArgumentHelp("Second images of the same shape: as many, or K per first image with the K of each consecutive (the restarts of vae-attack's output).", valueName: "b"))
    public var b: String

    public func validate() throws {
        guard !(a == "-" && b == "-") else { throw ValidationError("only one of the two image sets can come from stdin") }
    }

    /// One item per second image: `f` of it and its first image (image i of b pairs with image
    /// i / K of a), as `[key: value]`, with `reference` (i / K) and `restart` (i mod K) when
    /// K > 1.
    public func items(_ key: String, _ f: (Tensor, Tensor) throws -> Double) throws -> [[String: Any]] {
        let x = try DatasetCatalog.load(a).images, y = try DatasetCatalog.load(b).images
        guard x.shape.dropFirst() == y.shape.dropFirst() else {
            throw ToolError("\(a) has images of shape \(Array(x.shape.dropFirst())) but \(b) has \(Array(y.shape.dropFirst()))")
        }
        let (n, m) = (x.shape[0], y.shape[0])
        guard n > 0, m % n == 0 else {
            throw ToolError("\(b) has \(m) images: give as many as \(a) (\(n)), or the same number for each of its images")
        }
        let k = m / n, shape = Array(x.shape.dropFirst())
        return try (0..<m).map { i in
            var item: [String: Any] = [key: try f(x.rows((i / k)..<(i / k + 1)).reshaped(shape), y.rows(i..<(i + 1)).reshaped(shape))]
            if k > 1 { item["reference"] = i / k; item["restart"] = i % k }
            return item
        }
    }
}
