/// Tiles batches of images into one picture: one row per batch, optionally with a text
/// label on the left of each row, scaled up so small images (28×28) are readable.
public enum ImageGrid {
    /// - Parameters:
    ///   - rows: each `[N, C, H, W]` (C = 1 or 3); all rows share C, H, W (grey rows are
    ///     promoted to RGB when others are in colour).
    ///   - labels: one per row, or empty.
    ///   - scale: integer up-scaling of every pixel.
    ///   - padding: background pixels between images (before scaling).
    /// - Returns: a `[C, H', W']` image with values in [0, 1].
    public static func make(rows: [Tensor], labels: [String] = [], scale: Int = 3, padding: Int = 2,
                            background: Float = 1) throws -> Tensor {
        guard !rows.isEmpty else { throw ToolError("no rows") }
        guard labels.isEmpty || labels.count == rows.count else {
            throw ToolError("\(labels.count) labels for \(rows.count) rows")
        }
        for r in rows where r.rank != 4 || !(r.shape[1] == 1 || r.shape[1] == 3) {
            throw ToolError("each row must be [N, 1|3, H, W], got \(r.shape)")
        }
        let (h, w) = (rows[0].shape[2], rows[0].shape[3])
        guard rows.allSatisfy({ $0.shape[2] == h && $0.shape[3] == w }) else {
            throw ToolError("rows have different image sizes \(rows.map { Array($0.shape.dropFirst(2)) })")
        }
        let c = rows.contains { $0.shape[1] == 3 } ? 3 : 1
        let cols = rows.map { $0.shape[0] }.max()!
        let glyphScale = max(1, scale / 2 + (h >= 28 ? 1 : 0))
        let labelChars = labels.map(\.count).max() ?? 0
        let labelW = labelChars == 0 ? 0 : labelChars * (BitmapFont.width + 1) * glyphScale + 4 * glyphScale
        let cellW = (w + padding) * scale, cellH = (h + padding) * scale
        let outW = labelW + cols * cellW + padding * scale
        let outH = rows.count * cellH + padding * scale
        var out = Tensor(shape: [c, outH, outW], repeating: background)
        out.data.withUnsafeMutableBufferPointer { o in
            for (ri, row) in rows.enumerated() {
                let rc = row.shape[1]
                let y0 = padding * scale + ri * cellH
                row.data.withUnsafeBufferPointer { src in
                    for n in 0..<row.shape[0] {
                        let x0 = labelW + padding * scale + n * cellW
                        for ch in 0..<c {
                            let sc = rc == 1 ? 0 : ch
                            for y in 0..<(h * scale) { for x in 0..<(w * scale) {
                                let v = src[((n * rc + sc) * h + y / scale) * w + x / scale]
                                o[(ch * outH + y0 + y) * outW + x0 + x] = v
                            } }
                        }
                    }
                }
                if !labels.isEmpty {
                    let ty = y0 + (h * scale - BitmapFont.height * glyphScale) / 2
                    for (k, chr) in labels[ri].enumerated() {
                        let tx = 2 * glyphScale + k * (BitmapFont.width + 1) * glyphScale
                        for gy in 0..<BitmapFont.height { for gx in 0..<BitmapFont.width where BitmapFont.pixel(chr, col: gx, row: gy) {
                            for dy in 0..<glyphScale { for dx in 0..<glyphScale {
                                let (py, px) = (ty + gy * glyphScale + dy, tx + gx * glyphScale + dx)
                                guard py >= 0 && py < outH else { continue }
                                for ch in 0..<c { o[(ch * outH + py) * outW + px] = 1 - background }
                            } }
                        } }
                    }
                }
            }
        }
        return out
    }
}
