//! LCS: the longest common subsequence of two strings, as Redis 7.0's `t_string.c`. It
//! is the textbook dynamic programme (a table of the LCS lengths of every pair of
//! prefixes, then a walk back from the corner) because Redis's replies depend on exactly
//! which subsequence and which match ranges that walk finds. The table takes
//! (len1 + 1) × (len2 + 1) 32-bit cells: its size is computed with checked arithmetic and
//! refused, as Redis refuses it, above `proto-max-bulk-len` or when it cannot be allocated.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The LCS command.
public enum LCSCommand {
    /// Its table entry.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "lcs", arity: -3, flags: [.readonly], keys: (1, 2, 1), group: "string", since: "7.0.0",
            summary: "Finds the longest common substring.",
            synopsis: "key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]",
            categories: ["read", "string", "slow"], handler: .engine(lcs))
    ]

    /// A run of consecutive matching bytes: inclusive ranges in each string.
    public struct Match: Equatable, Sendable {
        /// First and last index in the first string.
        public var first: ClosedRange<Int>
        /// First and last index in the second string.
        public var second: ClosedRange<Int>
        /// The run's length.
        public var length: Int { first.count }
    }

    /// What the dynamic programme found.
    public struct Solution: Equatable, Sendable {
        /// The length of the longest common subsequence.
        public var length: Int
        /// The subsequence (empty unless asked for).
        public var subsequence: Bytes
        /// Its runs of consecutive matches, from the ends of the strings backwards (empty
        /// unless asked for).
        public var matches: [Match]
    }

    /// Computes the LCS of `a` and `b`, refusing a table of more than `maxTableBytes`
    /// bytes with Redis's errors.
    ///
    /// - Parameter walk: also recover the subsequence and its matches (not needed for LEN).
    public static func solve(_ a: Bytes, _ b: Bytes, maxTableBytes: Int, walk: Bool) -> Result<Solution, Reply> {
        guard a.count < Int(UInt32.max) - 1, b.count < Int(UInt32.max) - 1 else {
            return .failure(.error("ERR String too long for LCS"))
        }
        let failed = Reply.error("ERR Insufficient memory, failed allocating transient memory for LCS")
        let width = b.count + 1
        let (cells, cellsOverflow) = (a.count + 1).multipliedReportingOverflow(by: width)
        let (tableBytes, bytesOverflow) = cells.multipliedReportingOverflow(by: MemoryLayout<UInt32>.stride)
        guard !cellsOverflow, !bytesOverflow else { return .failure(failed) }
        guard tableBytes <= maxTableBytes else {
            return .failure(.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"))
        }
        // malloc rather than an Array: a table the system cannot provide is an error reply,
        // not a trap.
        guard let memory = malloc(tableBytes) else { return .failure(failed) }
        defer { free(memory) }
        let table = memory.bindMemory(to: UInt32.self, capacity: cells)
        return .success(
            a.withUnsafeBytes { x -> Solution in
                b.withUnsafeBytes { y -> Solution in
                    fill(table, x, y)
                    let length = Int(table[x.count * width + y.count])
                    guard walk else { return Solution(length: length, subsequence: Bytes(), matches: []) }
                    return walkBack(table, x, y, length: length)
                }
            })
    }

    /// Fills `table[i * (y.count + 1) + j]` with the LCS length of `x[..<i]` and `y[..<j]`.
    static func fill(_ table: UnsafeMutablePointer<UInt32>, _ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer) {
        let width = y.count + 1
        for j in 0..<width { table[j] = 0 }
        guard !x.isEmpty else { return }
        for i in 1...x.count {
            let row = i * width
            let above = row - width
            table[row] = 0
            guard !y.isEmpty else { continue }
            let byte = x[i - 1]
            for j in 1...y.count {
                if byte == y[j - 1] {
                    table[row + j] = table[above + j - 1] &+ 1
                } else {
                    table[row + j] = Swift.max(table[above + j], table[row + j - 1])
                }
            }
        }
    }

    /// Walks back from the table's corner as Redis does: on a match take the byte and step
    /// diagonally, else step towards the larger neighbour (up only when strictly larger),
    /// closing the current run of matches at each non-match and at the strings' starts.
    static func walkBack(
        _ table: UnsafeMutablePointer<UInt32>, _ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer, length: Int
    ) -> Solution {
        let width = y.count + 1
        var matches: [Match] = []
        var subsequence = Bytes()
        subsequence.withUnsafeMutableBytes(count: length, preserving: false) { out in
            var (i, j, next) = (x.count, y.count, length)
            var run: Match?
            while i > 0 && j > 0 {
                if x[i - 1] == y[j - 1] {
                    next -= 1
                    out[next] = x[i - 1]
                    if let current = run {
                        run = Match(
                            first: (i - 1)...current.first.upperBound, second: (j - 1)...current.second.upperBound)
                    } else {
                        run = Match(first: (i - 1)...(i - 1), second: (j - 1)...(j - 1))
                    }
                    i -= 1
                    j -= 1
                    if i == 0 || j == 0, let current = run {
                        matches.append(current)
                        run = nil
                    }
                } else {
                    if table[(i - 1) * width + j] > table[i * width + j - 1] { i -= 1 } else { j -= 1 }
                    if let current = run {
                        matches.append(current)
                        run = nil
                    }
                }
            }
        }
        return Solution(length: length, subsequence: subsequence, matches: matches)
    }

    static func lcs(_ c: inout CommandContext) -> Reply {
        let args = c.args
        // As Redis: both keys are looked up before either type is checked.
        let values = (c.read(args[1]), c.read(args[2]))
        let notStrings = Reply.error("ERR The specified keys must contain string values")
        var strings = (Bytes(), Bytes())
        if let value = values.0 {
            guard let bytes = value.stringBytes else { return notStrings }
            strings.0 = bytes
        }
        if let value = values.1 {
            guard let bytes = value.stringBytes else { return notStrings }
            strings.1 = bytes
        }
        var (wantsLength, wantsIndexes, withMatchLength, minimum) = (false, false, false, 0)
        var i = 3
        while i < args.count {
            let option = args[i]
            if option.equalsIgnoringCase("idx") {
                wantsIndexes = true
            } else if option.equalsIgnoringCase("len") {
                wantsLength = true
            } else if option.equalsIgnoringCase("withmatchlen") {
                withMatchLength = true
            } else if option.equalsIgnoringCase("minmatchlen") && i + 1 < args.count {
                guard let n = c.integer(i + 1) else { return Errors.notInteger }
                minimum = Swift.max(n, 0)
                i += 1
            } else {
                return Errors.syntax
            }
            i += 1
        }
        if wantsIndexes && wantsLength {
            return .error("ERR If you want both the length and indexes, please just use IDX.")
        }
        let solution: Solution
        switch solve(
            strings.0, strings.1, maxTableBytes: c.engine.settings.maxStringLength, walk: wantsIndexes || !wantsLength)
        {
        case .success(let s): solution = s
        case .failure(let error): return error
        }
        if wantsLength { return .integer(solution.length) }
        guard wantsIndexes else { return .bulk(solution.subsequence) }
        let entries = solution.matches.filter { minimum == 0 || $0.length >= minimum }.map { match -> Reply in
            var entry: [Reply] = [
                .array([.integer(match.first.lowerBound), .integer(match.first.upperBound)]),
                .array([.integer(match.second.lowerBound), .integer(match.second.upperBound)]),
            ]
            if withMatchLength { entry.append(.integer(match.length)) }
            return .array(entry)
        }
        return .map([(.text("matches"), .array(entries)), (.text("len"), .integer(solution.length))])
    }
}
