import Foundation

/// A dense, row-major (C order) Float32 tensor. Images use NCHW layout.
///
/// `Tensor` is a value type backed by a copy-on-write `[Float]`; kernels read and
/// write it through unsafe buffer pointers (array subscripting through a class property
/// in a loop measured ~100x slower: exclusivity and copy-on-write checks on every write).
public struct Tensor: Equatable, Sendable {
    public private(set) var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(Tensor.count(of: shape) == data.count,
                     "shape \(shape) needs \(Tensor.count(of: shape)) values, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    /// A tensor filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, data: [Float](repeating: value, count: Tensor.count(of: shape)))
    }

    /// A rank-0 tensor holding one number.
    public init(scalar: Float) { self.init(shape: [], data: [scalar]) }

    /// Builds a tensor by letting `body` fill uninitialised storage of the right size.
    @inlinable
    public init(shape: [Int], unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = Tensor.count(of: shape)
        let d = [Float](unsafeUninitializedCapacity: n) { buf, count in
            body(buf)
            count = n
        }
        self.init(shape: shape, data: d)
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    @inlinable public static func count(of shape: [Int]) -> Int { shape.reduce(1, *) }

    public var count: Int { data.count }
    public var rank: Int { shape.count }
    /// The single value of a one-element tensor.
    public var scalar: Float {
        precondition(data.count == 1, "scalar of a tensor with shape \(shape)")
        return data[0]
    }

    /// Same data, new shape (one dimension may be -1 and is inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            s[i] = count / known
        }
        precondition(Tensor.count(of: s) == count, "cannot reshape \(shape) to \(newShape)")
        var t = self
        t.shape = s
        return t
    }

    /// Rows `start..<end` along the first axis (a batch slice).
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0])
        let inner = shape.dropFirst().reduce(1, *)
        var s = shape
        s[0] = range.count
        return Tensor(shape: s, data: Array(data[(range.lowerBound * inner)..<(range.upperBound * inner)]))
    }

    /// Rows at the given indices along the first axis (a gathered minibatch).
    public func gatherRows(_ indices: [Int]) -> Tensor {
        let inner = shape.dropFirst().reduce(1, *)
        var s = shape
        s[0] = indices.count
        return Tensor(shape: s) { out in
            data.withUnsafeBufferPointer { src in
                for (k, i) in indices.enumerated() {
                    precondition(i >= 0 && i < shape[0], "row \(i) out of range 0..<\(shape[0])")
                    UnsafeMutableRawPointer(out.baseAddress! + k * inner)
                        .copyMemory(from: src.baseAddress! + i * inner, byteCount: inner * 4)
                }
            }
        }
    }

    /// Concatenation along the first axis.
    public static func concatRows(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty)
        let tail = Array(parts[0].shape.dropFirst())
        precondition(parts.allSatisfy { Array($0.shape.dropFirst()) == tail }, "concatRows: shapes differ")
        var d = [Float]()
        d.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for p in parts { d.append(contentsOf: p.data) }
        return Tensor(shape: [parts.reduce(0) { $0 + $1.shape[0] }] + tail, data: d)
    }

    /// Whether every value is finite (no NaN or infinity).
    public var isFinite: Bool {
        data.withUnsafeBufferPointer { b in
            var ok = true
            for v in b where !v.isFinite { ok = false; break }
            return ok
        }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = data.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape): [\(head)\(count > 8 ? ", …" : "")])"
    }
}
