//! Sorted-set commands (Redis 7.0 `t_zset.c` semantics and errors): adding and scoring,
//! ranks, counts, removal by member and by range, pops, random members and ZSCAN. The
//! ZRANGE family lives in `SortedSetRangeCommands`, the set algebra in
//! `SortedSetAlgebraCommands`, the blocking pops in `BlockingSortedSetCommands`.

/// The sorted-set commands.
public enum SortedSetCommands {
    static func spec(
        _ name: String, _ arity: Int, _ flags: CommandFlags, keys: (Int, Int, Int) = (1, 1, 1),
        since: String = "1.2.0", _ summary: String, _ synopsis: String,
        _ handler: @escaping (inout CommandContext) -> Reply
    ) -> CommandSpec {
        .dataType(name, arity, flags, group: "sorted-set", keys: keys, since: since, summary, synopsis, handler)
    }

    /// Their table entries.
    public static let specs: [CommandSpec] = [
        spec(
            "zadd", -4, [.write, .denyOOM, .fast],
            "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
            "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]"
        ) { add(&$0, scoreIndex: nil) },
        spec(
            "zincrby", 4, [.write, .denyOOM, .fast],
            "Increments the score of a member in a sorted set.", "key increment member"
        ) { add(&$0, scoreIndex: 2) },
        spec("zscore", 3, [.readonly, .fast], "Returns the score of a member in a sorted set.", "key member", score),
        spec(
            "zmscore", -3, [.readonly, .fast], since: "6.2.0",
            "Returns the score of one or more members in a sorted set.", "key member [member ...]", mscore),
        spec("zcard", 2, [.readonly, .fast], "Returns the number of members in a sorted set.", "key", card),
        spec(
            "zcount", 4, [.readonly, .fast], since: "2.0.0",
            "Returns the count of members in a sorted set that have scores within a range.", "key min max", countScores),
        spec(
            "zlexcount", 4, [.readonly, .fast], since: "2.8.9",
            "Returns the number of members in a sorted set within a lexicographical range.", "key min max", countLex),
        spec(
            "zrank", -3, [.readonly, .fast], since: "2.0.0",
            "Returns the index of a member in a sorted set ordered by ascending scores.", "key member [WITHSCORE]"
        ) { rank(&$0, reverse: false) },
        spec(
            "zrevrank", -3, [.readonly, .fast], since: "2.0.0",
            "Returns the index of a member in a sorted set ordered by descending scores.", "key member [WITHSCORE]"
        ) { rank(&$0, reverse: true) },
        spec(
            "zrem", -3, [.write, .fast],
            "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.",
            "key member [member ...]", remove),
        spec(
            "zremrangebyrank", 4, [.write], since: "2.0.0",
            "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.",
            "key start stop"
        ) { removeRange(&$0) { c, zset in rankRange(c, zset) } },
        spec(
            "zremrangebyscore", 4, [.write],
            "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.",
            "key min max"
        ) { removeRange(&$0) { c, zset in scoreRange(c, zset) } },
        spec(
            "zremrangebylex", 4, [.write], since: "2.8.9",
            "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.",
            "key min max"
        ) { removeRange(&$0) { c, zset in lexRange(c, zset) } },
        spec(
            "zpopmin", -2, [.write, .fast], since: "5.0.0",
            "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
            "key [count]"
        ) { pop(&$0, max: false) },
        spec(
            "zpopmax", -2, [.write, .fast], since: "5.0.0",
            "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
            "key [count]"
        ) { pop(&$0, max: true) },
        spec(
            "zmpop", -4, [.write], keys: (2, -1, 1), since: "7.0.0",
            "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.",
            "numkeys key [key ...] MIN|MAX [COUNT count]", mpop),
        spec(
            "zrandmember", -2, [.readonly], since: "6.2.0", "Returns one or more random members from a sorted set.",
            "key [count [WITHSCORES]]", randmember),
        spec(
            "zscan", -3, [.readonly], since: "2.8.0", "Iterates over members and scores of a sorted set.",
            "key cursor [MATCH pattern] [COUNT count]", scan),
    ]

    static let notFloat = Reply.error("ERR value is not a valid float")
    static let scoreRangeError = Reply.error("ERR min or max is not a float")
    static let lexRangeError = Reply.error("ERR min or max not valid string range item")
    static let nanResult = Reply.error("ERR resulting score is not a number (NaN)")

    static func read(_ c: CommandContext, _ key: Bytes) -> Result<SortedSetValue?, Reply> {
        c.readCollection(key, .sortedSet)
    }

    // MARK: ZADD and ZINCRBY

    struct AddOptions {
        var nx = false
        var xx = false
        var gt = false
        var lt = false
        var ch = false
        var incr = false
    }

    /// ZADD (`scoreIndex` nil: options first) and ZINCRBY (`scoreIndex` 2, INCR implied).
    static func add(_ c: inout CommandContext, scoreIndex fixedIndex: Int?) -> Reply {
        let args = c.args
        var options = AddOptions()
        var index = 2
        if let fixedIndex {
            options.incr = true
            index = fixedIndex
        } else {
            while index < args.count {
                let word = args[index]
                if word.equalsIgnoringCase("nx") {
                    options.nx = true
                } else if word.equalsIgnoringCase("xx") {
                    options.xx = true
                } else if word.equalsIgnoringCase("gt") {
                    options.gt = true
                } else if word.equalsIgnoringCase("lt") {
                    options.lt = true
                } else if word.equalsIgnoringCase("ch") {
                    options.ch = true
                } else if word.equalsIgnoringCase("incr") {
                    options.incr = true
                } else {
                    break
                }
                index += 1
            }
        }
        let remaining = args.count - index
        guard remaining > 0, remaining % 2 == 0 else { return Errors.syntax }
        if options.nx && options.xx { return .error("ERR XX and NX options at the same time are not compatible") }
        if (options.gt && options.nx) || (options.lt && options.nx) || (options.gt && options.lt) {
            return .error("ERR GT, LT, and/or NX options at the same time are not compatible")
        }
        if options.incr && remaining > 2 { return .error("ERR INCR option supports a single increment-element pair") }
        var pairs: [ScoredMember] = []
        pairs.reserveCapacity(remaining / 2)
        for i in stride(from: index, to: args.count, by: 2) {
            guard let score = args[i].strictDouble else { return notFloat }
            pairs.append(ScoredMember(score: score, member: args[i + 1]))
        }
        let limits = c.engine.settings.sortedSetLimits
        var tally = AddTally()
        let apply = { (zset: inout SortedSetValue) in
            for pair in pairs where !tally.failed { tally.record(zadd(&zset, pair, options, limits)) }
        }
        switch c.modifyCollection(args[1], .sortedSet, create: false, apply) {
        case .failure(let error): return error
        case .success(.some): break
        case .success(nil):
            guard !options.xx else { break }
            // Redis 7.0 picks the encoding from the first member alone.
            var zset = SortedSetValue(expecting: 1, longest: pairs[0].member.count, limits: limits)
            apply(&zset)
            if zset.count > 0 { c.store(args[1], .sortedSet(zset)) }
        }
        if tally.failed { return nanResult }
        c.changed(tally.added + tally.updated)
        if tally.added + tally.updated > 0 { c.notify(.zset, options.incr ? "zincr" : "zadd", args[1]) }
        if options.incr { return tally.processed > 0 ? .double(tally.lastScore) : .null }
        return .integer(options.ch ? tally.added + tally.updated : tally.added)
    }

    /// What ZADD did to one member.
    enum AddOutcome {
        case added(Double)
        case updated(Double)
        /// Processed with the score unchanged (an increment of 0, or the same score).
        case kept(Double)
        /// Skipped by NX, XX, GT or LT.
        case skipped
        /// The increment made the score NaN.
        case notANumber
    }

    struct AddTally {
        var added = 0
        var updated = 0
        var processed = 0
        var lastScore = 0.0
        var failed = false

        mutating func record(_ outcome: AddOutcome) {
            switch outcome {
            case .added(let score): (added, processed, lastScore) = (added + 1, processed + 1, score)
            case .updated(let score): (updated, processed, lastScore) = (updated + 1, processed + 1, score)
            case .kept(let score): (processed, lastScore) = (processed + 1, score)
            case .skipped: break
            case .notANumber: failed = true
            }
        }
    }

    /// Redis's `zsetAdd`: one member with the ZADD flags.
    static func zadd(
        _ zset: inout SortedSetValue, _ pair: ScoredMember, _ options: AddOptions, _ limits: SortedSetLimits
    ) -> AddOutcome {
        guard let current = zset.score(of: pair.member) else {
            if options.xx { return .skipped }
            zset.set(pair.member, score: pair.score, limits: limits)
            return .added(pair.score)
        }
        if options.nx { return .skipped }
        var score = pair.score
        if options.incr {
            score += current
            if score.isNaN { return .notANumber }
        }
        if (options.lt && score >= current) || (options.gt && score <= current) { return .skipped }
        guard score != current else { return .kept(score) }
        zset.set(pair.member, score: score, limits: limits)
        return .updated(score)
    }

    // MARK: Reads

    static func score(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .sortedSet) { zset in
            zset?.score(of: c.args[2]).map(Reply.double) ?? .null
        }
    }

    static func mscore(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .sortedSet) { zset in
            .array(c.args.dropFirst(2).map { zset?.score(of: $0).map(Reply.double) ?? .null })
        }
    }

    static func card(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .sortedSet) { .integer($0?.count ?? 0) }
    }

    static func countScores(_ c: inout CommandContext) -> Reply {
        guard let interval = ScoreInterval.parse(c.args[2], c.args[3]) else { return scoreRangeError }
        return c.replyReading(c.args[1], .sortedSet) { zset in .integer(zset.map { interval.ranks(in: $0).count } ?? 0)
        }
    }

    static func countLex(_ c: inout CommandContext) -> Reply {
        guard let interval = LexInterval.parse(c.args[2], c.args[3]) else { return lexRangeError }
        return c.replyReading(c.args[1], .sortedSet) { zset in .integer(zset.map { interval.ranks(in: $0).count } ?? 0)
        }
    }

    /// ZRANK and ZREVRANK, with 7.2's WITHSCORE.
    static func rank(_ c: inout CommandContext, reverse: Bool) -> Reply {
        guard c.args.count <= 4 else { return Errors.arity(c.commandName) }
        let withScore = c.args.count == 4
        if withScore && !c.args[3].equalsIgnoringCase("withscore") { return Errors.syntax }
        let member = c.args[2]
        return c.replyReading(c.args[1], .sortedSet) { zset in
            guard let zset, let rank = zset.rank(of: member), let score = zset.score(of: member) else {
                return withScore ? .nullArray : .null
            }
            let position = reverse ? zset.count - 1 - rank : rank
            return withScore ? .array([.integer(position), .double(score)]) : .integer(position)
        }
    }

    // MARK: Removal

    static func remove(_ c: inout CommandContext) -> Reply {
        let members = c.args.dropFirst(2)
        let outcome = c.modifyCollection(c.args[1], .sortedSet, create: false) { zset in
            members.reduce(0) { $0 + (zset.remove($1) ? 1 : 0) }
        }
        return c.countReply(outcome, .zset, "zrem")
    }

    /// The rank range of ZREMRANGEBYRANK's arguments, or the parse error.
    static func rankRange(_ c: CommandContext, _ zset: SortedSetValue?) -> Result<Range<Int>, Reply> {
        guard let start = c.integer(2), let end = c.integer(3) else { return .failure(Errors.notInteger) }
        guard let zset else { return .success(0..<0) }
        return .success(rankWindow(start: start, end: end, count: zset.count) ?? 0..<0)
    }

    static func scoreRange(_ c: CommandContext, _ zset: SortedSetValue?) -> Result<Range<Int>, Reply> {
        guard let interval = ScoreInterval.parse(c.args[2], c.args[3]) else { return .failure(scoreRangeError) }
        return .success(zset.map { interval.ranks(in: $0) } ?? 0..<0)
    }

    static func lexRange(_ c: CommandContext, _ zset: SortedSetValue?) -> Result<Range<Int>, Reply> {
        guard let interval = LexInterval.parse(c.args[2], c.args[3]) else { return .failure(lexRangeError) }
        return .success(zset.map { interval.ranks(in: $0) } ?? 0..<0)
    }

    /// ZREMRANGEBY*: the arguments are checked before the key, as Redis does.
    static func removeRange(
        _ c: inout CommandContext, _ range: (CommandContext, SortedSetValue?) -> Result<Range<Int>, Reply>
    ) -> Reply {
        if case .failure(let error) = range(c, nil) { return error }
        let context = c
        let outcome = c.modifyCollection(c.args[1], .sortedSet, create: false) { zset -> Int in
            guard case .success(let ranks) = range(context, zset) else { return 0 }
            let doomed = zset.members(inRanks: ranks)
            for item in doomed { zset.remove(item.member) }
            return doomed.count
        }
        return c.countReply(outcome, .zset, c.commandName)
    }

    // MARK: Pops

    /// Removes up to `count` members from the low (or high) end of the set at `key`, in
    /// pop order.
    static func popExtremes(_ c: inout CommandContext, _ key: Bytes, max: Bool, count: Int) -> Result<
        [ScoredMember]?, Reply
    > {
        let outcome = c.modifyCollection(key, .sortedSet, create: false) { zset -> [ScoredMember] in
            let taken = Swift.min(count, zset.count)
            let popped =
                max
                ? Array(zset.members(inRanks: (zset.count - taken)..<zset.count).reversed())
                : zset.members(inRanks: 0..<taken)
            for item in popped { zset.remove(item.member) }
            return popped
        }
        if case .success(let popped?) = outcome, !popped.isEmpty { c.notify(.zset, max ? "zpopmax" : "zpopmin", key) }
        return outcome
    }

    static func pop(_ c: inout CommandContext, max: Bool) -> Reply {
        guard c.args.count <= 3 else { return Errors.syntax }
        var count: Int?
        if c.args.count == 3 {
            guard let n = c.integer(2), n >= 0 else { return .error("ERR value is out of range, must be positive") }
            count = n
        }
        if count == 0 {
            if case .failure(let error) = read(c, c.args[1]) { return error }
            return .array([])
        }
        switch popExtremes(&c, c.args[1], max: max, count: count ?? 1) {
        case .failure(let error): return error
        case .success(let popped):
            let items = popped ?? []
            c.changed(items.count)
            if count == nil, let first = items.first { return .array([.bulk(first.member), .double(first.score)]) }
            return .members(items, withScores: true)
        }
    }

    /// ZMPOP/BZMPOP arguments after `numkeysIndex`: the keys, the end and the count.
    static func parseMultiPop(_ c: CommandContext, numkeysIndex: Int) -> Result<
        (keys: [Bytes], max: Bool, count: Int), Reply
    > {
        let args = c.args
        guard let numkeys = c.integer(numkeysIndex), numkeys > 0 else {
            return .failure(.error("ERR numkeys should be greater than 0"))
        }
        guard numkeys < args.count - numkeysIndex - 1 else { return .failure(Errors.syntax) }
        let whereIndex = numkeysIndex + numkeys + 1
        let max: Bool
        if args[whereIndex].equalsIgnoringCase("min") {
            max = false
        } else if args[whereIndex].equalsIgnoringCase("max") {
            max = true
        } else {
            return .failure(Errors.syntax)
        }
        var count: Int?
        var j = whereIndex + 1
        while j < args.count {
            guard count == nil, args[j].equalsIgnoringCase("count"), j + 1 < args.count else {
                return .failure(Errors.syntax)
            }
            guard let n = c.integer(j + 1), n > 0 else { return .failure(.error("ERR count should be greater than 0")) }
            count = n
            j += 2
        }
        return .success((Array(args[(numkeysIndex + 1)..<whereIndex]), max, count ?? 1))
    }

    /// Pops from the first non-empty key: `[key, [[member, score], ...]]`, or nil when all
    /// are empty.
    static func popFirstNonEmpty(_ c: inout CommandContext, keys: [Bytes], max: Bool, count: Int) -> Result<
        Reply?, Reply
    > {
        for key in keys {
            switch popExtremes(&c, key, max: max, count: count) {
            case .failure(let error): return .failure(error)
            case .success(nil): continue
            case .success(let popped?):
                c.changed(popped.count)
                return .success(
                    .array([.bulk(key), .array(popped.map { .array([.bulk($0.member), .double($0.score)]) })]))
            }
        }
        return .success(nil)
    }

    static func mpop(_ c: inout CommandContext) -> Reply {
        switch parseMultiPop(c, numkeysIndex: 1) {
        case .failure(let error): return error
        case .success(let request):
            switch popFirstNonEmpty(&c, keys: request.keys, max: request.max, count: request.count) {
            case .failure(let error): return error
            case .success(let reply): return reply ?? .nullArray
            }
        }
    }

    // MARK: Random members and scanning

    static func randmember(_ c: inout CommandContext) -> Reply {
        let args = c.args
        var count: Int?
        var withScores = false
        if args.count >= 3 {
            guard let n = c.integer(2) else { return Errors.notInteger }
            if n == Int.min {
                return .error(
                    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
            }
            count = n
            if args.count > 4 || (args.count == 4 && !args[3].equalsIgnoringCase("withscores")) { return Errors.syntax }
            withScores = args.count == 4
            if withScores && (n < -Int.max / 2 || n > Int.max / 2) { return .error("ERR value is out of range") }
        }
        let zset: SortedSetValue?
        switch read(c, args[1]) {
        case .failure(let error): return error
        case .success(let z): zset = z
        }
        guard let count else {
            guard let zset, zset.count > 0 else { return .null }
            return .optional(zset.member(atRank: Int.random(in: 0..<zset.count, using: &c.engine.random))?.member)
        }
        guard let zset, count != 0 else { return .array([]) }
        if RandomReplyLimit.exceeds(count) { return RandomReplyLimit.tooLarge }
        var picked: [ScoredMember]
        if count < 0 {
            picked = (0..<(-count)).compactMap { _ in
                zset.member(atRank: Int.random(in: 0..<zset.count, using: &c.engine.random))
            }
        } else if count >= zset.count {
            picked = zset.all
        } else {
            var ranks = Set<Int>()
            while ranks.count < count { ranks.insert(Int.random(in: 0..<zset.count, using: &c.engine.random)) }
            picked = ranks.compactMap { zset.member(atRank: $0) }
        }
        return .members(picked, withScores: withScores)
    }

    static func scan(_ c: inout CommandContext) -> Reply {
        KeyCommands.collectionScan(c, read: { read(c, $0) }) { zset, cursor, count, matches in
            let (next, members) = zset.scan(cursor: cursor, count: count)
            return (
                next,
                members.filter { matches($0.member) }.flatMap {
                    [.bulk($0.member), .text(NumberFormat.double($0.score))]
                }
            )
        }
    }
}
