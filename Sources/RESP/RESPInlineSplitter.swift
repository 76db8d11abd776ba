/// Splits an inline command line into words, as Redis's `sdssplitargs`: whitespace
/// separates words; `"..."` understands `\n \r \t \b \a \\ \" \xHH`; `'...'` understands
/// `\'`; a closing quote must be followed by whitespace or the end of the line.
public enum RESPInlineSplitter {
    /// Splits `line` into words.
    ///
    /// - Throws: ``RESPProtocolError/unbalancedQuotes`` for an unterminated quote or a
    ///   closing quote followed by a non-space.
    public static func split(_ line: UnsafeRawBufferPointer) throws -> [[UInt8]] {
        var words: [[UInt8]] = []
        var p = 0
        let n = line.count
        func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 || c == 11 || c == 12 }
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        while true {
            while p < n && isSpace(line[p]) { p += 1 }
            if p >= n { return words }
            var current: [UInt8] = []
            var inDouble = false
            var inSingle = false
            var done = false
            while !done {
                if inDouble {
                    guard p < n else { throw RESPProtocolError.unbalancedQuotes }
                    let c = line[p]
                    if c == UInt8(ascii: "\\") && p + 3 < n && line[p + 1] == UInt8(ascii: "x"),
                        let hi = hexValue(line[p + 2]), let lo = hexValue(line[p + 3])
                    {
                        current.append(hi << 4 | lo)
                        p += 3
                    } else if c == UInt8(ascii: "\\") && p + 1 < n {
                        p += 1
                        switch line[p] {
                        case UInt8(ascii: "n"): current.append(10)
                        case UInt8(ascii: "r"): current.append(13)
                        case UInt8(ascii: "t"): current.append(9)
                        case UInt8(ascii: "b"): current.append(8)
                        case UInt8(ascii: "a"): current.append(7)
                        default: current.append(line[p])
                        }
                    } else if c == UInt8(ascii: "\"") {
                        if p + 1 < n && !isSpace(line[p + 1]) { throw RESPProtocolError.unbalancedQuotes }
                        done = true
                    } else {
                        current.append(c)
                    }
                } else if inSingle {
                    guard p < n else { throw RESPProtocolError.unbalancedQuotes }
                    let c = line[p]
                    if c == UInt8(ascii: "\\") && p + 1 < n && line[p + 1] == UInt8(ascii: "'") {
                        p += 1
                        current.append(UInt8(ascii: "'"))
                    } else if c == UInt8(ascii: "'") {
                        if p + 1 < n && !isSpace(line[p + 1]) { throw RESPProtocolError.unbalancedQuotes }
                        done = true
                    } else {
                        current.append(c)
                    }
                } else {
                    if p >= n { break }
                    let c = line[p]
                    if isSpace(c) || c == 0 {
                        done = true
                    } else if c == UInt8(ascii: "\"") {
                        inDouble = true
                    } else if c == UInt8(ascii: "'") {
                        inSingle = true
                    } else {
                        current.append(c)
                    }
                }
                if p < n { p += 1 }
            }
            words.append(current)
        }
    }
}
