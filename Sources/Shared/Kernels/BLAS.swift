import COpenBLAS
import Synchronization

/// Every matrix product in RobustVAE goes through OpenBLAS `cblas_sgemm` (`cblas_dgemm` for
/// the few in double precision)
/// (measured on this project's 2-core machines: a Swift triple loop reaches 6-9 GFLOP/s,
/// sgemm 100+).
public enum BLAS {
    /// `C[m×n] = alpha · op(A) · op(B) + beta · C`, row-major, where op(A) is m×k and op(B) is k×n.
    /// `lda`, `ldb` and `ldc` are the row strides of A, B and C as stored.
    @inlinable
    public static func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        productCounter.add(1, ordering: .relaxed)
        if k == 0 {
            // BLAS leaves C scaled by beta; make the empty-sum case explicit.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `C[m×n] = op(A) · op(B)` in double precision (certified bounds need it), row-major.
    public static func dgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                             c: UnsafeMutablePointer<Double>, ldc: Int) {
        productCounter.add(1, ordering: .relaxed)
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
    }

    /// How many matrix products have run in this process: lets tests see which products an
    /// op skipped (a frozen weight's gradient, say). One relaxed atomic add per product.
    public static var productCount: Int { productCounter.load(ordering: .relaxed) }
    @usableFromInline static let productCounter = Atomic<Int>(0)

    /// Sets how many threads OpenBLAS uses (tools that parallelise their own loops set 1).
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    public static var threads: Int { Int(openblas_get_num_threads()) }
}
