//! Sorted-set algebra (Redis 7.0 `zunionInterDiffGenericCommand`): ZUNION, ZINTER, ZDIFF,
//! their STORE forms and ZINTERCARD, with WEIGHTS and AGGREGATE SUM|MIN|MAX. Plain sets
//! are accepted as inputs with every score 1. Sources are combined smallest first, as
//! Redis does, so floating-point sums round the same way.

/// The algebra commands of sorted sets.
public enum SortedSetAlgebraCommands {
    /// The keys of a `destination numkeys key [key ...] [options]` invocation.
    @Sendable static func storeKeys(_ args: [Bytes]) -> [Bytes]? {
        guard args.count >= 4, let count = args[2].strictInteger, count >= 0, count <= args.count - 3 else {
            return [args[1]]
        }
        return [args[1]] + args[3..<(3 + count)]
    }

    /// Their table entries.
    public static let specs: [CommandSpec] = [
        SortedSetCommands.spec(
            "zunionstore", -4, [.write, .denyOOM], keys: (1, 1, 1), since: "2.0.0",
            "Stores the union of multiple sorted sets in a key.",
            "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]"
        ) { combine(&$0, .union, store: true) }.findingKeys(storeKeys),
        SortedSetCommands.spec(
            "zinterstore", -4, [.write, .denyOOM], keys: (1, 1, 1), since: "2.0.0",
            "Stores the intersect of multiple sorted sets in a key.",
            "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]"
        ) { combine(&$0, .intersection, store: true) }.findingKeys(storeKeys),
        SortedSetCommands.spec(
            "zdiffstore", -4, [.write, .denyOOM], keys: (1, 1, 1), since: "6.2.0",
            "Stores the difference of multiple sorted sets in a key.", "destination numkeys key [key ...]"
        ) { combine(&$0, .difference, store: true) }.findingKeys(storeKeys),
        SortedSetCommands.spec(
            "zunion", -3, [.readonly], keys: (0, 0, 0), since: "6.2.0", "Returns the union of multiple sorted sets.",
            "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]"
        ) { combine(&$0, .union, store: false) },
        SortedSetCommands.spec(
            "zinter", -3, [.readonly], keys: (0, 0, 0), since: "6.2.0",
            "Returns the intersect of multiple sorted sets.",
            "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]"
        ) { combine(&$0, .intersection, store: false) },
        SortedSetCommands.spec(
            "zdiff", -3, [.readonly], keys: (0, 0, 0), since: "6.2.0",
            "Returns the difference between multiple sorted sets.", "numkeys key [key ...] [WITHSCORES]"
        ) { combine(&$0, .difference, store: false) },
        SortedSetCommands.spec(
            "zintercard", -3, [.readonly], keys: (0, 0, 0), since: "7.0.0",
            "Returns the number of members of the intersect of multiple sorted sets.",
            "numkeys key [key ...] [LIMIT limit]", intercard),
    ]

    enum Operation {
        case union
        case intersection
        case difference
    }

    enum Aggregate {
        case sum
        case min
        case max

        /// Redis's `zunionInterAggregate`: a NaN sum (inf + -inf) becomes 0.
        func combine(_ target: Double, _ value: Double) -> Double {
            switch self {
            case .sum:
                let total = target + value
                return total.isNaN ? 0 : total
            case .min: return value < target ? value : target
            case .max: return value > target ? value : target
            }
        }
    }

    /// One input: a sorted set, a set (scores 1), or a missing key.
    struct Source {
        var zset: SortedSetValue?
        var set: SetValue?
        var weight = 1.0

        var count: Int { zset?.count ?? set?.count ?? 0 }

        func score(of member: Bytes) -> Double? {
            if let zset { return zset.score(of: member) }
            if let set { return set.contains(member) ? 1 : nil }
            return nil
        }

        var members: [ScoredMember] {
            if let zset { return zset.all }
            return (set?.members ?? []).map { ScoredMember(score: 1, member: $0) }
        }
    }

    struct Request {
        var sources: [Source]
        var aggregate = Aggregate.sum
        var withScores = false
        var limit = 0
    }

    /// Reads `numkeys` and the sources after it (WRONGTYPE stops at once, as Redis), then
    /// the options this command allows.
    static func parse(
        _ c: CommandContext, numkeysIndex: Int, _ operation: Operation, store: Bool, cardinalityOnly: Bool
    ) -> Result<Request, Reply> {
        let args = c.args
        guard let numkeys = c.integer(numkeysIndex) else { return .failure(Errors.notInteger) }
        guard numkeys >= 1 else {
            return .failure(.error("ERR at least 1 input key is needed for '\(c.commandName)' command"))
        }
        guard numkeys <= args.count - numkeysIndex - 1 else { return .failure(Errors.syntax) }
        var request = Request(sources: [])
        for key in args[(numkeysIndex + 1)...(numkeysIndex + numkeys)] {
            switch store ? c.lookup(key) : c.read(key) {
            case nil: request.sources.append(Source())
            case .sortedSet(let zset)?: request.sources.append(Source(zset: zset))
            case .set(let set)?: request.sources.append(Source(set: set))
            default: return .failure(Errors.wrongType)
            }
        }
        var j = numkeysIndex + numkeys + 1
        let combining = operation != .difference && !cardinalityOnly
        while j < args.count {
            let remaining = args.count - j
            let word = args[j]
            if combining && remaining >= numkeys + 1 && word.equalsIgnoringCase("weights") {
                for i in 0..<numkeys {
                    guard let weight = args[j + 1 + i].strictDouble else {
                        return .failure(.error("ERR weight value is not a float"))
                    }
                    request.sources[i].weight = weight
                }
                j += numkeys + 1
            } else if combining && remaining >= 2 && word.equalsIgnoringCase("aggregate") {
                let name = args[j + 1]
                if name.equalsIgnoringCase("sum") {
                    request.aggregate = .sum
                } else if name.equalsIgnoringCase("min") {
                    request.aggregate = .min
                } else if name.equalsIgnoringCase("max") {
                    request.aggregate = .max
                } else {
                    return .failure(Errors.syntax)
                }
                j += 2
            } else if !store && !cardinalityOnly && word.equalsIgnoringCase("withscores") {
                request.withScores = true
                j += 1
            } else if cardinalityOnly && remaining >= 2 && word.equalsIgnoringCase("limit") {
                guard let limit = c.integer(j + 1), limit >= 0 else {
                    return .failure(.error("ERR LIMIT can't be negative"))
                }
                request.limit = limit
                j += 2
            } else {
                return .failure(Errors.syntax)
            }
        }
        return .success(request)
    }

    /// The members of the result with their combined scores (unordered), stopping once
    /// `limit` (when positive) are found.
    static func evaluate(_ operation: Operation, _ request: Request, limit: Int = 0) -> [ScoredMember] {
        switch operation {
        case .union:
            var scores: [Bytes: Double] = [:]
            var order: [Bytes] = []
            for source in sortedBySize(request.sources) {
                for item in source.members {
                    var score = source.weight * item.score
                    if score.isNaN { score = 0 }
                    if let existing = scores[item.member] {
                        scores[item.member] = request.aggregate.combine(existing, score)
                    } else {
                        scores[item.member] = score
                        order.append(item.member)
                    }
                }
            }
            return order.map { ScoredMember(score: scores[$0] ?? 0, member: $0) }
        case .intersection:
            let sources = sortedBySize(request.sources)
            guard let smallest = sources.first, smallest.count > 0 else { return [] }
            var result: [ScoredMember] = []
            candidates: for item in smallest.members {
                var score = smallest.weight * item.score
                if score.isNaN { score = 0 }
                for other in sources.dropFirst() {
                    guard let found = other.score(of: item.member) else { continue candidates }
                    score = request.aggregate.combine(score, found * other.weight)
                }
                result.append(ScoredMember(score: score, member: item.member))
                if limit > 0 && result.count >= limit { break }
            }
            return result
        case .difference:
            guard let first = request.sources.first else { return [] }
            let others = request.sources.dropFirst()
            return first.members.filter { item in !others.contains { $0.score(of: item.member) != nil } }
        }
    }

    static func sortedBySize(_ sources: [Source]) -> [Source] {
        sources.enumerated().sorted { ($0.element.count, $0.offset) < ($1.element.count, $1.offset) }.map {
            $0.element
        }
    }

    static func combine(_ c: inout CommandContext, _ operation: Operation, store: Bool) -> Reply {
        let request: Request
        switch parse(c, numkeysIndex: store ? 2 : 1, operation, store: store, cardinalityOnly: false) {
        case .failure(let error): return error
        case .success(let r): request = r
        }
        let result = evaluate(operation, request)
        if store { return SortedSetRangeCommands.store(&c, c.args[1], result) }
        let ordered = result.sorted { $0.precedes($1) }
        return .members(ordered, withScores: request.withScores)
    }

    static func intercard(_ c: inout CommandContext) -> Reply {
        switch parse(c, numkeysIndex: 1, .intersection, store: false, cardinalityOnly: true) {
        case .failure(let error): return error
        case .success(let request): return .integer(evaluate(.intersection, request, limit: request.limit).count)
        }
    }
}
