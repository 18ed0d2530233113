import Foundation

/// NumPy `.npy` files (format versions 1.0, 2.0 and 3.0; C order).
///
/// Reading accepts float32/float64, signed and unsigned 8-64-bit integers and bool in
/// either byte order and converts to Float32; anything else (Fortran order, object or
/// structured dtypes, a size that disagrees with the shape) is a clear error. The data
/// size implied by the header is checked against the file size before anything is
/// allocated. Writing produces version 1.0 (2.0 when the header needs it) with the
/// header padded to 64 bytes, as numpy does.
public enum Npy {
    public enum DType: String, Sendable {
        case float32 = "f4", float64 = "f8", uint8 = "u1", int8 = "i1", int16 = "i2", uint16 = "u2"
        case int32 = "i4", uint32 = "u4", int64 = "i8", uint64 = "u8", bool = "b1"
        var size: Int { Int(String(rawValue.dropFirst()))! }
    }

    /// A decoded array: its shape, element type, and values as Float32.
    public struct Array {
        public var shape: [Int]
        public var dtype: DType
        public var values: [Float]
        public var tensor: Tensor { Tensor(shape: shape, data: values) }
    }

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    public static func read(_ path: String) throws -> Tensor { try decode(FileInput.read(path), name: path).tensor }

    /// Decodes `.npy` bytes; `name` names the source in errors.
    public static func decode(_ data: Data, name: String) throws -> Array {
        let bytes = [UInt8](data)
        func fail(_ why: String) -> ToolError { ToolError.file(name, "not a valid .npy file: \(why)") }
        guard !bytes.isEmpty else { throw fail(name == "-" ? "nothing came in (did the command before it in the pipe fail?)" : "the file is empty") }
        guard bytes.count >= 10, Swift.Array(bytes[0..<6]) == magic else { throw fail("missing the \\x93NUMPY magic") }
        let major = bytes[6]
        let headerLen: Int, start: Int
        switch major {
        case 1:
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8; start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; start = 12
        default:
            throw fail("unsupported format version \(major).\(bytes[7])")
        }
        guard start + headerLen <= bytes.count else { throw fail("header length \(headerLen) exceeds the file size") }
        guard let header = String(bytes: bytes[start..<(start + headerLen)], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw fail("header is not text")
        }
        let dict = try parseHeader(header, fail: fail)
        guard let descr = dict["descr"] else { throw fail("header has no 'descr'") }
        guard dict["fortran_order"] == "False" else {
            throw ToolError.file(name, "Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
        }
        guard let shapeText = dict["shape"] else { throw fail("header has no 'shape'") }
        let shape = try parseShape(shapeText, fail: fail)
        // dtype: byte order + kind + size, e.g. '<f4', '|u1', '>i8'
        let order = descr.first ?? "?"
        guard ["<", ">", "|", "="].contains(order), let dtype = DType(rawValue: String(descr.dropFirst())) else {
            throw ToolError.file(name, "unsupported dtype '\(descr)' (float32, float64, integers and bool are supported)")
        }
        let bigEndian = order == ">"
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw fail("shape \(shape) overflows") }
            count = p
        }
        let (nbytes, o) = count.multipliedReportingOverflow(by: dtype.size)
        let dataStart = start + headerLen
        guard !o, nbytes == bytes.count - dataStart else {
            throw ToolError.file(name, "truncated or oversized .npy: shape \(shape) of \(descr) needs \(o ? "too many" : String(nbytes)) bytes, file has \(bytes.count - dataStart)")
        }
        let values = bytes.withUnsafeBufferPointer { buf in
            convert(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf)[dataStart...]), dtype: dtype, count: count, bigEndian: bigEndian)
        }
        return Array(shape: shape, dtype: dtype, values: values)
    }

    private static func convert(_ raw: UnsafeRawBufferPointer, dtype: DType, count: Int, bigEndian: Bool) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, n in
            func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
                let v = raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)
                return bigEndian ? T(bigEndian: v) : T(littleEndian: v)
            }
            switch dtype {
            case .float32: for i in 0..<count { out[i] = Float(bitPattern: load(UInt32.self, i)) }
            case .float64: for i in 0..<count { out[i] = Float(Double(bitPattern: load(UInt64.self, i))) }
            case .uint8, .bool: for i in 0..<count { out[i] = Float(raw[i]) }
            case .int8: for i in 0..<count { out[i] = Float(Int8(bitPattern: raw[i])) }
            case .int16: for i in 0..<count { out[i] = Float(load(Int16.self, i)) }
            case .uint16: for i in 0..<count { out[i] = Float(load(UInt16.self, i)) }
            case .int32: for i in 0..<count { out[i] = Float(load(Int32.self, i)) }
            case .uint32: for i in 0..<count { out[i] = Float(load(UInt32.self, i)) }
            case .int64: for i in 0..<count { out[i] = Float(load(Int64.self, i)) }
            case .uint64: for i in 0..<count { out[i] = Float(load(UInt64.self, i)) }
            }
            n = count
        }
    }

    /// Parses the Python dict literal of the header into its three known keys (raw text values).
    private static func parseHeader(_ h: String, fail: (String) -> ToolError) throws -> [String: String] {
        var s = Substring(h.trimmingCharacters(in: .whitespacesAndNewlines))
        guard s.hasPrefix("{"), s.hasSuffix("}") else { throw fail("header is not a dict") }
        s = s.dropFirst().dropLast()
        var out: [String: String] = [:]
        for key in ["descr", "fortran_order", "shape"] {
            guard let r = s.range(of: "'\(key)'") ?? s.range(of: "\"\(key)\"") else { continue }
            var rest = s[r.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { throw fail("malformed header near '\(key)'") }
            rest = rest.dropFirst().drop { $0 == " " }
            if rest.first == "(" {
                guard let close = rest.firstIndex(of: ")") else { throw fail("unterminated shape") }
                out[key] = String(rest[rest.index(after: rest.startIndex)..<close])
            } else if let q = rest.first, q == "'" || q == "\"" {
                let body = rest.dropFirst()
                guard let close = body.firstIndex(of: q) else { throw fail("unterminated string") }
                out[key] = String(body[..<close])
            } else {
                out[key] = String(rest.prefix { $0 != "," && $0 != "}" }).trimmingCharacters(in: .whitespaces)
            }
        }
        return out
    }

    private static func parseShape(_ t: String, fail: (String) -> ToolError) throws -> [Int] {
        let parts = t.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return try parts.map {
            guard let v = Int($0.hasSuffix("L") ? String($0.dropLast()) : $0), v >= 0 else { throw fail("bad shape '(\(t))'") }
            return v
        }
    }

    /// Encodes a tensor as `.npy` bytes of the given element type (values are rounded and
    /// clamped to [0, 255] for uint8).
    public static func encode(_ t: Tensor, dtype: DType = .float32) -> Data {
        precondition([.float32, .float64, .uint8, .int64].contains(dtype), "Npy.encode: \(dtype) not supported for writing")
        let order = dtype == .uint8 ? "|" : "<"
        let shapeText = t.shape.isEmpty ? "()" : t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(order)\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        var version: UInt8 = 1
        var prefix = 10
        if header.utf8.count + 1 + prefix > 65535 { version = 2; prefix = 12 }
        let pad = (64 - (prefix + header.utf8.count + 1) % 64) % 64
        header += String(repeating: " ", count: pad) + "\n"
        var d = Data(magic + [version, 0])
        let hl = header.utf8.count
        if version == 1 { d.append(contentsOf: [UInt8(hl & 0xff), UInt8(hl >> 8)]) }
        else { d.append(contentsOf: (0..<4).map { UInt8((hl >> (8 * $0)) & 0xff) }) }
        d.append(contentsOf: Swift.Array(header.utf8))
        d.reserveCapacity(d.count + t.count * dtype.size)
        t.data.withUnsafeBufferPointer { src in
            switch dtype {
            case .float32:
                d.append(UnsafeBufferPointer(start: UnsafeRawPointer(src.baseAddress!).assumingMemoryBound(to: UInt8.self), count: src.count * 4))
            case .float64:
                let dbl = src.map { Double($0) }
                dbl.withUnsafeBytes { d.append(contentsOf: $0) }
            case .int64:
                let ints = src.map { Int64($0.rounded()) }
                ints.withUnsafeBytes { d.append(contentsOf: $0) }
            default:
                d.append(contentsOf: src.map { UInt8(Swift.min(Swift.max($0.rounded(), 0), 255)) })
            }
        }
        return d
    }

    /// Writes a tensor to `path` (atomically; "-" is stdout).
    /// `beforeCommit` as in `AtomicFile.write`.
    public static func write(_ t: Tensor, to path: String, dtype: DType = .float32, beforeCommit: () throws -> Void = {}) throws {
        try AtomicFile.write(encode(t, dtype: dtype), to: path, beforeCommit: beforeCommit)
    }
}
