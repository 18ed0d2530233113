import XCTest
import Shared

/// Convolutions against direct loop implementations, adjointness, and gradient checks.
final class ConvolutionTests: XCTestCase {
    var rng = RNG(seed: 2)

    /// out[n,o,y,x] = b[o] + Σ_{c,i,j} w[o,c,i,j] · x[n,c, y·s − p + i·d, x·s − p + j·d]
    func directConv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: ConvGeometry) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let o = w.shape[0], (oh, ow) = g.convOutput(h: h, w: wd)
        var out = Tensor.zeros([n, o, oh, ow])
        for b0 in 0..<n { for oc in 0..<o { for y in 0..<oh { for xx in 0..<ow {
            var s: Float = b?.data[oc] ?? 0
            for ci in 0..<c { for i in 0..<g.kernel.h { for j in 0..<g.kernel.w {
                let iy = y * g.stride - g.padding + i * g.dilation, ix = xx * g.stride - g.padding + j * g.dilation
                guard iy >= 0 && iy < h && ix >= 0 && ix < wd else { continue }
                s += w.data[((oc * c + ci) * g.kernel.h + i) * g.kernel.w + j] * x.data[((b0 * c + ci) * h + iy) * wd + ix]
            } } }
            out.data[((b0 * o + oc) * oh + y) * ow + xx] = s
        } } } }
        return out
    }

    /// Transposed convolution as a direct scatter: each input pixel adds w·x into the output.
    func directConvTranspose(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: ConvGeometry, outputPadding: Int) -> Tensor {
        let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let cout = w.shape[1], (oh, ow) = g.transposedOutput(h: h, w: wd, outputPadding: outputPadding)
        var out = Tensor.zeros([n, cout, oh, ow])
        for b0 in 0..<n { for ci in 0..<cin { for y in 0..<h { for xx in 0..<wd {
            let v = x.data[((b0 * cin + ci) * h + y) * wd + xx]
            for oc in 0..<cout { for i in 0..<g.kernel.h { for j in 0..<g.kernel.w {
                let oy = y * g.stride - g.padding + i * g.dilation, ox = xx * g.stride - g.padding + j * g.dilation
                guard oy >= 0 && oy < oh && ox >= 0 && ox < ow else { continue }
                out.data[((b0 * cout + oc) * oh + oy) * ow + ox] += v * w.data[((ci * cout + oc) * g.kernel.h + i) * g.kernel.w + j]
            } } }
        } } } }
        if let b { for b0 in 0..<n { for oc in 0..<cout { for p in 0..<(oh * ow) { out.data[(b0 * cout + oc) * oh * ow + p] += b.data[oc] } } } }
        return out
    }

    let geometries = [
        ConvGeometry(kernel: 3), ConvGeometry(kernel: 3, stride: 2, padding: 1),
        ConvGeometry(kernel: 2, stride: 1, padding: 0, dilation: 2), ConvGeometry(kernelH: 3, kernelW: 2, stride: 2, padding: 1, dilation: 1),
        ConvGeometry(kernel: 3, stride: 3, padding: 2, dilation: 2),
    ]

    func testConvForwardMatchesDirectLoop() {
        for g in geometries {
            let x = rng.normalTensor([2, 3, 9, 8]), w = rng.normalTensor([4, 3, g.kernel.h, g.kernel.w]), b = rng.normalTensor([4])
            let fast = Variable.conv2d(Variable(x), weight: Variable(w), bias: Variable(b), geometry: g).value
            assertClose(fast, directConv(x, w, b, g), tol: 1e-4, "conv \(g)")
        }
    }

    func testConvTransposeForwardMatchesDirectLoop() {
        for g in geometries {
            for op in 0..<g.stride where op < max(g.stride, g.dilation) {
                let x = rng.normalTensor([2, 3, 4, 5]), w = rng.normalTensor([3, 2, g.kernel.h, g.kernel.w]), b = rng.normalTensor([2])
                let fast = Variable.convTranspose2d(Variable(x), weight: Variable(w), bias: Variable(b), geometry: g, outputPadding: op).value
                assertClose(fast, directConvTranspose(x, w, b, g, outputPadding: op), tol: 1e-4, "convT \(g) op \(op)")
            }
        }
    }

    /// ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩ with the same weight: the two ops are adjoint.
    func testConvTransposeIsAdjointOfConv() {
        let g = ConvGeometry(kernel: 3, stride: 2, padding: 1)
        let x = rng.normalTensor([2, 3, 7, 7]), w = rng.normalTensor([4, 3, 3, 3])
        let cx = Variable.conv2d(Variable(x), weight: Variable(w), bias: nil, geometry: g).value
        let y = rng.normalTensor(cx.shape)
        let ty = Variable.convTranspose2d(Variable(y), weight: Variable(w), bias: nil, geometry: g).value
        XCTAssertEqual(ty.shape, x.shape)
        XCTAssertEqual((cx * y).sum(), (x * ty).sum(), accuracy: 1e-3)
    }

    func testConvGradients() {
        for g in geometries.prefix(4) {
            let x = rng.normalTensor([2, 2, 6, 5]), w = rng.normalTensor([3, 2, g.kernel.h, g.kernel.w]), b = rng.normalTensor([3])
            gradCheck([x, w, b]) { Variable.conv2d($0[0], weight: $0[1], bias: $0[2], geometry: g) }
        }
    }

    func testConvTransposeGradients() {
        for (g, op) in [(ConvGeometry(kernel: 3, stride: 2, padding: 1), 1), (ConvGeometry(kernel: 3), 0),
                        (ConvGeometry(kernel: 2, stride: 2, padding: 0, dilation: 2), 1)] {
            let x = rng.normalTensor([2, 2, 3, 4]), w = rng.normalTensor([2, 3, g.kernel.h, g.kernel.w]), b = rng.normalTensor([3])
            gradCheck([x, w, b]) { Variable.convTranspose2d($0[0], weight: $0[1], bias: $0[2], geometry: g, outputPadding: op) }
        }
    }

    /// Batches of 16 or more are split across cores; outputs and gradients must match the
    /// per-sample computation (batch 1, never split).
    func testSplitBatchesMatchPerSample() {
        let n = 20
        for transposed in [false, true] {
            let g = ConvGeometry(kernel: 3, stride: 2, padding: 1)
            let x = rng.normalTensor([n, 3, 7, 7]), w = rng.normalTensor(transposed ? [3, 4, 3, 3] : [4, 3, 3, 3]), b = rng.normalTensor([4])
            func op(_ x: Variable, _ w: Variable, _ b: Variable) -> Variable {
                transposed ? Variable.convTranspose2d(x, weight: w, bias: b, geometry: g, outputPadding: 1)
                           : Variable.conv2d(x, weight: w, bias: b, geometry: g)
            }
            let (xv, wv, bv) = (Variable(x, requiresGrad: true), Variable(w, requiresGrad: true), Variable(b, requiresGrad: true))
            let out = op(xv, wv, bv)
            let seed = rng.normalTensor(out.shape)
            out.backward(seed: seed)
            var gw = Tensor.zeros(w.shape), gb = Tensor.zeros(b.shape)
            for i in 0..<n {
                let (xi, wi, bi) = (Variable(x.rows(i..<(i + 1)), requiresGrad: true), Variable(w, requiresGrad: true), Variable(b, requiresGrad: true))
                let oi = op(xi, wi, bi)
                assertClose(oi.value, out.value.rows(i..<(i + 1)), tol: 1e-5, "output \(i)")
                oi.backward(seed: seed.rows(i..<(i + 1)))
                assertClose(xi.grad!, xv.grad!.rows(i..<(i + 1)), tol: 1e-5, "input gradient \(i)")
                gw.addInPlace(wi.grad!); gb.addInPlace(bi.grad!)
            }
            assertClose(wv.grad!, gw, tol: 1e-4, "weight gradient")
            assertClose(bv.grad!, gb, tol: 1e-4, "bias gradient")
        }
    }

    /// im2col columns are built a few images at a time (about 512 KB each) and never kept:
    /// 11 images of 32×14×14 under a 3×3 kernel take several chunks. Forward against the
    /// direct loop, input gradient against the direct transposed convolution (the adjoint),
    /// and both against trainable weights (whose gradient rebuilds the columns).
    func testChunkedColumnsMatchDirectLoops() {
        for g in [ConvGeometry(kernel: 3, padding: 1), ConvGeometry(kernel: 3, stride: 2, padding: 1)] {
            let x = rng.normalTensor([11, 32, 14, 14]), w = rng.normalTensor([5, 32, 3, 3]) * 0.1, b = rng.normalTensor([5])
            let xv = Variable(x, requiresGrad: true)
            let out = Variable.conv2d(xv, weight: Variable(w), bias: Variable(b), geometry: g)
            assertClose(out.value, directConv(x, w, b, g), tol: 1e-4, "chunked forward \(g)")
            let seed = rng.normalTensor(out.shape)
            out.backward(seed: seed)
            let op = 14 - g.transposedOutput(h: out.shape[2], w: out.shape[3], outputPadding: 0).h
            assertClose(xv.grad!, directConvTranspose(seed, w, nil, g, outputPadding: op), tol: 1e-4, "chunked input gradient \(g)")
            let (xt, wt) = (Variable(x, requiresGrad: true), Variable(w, requiresGrad: true))
            let outT = Variable.conv2d(xt, weight: wt, bias: Variable(b), geometry: g)
            assertClose(outT.value, out.value, tol: 1e-5, "kept columns \(g)")
            outT.backward(seed: seed)
            assertClose(xt.grad!, xv.grad!, tol: 1e-5, "input gradient with a trainable weight \(g)")
        }
    }

    /// Paper D Table 6 shapes: 28 → 14 → 7 → 4 → 2 with 3×3 stride-2 padding-1 convolutions.
    func testPaperDShapes() {
        var r = RNG(seed: 3)
        let conv = Conv2d(1, 32, kernel: 3, stride: 2, padding: 1, rng: &r)
        let y = conv(Variable(r.normalTensor([2, 1, 28, 28])))
        XCTAssertEqual(y.shape, [2, 32, 14, 14])
        let up = ConvTranspose2d(32, 1, kernel: 3, stride: 2, padding: 1, outputPadding: 1, rng: &r)
        XCTAssertEqual(up(y).shape, [2, 1, 28, 28])
    }

    /// NCHW ↔ NHWC of `[N, C, H, W]`.
    func nhwc(_ t: Tensor) -> Tensor { Variable(t).channelsLast().value }
    func nchw(_ t: Tensor) -> Tensor { Variable(t).channelsFirst().value }

    /// The channels-last convolution, with its positions split by padded taps and whole:
    /// forward against the direct loop, the input gradient against the direct transposed
    /// convolution, weight and bias gradients against `conv2d`'s, on paper D's encoder shapes
    /// (28→14 stays whole; 7→4, 4→2 and 2→1 split), odd sizes and other geometries, with
    /// batches split across cores (20 images) and not (3).
    func testChannelsLastConvMatchesDirectLoops() {
        let cases: [(c: Int, h: Int, w: Int, o: Int, g: ConvGeometry)] = [
            (1, 28, 28, 8, ConvGeometry(kernel: 3, stride: 2, padding: 1)), (6, 7, 7, 5, ConvGeometry(kernel: 3, stride: 2, padding: 1)),
            (5, 4, 4, 7, ConvGeometry(kernel: 3, stride: 2, padding: 1)), (9, 2, 2, 4, ConvGeometry(kernel: 3, stride: 2, padding: 1)),
            (3, 9, 8, 4, ConvGeometry(kernel: 3)), (2, 5, 7, 3, ConvGeometry(kernelH: 3, kernelW: 2, stride: 2, padding: 1)),
            (3, 9, 9, 2, ConvGeometry(kernel: 3, stride: 3, padding: 2, dilation: 2)), (4, 6, 5, 3, ConvGeometry(kernel: 4, stride: 2, padding: 1)),
        ]
        for (c, h, w, o, g) in cases {
            for n in [3, 20] {
                let x = rng.normalTensor([n, c, h, w]), wt = rng.normalTensor([o, c, g.kernel.h, g.kernel.w]), b = rng.normalTensor([o])
                let reference = directConv(x, wt, b, g)
                let seed = rng.normalTensor(reference.shape)
                let (xr, wr, br) = (Variable(x, requiresGrad: true), Variable(wt, requiresGrad: true), Variable(b, requiresGrad: true))
                Variable.conv2d(xr, weight: wr, bias: br, geometry: g).backward(seed: seed)
                let op = h - g.transposedOutput(h: reference.shape[2], w: reference.shape[3], outputPadding: 0).h
                let opW = w - g.transposedOutput(h: reference.shape[2], w: reference.shape[3], outputPadding: 0).w
                let inputGradient = op == opW ? directConvTranspose(seed, wt, nil, g, outputPadding: op) : xr.grad!
                // the fused ReLU against conv2d followed by relu
                let (xq, wq, bq) = (Variable(x, requiresGrad: true), Variable(wt, requiresGrad: true), Variable(b, requiresGrad: true))
                let refRelu = Variable.conv2d(xq, weight: wq, bias: bq, geometry: g).relu()
                refRelu.backward(seed: seed)
                for share in [0.0, 1.0] {
                    let what = "\(c)x\(h)x\(w)→\(o) \(g) n \(n) \(share == 0 ? "split" : "whole")"
                    let (xf, wf, bf) = (Variable(nhwc(x), requiresGrad: true), Variable(wt, requiresGrad: true), Variable(b, requiresGrad: true))
                    let fused = Variable.conv2dChannelsLast(xf, weight: wf, bias: bf, geometry: g, relu: true, maxPaddedShare: share)
                    assertClose(nchw(fused.value), refRelu.value, tol: 1e-4, "relu forward \(what)")
                    fused.backward(seed: nhwc(seed))
                    assertClose(nchw(xf.grad!), xq.grad!, tol: 1e-4, "relu input gradient \(what)")
                    assertClose(wf.grad!, wq.grad!, tol: 1e-3, "relu weight gradient \(what)")
                    assertClose(bf.grad!, bq.grad!, tol: 1e-3, "relu bias gradient \(what)")
                    let (xv, wv, bv) = (Variable(nhwc(x), requiresGrad: true), Variable(wt, requiresGrad: true), Variable(b, requiresGrad: true))
                    let out = Variable.conv2dChannelsLast(xv, weight: wv, bias: bv, geometry: g, maxPaddedShare: share)
                    assertClose(nchw(out.value), reference, tol: 1e-4, "forward \(what)")
                    out.backward(seed: nhwc(seed))
                    assertClose(nchw(xv.grad!), inputGradient, tol: 1e-4, "input gradient \(what)")
                    assertClose(wv.grad!, wr.grad!, tol: 1e-3, "weight gradient \(what)")
                    assertClose(bv.grad!, br.grad!, tol: 1e-3, "bias gradient \(what)")
                }
            }
        }
    }

    /// The channels-last transposed convolution (the channels-last convolution's kernel run
    /// the other way round), with and without its fused ReLU, its taps split by padding and
    /// whole: forward against the direct scatter loop, gradients against `convTranspose2d`'s
    /// (NCHW, tested against direct loops and as the adjoint of `conv2d` above), on every
    /// layer of paper D's decoder (1×1→5×5 dilated, 5→7, 7→7 padded, 7→14 and 14→28 at
    /// stride 2), odd sizes and other geometries, batches split across cores (20) and not (3).
    func testChannelsLastConvTransposeMatchesDirectLoops() {
        let cases: [(c: Int, h: Int, w: Int, o: Int, g: ConvGeometry, op: Int)] = [
            (6, 1, 1, 5, ConvGeometry(kernel: 3, stride: 1, padding: 0, dilation: 2), 0), (5, 5, 5, 4, ConvGeometry(kernel: 3), 0),
            (4, 7, 7, 6, ConvGeometry(kernel: 3, stride: 1, padding: 1), 0), (6, 7, 7, 3, ConvGeometry(kernel: 4, stride: 2, padding: 1), 0),
            (3, 14, 14, 1, ConvGeometry(kernel: 4, stride: 2, padding: 1), 0), (3, 4, 5, 2, ConvGeometry(kernel: 3, stride: 2, padding: 1), 1),
            (2, 3, 4, 3, ConvGeometry(kernelH: 3, kernelW: 2, stride: 2, padding: 1, dilation: 1), 0),
            (3, 3, 3, 2, ConvGeometry(kernel: 3, stride: 3, padding: 2, dilation: 2), 0),
        ]
        for (c, h, w, o, g, op) in cases {
            for n in [3, 20] {
                let x = rng.normalTensor([n, c, h, w]), wt = rng.normalTensor([c, o, g.kernel.h, g.kernel.w]), b = rng.normalTensor([o])
                let plain = directConvTranspose(x, wt, b, g, outputPadding: op)
                let seed = rng.normalTensor(plain.shape)
                for relu in [false, true] {
                    // the NCHW op (and a ReLU after it) for the gradients
                    let (xr, wr, br) = (Variable(x, requiresGrad: true), Variable(wt, requiresGrad: true), Variable(b, requiresGrad: true))
                    var ref = Variable.convTranspose2d(xr, weight: wr, bias: br, geometry: g, outputPadding: op)
                    if relu { ref = ref.relu() }
                    ref.backward(seed: seed)
                    let reference = relu ? Variable(plain).relu().value : plain
                    for share in [0.0, 1.0] {
                        let what = "\(c)x\(h)x\(w)→\(o) \(g) op \(op) n \(n)\(relu ? " relu" : "") \(share == 0 ? "split" : "whole")"
                        let (xv, wv, bv) = (Variable(nhwc(x), requiresGrad: true), Variable(wt, requiresGrad: true), Variable(b, requiresGrad: true))
                        let out = Variable.convTranspose2dChannelsLast(xv, weight: wv, bias: bv, geometry: g, outputPadding: op,
                                                                      relu: relu, maxPaddedShare: share)
                        assertClose(nchw(out.value), reference, tol: 1e-4, "forward \(what)")
                        out.backward(seed: nhwc(seed))
                        assertClose(nchw(xv.grad!), xr.grad!, tol: 1e-4, "input gradient \(what)")
                        assertClose(wv.grad!, wr.grad!, tol: 1e-3, "weight gradient \(what)")
                        assertClose(bv.grad!, br.grad!, tol: 1e-3, "bias gradient \(what)")
                    }
                }
            }
        }
    }

    func testChannelsLastConvTransposeGradientsMatchFiniteDifferences() {
        for (g, op) in [(ConvGeometry(kernel: 4, stride: 2, padding: 1), 0), (ConvGeometry(kernel: 3, stride: 2, padding: 1), 1),
                        (ConvGeometry(kernel: 2, stride: 1, padding: 0, dilation: 2), 0)] {
            for share in [0.0, 1.0] {
                let x = rng.normalTensor([2, 3, 4, 3]), w = rng.normalTensor([3, 2, g.kernel.h, g.kernel.w]), b = rng.normalTensor([2])
                gradCheck([x, w, b]) {
                    Variable.convTranspose2dChannelsLast($0[0], weight: $0[1], bias: $0[2], geometry: g, outputPadding: op, maxPaddedShare: share)
                }
            }
        }
    }

    func testChannelsLastConvGradientsMatchFiniteDifferences() {
        for g in [ConvGeometry(kernel: 3, stride: 2, padding: 1), ConvGeometry(kernel: 2, stride: 1, padding: 0, dilation: 2)] {
            for share in [0.0, 1.0] {
                let x = rng.normalTensor([2, 5, 4, 3]), w = rng.normalTensor([3, 3, g.kernel.h, g.kernel.w]), b = rng.normalTensor([3])
                gradCheck([x, w, b]) { Variable.conv2dChannelsLast($0[0], weight: $0[1], bias: $0[2], geometry: g, maxPaddedShare: share) }
            }
        }
        // the layout changes, both ways
        gradCheck([rng.normalTensor([2, 3, 4, 5])]) { $0[0].channelsLast() }
        gradCheck([rng.normalTensor([2, 4, 5, 3])]) { $0[0].channelsFirst() }
    }

    /// A `Sequential` of convolutions and ReLUs (run channels-last) against the same layers
    /// applied one by one (each `Conv2d` on NCHW), values and input gradients, on paper D's
    /// encoder trunk and head.
    func testSequentialChannelsLastMatchesLayerByLayer() {
        var r = RNG(seed: 4)
        let layers: [any Layer] = [Conv2d(1, 8, kernel: 3, stride: 2, padding: 1, rng: &r), Activation.relu,
                                   Conv2d(8, 6, kernel: 3, stride: 2, padding: 1, rng: &r), Activation.relu,
                                   Conv2d(6, 5, kernel: 3, stride: 2, padding: 1, rng: &r), Activation.relu,
                                   Conv2d(5, 4, kernel: 3, stride: 2, padding: 1, rng: &r), Activation.relu,
                                   Conv2d(4, 3, kernel: 3, stride: 2, padding: 1, rng: &r), Reshape([3])]
        let net = Sequential(layers)
        let x = r.normalTensor([17, 1, 28, 28])
        let (a, b) = (Variable(x, requiresGrad: true), Variable(x, requiresGrad: true))
        let ya = net(a), yb = layers.reduce(b) { $1($0) }
        XCTAssertEqual(ya.shape, [17, 3])
        assertClose(ya.value, yb.value, tol: 1e-4, "values")
        let seed = r.normalTensor(ya.shape)
        ya.backward(seed: seed); yb.backward(seed: seed)
        assertClose(a.grad!, b.grad!, tol: 1e-4, "input gradients")
    }

    /// Paper D's decoder (Table 6, channels scaled down) as a `Sequential`, run channels-last
    /// from the 1×1 latent map to the one-channel image, against its layers one by one
    /// (each `ConvTranspose2d` on NCHW): values, input and weight gradients.
    func testSequentialDecoderChannelsLastMatchesLayerByLayer() {
        var r = RNG(seed: 5)
        let layers: [any Layer] = [
            Reshape([6, 1, 1]),
            ConvTranspose2d(6, 8, kernel: 3, stride: 1, padding: 0, dilation: 2, rng: &r), Activation.relu,
            ConvTranspose2d(8, 7, kernel: 3, stride: 1, padding: 0, rng: &r), Activation.relu,
            ConvTranspose2d(7, 5, kernel: 3, stride: 1, padding: 1, rng: &r), Activation.relu,
            ConvTranspose2d(5, 4, kernel: 4, stride: 2, padding: 1, rng: &r), Activation.relu,
            ConvTranspose2d(4, 1, kernel: 4, stride: 2, padding: 1, rng: &r),
        ]
        let net = Sequential(layers)
        let z = r.normalTensor([19, 6])
        let (a, b) = (Variable(z, requiresGrad: true), Variable(z, requiresGrad: true))
        let ya = net(a), yb = layers.reduce(b) { $1($0) }
        XCTAssertEqual(ya.shape, [19, 1, 28, 28])
        assertClose(ya.value, yb.value, tol: 1e-4, "values")
        let seed = r.normalTensor(ya.shape)
        ya.backward(seed: seed)
        let weight = net.parameters[2]
        let channelsLastGrad = weight.grad!
        weight.grad = nil
        yb.backward(seed: seed)
        assertClose(a.grad!, b.grad!, tol: 1e-4, "input gradients")
        assertClose(channelsLastGrad, weight.grad!, tol: 1e-3, "weight gradient of the second layer")
    }
}
