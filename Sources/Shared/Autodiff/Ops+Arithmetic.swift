/// Broadcasting arithmetic on variables. Each backward rule sums the incoming gradient
/// back to the operand's shape (the adjoint of broadcasting).
extension Variable {
    public static func + (a: Variable, b: Variable) -> Variable {
        let (sa, sb) = (a.shape, b.shape)
        return Variable(a.value + b.value, parents: [a, b]) { g in
            [a.requiresGrad ? Broadcast.sumTo(g, shape: sa) : nil, b.requiresGrad ? Broadcast.sumTo(g, shape: sb) : nil]
        }
    }

    public static func - (a: Variable, b: Variable) -> Variable {
        let (sa, sb) = (a.shape, b.shape)
        return Variable(a.value - b.value, parents: [a, b]) { g in
            [a.requiresGrad ? Broadcast.sumTo(g, shape: sa) : nil, b.requiresGrad ? Broadcast.sumTo(-g, shape: sb) : nil]
        }
    }

    public static func * (a: Variable, b: Variable) -> Variable {
        let (av, bv) = (a.value, b.value)
        return Variable(av * bv, parents: [a, b]) { g in
            [a.requiresGrad ? Broadcast.sumTo(g * bv, shape: av.shape) : nil,
             b.requiresGrad ? Broadcast.sumTo(g * av, shape: bv.shape) : nil]
        }
    }

    public static func / (a: Variable, b: Variable) -> Variable {
        let (av, bv) = (a.value, b.value)
        let out = av / bv
        return Variable(out, parents: [a, b]) { g in
            [a.requiresGrad ? Broadcast.sumTo(g / bv, shape: av.shape) : nil,
             b.requiresGrad ? Broadcast.sumTo(-(g * out / bv), shape: bv.shape) : nil]
        }
    }

    public static prefix func - (a: Variable) -> Variable {
        Variable(-a.value, parents: [a]) { g in [-g] }
    }

    public static func * (a: Variable, s: Float) -> Variable {
        Variable(a.value * s, parents: [a]) { g in [g * s] }
    }
    public static func * (s: Float, a: Variable) -> Variable { a * s }
    public static func + (a: Variable, s: Float) -> Variable {
        Variable(a.value + s, parents: [a]) { g in [g] }
    }
    public static func + (s: Float, a: Variable) -> Variable { a + s }
    public static func - (a: Variable, s: Float) -> Variable { a + (-s) }
    public static func - (s: Float, a: Variable) -> Variable { (-a) + s }
    public static func / (a: Variable, s: Float) -> Variable { a * (1 / s) }

    /// Zeros of this node's shape that pass their gradient back to it unchanged: adding
    /// `f.zeroValued()` to an objective adds ∂f to its gradient and nothing to its value, even
    /// where f is not finite (a stand-in for gradients a reference implementation accumulates
    /// outside its loss, `ThroughHMCGradient.kuzina`).
    public func zeroValued() -> Variable {
        Variable(Tensor.zeros(shape), parents: [self]) { g in [g] }
    }

    /// A constant (no gradient) with the given value.
    public static func constant(_ t: Tensor) -> Variable { Variable(t) }
}
