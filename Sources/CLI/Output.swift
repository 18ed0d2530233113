import ArgumentParser
import Foundation
import Shared

/// Results on stdout as JSON lines; logs on stderr (`Log`).
public enum JSONLines {
    /// Prints one JSON object as a line on stdout (keys sorted). Non-finite numbers (a NaN
    /// mean of nothing, say) become `null`, since JSON has no NaN.
    public static func emit(_ object: [String: Any]) throws { try emit(object, toStandardError: false) }

    /// The same line on stderr instead, for a command whose stdout carries a file (`-o -`).
    public static func emit(_ object: [String: Any], toStandardError: Bool) throws {
        func clean(_ v: Any) -> Any {
            if let d = v as? Double { return d.isFinite ? d : NSNull() }
            if let f = v as? Float { return f.isFinite ? Double(f) : NSNull() }
            if let a = v as? [Any] { return a.map(clean) }
            if let o = v as? [String: Any] { return o.mapValues(clean) }
            return v
        }
        let d = try JSONSerialization.data(withJSONObject: clean(object), options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        if toStandardError { FileHandle.standardError.write(d + Data("\n".utf8)) } else { try Stdout.write(d + Data("\n".utf8)) }
    }
}

/// The output convention of every metric: one JSON line per item, then a summary line.
public struct MetricOutput: ParsableArguments {
    public init() {}
    @Flag(name: .customLong("summary-only"), help: "Print only the summary line, not one line per item (off by default).")
    public var summaryOnly = false

    /// One JSON line per item (`index` plus its fields), then `{metric, n, mean, stderr}` of
    /// the item field `key`, plus `extraSummary`. A non-finite value of `key` (a NaN ELBO, an
    /// infinite NLL) is an error naming the first such item, and nothing is printed. With
    /// `model`, the summary says how that model was trained (`model_training`: objective, epochs, …), so that a
    /// number from a short or partial run does not pass for a full one.
    public func emit(metric: String, key: String, items: [[String: Any]], extraSummary: [String: Any] = [:], model: (any TrainableModel)? = nil) throws {
        let bad = items.indices.filter { i in (items[i][key] as? Double).map { !$0.isFinite } ?? false }
        if let first = bad.first {
            throw ToolError("\(bad.count) of \(items.count) \(metric) values are not finite (the first is item \(first): \(items[first][key]!))")
        }
        if !summaryOnly {
            for (i, item) in items.enumerated() {
                var line = item
                line["index"] = i
                try JSONLines.emit(line)
            }
        }
        let s = Summary(items.compactMap { $0[key] as? Double })
        var summary: [String: Any] = ["metric": metric, "n": s.count, "mean": s.mean, "stderr": s.standardError]
        for (k, v) in extraSummary { summary[k] = v }
        if let config = model?.config, let t = config.training {
            var training: [String: Any] = ["objective": config.objective, "epochs": t.epochsRun ?? t.epochs, "train_images": t.trainImages,
                                           "binarize": t.binarize, "tool": t.tool]
            if let b = config.beta, b != 1 { training["beta"] = b.shortestDecimal }  // a β-VAE or β-TCVAE
            // a proVAE: the radius it was trained for, and whether on the ball clipped to [0, 1]
            if let e = t.epsTrain { training["eps_train"] = e.shortestDecimal; training["pixel_box"] = t.pixelBox ?? true }
            summary["model_training"] = training
        }
        try JSONLines.emit(summary)
    }
}
