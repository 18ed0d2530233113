/// Whole-dataset numbers of a model, in batches without building a graph.
extension VAE {
    /// Mean per-image ELBO (one reparameterisation sample each, from `seed`), mean per-pixel
    /// squared error of the reconstruction from z = μ, and, for a proVAE radius > 0, the mean
    /// certified ELBO lower bound on the same draws, so never above the ELBO (over the ball
    /// clipped to [0, 1] with `pixelBox`, the whole ball without).
    public func evaluate(_ images: Tensor, batch: Int = 500, seed: UInt64 = 0, boundRadius: Float? = nil, pixelBox: Bool = true)
        -> (elbo: Double, mse: Double, bound: Double?) {
        var rng = RNG(seed: seed)
        var elbo = 0.0, sq = 0.0, bound = 0.0
        let n = images.shape[0]
        Autodiff.withoutGradients {
            for r in Batches.ranges(count: n, size: batch) {
                let xb = images.rows(r)
                let x = Variable(xb)
                // the bound takes the ELBO sample's draws, so that it lies below it image by image
                var boundDraws = rng
                let t = elboTerms(x, rng: &rng)
                elbo += Double((t.logpx - t.kl).value.sum())
                let rec = decodeMean(t.mu).value
                sq += Double((rec - xb).map { $0 * $0 }.sum())
                if let e = boundRadius, e > 0 {
                    bound += Double(elboLowerBound(x, epsilon: e, pixelBox: pixelBox, rng: &boundDraws).bound.value.sum())
                }
            }
        }
        return (elbo / Double(n), sq / Double(images.count), boundRadius.map { $0 > 0 ? bound / Double(n) : elbo / Double(n) })
    }
}
