#if canImport(Glibc)
import CSystem
#endif

/// Process-wide settings every tool applies at start-up.
public enum Runtime {
    /// Keeps freed tensor buffers in the heap instead of returning them to the kernel.
    ///
    /// A training step allocates and frees the same large buffers (activations, gradients,
    /// 0.25–2 MB each) every iteration. With glibc's defaults these are mmapped or trimmed
    /// away and fault back in page by page, which measured here as ~45% of an MLP
    /// forward+backward (3.8 ms → 2.2 ms per step of paper A's MLP at batch 128).
    /// Also sets the OpenBLAS thread count.
    public static func configure(blasThreads: Int? = nil) {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)   // the largest value glibc accepts on 64-bit
        _ = mallopt(M_TRIM_THRESHOLD, 512 << 20)
        _ = mallopt(M_TOP_PAD, 64 << 20)
        #endif
        if let t = blasThreads { BLAS.setThreads(t) }
    }
}
