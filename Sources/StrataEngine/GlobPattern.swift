//! Redis's glob matching (`stringmatchlen`): `*`, `?`, `[abc]`, `[^a-z]`, `\x` escapes,
//! binary safe. Matching is iterative with a single backtrack point (the last `*`), so a
//! hostile pattern such as `*a*a*a*a*b` costs O(pattern × string), never exponential time.

/// Glob matching over bytes.
public enum GlobPattern {
    /// Whether `string` matches `pattern`.
    public static func matches(_ pattern: Bytes, _ string: Bytes) -> Bool {
        pattern.withUnsafeBytes { p in
            string.withUnsafeBytes { s in match(p, s) }
        }
    }

    private static func match(_ p: UnsafeRawBufferPointer, _ s: UnsafeRawBufferPointer) -> Bool {
        var pi = 0
        var si = 0
        var starPattern = -1
        var starString = 0
        while si < s.count {
            if pi < p.count {
                let c = p[pi]
                if c == UInt8(ascii: "*") {
                    starPattern = pi
                    starString = si
                    pi += 1
                    continue
                }
                if let next = matchOne(p, pi, s[si]) {
                    pi = next
                    si += 1
                    continue
                }
            }
            guard starPattern >= 0 else { return false }
            // Backtrack: let the last `*` absorb one more byte.
            starString += 1
            si = starString
            pi = starPattern + 1
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// Matches one pattern element at `pi` against `byte`; returns the next pattern index.
    private static func matchOne(_ p: UnsafeRawBufferPointer, _ start: Int, _ byte: UInt8) -> Int? {
        var pi = start
        switch p[pi] {
        case UInt8(ascii: "?"):
            return pi + 1
        case UInt8(ascii: "\\") where pi + 1 < p.count:
            return p[pi + 1] == byte ? pi + 2 : nil
        case UInt8(ascii: "["):
            pi += 1
            let negate = pi < p.count && p[pi] == UInt8(ascii: "^")
            if negate { pi += 1 }
            var matched = false
            while pi < p.count && p[pi] != UInt8(ascii: "]") {
                if p[pi] == UInt8(ascii: "\\") && pi + 1 < p.count {
                    if p[pi + 1] == byte { matched = true }
                    pi += 2
                } else if pi + 2 < p.count && p[pi + 1] == UInt8(ascii: "-") && p[pi + 2] != UInt8(ascii: "]") {
                    var low = p[pi]
                    var high = p[pi + 2]
                    if low > high { swap(&low, &high) }
                    if byte >= low && byte <= high { matched = true }
                    pi += 3
                } else {
                    if p[pi] == byte { matched = true }
                    pi += 1
                }
            }
            // An unterminated class ends at the end of the pattern, as in Redis.
            let next = pi < p.count ? pi + 1 : pi
            return matched != negate ? next : nil
        default:
            return p[pi] == byte ? pi + 1 : nil
        }
    }
}
