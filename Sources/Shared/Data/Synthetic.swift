import Foundation

/// A small built-in dataset that needs nothing installed, for tests and quick demos:
/// 28×28 grey images of ten shape classes (bars, crosses, boxes, discs, diagonals, …)
/// with random position, size and intensity jitter plus a little noise. Deterministic:
/// split `train` (2,000 images) and `test` (500) each come from their own fixed seed.
public enum Synthetic {
    public static let side = 28
    public static let sizes = ["train": 2000, "test": 500]

    public static func make(split: String) throws -> Dataset {
        guard let n = sizes[split] else { throw ToolError("synthetic: no split '\(split)' (have train, test)") }
        var rng = RNG(seed: split == "train" ? 0x5EED_7A11 : 0x5EED_7E57)
        let s = side
        var labels = [Int](repeating: 0, count: n)
        let images = Tensor(shape: [n, 1, s, s]) { out in
            out.initialize(repeating: 0)
            for i in 0..<n {
                let cls = i % 10
                labels[i] = cls
                let cx = Float(s) / 2 + rng.uniform(-3, 3), cy = Float(s) / 2 + rng.uniform(-3, 3)
                let r = rng.uniform(6, 10), ink = rng.uniform(0.7, 1.0)
                for y in 0..<s { for x in 0..<s {
                    let dx = Float(x) - cx, dy = Float(y) - cy
                    let on: Bool
                    switch cls {
                    case 0: on = abs(dx) < 2 && abs(dy) < r                         // vertical bar
                    case 1: on = abs(dy) < 2 && abs(dx) < r                         // horizontal bar
                    case 2: on = (abs(dx) < 2 || abs(dy) < 2) && max(abs(dx), abs(dy)) < r  // plus
                    case 3: on = max(abs(dx), abs(dy)) < r && max(abs(dx), abs(dy)) > r - 2.5 // square outline
                    case 4: on = dx * dx + dy * dy < r * r                          // disc
                    case 5: let d = (dx * dx + dy * dy).squareRoot(); on = d < r && d > r - 2.5 // ring
                    case 6: on = abs(dx - dy) < 2 && abs(dx) < r                    // diagonal
                    case 7: on = abs(dx + dy) < 2 && abs(dx) < r                    // anti-diagonal
                    case 8: on = (abs(dx - dy) < 2 || abs(dx + dy) < 2) && abs(dx) < r // X
                    default: on = dy > -r && dy < r && abs(dx) < (dy + r) / 2       // triangle
                    }
                    let noise = rng.uniform(0, 0.1)
                    out[i * s * s + y * s + x] = min(1, (on ? ink : 0) + noise)
                } }
            }
        }
        return Dataset(images: images, labels: labels, classCount: 10, source: "synthetic:\(split)")
    }
}
