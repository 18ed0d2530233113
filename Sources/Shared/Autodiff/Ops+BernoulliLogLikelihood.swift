/// The Bernoulli log-likelihood of images under decoder logits, summed per image, as one op:
///
///     log p(x | l) = Σ_i x_i l_i − softplus(l_i)        (= Σ x log σ(l) + (1 − x) log(1 − σ(l)))
///     ∂/∂l_i = x_i − σ(l_i),   ∂/∂x_i = l_i
///
/// It is the last step of every VAE with a Bernoulli or continuous Bernoulli decoder (papers
/// A-D) and runs on every pixel of every batch. Built from separate ops it took four passes
/// over the pixels forward and five backward, each with a fresh buffer; here it is one pass
/// each way, eight pixels at a time, the rows of a batch of 16 or more split over two cores
/// (each row's value is the same either way).
extension Variable {
    /// Per-row sums of x·l − softplus(l) for `x` and `logits` of the same shape `[N, ...]`.
    public static func bernoulliLogLikelihood(_ x: Variable, logits l: Variable) -> Variable {
        precondition(x.shape == l.shape && x.shape.count >= 1, "bernoulliLogLikelihood: \(x.shape) vs \(l.shape)")
        let n = x.shape[0], d = n == 0 ? 0 : x.value.count / n
        let (xv, lv) = (x.value, l.value)
        let out = Tensor(shape: [n]) { out in
            xv.data.withUnsafeBufferPointer { xb in
                lv.data.withUnsafeBufferPointer { lb in
                    _ = BatchSplit.map(BatchSplit.ranges(n)) { rows in
                        for r in rows {
                            out[r] = rowSum(xb.baseAddress! + r * d, lb.baseAddress! + r * d, d) { x, l in
                                x * l - VectorMath.softplus(l)
                            }
                        }
                    }
                }
            }
        }
        return Variable(out, parents: [x, l]) { g in
            let gl: Tensor? = !l.requiresGrad ? nil : Tensor(shape: lv.shape) { out in
                rowScaled(g, xv, lv, out.baseAddress!, d) { x, l in x - VectorMath.sigmoid(l) }
            }
            let gx: Tensor? = !x.requiresGrad ? nil : Tensor(shape: xv.shape) { out in
                rowScaled(g, xv, lv, out.baseAddress!, d) { _, l in l }
            }
            return [gx, gl]
        }
    }

    /// Σ_i f(a_i, b_i) over `count` values, eight lanes at a time (the tail padded with zeros
    /// and masked out).
    @inline(__always)
    static func rowSum(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int,
                       _ f: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>) -> Float {
        typealias V = SIMD8<Float>
        var acc = V(), i = 0
        while i + 8 <= count {
            acc += f(UnsafeRawPointer(a + i).loadUnaligned(as: V.self), UnsafeRawPointer(b + i).loadUnaligned(as: V.self))
            i += 8
        }
        var total = acc.sum()
        if i < count {
            var ta = V(), tb = V()
            for k in 0..<(count - i) { ta[k] = a[i + k]; tb[k] = b[i + k] }
            let r = f(ta, tb)
            for k in 0..<(count - i) { total += r[k] }
        }
        return total
    }

    /// out[r, i] = g[r] · f(a[r, i], b[r, i]) for rows of length `d`.
    @inline(__always)
    static func rowScaled(_ g: Tensor, _ a: Tensor, _ b: Tensor, _ out: UnsafeMutablePointer<Float>, _ d: Int,
                          _ f: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>) {
        g.data.withUnsafeBufferPointer { gb in
            a.data.withUnsafeBufferPointer { ab in
                b.data.withUnsafeBufferPointer { bb in
                    _ = BatchSplit.map(BatchSplit.ranges(gb.count)) { rows in
                        for r in rows {
                            let s = gb[r]
                            VectorMath.map2(ab.baseAddress! + r * d, bb.baseAddress! + r * d, out + r * d, d) { s * f($0, $1) }
                        }
                    }
                }
            }
        }
    }
}
