/// A model's codes and images for whole datasets, a batch at a time and without a graph.
extension VAE {
    /// Encoder means μ(x) `[N, latent]`.
    public func encoderMeans(_ images: Tensor, batch: Int = Batches.defaultSize) -> Tensor {
        Autodiff.withoutGradients { Batches.mapRows(images, size: batch) { encode(Variable($0)).mu.value } }
    }

    /// Decoder means σ(logits) `[N, C, H, W]` of codes `[N, latent]`.
    public func decoderMeans(_ codes: Tensor, batch: Int = Batches.defaultSize) -> Tensor {
        Autodiff.withoutGradients { Batches.mapRows(codes, size: batch) { decodeMean(Variable($0)).value } }
    }
}
