extension Float {
    /// This Float as the Double whose shortest decimal is the Float's own: a radius given as
    /// 0.05 prints as 0.05 in a JSON line, not as 0.05000000074505806 (`Double(self)`).
    public var shortestDecimal: Double { Double(String(self)) ?? Double(self) }
}
