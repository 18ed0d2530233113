import Foundation

/// Log lines go to stderr: stdout is reserved for results (JSON lines, or a file written to `-`).
public enum Log {
    public static func line(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
