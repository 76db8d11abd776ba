//! Set commands (Redis 7.0 `t_set.c` semantics and errors). Algebra commands read every
//! source first (a missing key is an empty set, another type is WRONGTYPE) and the STORE
//! variants replace the destination, deleting it when the result is empty.

/// The set commands.
public enum SetCommands {
    static func spec(
        _ name: String, _ arity: Int, _ flags: CommandFlags, keys: (Int, Int, Int) = (1, 1, 1),
        since: String = "1.0.0", _ summary: String, _ synopsis: String,
        _ handler: @escaping (inout CommandContext) -> Reply
    ) -> CommandSpec {
        .dataType(name, arity, flags, group: "set", keys: keys, since: since, summary, synopsis, handler)
    }

    /// Their table entries.
    public static let specs: [CommandSpec] = [
        spec(
            "sadd", -3, [.write, .denyOOM, .fast],
            "Adds one or more members to a set. Creates the key if it doesn't exist.",
            "key member [member ...]", add),
        spec(
            "srem", -3, [.write, .fast],
            "Removes one or more members from a set. Deletes the set if the last member was removed.",
            "key member [member ...]", remove),
        spec("smembers", 2, [.readonly], "Returns all members of a set.", "key", members),
        spec(
            "sismember", 3, [.readonly, .fast], "Determines whether a member belongs to a set.", "key member", ismember),
        spec(
            "smismember", -3, [.readonly, .fast], since: "6.2.0",
            "Determines whether multiple members belong to a set.",
            "key member [member ...]", mismember),
        spec("scard", 2, [.readonly, .fast], "Returns the number of members in a set.", "key", card),
        spec(
            "spop", -2, [.write, .fast],
            "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
            "key [count]", pop),
        spec(
            "srandmember", -2, [.readonly], "Get one or multiple random members from a set", "key [count]", randmember),
        spec(
            "smove", 4, [.write, .fast], keys: (1, 2, 1), "Moves a member from one set to another.",
            "source destination member", move),
        spec("sinter", -2, [.readonly], keys: (1, -1, 1), "Returns the intersect of multiple sets.", "key [key ...]") {
            algebra(&$0, .intersection, store: false)
        },
        spec(
            "sintercard", -3, [.readonly], keys: (2, -1, 1), since: "7.0.0",
            "Returns the number of members of the intersect of multiple sets.",
            "numkeys key [key ...] [LIMIT limit]", intercard
        ).findingKeys(intercardKeys),
        spec(
            "sinterstore", -3, [.write, .denyOOM], keys: (1, -1, 1), "Stores the intersect of multiple sets in a key.",
            "destination key [key ...]"
        ) { algebra(&$0, .intersection, store: true) },
        spec("sunion", -2, [.readonly], keys: (1, -1, 1), "Returns the union of multiple sets.", "key [key ...]") {
            algebra(&$0, .union, store: false)
        },
        spec(
            "sunionstore", -3, [.write, .denyOOM], keys: (1, -1, 1), "Stores the union of multiple sets in a key.",
            "destination key [key ...]"
        ) { algebra(&$0, .union, store: true) },
        spec("sdiff", -2, [.readonly], keys: (1, -1, 1), "Returns the difference of multiple sets.", "key [key ...]") {
            algebra(&$0, .difference, store: false)
        },
        spec(
            "sdiffstore", -3, [.write, .denyOOM], keys: (1, -1, 1), "Stores the difference of multiple sets in a key.",
            "destination key [key ...]"
        ) { algebra(&$0, .difference, store: true) },
        spec(
            "sscan", -3, [.readonly], since: "2.8.0", "Iterates over members of a set.",
            "key cursor [MATCH pattern] [COUNT count]", scan),
    ]

    /// The keys of a `numkeys key [key ...] [LIMIT limit]` invocation (SINTERCARD): the
    /// LIMIT words are not keys.
    @Sendable static func intercardKeys(_ args: [Bytes]) -> [Bytes]? {
        guard args.count >= 3, let count = args[1].strictInteger, count > 0, count <= args.count - 2 else { return [] }
        return Array(args[2..<(2 + count)])
    }

    static func read(_ c: CommandContext, _ key: Bytes) -> Result<SetValue?, Reply> {
        c.readCollection(key, .set)
    }

    static func add(_ c: inout CommandContext) -> Reply {
        let members = c.args.dropFirst(2)
        let limits = c.engine.settings.setLimits
        let outcome = c.modifyCollection(c.args[1], .set, create: true) { set in
            members.reduce(0) { $0 + (set.insert($1, limits: limits) ? 1 : 0) }
        }
        return c.countReply(outcome, .set, "sadd")
    }

    static func remove(_ c: inout CommandContext) -> Reply {
        let members = c.args.dropFirst(2)
        let outcome = c.modifyCollection(c.args[1], .set, create: false) { set in
            members.reduce(0) { $0 + (set.remove($1) ? 1 : 0) }
        }
        return c.countReply(outcome, .set, "srem")
    }

    static func members(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .set) { set in .set((set?.members ?? []).map { .bulk($0) }) }
    }

    static func ismember(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .set) { set in .integer(set?.contains(c.args[2]) == true ? 1 : 0) }
    }

    static func mismember(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .set) { set in
            .array(c.args.dropFirst(2).map { .integer(set?.contains($0) == true ? 1 : 0) })
        }
    }

    static func card(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .set) { set in .integer(set?.count ?? 0) }
    }

    static func pop(_ c: inout CommandContext) -> Reply {
        guard c.args.count <= 3 else { return Errors.syntax }
        var count: Int?
        if c.args.count == 3 {
            guard let n = c.integer(2), n >= 0 else { return .error("ERR value is out of range, must be positive") }
            count = n
        }
        var random = c.engine.random
        defer { c.engine.random = random }
        let outcome = c.modifyCollection(c.args[1], .set, create: false) { set -> [Bytes] in
            let wanted = min(count ?? 1, set.count)
            let chosen = Array(set.members.shuffled(using: &random).prefix(wanted))
            for member in chosen { set.remove(member) }
            return chosen
        }
        switch outcome {
        case .failure(let error): return error
        case .success(let popped):
            c.changed(popped?.count ?? 0)
            if let popped, !popped.isEmpty {
                c.notify(.set, "spop", c.args[1])
                // The members chosen at random, as SREMs of at most 1,024 members each.
                for start in stride(from: 0, to: popped.count, by: 1024) {
                    c.propagate([Bytes("SREM"), c.args[1]] + popped[start..<min(start + 1024, popped.count)])
                }
            }
            if count == nil { return .optional(popped?.first) }
            return .set((popped ?? []).map { .bulk($0) })
        }
    }

    static func randmember(_ c: inout CommandContext) -> Reply {
        guard c.args.count <= 3 else { return Errors.syntax }
        var count: Int?
        if c.args.count == 3 {
            guard let n = c.integer(2) else { return Errors.notInteger }
            if n == Int.min {
                return .error(
                    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
            }
            count = n
        }
        let set: SetValue?
        switch read(c, c.args[1]) {
        case .failure(let error): return error
        case .success(let s): set = s
        }
        let members = set?.members ?? []
        guard let count else { return .optional(members.randomElement(using: &c.engine.random)) }
        if members.isEmpty || count == 0 { return .array([]) }
        if RandomReplyLimit.exceeds(count) { return RandomReplyLimit.tooLarge }
        if count < 0 {
            return .array(
                (0..<(-count)).compactMap { _ in members.randomElement(using: &c.engine.random) }.map { .bulk($0) })
        }
        if count >= members.count { return .array(members.map { .bulk($0) }) }
        return .array(members.shuffled(using: &c.engine.random).prefix(count).map { .bulk($0) })
    }

    static func move(_ c: inout CommandContext) -> Reply {
        let (source, destination, member) = (c.args[1], c.args[2], c.args[3])
        // As Redis: both keys are looked up for writing (no hit or miss counted), and a
        // missing source answers 0 before either type is checked.
        guard let sourceValue = c.lookup(source) else { return .integer(0) }
        guard let from = SetValue.extract(sourceValue) else { return Errors.wrongType }
        let target = c.lookup(destination)
        var destinationHasMember = false
        if let target {
            guard let to = SetValue.extract(target) else { return Errors.wrongType }
            destinationHasMember = to.contains(member)
        }
        if source == destination { return .integer(from.contains(member) ? 1 : 0) }
        guard from.contains(member) else { return .integer(0) }
        let limits = c.engine.settings.setLimits
        _ = c.modifyCollection(source, .set, create: false) { $0.remove(member) }
        c.changed()
        c.notify(.set, "srem", source)
        c.announceEmptied()
        // The destination is written (and gets its event) only when the member is new to it.
        if !destinationHasMember {
            _ = c.modifyCollection(destination, .set, create: true) { $0.insert(member, limits: limits) }
            c.changed()
            c.notify(.set, "sadd", destination)
        }
        return .integer(1)
    }

    enum Operation { case intersection, union, difference }

    /// Reads the sets named by `keys` (missing keys are empty sets).
    static func sources(_ c: CommandContext, _ keys: ArraySlice<Bytes>) -> Result<[SetValue], Reply> {
        var sets: [SetValue] = []
        for key in keys {
            switch read(c, key) {
            case .failure(let error): return .failure(error)
            case .success(let set): sets.append(set ?? SetValue())
            }
        }
        return .success(sets)
    }

    static func combine(_ sets: [SetValue], _ operation: Operation) -> [Bytes] {
        guard let first = sets.first else { return [] }
        switch operation {
        case .union:
            var seen = Set<Bytes>()
            var result: [Bytes] = []
            for set in sets {
                for member in set.members where seen.insert(member).inserted { result.append(member) }
            }
            return result
        case .intersection:
            if sets.contains(where: { $0.count == 0 }) { return [] }
            let ordered = sets.sorted { $0.count < $1.count }
            return ordered[0].members.filter { member in ordered.dropFirst().allSatisfy { $0.contains(member) } }
        case .difference:
            return first.members.filter { member in !sets.dropFirst().contains { $0.contains(member) } }
        }
    }

    static func algebra(_ c: inout CommandContext, _ operation: Operation, store: Bool) -> Reply {
        let keys = store ? c.args.dropFirst(2) : c.args.dropFirst(1)
        let sets: [SetValue]
        switch sources(c, keys) {
        case .failure(let error): return error
        case .success(let s): sets = s
        }
        let result = combine(sets, operation)
        guard store else { return .set(result.map { .bulk($0) }) }
        let destination = c.args[1]
        let existed = c.delete(destination)
        if !result.isEmpty {
            c.store(destination, .set(SetValue(result, limits: c.engine.settings.setLimits)))
            c.notify(.set, c.commandName, destination)
        } else if existed {
            c.notify(.generic, "del", destination)
        }
        c.changed()
        return .integer(result.count)
    }

    static func intercard(_ c: inout CommandContext) -> Reply {
        guard let numkeys = c.integer(1), numkeys > 0 else { return .error("ERR numkeys should be greater than 0") }
        guard numkeys <= c.args.count - 2 else {
            return .error("ERR Number of keys can't be greater than number of args")
        }
        var limit = 0
        var i = 2 + numkeys
        while i < c.args.count {
            guard c.args[i].equalsIgnoringCase("limit"), i + 1 < c.args.count else { return Errors.syntax }
            // As Redis: a non-integer LIMIT gets the same message as a negative one.
            guard let n = c.integer(i + 1), n >= 0 else { return .error("ERR LIMIT can't be negative") }
            limit = n
            i += 2
        }
        switch sources(c, c.args[2..<(2 + numkeys)]) {
        case .failure(let error): return error
        case .success(let sets):
            let count = combine(sets, .intersection).count
            return .integer(limit > 0 ? min(count, limit) : count)
        }
    }

    static func scan(_ c: inout CommandContext) -> Reply {
        KeyCommands.collectionScan(c, read: { read(c, $0) }) { set, cursor, count, matches in
            let (next, members) = set.scan(cursor: cursor, count: count)
            return (next, members.filter(matches).map { .bulk($0) })
        }
    }
}
