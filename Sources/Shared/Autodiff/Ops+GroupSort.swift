/// GroupSort (paper A section B.3, from Anil et al. 2019): splits each sample's features
/// into consecutive groups of `groupSize` and sorts each group ascending. It is
/// 1-Lipschitz and gradient-norm preserving; with group size 2 (MaxMin),
/// `(1 0) GroupSort((y, 0)) = ReLU(y)`. The backward pass routes each gradient back
/// through the sorting permutation.
extension Variable {
    public func groupSort(groupSize k: Int) -> Variable {
        precondition(k >= 1, "GroupSort: group size must be positive")
        let features = shape.dropFirst().reduce(1, *)
        precondition(shape.count >= 2 && features % k == 0,
                     "GroupSort: \(features) features are not divisible into groups of \(k)")
        let x = value
        let n = x.count
        // perm[i] = index (within the tensor) of the input that lands at output position i
        var perm = [Int32](repeating: 0, count: n)
        let y = Tensor(shape: x.shape) { out in
            x.data.withUnsafeBufferPointer { src in
                perm.withUnsafeMutableBufferPointer { pm in
                    var g = 0
                    while g < n {
                        if k == 2 {
                            let (a, b) = (src[g], src[g + 1])
                            if a <= b { out[g] = a; out[g + 1] = b; pm[g] = Int32(g); pm[g + 1] = Int32(g + 1) }
                            else { out[g] = b; out[g + 1] = a; pm[g] = Int32(g + 1); pm[g + 1] = Int32(g) }
                        } else {
                            // insertion sort of one small group, carrying source indices
                            for i in 0..<k {
                                let v = src[g + i]
                                var j = i
                                while j > 0 && out[g + j - 1] > v {
                                    out[g + j] = out[g + j - 1]; pm[g + j] = pm[g + j - 1]; j -= 1
                                }
                                out[g + j] = v; pm[g + j] = Int32(g + i)
                            }
                        }
                        g += k
                    }
                }
            }
        }
        return Variable(y, parents: [self]) { gOut in
            [Tensor(shape: x.shape) { gx in
                gOut.data.withUnsafeBufferPointer { gb in
                    perm.withUnsafeBufferPointer { pm in
                        for i in 0..<n { gx[Int(pm[i])] = gb[i] }
                    }
                }
            }]
        }
    }
}
