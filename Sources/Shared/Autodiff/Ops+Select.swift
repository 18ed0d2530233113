/// Element-wise selection between two variables, with the gradient routed to the chosen one
/// (interval bounds take the worse of two ends this way: paper C Eq. 18 and 20).
extension Variable {
    /// Element-wise maximum; the gradient goes to the larger input (the first on ties).
    public static func maximum(_ a: Variable, _ b: Variable) -> Variable { select(a, b) { $0 >= $1 } }
    /// Element-wise minimum; the gradient goes to the smaller input (the first on ties).
    public static func minimum(_ a: Variable, _ b: Variable) -> Variable { select(a, b) { $0 <= $1 } }

    /// Picks `a` where `takeA(a, b)`, else `b`, with broadcasting; routes gradients accordingly.
    static func select(_ a: Variable, _ b: Variable, _ takeA: @escaping (Float, Float) -> Bool) -> Variable {
        let (av, bv) = (a.value, b.value)
        let mask = av.zipMap(bv) { takeA($0, $1) ? 1 : 0 }
        let out = av.zipMap(bv) { takeA($0, $1) ? $0 : $1 }
        return Variable(out, parents: [a, b]) { g in
            [a.requiresGrad ? Broadcast.sumTo(g * mask, shape: av.shape) : nil,
             b.requiresGrad ? Broadcast.sumTo(g * mask.map { 1 - $0 }, shape: bv.shape) : nil]
        }
    }
}
