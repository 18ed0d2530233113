import CZlib
import Foundation

/// The IDX format of the MNIST family (optionally gzip-compressed): bytes
/// `00 00 08 NDIM`, NDIM big-endian u32 sizes, then unsigned bytes. Read through zlib's
/// gz API, which also passes uncompressed files through.
public enum IDX {
    /// Largest decompressed size accepted (a guard against decompression bombs).
    static let maxBytes = 1 << 31

    /// Returns the dimensions and the raw bytes.
    public static func read(_ path: String) throws -> (shape: [Int], bytes: [UInt8]) {
        guard FileManager.default.fileExists(atPath: path) else { throw ToolError.file(path, "no such file") }
        guard let gz = gzopen(path, "rb") else { throw ToolError.file(path, "cannot be opened") }
        defer { gzclose(gz) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = gzread(gz, &chunk, UInt32(chunk.count))
            if n < 0 || (n == 0 && gzerrorMessage(gz) != nil) {
                throw ToolError.file(path, "corrupt or truncated gzip data: \(gzerrorMessage(gz) ?? "read error")")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<Int(n)])
            guard bytes.count <= maxBytes else { throw ToolError.file(path, "decompresses to more than \(maxBytes) bytes") }
        }
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else { throw ToolError.file(path, "not an IDX file (bad magic)") }
        guard bytes[2] == 0x08 else {
            throw ToolError.file(path, "IDX element type 0x\(String(bytes[2], radix: 16)) is not supported (only unsigned bytes, 0x08)")
        }
        let ndim = Int(bytes[3])
        guard ndim >= 1, bytes.count >= 4 + 4 * ndim else { throw ToolError.file(path, "truncated IDX header") }
        var shape: [Int] = []
        var total = 1
        for i in 0..<ndim {
            let o = 4 + 4 * i
            let d = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            shape.append(d)
            total = total.multipliedReportingOverflow(by: d).overflow ? Int.max : total * d
        }
        let payload = bytes.count - 4 - 4 * ndim
        guard total == payload else {
            throw ToolError.file(path, "IDX header promises \(shape) = \(total) bytes but the file holds \(payload)")
        }
        return (shape, Array(bytes[(4 + 4 * ndim)...]))
    }

    /// gzip's error text, or nil when the stream is healthy.
    private static func gzerrorMessage(_ gz: gzFile) -> String? {
        var code: Int32 = 0
        guard let m = gzerror(gz, &code), code != Z_OK && code != Z_STREAM_END else { return nil }
        return String(cString: m)
    }

    /// Writes unsigned bytes as a gzip-compressed IDX file (for tests and data preparation).
    public static func writeGzip(shape: [Int], bytes: [UInt8], to path: String) throws {
        var raw: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
        for d in shape { raw += [UInt8(d >> 24 & 0xff), UInt8(d >> 16 & 0xff), UInt8(d >> 8 & 0xff), UInt8(d & 0xff)] }
        raw += bytes
        let tmp = path + ".tmp-\(getpid())"
        guard let gz = gzopen(tmp, "wb") else { throw ToolError.file(path, "cannot write") }
        let n = gzwrite(gz, raw, UInt32(raw.count))
        gzclose(gz)
        guard n == raw.count, rename(tmp, path) == 0 else { unlink(tmp); throw ToolError.file(path, "cannot write") }
    }
}
