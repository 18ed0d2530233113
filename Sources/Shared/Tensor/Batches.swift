/// Maps a model over many rows a batch at a time: the one loop every tool uses to encode,
/// decode, score or attack a dataset without holding every activation of it at once.
public enum Batches {
    /// Rows per batch when a caller does not choose: large enough for sgemm to run at full
    /// speed, small enough that a conv encoder's activations for one batch stay near 100 MB.
    public static let defaultSize = 500

    /// Consecutive ranges of at most `size` rows covering `0..<count` (none for 0 rows).
    public static func ranges(count: Int, size: Int = defaultSize) -> [Range<Int>] {
        precondition(size >= 1, "batch size must be at least 1")
        return stride(from: 0, to: count, by: size).map { $0..<Swift.min(count, $0 + size) }
    }

    /// `f` of every batch of rows of `x`, its per-row results concatenated in order.
    public static func map<R>(_ x: Tensor, size: Int = defaultSize, _ f: (Tensor) throws -> [R]) rethrows -> [R] {
        var out: [R] = []
        out.reserveCapacity(x.shape[0])
        for r in ranges(count: x.shape[0], size: size) { out += try f(x.rows(r)) }
        return out
    }

    /// `f` of every batch of rows of `x`, the resulting tensors stacked along their first
    /// axis. With no rows, `f` sees the empty tensor once, so the result has its shape.
    public static func mapRows(_ x: Tensor, size: Int = defaultSize, _ f: (Tensor) throws -> Tensor) rethrows -> Tensor {
        if x.shape[0] <= size { return try f(x) }
        return Tensor.concatRows(try ranges(count: x.shape[0], size: size).map { try f(x.rows($0)) })
    }
}
