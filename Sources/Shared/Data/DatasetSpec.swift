/// The text by which every tool names its images:
///
/// - `NAME:SPLIT`, e.g. `fashion-mnist:test`
/// - `NAME:SPLIT[START:END]`, a range of that split (Python slice rules for the bounds,
///   either may be omitted: `mnist:test[:100]`), and `[START:END:STEP]` every STEP-th image
///   of it (`adv.npy[::10]`: the first restart of each reference of a 10-restart attack)
/// - a trailing `@N` or `@N/SEED` picks N points stratified over classes, reproducibly
///   (`fashion-mnist:test@50` — 5 per class with seed 0; applied after the range); `@N:color`
///   stratifies over color-mnist's colours, `@N:joint` over its digit-colour pairs
/// - a path to a `.npy` file of images, or `-` for a `.npy` on stdin;
/// - a final `#bin` or `#bin/SEED` binarises the selected images: every pixel becomes 1 with
///   probability equal to its intensity (paper D's data), drawn from the seed (0 by default),
///   so the same spec always gives the same images.
public struct DatasetSpec: Equatable, CustomStringConvertible {
    public enum Source: Equatable {
        case named(name: String, split: String)
        case npy(path: String)
    }
    public var source: Source
    public var start: Int?
    public var end: Int?
    /// The slice step (nil: 1); positive.
    public var step: Int?
    public var stratified: Int?
    public var stratifiedSeed: UInt64 = 0
    /// What `@N` stratifies over: the class labels, `@N:color` the colour labels
    /// (color-mnist), `@N:joint` their pairs (paper D's attack code picks its color-mnist
    /// references this way, over 70 digit-colour classes).
    public enum Stratum: String, Equatable, Sendable { case label, color, joint }
    public var stratifyBy = Stratum.label
    /// The seed of a `#bin` binarisation (nil: grey levels as stored).
    public var binarizeSeed: UInt64? = nil
    public let text: String

    public var description: String { text }

    public init(parsing text: String) throws {
        self.text = text
        func fail(_ why: String) -> ToolError {
            ToolError.usage("bad dataset spec '\(text)': \(why) (expected NAME:SPLIT[START:END[:STEP]]@N[/SEED][:color|:joint][#bin[/SEED]], a .npy path, or -)")
        }
        var body = Substring(text)
        // "#bin" or "#bin/SEED" at the very end binarises (a '#' elsewhere may be part of a path)
        if let hash = body.lastIndex(of: "#"), case let tail = body[body.index(after: hash)...], tail == "bin" || tail.hasPrefix("bin/") {
            if tail == "bin" { binarizeSeed = 0 } else {
                guard let s = UInt64(tail.dropFirst(4)) else { throw fail("bad binarisation seed '\(tail.dropFirst(4))'") }
                binarizeSeed = s
            }
            body = body[..<hash]
        }
        // "@N" or "@N/SEED" at the very end selects stratified points (paths may contain '@' elsewhere),
        // over colours with ":color", over digit-colour pairs with ":joint"
        if let at = body.lastIndex(of: "@") {
            var tail = body[body.index(after: at)...]
            var by = Stratum.label
            for s in [Stratum.color, .joint] where tail.hasSuffix(":" + s.rawValue) { by = s; tail = tail.dropLast(s.rawValue.count + 1) }
            let parts = tail.split(separator: "/", omittingEmptySubsequences: false)
            if (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
                guard let n = Int(parts[0]), n > 0 else { throw fail("'@' needs a positive count, like @50 or @50/7") }
                guard parts.count == 1 || UInt64(parts[1]) != nil else { throw fail("bad stratification seed '\(parts[1])'") }
                stratified = n
                stratifyBy = by
                stratifiedSeed = parts.count == 2 ? UInt64(parts[1])! : 0
                body = body[..<at]
            }
        }
        if body.hasSuffix("]") {
            guard let open = body.lastIndex(of: "[") else { throw fail("unbalanced ']'") }
            let inner = body[body.index(after: open)..<body.index(before: body.endIndex)]
            let bounds = inner.split(separator: ":", omittingEmptySubsequences: false)
            guard bounds.count == 2 || bounds.count == 3 else { throw fail("a range is [START:END] or [START:END:STEP]") }
            func bound(_ s: Substring) throws -> Int? {
                let t = s.trimmingCharacters(in: .whitespaces)
                if t.isEmpty { return nil }
                guard let v = Int(t) else { throw fail("'\(t)' is not an integer") }
                return v
            }
            start = try bound(bounds[0]); end = try bound(bounds[1])
            if bounds.count == 3, let st = try bound(bounds[2]) {
                guard st > 0 else { throw fail("the step of a range must be positive, got \(st)") }
                step = st
            }
            body = body[..<open]
        }
        if body == "-" || body.hasSuffix(".npy") {
            source = .npy(path: String(body))
        } else {
            let parts = body.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw fail("'\(body)' is neither NAME:SPLIT nor a .npy path")
            }
            source = .named(name: String(parts[0]), split: String(parts[1]))
        }
    }

    /// Resolves [start:end] against `n` items with Python slice semantics (negative counts from the end).
    public func range(count n: Int) throws -> Range<Int> {
        func clamp(_ v: Int?, _ dflt: Int) -> Int {
            guard let v else { return dflt }
            // compare before adding, so that Int.min cannot overflow n + v
            if v < 0 { return v < -n ? 0 : n + v }
            return min(v, n)
        }
        let lo = clamp(start, 0), hi = clamp(end, n)
        guard lo < hi else { throw ToolError.usage("dataset spec '\(text)': range [\(start.map(String.init) ?? ""):\(end.map(String.init) ?? "")] selects nothing from \(n) images") }
        return lo..<hi
    }

    /// The indices of the slice `[start:end:step]` of `n` items.
    public func indices(count n: Int) throws -> [Int] {
        let r = try range(count: n)
        return Array(stride(from: r.lowerBound, to: r.upperBound, by: step ?? 1))
    }
}

import Foundation
