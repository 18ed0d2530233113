import Foundation
import XCTest
import Shared

/// The vectorised exp/log/softplus/sigmoid against Double-precision references.
final class VectorMathTests: XCTestCase {
    func check(_ name: String, _ xs: [Float], _ f: (SIMD8<Float>) -> SIMD8<Float>, _ ref: (Double) -> Double, rel: Double, abs absTol: Double = 0) {
        var worst = 0.0, at: Float = 0
        for chunk in stride(from: 0, to: xs.count, by: 8) {
            var v = SIMD8<Float>()
            for k in 0..<8 { v[k] = xs[min(chunk + k, xs.count - 1)] }
            let r = f(v)
            for k in 0..<8 {
                let x = Double(v[k]), want = ref(x), got = Double(r[k])
                XCTAssert(got.isFinite, "\(name)(\(x)) = \(got)")
                let err = Swift.abs(got - want) / max(Swift.abs(want) * rel, absTol)
                if err > worst { worst = err; at = v[k] }
            }
        }
        XCTAssertLessThanOrEqual(worst, 1, "\(name): worst error at x = \(at)")
    }

    func testAgainstDouble() {
        var rng = RNG(seed: 31)
        let wide = (0..<4000).map { _ in rng.uniform(-80, 80) } + [-87, -30, -1e-3, 0, 1e-6, 1e-3, 0.5, 1, 30, 88]
        check("exp", wide, VectorMath.exp, Foundation.exp, rel: 3e-7)
        let pos = (0..<4000).map { _ in Foundation.exp(rng.uniform(-80, 80)) } + [1, 1.4142135, 1.4142137, 2, 0.5, 1e-30, 3e30]
        check("log", pos, VectorMath.log, Foundation.log, rel: 2e-7, abs: 2e-7)
        let all = wide + [-200, 200, -1e30, 1e30]
        check("softplus", all, VectorMath.softplus, { $0 > 30 ? $0 : Foundation.log1p(Foundation.exp($0)) }, rel: 4e-7, abs: 1e-37)
        check("sigmoid", all, VectorMath.sigmoid, { 1 / (1 + Foundation.exp(-$0)) }, rel: 4e-7, abs: 1e-37)
    }

    /// The branch-free lane-wise max/min against Swift.max/min, with infinities, signed zeros
    /// and NaNs (a NaN in the first argument must come through so it reaches the loss).
    func testMaxMin() {
        var rng = RNG(seed: 5)
        let special: [Float] = [0, -0.0, .infinity, -.infinity, 1e-38, -1e-38, 3e38, -3e38, 87.3, -87.3]
        let xs = (0..<800).map { _ in rng.uniform(-100, 100) } + special + special.reversed()
        let ys = (0..<800).map { _ in rng.uniform(-100, 100) } + special.shuffled(using: &rng) + special
        for c in stride(from: 0, to: xs.count - 8, by: 8) {
            let a = SIMD8<Float>(xs[c..<c + 8]), b = SIMD8<Float>(ys[c..<c + 8])
            let mx = VectorMath.max(a, b), mn = VectorMath.min(a, b)
            for k in 0..<8 {
                XCTAssertEqual(mx[k], Swift.max(a[k], b[k]), "max(\(a[k]), \(b[k]))")
                XCTAssertEqual(mn[k], Swift.min(a[k], b[k]), "min(\(a[k]), \(b[k]))")
            }
        }
        for n in [Float.nan, -Float.nan, Float(bitPattern: 0xFFC0_0000)] {
            let one = SIMD8<Float>(repeating: 1), nans = SIMD8<Float>(repeating: n)
            XCTAssert(VectorMath.max(nans, one)[3].isNaN && VectorMath.min(nans, one)[5].isNaN, "NaN \(n.bitPattern)")
            XCTAssert(VectorMath.softplus(nans)[0].isNaN && VectorMath.sigmoid(nans)[7].isNaN, "NaN \(n.bitPattern)")
        }
        XCTAssert(VectorMath.exp(SIMD8<Float>(repeating: .nan))[0].isNaN)
        XCTAssertEqual(VectorMath.exp(SIMD8<Float>(repeating: -1000))[0], Float(Foundation.exp(-87.3)), accuracy: 1e-40)
    }
}
