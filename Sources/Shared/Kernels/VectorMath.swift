/// Eight-wide exp and log (Cephes single-precision polynomials, ~1-2 ulp), so the
/// transcendental-heavy elementwise ops (softplus and sigmoid on every decoder output)
/// vectorise; glibc's scalar expf/log1pf cost 5-10 ns per element (measured here).
public enum VectorMath {
    public typealias V = SIMD8<Float>

    /// e^x; inputs are clamped to [-87.3, 88.3] (results from ~1e-38 to ~2e38).
    @inline(__always)
    public static func exp(_ x0: V) -> V {
        var x = min(max(x0, V(repeating: -87.3)), V(repeating: 88.3))
        // x = n ln2 + r, |r| ≤ ln2/2, ln2 split into a high and a low part for accuracy
        // round x·log2(e) to the nearest integer n by adding 1.5·2²³ (plain vector adds: the
        // generic SIMD rounding and float→int conversions run lane by lane)
        let t = madd(x, V(repeating: 1.44269504088896341), V(repeating: 12582912))
        let n = t - 12582912
        x = madd(n, V(repeating: 2.12194440e-4), madd(n, V(repeating: -0.693359375), x))
        let z = x * x
        var y = V(repeating: 1.9875691500E-4)
        y = madd(y, x, V(repeating: 1.3981999507E-3))
        y = madd(y, x, V(repeating: 8.3334519073E-3))
        y = madd(y, x, V(repeating: 4.1665795894E-2))
        y = madd(y, x, V(repeating: 1.6666665459E-1))
        y = madd(y, x, V(repeating: 5.0000001201E-1))
        y = madd(y, z, x + 1)
        // scale by 2^n through the exponent bits
        let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let bits = (ni &+ 127) &<< 23
        return y * unsafeBitCast(bits, to: V.self)
    }

    /// Natural log for x > 0 (x normal). Branch-free integer bit manipulation throughout
    /// (Swift's SIMD masks and conversions are lowered lane by lane).
    @inline(__always)
    public static func log(_ x0: V) -> V {
        var bits = unsafeBitCast(x0, to: SIMD8<Int32>.self)
        // x = m · 2^k with m in [1, 2); then halve m (k + 1) where m > √2, so m is in [√½, √2)
        let mBits = (bits & 0x007f_ffff) | 0x3f80_0000
        let big = (0x3FB5_04F3 &- mBits) &>> 31            // −1 where m > √2, else 0
        let k = ((bits &>> 23) & 0xff) &- 127 &- big
        bits = mBits &- (big & 0x0080_0000)
        let m = unsafeBitCast(bits, to: V.self)
        // k as a float without an int→float conversion: the low bits of 2²³ + 128 + k
        let e = unsafeBitCast((k &+ 128) | 0x4B00_0000, to: V.self) - (8388608 + 128)
        let x = m - 1
        let z = x * x
        var y = V(repeating: 7.0376836292E-2)
        y = madd(y, x, V(repeating: -1.1514610310E-1))
        y = madd(y, x, V(repeating: 1.1676998740E-1))
        y = madd(y, x, V(repeating: -1.2420140846E-1))
        y = madd(y, x, V(repeating: 1.4249322787E-1))
        y = madd(y, x, V(repeating: -1.6668057665E-1))
        y = madd(y, x, V(repeating: 2.0000714765E-1))
        y = madd(y, x, V(repeating: -2.4999993993E-1))
        y = madd(y, x, V(repeating: 3.3333331174E-1))
        y = y * x * z
        y = madd(e, V(repeating: -2.12194440e-4), y)
        y = madd(z, V(repeating: -0.5), y)
        return madd(e, V(repeating: 0.693359375), x + y)
    }

    /// a·b + c. Swift lowers SIMD8 arithmetic lane by lane and leaves LLVM to re-vectorise it,
    /// which fails on long polynomial chains (a 9-term Horner scheme came out as 4 + 2 + 1 + 1
    /// lanes, 26 instructions per element in softplus); `addingProduct` is one vector FMA. Without
    /// FMA hardware (a ROBUSTVAE_PORTABLE build) it would be a libm call per lane, so the
    /// plain form is kept there.
    @inline(__always)
    public static func madd(_ a: V, _ b: V, _ c: V) -> V {
        #if ROBUSTVAE_FMA
        return c.addingProduct(a, b)
        #else
        return a * b + c
        #endif
    }

    /// Lane-wise maximum. The standard library's `pointwiseMax` and `clamped` run lane by lane
    /// with a NaN branch per lane (6 ns per element in softplus); this selects by the sign bit of
    /// a − b in integer lanes, which vectorise. A NaN in `a` (of either sign) is kept, so NaNs
    /// still reach the loss and stop training with a clear message.
    @inline(__always)
    public static func max(_ a: V, _ b: V) -> V { select(a, b, takeBWhereNegative: a - b) }

    /// Lane-wise minimum, like `max`.
    @inline(__always)
    public static func min(_ a: V, _ b: V) -> V { select(a, b, takeBWhereNegative: b - a) }

    /// `b` where `d` is negative, else `a` (also where `d` is NaN).
    @inline(__always)
    static func select(_ a: V, _ b: V, takeBWhereNegative d: V) -> V {
        let ai = unsafeBitCast(a, to: SIMD8<Int32>.self), bi = unsafeBitCast(b, to: SIMD8<Int32>.self)
        let di = unsafeBitCast(d, to: SIMD8<Int32>.self)
        let notNaN = ((di & 0x7fff_ffff) &- 0x7f80_0001) &>> 31          // −1 where |d| ≤ inf
        let takeB = (di &>> 31) & notNaN
        return unsafeBitCast((ai & ~takeB) | (bi & takeB), to: V.self)
    }

    /// |x| by clearing the sign bit.
    @inline(__always)
    public static func abs(_ x: V) -> V {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7fff_ffff, to: V.self)
    }

    /// log(1 + e^x), stably: max(x, 0) + log(1 + e^{-|x|}), with max(x, 0) = (x + |x|)/2.
    @inline(__always)
    public static func softplus(_ x: V) -> V {
        let a = abs(x)
        return (x + a) * 0.5 + log1pUnit(exp(-a))
    }

    /// log(1 + t) for t in [0, 1]. Rounding u = 1 + t loses t's low bits, which Goldberg's
    /// correction log(u)·t/(u − 1) restores (u − 1 is exact); below 1e-4 the series
    /// t − t²/2 + t³/3 − t⁴/4 is used (u − 1 may be 0 there). The two are blended with a
    /// 0/1 weight made from the bits (positive floats order like their bit patterns).
    @inline(__always)
    static func log1pUnit(_ t: V) -> V {
        let small = (unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x38D1_B717) &>> 31   // −1 where t < 1e-4
        let w = unsafeBitCast(small & 0x3F80_0000, to: V.self)                          // 1.0 there, else 0
        let series = t * (1 - t * (0.5 - t * (1 / 3 - t * 0.25)))
        let u = 1 + t
        let d = (u - 1) + w                       // never 0 where it is used; +1 where it is not
        return w * series + (1 - w) * (log(u) * t / d)
    }

    /// 1 / (1 + e^{-x}). Stable as it is: `exp` is clamped, so a very negative x gives
    /// 1 / (1 + 2e38) ≈ 0 rather than a NaN.
    @inline(__always)
    public static func sigmoid(_ x: V) -> V { 1 / (1 + exp(-x)) }

    /// Applies `f` to `count` values eight at a time (the tail padded).
    @inline(__always)
    public static func map(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int, _ f: (V) -> V) {
        var i = 0
        while i + 8 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: f(UnsafeRawPointer(src + i).loadUnaligned(as: V.self)), as: V.self)
            i += 8
        }
        if i < count {
            var t = V()
            for k in 0..<(count - i) { t[k] = src[i + k] }
            let r = f(t)
            for k in 0..<(count - i) { dst[i + k] = r[k] }
        }
    }

    /// `dst[i] = f(a[i], b[i])`, eight at a time.
    @inline(__always)
    public static func map2(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int, _ f: (V, V) -> V) {
        var i = 0
        while i + 8 <= count {
            let r = f(UnsafeRawPointer(a + i).loadUnaligned(as: V.self), UnsafeRawPointer(b + i).loadUnaligned(as: V.self))
            UnsafeMutableRawPointer(dst + i).storeBytes(of: r, as: V.self)
            i += 8
        }
        if i < count {
            var ta = V(), tb = V()
            for k in 0..<(count - i) { ta[k] = a[i + k]; tb[k] = b[i + k] }
            let r = f(ta, tb)
            for k in 0..<(count - i) { dst[i + k] = r[k] }
        }
    }
}

extension Tensor {
    /// Element-wise vector map (see `VectorMath`).
    @inline(__always)
    func vmap(_ f: (SIMD8<Float>) -> SIMD8<Float>) -> Tensor {
        Tensor(shape: shape) { out in data.withUnsafeBufferPointer { VectorMath.map($0.baseAddress!, out.baseAddress!, count, f) } }
    }
    @inline(__always)
    func vmap2(_ other: Tensor, _ f: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>) -> Tensor {
        precondition(shape == other.shape)
        return Tensor(shape: shape) { out in
            data.withUnsafeBufferPointer { a in other.data.withUnsafeBufferPointer { b in VectorMath.map2(a.baseAddress!, b.baseAddress!, out.baseAddress!, count, f) } }
        }
    }
}
