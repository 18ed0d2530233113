import Foundation

/// Splits element-wise work over the machine's cores.
///
/// Only for work whose result does not depend on how it is cut (each element computed on its
/// own, no sums across chunks), so results stay identical on every machine. OpenBLAS's idle
/// worker threads yield their cores (sched_yield), so running between BLAS calls is safe.
public enum Parallel {
    /// Cores to use: the processors available, at most 8.
    public static let cores = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))

    /// Calls `body` on disjoint ranges covering `0..<count`, concurrently when `count` is at
    /// least `2 · minChunk` (below that the dispatch costs more than it saves).
    @inlinable
    public static func forEachChunk(_ count: Int, minChunk: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
        let parts = min(cores, count / max(1, minChunk))
        guard parts > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let run = body
            DispatchQueue.concurrentPerform(iterations: parts) { i in
                // multiples of 16 floats keep every chunk but the last on whole cache lines
                let start = (count * i / parts) & ~15, end = i == parts - 1 ? count : (count * (i + 1) / parts) & ~15
                run(start..<end)
            }
        }
    }
}
