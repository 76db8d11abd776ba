//! Range arguments of the sorted-set commands, parsed as Redis's `zslParseRange` and
//! `zslParseLexRange` do, and turned into ascending rank ranges of a sorted set — so
//! every range command is rank arithmetic on the order-statistic structure.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A score interval: `min max` with `(` marking an exclusive bound.
struct ScoreInterval {
    var min: Double
    var minExclusive: Bool
    var max: Double
    var maxExclusive: Bool

    /// Parses two bounds; nil when either is not a float (`ERR min or max is not a float`).
    static func parse(_ min: Bytes, _ max: Bytes) -> ScoreInterval? {
        guard let low = bound(min), let high = bound(max) else { return nil }
        return ScoreInterval(min: low.value, minExclusive: low.exclusive, max: high.value, maxExclusive: high.exclusive)
    }

    /// One bound: Redis reads it with plain `strtod` (leading spaces and an empty string
    /// are accepted) and rejects trailing garbage and NaN.
    private static func bound(_ text: Bytes) -> (value: Double, exclusive: Bool)? {
        var bytes = text.array
        let exclusive = bytes.first == UInt8(ascii: "(")
        if exclusive { bytes.removeFirst() }
        guard !bytes.contains(0) else { return nil }
        let chars = bytes.map { CChar(bitPattern: $0) } + [0]
        return chars.withUnsafeBufferPointer { pointer -> (Double, Bool)? in
            guard let start = pointer.baseAddress else { return nil }
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(start, &end)
            guard let end, end - UnsafeMutablePointer(mutating: start) == bytes.count, !value.isNaN else {
                return nil
            }
            return (value, exclusive)
        }
    }

    /// The ascending ranks of the members whose scores lie inside.
    func ranks(in zset: SortedSetValue) -> Range<Int> {
        let low = zset.countBelow { minExclusive ? $0.score <= min : $0.score < min }
        let high = zset.countBelow { maxExclusive ? $0.score < max : $0.score <= max }
        return low..<Swift.max(low, high)
    }
}

/// One end of a lexicographic interval: `-`, `+`, `[member` or `(member`.
enum LexBound {
    case minusInfinity
    case plusInfinity
    case inclusive(Bytes)
    case exclusive(Bytes)

    /// Parses a bound; nil when malformed (`ERR min or max not valid string range item`).
    init?(_ text: Bytes) {
        let bytes = text.array
        guard let first = bytes.first else { return nil }
        switch first {
        case UInt8(ascii: "+") where bytes.count == 1: self = .plusInfinity
        case UInt8(ascii: "-") where bytes.count == 1: self = .minusInfinity
        case UInt8(ascii: "["): self = .inclusive(Bytes(Array(bytes.dropFirst())))
        case UInt8(ascii: "("): self = .exclusive(Bytes(Array(bytes.dropFirst())))
        default: return nil
        }
    }
}

/// A lexicographic interval over members (meaningful when all scores are equal).
struct LexInterval {
    var min: LexBound
    var max: LexBound

    /// Parses two bounds; nil when either is malformed.
    static func parse(_ min: Bytes, _ max: Bytes) -> LexInterval? {
        guard let low = LexBound(min), let high = LexBound(max) else { return nil }
        return LexInterval(min: low, max: high)
    }

    /// The ascending ranks of the members inside.
    func ranks(in zset: SortedSetValue) -> Range<Int> {
        let low = zset.countBelow { item in
            switch min {
            case .minusInfinity: return false
            case .plusInfinity: return true
            case .inclusive(let bound): return item.member.compare(bound) < 0
            case .exclusive(let bound): return item.member.compare(bound) <= 0
            }
        }
        let high = zset.countBelow { item in
            switch max {
            case .minusInfinity: return false
            case .plusInfinity: return true
            case .inclusive(let bound): return item.member.compare(bound) <= 0
            case .exclusive(let bound): return item.member.compare(bound) < 0
            }
        }
        return low..<Swift.max(low, high)
    }
}

/// Redis's rank window: negative indexes count from the end, and the window is clipped
/// to the set; nil when empty.
func rankWindow(start: Int, end: Int, count: Int) -> Range<Int>? {
    var first = start < 0 ? start + count : start
    var last = end < 0 ? end + count : end
    if first < 0 { first = 0 }
    guard first <= last, first < count else { return nil }
    if last >= count { last = count - 1 }
    return first..<(last + 1)
}
