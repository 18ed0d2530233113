import Foundation

/// One update of every row's perturbation for the attack optimisers, with each row's own
/// state: its learning rate and plateau counter (`sgd`, `adam`) and Adam's moments.
///
/// `sgd` and `adam` port paper D's attack loop (AKuzina/defend_vae_mcmc, attack/attacker.py,
/// `train_eps`): `torch.optim.SGD` or `torch.optim.Adam` on the loss −objective, then
/// `ReduceLROnPlateau(patience, factor)` stepped with that loss, and the loop left once the
/// rate falls below 1e-6. There each restart runs alone with a scalar loss; here every row
/// keeps its own rate and counter, which is the same thing for all rows at once.
struct AttackStepper {
    let settings: AttackSettings
    let size: Int
    /// Per row: learning rate, best loss so far, steps without improvement.
    var lr: [Double], bestLoss: [Double], bad: [Int]
    /// Adam's first and second moments of the loss gradient, and its step count.
    var m: [Float] = [], v: [Float] = [], t = 0

    init(settings: AttackSettings, rows: Int, size: Int) {
        self.settings = settings
        self.size = size
        lr = [Double](repeating: Double(settings.lr), count: rows)
        bestLoss = [Double](repeating: .infinity, count: rows)
        bad = [Int](repeating: 0, count: rows)
        if settings.optimizer == .adam {
            m = [Float](repeating: 0, count: rows * size)
            v = m
        }
    }

    /// The next (unprojected) perturbation from δ, the gradient of the objective at x + δ and
    /// the objective's values there.
    mutating func step(_ delta: Tensor, gradient g: Tensor, values: Tensor) -> Tensor {
        let s = settings
        if s.optimizer == .pgd { return delta + Attack.ascent(g, norm: s.norm, step: s.step) }
        var out = delta
        t += 1
        let (b1, b2, eps): (Float, Float, Float) = (0.9, 0.999, 1e-8)
        let bc1 = 1 - pow(Double(b1), Double(t)), bc2Sqrt = (1 - pow(Double(b2), Double(t))).squareRoot()
        for i in 0..<lr.count where lr[i] >= 1e-6 {
            let rate = Float(lr[i])
            for k in (i * size)..<((i + 1) * size) {
                let gradLoss = -g.data[k]  // the loss is −objective
                switch s.optimizer {
                case .sgd:
                    out.data[k] -= rate * gradLoss
                case .adam:
                    m[k] += (gradLoss - m[k]) * (1 - b1)
                    v[k] = v[k] * b2 + (1 - b2) * gradLoss * gradLoss
                    let denom = v[k].squareRoot() / Float(bc2Sqrt) + eps
                    out.data[k] -= Float(Double(rate) / bc1) * (m[k] / denom)
                case .pgd: break
                }
            }
            plateau(i, loss: -Double(values.data[i]))
        }
        return out
    }

    /// `torch.optim.lr_scheduler.ReduceLROnPlateau` in mode min with its default relative
    /// threshold 1e-4, no cooldown and no floor, for row i.
    mutating func plateau(_ i: Int, loss: Double) {
        if loss < bestLoss[i] * (1 - 1e-4) {
            bestLoss[i] = loss
            bad[i] = 0
        } else {
            bad[i] += 1
        }
        if bad[i] > settings.patience {
            let reduced = lr[i] * Double(settings.factor)
            if lr[i] - reduced > 1e-8 { lr[i] = reduced }
            bad[i] = 0
        }
    }
}
