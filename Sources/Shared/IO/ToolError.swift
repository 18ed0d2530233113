import Foundation

/// The one error type the tools report: a single line naming the file (when there is
/// one) and the problem. The tools print it to stderr and exit non-zero.
public struct ToolError: Error, CustomStringConvertible, Equatable {
    public let message: String
    /// The process exit status the tools use for this error (130 for an interruption).
    public let exitCode: Int32
    public init(_ message: String, exitCode: Int32 = 1) { self.message = message; self.exitCode = exitCode }

    /// The exit status for a command line that asks for something that cannot be: an
    /// unknown dataset, a malformed spec, options that contradict each other or the model.
    public static let usageStatus: Int32 = 2

    /// An error in what the command line asks for (exit status 2, as for parser errors).
    public static func usage(_ message: String) -> ToolError { ToolError(message, exitCode: usageStatus) }

    /// An error about a file: `PATH: problem`.
    public static func file(_ path: String, _ problem: String) -> ToolError {
        ToolError("\(path == "-" ? "<stdin>" : path): \(problem)")
    }

    public var description: String { message }
}

/// Reads a whole file (or stdin for "-") with a clear error on failure.
public enum FileInput {
    public static func read(_ path: String) throws -> Data {
        if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ToolError.file(path, "no such file")
        }
        if isDir.boolValue { throw ToolError.file(path, "is a directory, expected a file") }
        guard let d = FileManager.default.contents(atPath: path) else {
            throw ToolError.file(path, "cannot be read (permission denied?)")
        }
        return d
    }
}
