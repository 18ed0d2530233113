import Dispatch

/// Splitting a loop across the machine's cores for kernels that are not matrix products
/// (im2col/col2im). The OpenBLAS workers idle between products, so the second core is free.
public enum Parallel {
    /// Worker count: the active processors, at most 8.
    public static let workers = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))

    /// Calls `body(range)` on disjoint consecutive ranges covering `0..<count`, in parallel
    /// when `count` and `work` (a rough count of element operations) make it worthwhile.
    @inline(__always)
    public static func forRanges(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
        let chunks = min(workers, count)
        if chunks <= 1 || work < 32_768 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let run = body
            DispatchQueue.concurrentPerform(iterations: chunks) { k in
                run((k * count / chunks)..<((k + 1) * count / chunks))
            }
        }
    }
}

import Foundation
