/// Shape ops: reshape, 2-D transpose, slicing and concatenation along an axis.
extension Variable {
    public func reshaped(_ newShape: [Int]) -> Variable {
        let s = shape
        return Variable(value.reshaped(newShape), parents: [self]) { g in [g.reshaped(s)] }
    }

    /// Flattens everything after the first axis: `[N, ...] -> [N, D]`.
    public func flattened() -> Variable { reshaped([shape[0], -1]) }

    /// Transpose of a matrix.
    public func transposed() -> Variable {
        precondition(shape.count == 2, "transposed() needs a matrix, got \(shape)")
        return Variable(value.transposed(), parents: [self]) { g in [g.transposed()] }
    }

    /// Elements `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Variable {
        let ax = axis < 0 ? axis + shape.count : axis
        let inShape = shape
        return Variable(value.slice(axis: ax, range), parents: [self]) { g in
            [Tensor.scatterSlice(g, into: inShape, axis: ax, at: range.lowerBound)]
        }
    }

    /// Concatenation along `axis`.
    public static func concat(_ parts: [Variable], axis: Int) -> Variable {
        let ax = axis < 0 ? axis + parts[0].shape.count : axis
        let out = Tensor.concat(parts.map(\.value), axis: ax)
        let sizes = parts.map { $0.shape[ax] }
        return Variable(out, parents: parts) { g in
            var start = 0
            return sizes.map { n in
                defer { start += n }
                return g.slice(axis: ax, start..<(start + n))
            }
        }
    }
}

extension Tensor {
    /// Matrix transpose.
    public func transposed() -> Tensor {
        precondition(rank == 2)
        let (r, c) = (shape[0], shape[1])
        return Tensor(shape: [c, r]) { out in
            data.withUnsafeBufferPointer { src in
                // blocked for cache friendliness
                let bs = 32
                for i0 in stride(from: 0, to: r, by: bs) {
                    for j0 in stride(from: 0, to: c, by: bs) {
                        for i in i0..<Swift.min(i0 + bs, r) {
                            for j in j0..<Swift.min(j0 + bs, c) { out[j * r + i] = src[i * c + j] }
                        }
                    }
                }
            }
        }
    }

    /// Elements `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        precondition(axis >= 0 && axis < rank && range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "slice \(range) out of range for axis \(axis) of \(shape)")
        let outer = shape[..<axis].reduce(1, *), n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var s = shape
        s[axis] = range.count
        let len = range.count * inner
        return Tensor(shape: s) { out in
            data.withUnsafeBufferPointer { src in
                for o in 0..<outer {
                    UnsafeMutableRawPointer(out.baseAddress! + o * len)
                        .copyMemory(from: src.baseAddress! + (o * n + range.lowerBound) * inner, byteCount: len * 4)
                }
            }
        }
    }

    /// A zero tensor of `shape` with `part` written at offset `start` along `axis`.
    static func scatterSlice(_ part: Tensor, into shape: [Int], axis: Int, at start: Int) -> Tensor {
        let outer = shape[..<axis].reduce(1, *), n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        let len = part.shape[axis] * inner
        var out = Tensor.zeros(shape)
        out.data.withUnsafeMutableBufferPointer { dst in
            part.data.withUnsafeBufferPointer { src in
                for o in 0..<outer {
                    UnsafeMutableRawPointer(dst.baseAddress! + (o * n + start) * inner)
                        .copyMemory(from: src.baseAddress! + o * len, byteCount: len * 4)
                }
            }
        }
        return out
    }

    /// Concatenation along `axis` (all other dimensions equal).
    public static func concat(_ parts: [Tensor], axis: Int) -> Tensor {
        var s = parts[0].shape
        for p in parts {
            precondition(p.rank == s.count && (0..<s.count).allSatisfy { $0 == axis || p.shape[$0] == s[$0] },
                         "concat: shapes \(parts.map(\.shape)) differ off axis \(axis)")
        }
        s[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        var out = Tensor.zeros(s)
        var start = 0
        for p in parts {
            let piece = scatterSlice(p, into: s, axis: axis, at: start)
            out.addInPlace(piece)
            start += p.shape[axis]
        }
        return out
    }
}
