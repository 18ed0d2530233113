import CPNG
import Foundation

/// PNG reading and writing through libpng's simplified API (`png_image_*`), which reports
/// errors through `image.message` rather than `longjmp`, which Swift cannot catch.
/// Tensors are `[C, H, W]` with C = 1 (grey) or 3 (RGB) and values in [0, 1].
public enum PNG {
    /// Encodes a `[C, H, W]` (or `[H, W]`) tensor with values in [0, 1] (clamped) as PNG bytes.
    public static func encode(_ image: Tensor) throws -> Data {
        let t = image.rank == 2 ? image.reshaped([1] + image.shape) : image
        guard t.rank == 3, t.shape[0] == 1 || t.shape[0] == 3, t.shape[1] > 0, t.shape[2] > 0 else {
            throw ToolError("PNG: expected an image of shape [1|3, H, W], got \(image.shape)")
        }
        let (c, h, w) = (t.shape[0], t.shape[1], t.shape[2])
        // interleave channels: CHW floats -> HWC bytes
        var pixels = [UInt8](repeating: 0, count: h * w * c)
        t.data.withUnsafeBufferPointer { src in
            for ch in 0..<c { for i in 0..<(h * w) {
                let v = src[ch * h * w + i]
                pixels[i * c + ch] = UInt8(v.isNaN ? 0 : Swift.min(Swift.max(v, 0), 1) * 255 + 0.5)
            } }
        }
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        img.width = UInt32(w); img.height = UInt32(h)
        img.format = c == 3 ? UInt32(PNG_FORMAT_RGB) : UInt32(PNG_FORMAT_GRAY)
        var size: Int = 0
        // first call sizes the buffer, second writes it
        guard png_image_write_to_memory(&img, nil, &size, 0, pixels, Int32(w * c), nil) != 0 else {
            throw ToolError("PNG: cannot encode: \(message(&img))")
        }
        var out = [UInt8](repeating: 0, count: size)
        guard png_image_write_to_memory(&img, &out, &size, 0, pixels, Int32(w * c), nil) != 0 else {
            throw ToolError("PNG: cannot encode: \(message(&img))")
        }
        return Data(out[0..<size])
    }

    /// Writes a PNG atomically.
    public static func write(_ image: Tensor, to path: String) throws {
        do { try AtomicFile.write(encode(image), to: path) }
        catch let e as ToolError where e.message.hasPrefix("PNG:") { throw ToolError.file(path, e.message) }
    }

    /// Reads a PNG as `[1, H, W]` (grey) or `[3, H, W]` (anything with colour), values in [0, 1].
    /// Alpha is composited onto black.
    public static func read(_ path: String) throws -> Tensor {
        let data = try FileInput.read(path)
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        let ok = data.withUnsafeBytes { png_image_begin_read_from_memory(&img, $0.baseAddress, $0.count) }
        guard ok != 0 else { throw ToolError.file(path, "not a readable PNG: \(message(&img))") }
        let colour = (img.format & UInt32(PNG_FORMAT_FLAG_COLOR)) != 0
        img.format = colour ? UInt32(PNG_FORMAT_RGB) : UInt32(PNG_FORMAT_GRAY)
        let c = colour ? 3 : 1
        let (w, h) = (Int(img.width), Int(img.height))
        // The header's size is checked against a sane bound before allocating.
        guard w > 0, h > 0, w * h <= 1 << 28 else {
            png_image_free(&img)
            throw ToolError.file(path, "PNG of \(w)x\(h) pixels is too large")
        }
        var pixels = [UInt8](repeating: 0, count: w * h * c)
        var black = png_color(red: 0, green: 0, blue: 0)
        guard png_image_finish_read(&img, &black, &pixels, Int32(w * c), nil) != 0 else {
            throw ToolError.file(path, "not a readable PNG: \(message(&img))")
        }
        return Tensor(shape: [c, h, w]) { out in
            for ch in 0..<c { for i in 0..<(h * w) { out[ch * h * w + i] = Float(pixels[i * c + ch]) / 255 } }
        }
    }

    private static func message(_ img: inout png_image) -> String {
        withUnsafeBytes(of: &img.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
