import Foundation

/// The `.safetensors` format (Hugging Face): an 8-byte little-endian header length, a
/// JSON header mapping each tensor name to `dtype`, `shape` and `data_offsets`
/// (relative to the data section) plus an optional `__metadata__` map of strings, then
/// the tensors' bytes back to back. RobustVAE stores model weights this way, with the
/// model configuration as JSON under the metadata key `config`; Python's `safetensors`
/// loads the files.
public enum SafeTensors {
    public struct File {
        /// Tensors in file order.
        public var tensors: [(name: String, tensor: Tensor)]
        public var metadata: [String: String]
        public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) {
            self.tensors = tensors; self.metadata = metadata
        }
        public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }
    }

    /// The largest header we accept (the reference implementation uses 100 MB).
    static let maxHeader = 100_000_000

    public static func encode(_ file: File) throws -> Data {
        var header: [String: Any] = [:]
        if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
        var offset = 0
        var seen = Set<String>()
        for (name, t) in file.tensors {
            guard name != "__metadata__", seen.insert(name).inserted else { throw ToolError("safetensors: duplicate or reserved tensor name '\(name)'") }
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + t.count * 4]] as [String: Any]
            offset += t.count * 4
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // pad with spaces so the data section starts 8-byte aligned, as the reference writer does
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var d = Data()
        d.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(json)
        for (_, t) in file.tensors { t.data.withUnsafeBytes { d.append(contentsOf: $0) } }
        return d
    }

    /// `beforeCommit` as in `AtomicFile.write`.
    public static func write(_ file: File, to path: String, beforeCommit: () throws -> Void = {}) throws {
        try AtomicFile.write(encode(file), to: path, beforeCommit: beforeCommit)
    }

    public static func read(_ path: String) throws -> File { try decode(FileInput.read(path), name: path) }

    /// Decodes and validates: header size within the file, known dtypes, shapes that match
    /// their byte ranges, ranges inside the data section, contiguous and non-overlapping.
    public static func decode(_ data: Data, name: String) throws -> File {
        func fail(_ why: String) -> ToolError { ToolError.file(name, "not a valid .safetensors file: \(why)") }
        guard data.count >= 8 else { throw fail("shorter than its 8-byte header length") }
        let n = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n <= UInt64(maxHeader), Int(n) <= data.count - 8 else {
            throw fail("header length \(n) exceeds the file size (\(data.count) bytes)")
        }
        let headerBytes = data.subdata(in: 8..<(8 + Int(n)))
        guard let obj = try? JSONSerialization.jsonObject(with: headerBytes), let header = obj as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        let dataStart = 8 + Int(n), dataLen = data.count - dataStart
        var metadata: [String: String] = [:]
        if let m = header["__metadata__"] {
            guard let mm = m as? [String: Any] else { throw fail("__metadata__ is not an object") }
            for (k, v) in mm {
                guard let s = v as? String else { throw fail("__metadata__ value for '\(k)' is not a string") }
                metadata[k] = s
            }
        }
        var entries: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
        for (key, value) in header where key != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shapeAny = info["shape"] as? [Any], let offs = info["data_offsets"] as? [Any], offs.count == 2,
                  let b = (offs[0] as? NSNumber)?.intValue, let e = (offs[1] as? NSNumber)?.intValue else {
                throw fail("entry '\(key)' lacks dtype, shape or data_offsets")
            }
            let shape = try shapeAny.map { (x: Any) -> Int in
                guard let v = (x as? NSNumber)?.intValue, v >= 0 else { throw fail("entry '\(key)' has a bad shape") }
                return v
            }
            entries.append((key, dtype, shape, b, e))
        }
        entries.sort { $0.begin < $1.begin }
        var expected = 0
        var tensors: [(name: String, tensor: Tensor)] = []
        for e in entries {
            let size: Int
            switch e.dtype {
            case "F32", "I32", "U32": size = 4
            case "F64", "I64", "U64": size = 8
            case "U8", "I8", "BOOL": size = 1
            default: throw ToolError.file(name, "tensor '\(e.name)' has unsupported dtype \(e.dtype)")
            }
            var count = 1
            for d in e.shape {
                let (p, o) = count.multipliedReportingOverflow(by: d)
                guard !o else { throw fail("tensor '\(e.name)' shape overflows") }
                count = p
            }
            guard e.begin == expected, e.end >= e.begin, e.end <= dataLen else {
                throw fail("tensor '\(e.name)' byte range \(e.begin)..<\(e.end) is outside the data section or not contiguous (data has \(dataLen) bytes)")
            }
            guard count.multipliedReportingOverflow(by: size) == (e.end - e.begin, false) else {
                throw fail("tensor '\(e.name)' of shape \(e.shape) does not fill its \(e.end - e.begin) bytes")
            }
            expected = e.end
            let values: [Float] = data.withUnsafeBytes { raw in
                let base = raw.baseAddress! + dataStart + e.begin
                return (0..<count).map { i in
                    switch e.dtype {
                    case "F32": return Float(bitPattern: UInt32(littleEndian: (base + i * 4).loadUnaligned(as: UInt32.self)))
                    case "F64": return Float(Double(bitPattern: UInt64(littleEndian: (base + i * 8).loadUnaligned(as: UInt64.self))))
                    case "I32": return Float(Int32(littleEndian: (base + i * 4).loadUnaligned(as: Int32.self)))
                    case "U32": return Float(UInt32(littleEndian: (base + i * 4).loadUnaligned(as: UInt32.self)))
                    case "I64": return Float(Int64(littleEndian: (base + i * 8).loadUnaligned(as: Int64.self)))
                    case "U64": return Float(UInt64(littleEndian: (base + i * 8).loadUnaligned(as: UInt64.self)))
                    case "I8": return Float((base + i).load(as: Int8.self))
                    default: return Float((base + i).load(as: UInt8.self))
                    }
                }
            }
            tensors.append((e.name, Tensor(shape: e.shape, data: values)))
        }
        guard expected == dataLen else { throw fail("\(dataLen - expected) trailing bytes after the last tensor") }
        return File(tensors: tensors, metadata: metadata)
    }
}
