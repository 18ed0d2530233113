import Foundation

/// Paper A Algorithm 2 (from paper B): the empirical r-robustness margin by maximum-damage
/// attacks. At a radius R, T attacks (restarts) maximise ‖g(z_δ) − g(z_¬δ)‖₂ under ‖δ‖₂ ≤ R
/// (paper A Eq. 4, `vae-attack max-damage --damage-reference sample`); each attack's
/// r-robustness probability is the share of S fresh pairs z_δ ~ q(z|x+δ), z_¬δ ~ q(z|x) with
/// ‖g(z_δ) − g(z_¬δ)‖₂ ≤ r; the input is r-robust at R when all T probabilities exceed the
/// threshold. This is an estimate from above of the true margin (a stronger attack could only
/// lower it), not a certificate.
public struct EmpiricalMarginSettings: Sendable {
    public var r: Float = 8
    public var start: Float = 10
    public var step: Float = 0.5
    /// Attacks (restarts) per radius (T) and probability samples per attack (S).
    public var restarts = 5
    public var samples = 40
    public var threshold = 0.5
    /// PGD steps of each attack, with step size radius/10.
    public var attackSteps = 50
    /// Linear: R from `start` down by `step` (Algorithm 2). Bisection: the same grid, searched
    /// by halving, which assumes robustness is monotone in R.
    public var bisect = false
    public var seed: UInt64 = 0
    public init() {}
}

public enum EmpiricalMargin {
    /// Whether each image is r-robust at radius R under T attacks, and the attacks run.
    static func robust(_ vae: VAE, images x: Tensor, radius: Float, settings s: EmpiricalMarginSettings, level: Int) -> [Bool] {
        var a = AttackSettings(kind: .maxDamage)
        a.norm = .l2; a.radius = radius; a.step = radius / 10; a.steps = s.attackSteps
        a.restarts = s.restarts; a.samples = 1; a.damageReference = .sample; a.through = .both
        var g = RNG(seed: s.seed).derived(0x3A00 + UInt64(level))
        a.seed = g.next()
        let n = x.shape[0], k = s.restarts
        let adv = Attack.run(vae, references: x, settings: a).images
        let x0 = x.gatherRows((0..<(n * k)).map { $0 / k })
        var rng = RNG(seed: s.seed).derived(0x3B00 + UInt64(level))
        let (muA, sgA) = Autodiff.withoutGradients { vae.encode(Variable(adv)) }
        let (mu0, sg0) = Autodiff.withoutGradients { vae.encode(Variable(x0)) }
        var within = [Int](repeating: 0, count: n * k)
        for _ in 0..<s.samples {
            let d = Autodiff.withoutGradients { () -> Tensor in
                let ga = vae.decodeMean(muA + sgA * Variable(rng.normalTensor(muA.shape)))
                let g0 = vae.decodeMean(mu0 + sg0 * Variable(rng.normalTensor(mu0.shape)))
                return (ga - g0).square().flattened().sum(axis: 1).value
            }
            for i in 0..<(n * k) where Double(d.data[i]).squareRoot() <= Double(s.r) { within[i] += 1 }
        }
        return (0..<n).map { i in (0..<k).allSatisfy { Double(within[i * k + $0]) / Double(s.samples) > s.threshold } }
    }

    /// The margin of every image (0 where no radius of the grid is robust) and the number of
    /// attacks each needed (restarts × radii tried).
    public static func estimate(_ vae: VAE, images x: Tensor, settings s: EmpiricalMarginSettings) -> (margins: [Double], attacks: [Int]) {
        let n = x.shape[0]
        let levels = Int((s.start / s.step).rounded(.down))  // radii start, start − step, ..., > 0
        func radius(_ j: Int) -> Float { s.start - Float(j) * s.step }  // j in 0..<levels
        var margins = [Double](repeating: 0, count: n), attacks = [Int](repeating: 0, count: n)
        if !s.bisect {
            var open = Array(0..<n)
            for j in 0..<levels where !open.isEmpty {
                let ok = robust(vae, images: x.gatherRows(open), radius: radius(j), settings: s, level: j)
                var still: [Int] = []
                for (k, i) in open.enumerated() {
                    attacks[i] += s.restarts
                    if ok[k] { margins[i] = Double(radius(j)) } else { still.append(i) }
                }
                open = still
            }
            return (margins, attacks)
        }
        // bisection over grid indices: lo is the smallest index known robust (levels: none),
        // hi the largest known not robust (−1: none)
        var lo = [Int](repeating: levels, count: n), hi = [Int](repeating: -1, count: n)
        // the largest radius first: an image robust there needs no other round
        if levels > 0 {
            let ok = robust(vae, images: x, radius: radius(0), settings: s, level: 0)
            for i in 0..<n {
                attacks[i] += s.restarts
                if ok[i] { lo[i] = 0 } else { hi[i] = 0 }
            }
        }
        while true {
            let active = (0..<n).filter { lo[$0] - hi[$0] > 1 }
            if active.isEmpty { break }
            // one batched round per distinct midpoint
            var byMid: [Int: [Int]] = [:]
            for i in active { byMid[(lo[i] + hi[i]) / 2, default: []].append(i) }
            for (mid, rows) in byMid.sorted(by: { $0.key < $1.key }) {
                let ok = robust(vae, images: x.gatherRows(rows), radius: radius(mid), settings: s, level: mid)
                for (k, i) in rows.enumerated() {
                    attacks[i] += s.restarts
                    if ok[k] { lo[i] = mid } else { hi[i] = mid }
                }
            }
        }
        for i in 0..<n where lo[i] < levels { margins[i] = Double(radius(lo[i])) }
        return (margins, attacks)
    }
}
