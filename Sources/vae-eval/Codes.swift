import Shared

/// Latent codes from a `.npy` file, as decode, accuracy and posterior-ratio read them: a finite
/// `[rows, width]` matrix whose row count `rows` accepts. `expected` names the shape in the
/// one-line error.
func readCodes(_ path: String, width: Int, expected: String, rows: (Int) -> Bool) throws -> Tensor {
    let z = try Npy.read(path)
    guard z.rank == 2, z.shape[1] == width, rows(z.shape[0]) else {
        throw ToolError.file(path, "expected codes of shape \(expected), got \(z.shape)")
    }
    guard z.isFinite else { throw ToolError.file(path, "contains NaN or infinite values") }
    return z
}
