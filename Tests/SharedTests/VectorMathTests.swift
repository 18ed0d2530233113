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
}
