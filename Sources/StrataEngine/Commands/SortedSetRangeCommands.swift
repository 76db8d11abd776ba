//! The ZRANGE family (Redis 7.0 `zrangeGenericCommand`): ZRANGE with BYSCORE/BYLEX/REV/
//! LIMIT/WITHSCORES, ZRANGESTORE, and the older ZREVRANGE, Z[REV]RANGEBYSCORE and
//! Z[REV]RANGEBYLEX, which are ZRANGE with the kind and direction fixed. Every selection
//! is a range of ascending ranks, so a query costs O(log n + k).

/// The range commands of sorted sets.
public enum SortedSetRangeCommands {
    /// Their table entries.
    public static let specs: [CommandSpec] = [
        SortedSetCommands.spec(
            "zrange", -4, [.readonly],
            "Returns members in a sorted set within a range of indexes.",
            "key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]"
        ) { range(&$0, RangeForm()) },
        SortedSetCommands.spec(
            "zrangestore", -5, [.write, .denyOOM], keys: (1, 2, 1), since: "6.2.0",
            "Stores a range of members from sorted set in a key.",
            "dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]"
        ) { range(&$0, RangeForm(store: true)) },
        SortedSetCommands.spec(
            "zrevrange", -4, [.readonly],
            "Returns members in a sorted set within a range of indexes in reverse order.",
            "key start stop [WITHSCORES]"
        ) { range(&$0, RangeForm(kind: .rank, reverse: true)) },
        SortedSetCommands.spec(
            "zrangebyscore", -4, [.readonly], since: "1.0.5",
            "Returns members in a sorted set within a range of scores.",
            "key min max [WITHSCORES] [LIMIT offset count]"
        ) { range(&$0, RangeForm(kind: .score, reverse: false)) },
        SortedSetCommands.spec(
            "zrevrangebyscore", -4, [.readonly], since: "2.2.0",
            "Returns members in a sorted set within a range of scores in reverse order.",
            "key max min [WITHSCORES] [LIMIT offset count]"
        ) { range(&$0, RangeForm(kind: .score, reverse: true)) },
        SortedSetCommands.spec(
            "zrangebylex", -4, [.readonly], since: "2.8.9",
            "Returns members in a sorted set within a lexicographical range.",
            "key min max [LIMIT offset count]"
        ) { range(&$0, RangeForm(kind: .lex, reverse: false)) },
        SortedSetCommands.spec(
            "zrevrangebylex", -4, [.readonly], since: "2.8.9",
            "Returns members in a sorted set within a lexicographical range in reverse order.",
            "key max min [LIMIT offset count]"
        ) { range(&$0, RangeForm(kind: .lex, reverse: true)) },
    ]

    enum Kind {
        case rank
        case score
        case lex
    }

    /// What a command fixes in advance: the kind and direction for the older commands,
    /// and whether the result is stored (ZRANGESTORE, whose source is the second key).
    struct RangeForm {
        var kind: Kind?
        var reverse: Bool?
        var store = false
    }

    /// A parsed query.
    struct Query {
        enum Bounds {
            case rank(Int, Int)
            case score(ScoreInterval)
            case lex(LexInterval)
        }

        var bounds: Bounds
        var reverse: Bool
        var offset = 0
        var limit = -1
        var withScores = false

        /// The selected members, in reply order.
        func select(from zset: SortedSetValue) -> [ScoredMember] {
            let ascending: Range<Int>
            switch bounds {
            case .rank(let start, let end):
                guard let window = rankWindow(start: start, end: end, count: zset.count) else { return [] }
                let n = zset.count
                let ranks = reverse ? (n - window.upperBound)..<(n - window.lowerBound) : window
                let items = zset.members(inRanks: ranks)
                return reverse ? items.reversed() : items
            case .score(let interval): ascending = interval.ranks(in: zset)
            case .lex(let interval): ascending = interval.ranks(in: zset)
            }
            guard offset >= 0, offset < ascending.count else { return [] }
            let available = ascending.count - offset
            let taken = limit < 0 ? available : Swift.min(available, limit)
            if reverse {
                let upper = ascending.upperBound - offset
                return zset.members(inRanks: (upper - taken)..<upper).reversed()
            }
            let lower = ascending.lowerBound + offset
            return zset.members(inRanks: lower..<(lower + taken))
        }
    }

    /// Parses the options and bounds, in Redis's order of checks.
    static func parse(_ c: CommandContext, _ form: RangeForm) -> Result<Query, Reply> {
        let args = c.args
        let first = form.store ? 3 : 2
        var kind = form.kind
        var reverse = form.reverse
        var offset = 0
        var limit = -1
        var withScores = false
        var j = first + 2
        while j < args.count {
            let word = args[j]
            if !form.store && word.equalsIgnoringCase("withscores") {
                withScores = true
            } else if word.equalsIgnoringCase("limit") && args.count - j - 1 >= 2 {
                guard let o = c.integer(j + 1), let l = c.integer(j + 2) else { return .failure(Errors.notInteger) }
                (offset, limit) = (o, l)
                j += 2
            } else if reverse == nil && word.equalsIgnoringCase("rev") {
                reverse = true
            } else if kind == nil && word.equalsIgnoringCase("bylex") {
                kind = .lex
            } else if kind == nil && word.equalsIgnoringCase("byscore") {
                kind = .score
            } else {
                return .failure(Errors.syntax)
            }
            j += 1
        }
        let resolvedKind = kind ?? .rank
        let isReverse = reverse ?? false
        // As Redis: a LIMIT whose count is -1 (all) is accepted with ranks, and ignored.
        if limit != -1 && resolvedKind == .rank {
            return .failure(
                .error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"))
        }
        if withScores && resolvedKind == .lex {
            return .failure(.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX"))
        }
        var (low, high) = (args[first], args[first + 1])
        if isReverse && resolvedKind != .rank { swap(&low, &high) }
        let bounds: Query.Bounds
        switch resolvedKind {
        case .rank:
            guard let start = low.strictInteger, let end = high.strictInteger else {
                return .failure(Errors.notInteger)
            }
            bounds = .rank(start, end)
        case .score:
            guard let interval = ScoreInterval.parse(low, high) else {
                return .failure(SortedSetCommands.scoreRangeError)
            }
            bounds = .score(interval)
        case .lex:
            guard let interval = LexInterval.parse(low, high) else { return .failure(SortedSetCommands.lexRangeError) }
            bounds = .lex(interval)
        }
        return .success(Query(bounds: bounds, reverse: isReverse, offset: offset, limit: limit, withScores: withScores))
    }

    static func range(_ c: inout CommandContext, _ form: RangeForm) -> Reply {
        let query: Query
        switch parse(c, form) {
        case .failure(let error): return error
        case .success(let q): query = q
        }
        let source = form.store ? c.args[2] : c.args[1]
        let zset: SortedSetValue?
        switch form.store ? lookupForWrite(c, source) : c.readCollection(source, .sortedSet) {
        case .failure(let error): return error
        case .success(let z): zset = z
        }
        let selected = zset.map { query.select(from: $0) } ?? []
        if form.store {
            return store(&c, c.args[1], selected)
        }
        return .members(selected, withScores: query.withScores)
    }

    /// The sorted set at `key` for a command that writes (no hit/miss statistics).
    static func lookupForWrite(_ c: CommandContext, _ key: Bytes) -> Result<SortedSetValue?, Reply> {
        guard let value = c.lookup(key) else { return .success(nil) }
        guard case .sortedSet(let zset) = value else { return .failure(Errors.wrongType) }
        return .success(zset)
    }

    /// Replaces `destination` with a sorted set of `members` (deleting it when there are
    /// none) and replies with their number, as the STORE commands do.
    static func store(_ c: inout CommandContext, _ destination: Bytes, _ members: [ScoredMember]) -> Reply {
        if members.isEmpty {
            if c.delete(destination) {
                c.changed()
                c.notify(.generic, "del", destination)
            }
            return .integer(0)
        }
        c.store(destination, .sortedSet(SortedSetValue(members, limits: c.engine.settings.sortedSetLimits)))
        c.changed()
        c.notify(.zset, c.commandName, destination)
        return .integer(members.count)
    }
}
