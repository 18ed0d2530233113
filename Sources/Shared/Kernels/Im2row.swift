/// im2row / row2im for channels-last (NHWC) images: the transposed counterpart of `Im2col`,
/// with the output positions split into groups that skip the taps falling in the padding.
///
/// Rows of a group: `rows[n·Pg + qi][ti·C + c]` is channel c of the input pixel under the
/// group's tap ti at its output position qi in image n. Each tap of each position is one
/// contiguous run of C channels, so building rows is C-float copies rather than the
/// single-float gathers of `Im2col`.
public struct TapPlan: Sendable {
    /// Output positions that see the same taps inside the image, and those taps.
    public struct Group: Sendable {
        /// Output positions `oh·Wo + ow`, ascending.
        public let positions: [Int]
        /// Kernel taps `i·kw + j`, ascending.
        public let taps: [Int]
        /// The pixel `y·W + x` under each tap of each position, `[positions, taps]`; −1 in
        /// the padding (only in a plan that keeps padded taps).
        let pixels: [Int32]
    }
    public let groups: [Group]
    /// One group holding every position in order with every tap: the product can be written
    /// straight into the output.
    public let direct: Bool

    /// Splits the positions when more than `maxPaddedShare` of all position-tap pairs fall in
    /// the padding: multiplying those zeros then costs more than the split's extra copies.
    /// On paper D's encoder (3×3, stride 2, padding 1) the 28→14 and 14→7 layers waste 5% and
    /// 9% and stay whole; the 7→4, 4→2 and 2→1 layers waste 31%, 31% and 56%, and split.
    public init(h: Int, w: Int, geometry g: ConvGeometry, outH: Int, outW: Int, maxPaddedShare: Double = 0.125) {
        let (kh, kw) = g.kernel, taps = kh * kw, p = outH * outW
        var pixel = [Int32](repeating: -1, count: p * taps)
        for oh in 0..<outH { for ow in 0..<outW { for i in 0..<kh { for j in 0..<kw {
            let y = oh * g.stride + i * g.dilation - g.padding, x = ow * g.stride + j * g.dilation - g.padding
            if y >= 0 && y < h && x >= 0 && x < w { pixel[(oh * outW + ow) * taps + i * kw + j] = Int32(y * w + x) }
        } } } }
        let padded = pixel.reduce(0) { $0 + ($1 < 0 ? 1 : 0) }
        if Double(padded) <= maxPaddedShare * Double(p * taps) {
            groups = [Group(positions: Array(0..<p), taps: Array(0..<taps), pixels: pixel)]
            direct = true
            return
        }
        var order: [[Int]] = [], members: [[Int]: [Int]] = [:]
        for q in 0..<p {
            let valid = (0..<taps).filter { pixel[q * taps + $0] >= 0 }
            if members[valid] == nil { order.append(valid) }
            members[valid, default: []].append(q)
        }
        groups = order.map { t in
            let qs = members[t]!
            return Group(positions: qs, taps: t, pixels: qs.flatMap { q in t.map { pixel[q * taps + $0] } })
        }
        direct = false
    }

    /// The group's rows for `n` NHWC images; every entry is written, so `rows` may be
    /// uninitialised.
    public static func im2row(_ x: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, group: Group,
                              into rows: UnsafeMutablePointer<Float>) {
        let entries = group.pixels.count
        group.pixels.withUnsafeBufferPointer { tb in
            let tp = tb.baseAddress!
            for b in 0..<n {
                let src = x + b * h * w * c, dst = rows + b * entries * c
                if c == 1 {
                    for e in 0..<entries { let s = Int(tp[e]); dst[e] = s >= 0 ? src[s] : 0 }
                } else {
                    for e in 0..<entries {
                        let s = Int(tp[e]), d = dst + e * c
                        if s >= 0 { copy(src + s * c, d, c) } else { d.update(repeating: 0, count: c) }
                    }
                }
            }
        }
    }

    /// `count` floats from `src` to `dst`, eight at a time where they divide: the runs here are
    /// 32 to 128 floats, where a `memmove` call costs as much as the copy.
    @inline(__always)
    static func copy(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        if count % 8 == 0 {
            var i = 0
            while i < count {
                UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: VectorMath.V.self), as: VectorMath.V.self)
                i += 8
            }
        } else {
            dst.update(from: src, count: count)
        }
    }

    /// Adds a group's rows back into NHWC image positions (the adjoint of `im2row`); `x`
    /// must be initialised.
    public static func row2im(_ rows: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, group: Group,
                              into x: UnsafeMutablePointer<Float>) {
        let entries = group.pixels.count
        group.pixels.withUnsafeBufferPointer { tb in
            let tp = tb.baseAddress!
            for b in 0..<n {
                let dst = x + b * h * w * c, src = rows + b * entries * c
                if c == 1 {
                    for e in 0..<entries { let s = Int(tp[e]); if s >= 0 { dst[s] += src[e] } }
                } else {
                    for e in 0..<entries {
                        let s = Int(tp[e])
                        guard s >= 0 else { continue }
                        let d = dst + s * c
                        VectorMath.map2(d, src + e * c, d, c, +)
                    }
                }
            }
        }
    }
}
