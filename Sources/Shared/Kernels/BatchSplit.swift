import Foundation
import Synchronization

/// Runs per-sample-independent work on parts of a batch concurrently,
/// with OpenBLAS single-threaded meanwhile (it then computes in the calling thread, so the
/// concurrent calls are safe).
enum BatchSplit {
    /// Parts per batch. Fixed rather than the machine's core count: the weight gradients are
    /// sums over parts, so their rounding depends on the part count, and results must not
    /// change from one machine to another (with one core the parts simply run in turn).
    static let partsPerBatch = 2

    /// The batch cut into `partsPerBatch` parts (a single part for batches under 16).
    static func parts(_ x: Tensor) -> [Tensor] {
        let r = ranges(x.shape[0])
        guard r.count > 1 else { return [x] }
        return r.map { x.rows($0) }
    }

    /// The row ranges of those parts, for ops that work on one shared buffer.
    static func ranges(_ n: Int) -> [Range<Int>] {
        let k = n >= 16 ? partsPerBatch : 1
        return (0..<k).map { i in (i * n / k)..<((i + 1) * n / k) }
    }

    /// `gOut` cut like `parts` (same row counts).
    static func split(_ t: Tensor, like parts: [Tensor]) -> [Tensor] {
        guard parts.count > 1 else { return [t] }
        var start = 0
        return parts.map { p in defer { start += p.shape[0] }; return t.rows(start..<(start + p.shape[0])) }
    }

    /// 1 while a `map` runs its parts concurrently, else 0. A `map` called meanwhile (from
    /// inside one, as an op within an HMC half, or from another thread) runs its parts in
    /// turn: the cores are busy.
    static let concurrentMaps = Atomic<Int>(0)

    static func map<A, R>(_ items: [A], _ f: (A) -> R) -> [R] {
        guard items.count > 1, concurrentMaps.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged else {
            return items.map(f)
        }
        let saved = BLAS.threads
        BLAS.setThreads(1)
        defer {
            BLAS.setThreads(saved)
            concurrentMaps.subtract(1, ordering: .acquiringAndReleasing)
        }
        var results = [R?](repeating: nil, count: items.count)
        results.withUnsafeMutableBufferPointer { buf in
            nonisolated(unsafe) let out = buf
            withoutActuallyEscaping(f) { f in
                nonisolated(unsafe) let run = f
                DispatchQueue.concurrentPerform(iterations: items.count) { i in out[i] = run(items[i]) }
            }
        }
        return results.map { $0! }
    }

    static func sum(_ ts: [Tensor]) -> Tensor {
        var s = ts[0]
        for t in ts.dropFirst() { s.addInPlace(t) }
        return s
    }
}
