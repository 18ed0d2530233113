/// Vectorised reductions on raw buffers. Float sums never auto-vectorise
/// (strict IEEE order forbids reassociating them), so they use SIMD8 accumulators: about 8x.
public enum Reduce {
    @inlinable
    public static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    @inlinable
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    @inlinable
    public static func max(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = -Float.infinity
        for i in 0..<n where p[i] > m { m = p[i] }
        return m
    }
}

extension Tensor {
    /// Sum of all values.
    public func sum() -> Float { data.withUnsafeBufferPointer { Reduce.sum($0.baseAddress!, count) } }
    /// Mean of all values.
    public func mean() -> Float { count == 0 ? .nan : sum() / Float(count) }
}
