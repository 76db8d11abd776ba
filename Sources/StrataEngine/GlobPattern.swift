/// Redis's glob matching (`stringmatchlen`): `*`, `?`, `[abc]`, `[^a-z]`, `\x` escapes.
/// Binary safe; the recursion depth for `*` is bounded by iterating instead of recursing.
public enum GlobPattern {
    /// Whether `string` matches `pattern`.
    public static func matches(_ pattern: Bytes, _ string: Bytes) -> Bool {
        pattern.withUnsafeBytes { p in
            string.withUnsafeBytes { s in
                match(p, 0, s, 0, depth: 0)
            }
        }
    }

    private static func match(
        _ p: UnsafeRawBufferPointer, _ pi0: Int, _ s: UnsafeRawBufferPointer, _ si0: Int, depth: Int
    ) -> Bool {
        var pi = pi0
        var si = si0
        if depth > 1000 { return false }
        while pi < p.count && si <= s.count {
            let c = p[pi]
            switch c {
            case UInt8(ascii: "*"):
                while pi + 1 < p.count && p[pi + 1] == UInt8(ascii: "*") { pi += 1 }
                if pi + 1 == p.count { return true }
                var k = si
                while k <= s.count {
                    if match(p, pi + 1, s, k, depth: depth + 1) { return true }
                    k += 1
                }
                return false
            case UInt8(ascii: "?"):
                if si >= s.count { return false }
                si += 1
            case UInt8(ascii: "["):
                if si >= s.count { return false }
                pi += 1
                let negate = pi < p.count && p[pi] == UInt8(ascii: "^")
                if negate { pi += 1 }
                var matched = false
                while true {
                    if pi >= p.count {
                        pi -= 1
                        break
                    }
                    if p[pi] == UInt8(ascii: "\\") && pi + 2 < p.count {
                        pi += 1
                        if p[pi] == s[si] { matched = true }
                    } else if p[pi] == UInt8(ascii: "]") {
                        break
                    } else if pi + 2 < p.count && p[pi + 1] == UInt8(ascii: "-") {
                        var lo = p[pi]
                        var hi = p[pi + 2]
                        if lo > hi { swap(&lo, &hi) }
                        pi += 2
                        if s[si] >= lo && s[si] <= hi { matched = true }
                    } else if p[pi] == s[si] {
                        matched = true
                    }
                    pi += 1
                }
                if negate { matched.toggle() }
                if !matched { return false }
                si += 1
            case UInt8(ascii: "\\"):
                if pi + 1 < p.count { pi += 1 }
                if si >= s.count || p[pi] != s[si] { return false }
                si += 1
            default:
                if si >= s.count || c != s[si] { return false }
                si += 1
            }
            pi += 1
            if si == s.count {
                while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
                break
            }
        }
        return pi == p.count && si == s.count
    }
}
