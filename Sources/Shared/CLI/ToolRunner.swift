import ArgumentParser
import Foundation

/// How every RobustVAE tool reports failure: one line on stderr, `TOOL: error: …`, and a
/// non-zero exit. Commands throw `ToolError`; this turns it into a clean ArgumentParser exit.
public enum ToolRunner {
    /// Applies the process-wide settings (`Runtime.configure`), then runs `body`, converting
    /// a `ToolError` into a one-line message and exit status 1.
    public static func run(_ tool: String, _ body: () throws -> Void) throws {
        Runtime.configure()
        do { try body() } catch let e as ToolError {
            let kind = e.exitCode == 130 ? "" : "error: "
            FileHandle.standardError.write(Data("\(tool): \(kind)\(e.message)\n".utf8))
            throw ExitCode(e.exitCode)
        }
    }

    /// Prints a log line on stderr (stdout is reserved for JSON results).
    public static func log(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Prints one JSON object as a line on stdout. Non-finite numbers (a NaN mean of nothing,
    /// say) become `null`, since JSON has no NaN.
    public static func emit(_ object: [String: Any]) throws {
        func clean(_ v: Any) -> Any {
            if let d = v as? Double { return d.isFinite ? d : NSNull() }
            if let f = v as? Float { return f.isFinite ? Double(f) : NSNull() }
            if let a = v as? [Any] { return a.map(clean) }
            if let o = v as? [String: Any] { return o.mapValues(clean) }
            return v
        }
        let d = try JSONSerialization.data(withJSONObject: clean(object), options: [.sortedKeys, .fragmentsAllowed])
        FileHandle.standardOutput.write(d + Data("\n".utf8))
    }
}

/// The options every tool that reads images shares.
public struct DataOptions: ParsableArguments {
    public init() {}
    @Option(name: .long, help: ArgumentHelp(
        "Images: NAME:SPLIT[START:END]@N (datasets: \(DatasetCatalog.names.joined(separator: ", "))), a .npy file, or - for a .npy on stdin.",
        valueName: "spec"))
    public var input: String
    @Option(name: .long, help: ArgumentHelp("Labels (.npy of integers) for .npy images.", valueName: "path"))
    public var labels: String?

    public func load() throws -> Dataset { try DatasetCatalog.load(input, labelsPath: labels) }
}
