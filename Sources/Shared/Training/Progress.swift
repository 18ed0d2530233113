import Foundation

/// Training progress on stderr: a live bar (epoch, images/s, loss, ETA) redrawn in place
/// when stderr is a terminal, plain lines (every `plainEvery` seconds and at epoch ends)
/// when it is not, so logs stay readable.
public final class Progress {
    let isTerminal = isatty(2) != 0
    let plainEvery: Double
    var lastPlain = 0.0
    let start = Date()

    public init(plainEvery: Double = 15) { self.plainEvery = plainEvery }

    public var elapsed: Double { Date().timeIntervalSince(start) }

    static func clock(_ s: Double) -> String {
        guard s.isFinite else { return "--:--" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }

    /// Reports progress within an epoch. `done`/`total` count images over the whole run.
    public func update(epoch: Int, epochs: Int, fraction: Double, imagesPerSecond: Double, loss: Float, remaining: Double) {
        let text = String(format: "epoch %d/%d %3.0f%% | %6.0f img/s | loss %.3f | ETA %@",
                          epoch, epochs, fraction * 100, imagesPerSecond, loss, Progress.clock(remaining))
        if isTerminal {
            let width = 20, filled = Int(fraction * Double(width))
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(text)\u{1B}[K".utf8))
        } else if elapsed - lastPlain >= plainEvery {
            lastPlain = elapsed
            Log.line(text)
        }
    }

    /// A line that stays (epoch summaries, messages).
    public func line(_ text: String) {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        Log.line(text)
    }
}

/// Ctrl-C handling: the first SIGINT sets a flag the training loop checks between batches
/// (so it can save a checkpoint and exit cleanly); a second one exits at once.
public enum Interrupt {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0

    public static func install() {
        signal(SIGINT) { _ in
            if Interrupt.flag != 0 { _exit(130) }
            Interrupt.flag = 1
        }
    }
    public static var requested: Bool { flag != 0 }
}
