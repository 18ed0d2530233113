import Foundation
import XCTest
import Shared

/// The probability pieces against closed forms, tabulated values, the authors' code and
/// finite differences.
final class DistributionsTests: XCTestCase {
    var rng = RNG(seed: 41)

    func v(_ rows: [[Float]]) -> Variable { Variable(Tensor(shape: [rows.count, rows[0].count], data: rows.flatMap { $0 })) }

    func testKLClosedForm() {
        // KL(N(0,1) ‖ N(1,4)) = log 2 + (1 + 1)/(2·4) − 1/2
        let kl = DiagonalGaussian.kl(mu1: v([[0]]), sigma1: v([[1]]), mu2: v([[1]]), sigma2: v([[2]])).value.scalar
        XCTAssertEqual(Double(kl), log(2.0) + 2.0 / 8 - 0.5, accuracy: 1e-6)
        // to the standard normal it is the ELBO's KL term, and zero for the prior itself
        let mu = Variable(rng.normalTensor([3, 4])), s = Variable(rng.uniformTensor([3, 4], 0.2, 2))
        let zeros = Variable(Tensor.zeros([3, 4])), ones = Variable(Tensor.ones([3, 4]))
        assertClose(DiagonalGaussian.kl(mu1: mu, sigma1: s, mu2: zeros, sigma2: ones).value,
                    DiagonalGaussian.klToStandard(mu: mu, sigma: s).value, tol: 1e-5, "KL to N(0, I)")
        XCTAssertEqual(DiagonalGaussian.klToStandard(mu: zeros, sigma: ones).value.data, [0, 0, 0])
    }

    func testSymmetricKLMatchesTheAuthorsFormula() throws {
        // paper D's code (utils/divergence.py, gaus_skl) in log-variance form, ported to numpy
        let mu1 = rng.normalTensor([4, 3]), mu2 = rng.normalTensor([4, 3])
        let s1 = rng.uniformTensor([4, 3], 0.1, 2), s2 = rng.uniformTensor([4, 3], 0.1, 2)
        let ours = DiagonalGaussian.symmetricKL(mu1: Variable(mu1), sigma1: Variable(s1), mu2: Variable(mu2), sigma2: Variable(s2)).value
        func list(_ t: Tensor) -> String { "np.array(\(t.data), dtype=np.float64).reshape(\(t.shape[0]), \(t.shape[1]))" }
        let out = try python("""
        import numpy as np
        q_mu, p_mu = \(list(mu1)), \(list(mu2))
        q_logsigmasq, p_logsigmasq = np.log(\(list(s1)) ** 2), np.log(\(list(s2)) ** 2)
        logsigma_dif = p_logsigmasq - q_logsigmasq
        mu_dif = (q_mu - p_mu) ** 2
        res = np.exp(logsigma_dif) + np.exp(-logsigma_dif)
        res = 1/4 * (res + mu_dif * (np.exp(-p_logsigmasq) + np.exp(-q_logsigmasq))) - 1/2
        print(' '.join(repr(float(x)) for x in res.sum(axis=1)))
        """)
        let ref = out.split(separator: " ").map { Float(Double($0)!) }
        assertClose(ours, Tensor(shape: [4], data: ref), tol: 1e-5, "SKL vs gaus_skl")
        // and it is the average of the two KLs, zero for equal distributions
        let a = DiagonalGaussian.kl(mu1: Variable(mu1), sigma1: Variable(s1), mu2: Variable(mu2), sigma2: Variable(s2)).value
        let b = DiagonalGaussian.kl(mu1: Variable(mu2), sigma1: Variable(s2), mu2: Variable(mu1), sigma2: Variable(s1)).value
        assertClose(ours, (a + b) * 0.5, tol: 1e-6, "SKL = (KL + KL)/2")
        XCTAssertEqual(DiagonalGaussian.symmetricKL(mu1: Variable(mu1), sigma1: Variable(s1), mu2: Variable(mu1), sigma2: Variable(s1)).value.data,
                       [0, 0, 0, 0], accuracy: 1e-6)
    }

    func testWassersteinAndLogDensity() {
        // W2²(N((0,0), diag(1,4)), N((3,4), diag(4,4))) = 3² + 4² + (1−2)² + 0
        let w2 = DiagonalGaussian.wasserstein2Squared(mu1: v([[0, 0]]), sigma1: v([[1, 2]]), mu2: v([[3, 4]]), sigma2: v([[2, 2]]))
        XCTAssertEqual(w2.value.scalar, 26, accuracy: 1e-5)
        XCTAssertEqual(DiagonalGaussian.wasserstein2(mu1: v([[0, 0]]), sigma1: v([[1, 2]]), mu2: v([[3, 4]]), sigma2: v([[2, 2]])).value.scalar,
                       Float(26).squareRoot(), accuracy: 1e-5)
        // log N((1, −1); (0, 1), diag(1, 0.25)) = −½(1 + 16) − log 0.5 − log 2π
        let lp = DiagonalGaussian.logDensity(v([[1, -1]]), mu: v([[0, 1]]), sigma: v([[1, 0.5]])).value.scalar
        XCTAssertEqual(Double(lp), -8.5 - log(0.5) - log(2 * Double.pi), accuracy: 1e-5)
        let z = rng.normalTensor([3, 5])
        assertClose(DiagonalGaussian.standardLogDensity(Variable(z)).value,
                    DiagonalGaussian.logDensity(Variable(z), mu: Variable(Tensor.zeros([3, 5])), sigma: Variable(Tensor.ones([3, 5]))).value,
                    tol: 1e-6, "standard normal")
        // an isotropic Gaussian image likelihood: d = 4 pixels, σ = 0.5, squared error 2
        let iso = DiagonalGaussian.isotropicLogDensity(squaredError: v([[2]]).flattened(), dimensions: 4, sigma: 0.5).value.scalar
        XCTAssertEqual(Double(iso), -2.0 / (2 * 0.25) - 2 * log(2 * Double.pi * 0.25), accuracy: 1e-5)
    }

    func testGaussianGradients() {
        let mu1 = rng.normalTensor([2, 3]), mu2 = rng.normalTensor([2, 3])
        let s1 = rng.uniformTensor([2, 3], 0.5, 2), s2 = rng.uniformTensor([2, 3], 0.5, 2)
        gradCheck([mu1, s1, mu2, s2]) { DiagonalGaussian.kl(mu1: $0[0], sigma1: $0[1], mu2: $0[2], sigma2: $0[3]) }
        gradCheck([mu1, s1, mu2, s2]) { DiagonalGaussian.symmetricKL(mu1: $0[0], sigma1: $0[1], mu2: $0[2], sigma2: $0[3]) }
        gradCheck([mu1, s1, mu2, s2]) { DiagonalGaussian.wasserstein2(mu1: $0[0], sigma1: $0[1], mu2: $0[2], sigma2: $0[3]) }
        gradCheck([rng.normalTensor([2, 3]), mu1, s1]) { DiagonalGaussian.logDensity($0[0], mu: $0[1], sigma: $0[2]) }
    }

    func testNormalQuantileTabulatedValues() {
        XCTAssertEqual(StandardNormal.quantile(1e-10), -6.3613409, accuracy: 1e-7)
        XCTAssertEqual(StandardNormal.quantile(0.975), 1.9599640, accuracy: 1e-7)
        XCTAssertEqual(StandardNormal.quantile(0.5), 0)
        XCTAssertEqual(StandardNormal.quantile(0.841344746068543), 1, accuracy: 1e-12)
        XCTAssertEqual(StandardNormal.quantile(2.866515718791939e-07), -5, accuracy: 1e-11)
        XCTAssertEqual(StandardNormal.quantile(0), -.infinity)
        XCTAssertEqual(StandardNormal.quantile(1), .infinity)
        XCTAssertTrue(StandardNormal.quantile(1.5).isNaN && StandardNormal.quantile(.nan).isNaN)
        XCTAssertEqual(StandardNormal.cdf(-5), 2.866515718791939e-07, accuracy: 1e-20)
        XCTAssertEqual(StandardNormal.cdf(-10), 7.619853024160527e-24, accuracy: 1e-36)
        XCTAssertEqual(StandardNormal.cdf(1.959963984540054), 0.975, accuracy: 1e-15)
    }

    func testNormalQuantileRoundTripsFarIntoBothTails() throws {
        // Φ(Φ⁻¹(p)) = p to 1e-9 relative, with Φ from erfc (an independent route)
        var ps: [Double] = []
        var e = -300.0
        while e < -0.31 { ps.append(pow(10, e)); e += 0.37 }
        ps += [0.01, 0.1, 0.2, 0.3, 0.4, 0.45, 0.499, 0.5]
        for p in ps {
            let x = StandardNormal.quantile(p)
            XCTAssertEqual(StandardNormal.cdf(x) / p, 1, accuracy: 1e-9, "p = \(p)")
            // the upper tail, where 1 − q is exact enough: Φ⁻¹(1 − q) = −Φ⁻¹(q)
            if p >= 1e-6 && p < 0.5 { XCTAssertEqual(StandardNormal.quantile(1 - p) / -x, 1, accuracy: 1e-9, "1 − \(p)") }
        }
        // and against Python's own implementation (statistics.NormalDist)
        let probes: [Double] = [1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.01, 0.3, 0.7, 0.99, 1 - 1e-10]
        let out = try python("from statistics import NormalDist\nprint(' '.join(repr(NormalDist().inv_cdf(p)) for p in \(probes)))")
        for (p, s) in zip(probes, out.split(separator: " ")) {
            let ref = Double(s)!
            XCTAssertEqual(StandardNormal.quantile(p), ref, accuracy: 1e-9 * abs(ref), "p = \(p)")
        }
    }

    func testChiSquareSurvivalClosedForms() {
        for u in [0.01, 0.5, 1, 3, 10, 40, 200] {
            XCTAssertEqual(ChiSquare.survival(u, degrees: 2), exp(-u / 2), accuracy: 1e-12 * max(1e-300, exp(-u / 2)) + 1e-15)
            XCTAssertEqual(ChiSquare.survival(u, degrees: 1), erfc((u / 2).squareRoot()), accuracy: 1e-10 * erfc((u / 2).squareRoot()) + 1e-15)
            let q4 = exp(-u / 2) * (1 + u / 2)
            XCTAssertEqual(ChiSquare.survival(u, degrees: 4), q4, accuracy: 1e-10 * q4 + 1e-15)
        }
        XCTAssertEqual(ChiSquare.survival(0, degrees: 5), 1)
    }

    func testPaperATailBoundHoldsAndMatchesItsFormula() {
        for d in [2, 3, 5, 10, 32, 64] {
            let dd = Double(d)
            let c = exp(0.5 * (dd - (dd - 1) * log(dd))) / Double.pi.squareRoot()
            var u = dd - 2 + 0.05
            while u < dd + 200 {
                let bound = ChiSquare.tailBound(u, degrees: d)
                XCTAssertGreaterThanOrEqual(bound, ChiSquare.survival(u, degrees: d) * (1 - 1e-9), "d = \(d), u = \(u)")
                let direct = c * pow(u, dd / 2) * exp(-u / 2) / (u - dd + 2)
                if direct.isFinite && direct > 0 { XCTAssertEqual(bound, min(1, direct), accuracy: 1e-9 * min(1, direct)) }
                u += 1.7
            }
            XCTAssertEqual(ChiSquare.tailBound(dd - 2, degrees: d), 1, "outside its conditions the bound says nothing")
        }
        XCTAssertEqual(ChiSquare.tailBound(100, degrees: 1), 1)
        // Theorem 1's p₂: u from the constants, and no information once b‖δ‖ > r/a (u is a
        // square and would grow again): a = b = 5, r = 8, ‖σ‖ = 0.1, c = 0, d = 10
        XCTAssertEqual(ChiSquare.theorem1P2(r: 8, a: 5, b: 5, c: 0, sigmaNorm: 0.1, deltaNorm: 1, degrees: 10), 1)
        let u = pow(8.0 / 5 - 5 * 0.1, 2) / pow(2 * 0.1, 2)
        XCTAssertEqual(ChiSquare.theorem1P2(r: 8, a: 5, b: 5, c: 0, sigmaNorm: 0.1, deltaNorm: 0.1, degrees: 10),
                       ChiSquare.tailBound(u, degrees: 10))
        let uc = pow(8.0 / 5 - 5 * 0.1, 2) / pow(3 * 0.1 + 2 * 0.1, 2)
        XCTAssertEqual(ChiSquare.theorem1P2(r: 8, a: 5, b: 5, c: 3, sigmaNorm: 0.1, deltaNorm: 0.1, degrees: 10),
                       ChiSquare.tailBound(uc, degrees: 10))
        XCTAssertEqual(ChiSquare.theorem1P2(r: 8, a: 5, b: 5, c: 0, sigmaNorm: 0, deltaNorm: 0, degrees: 10), 1)
        XCTAssertEqual(ChiSquare.markovTail(meanSquaredNorm: 2, threshold: 4), 0.125)
        XCTAssertEqual(ChiSquare.markovTail(meanSquaredNorm: 20, threshold: 4), 1)
    }
}
