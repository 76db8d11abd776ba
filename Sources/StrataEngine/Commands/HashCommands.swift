//! Hash commands (Redis 7.0 `t_hash.c` semantics and errors). Writes mutate the stored
//! hash in place through one lookup; a hash left empty is deleted, as Redis does.

/// The hash commands.
public enum HashCommands {
    static func spec(
        _ name: String, _ arity: Int, _ flags: CommandFlags, since: String = "2.0.0", _ summary: String,
        _ synopsis: String, _ handler: @escaping (inout CommandContext) -> Reply
    ) -> CommandSpec {
        .dataType(name, arity, flags, group: "hash", keys: (1, 1, 1), since: since, summary, synopsis, handler)
    }

    /// Their table entries.
    public static let specs: [CommandSpec] = [
        spec(
            "hset", -4, [.write, .denyOOM, .fast], "Creates or modifies the value of a field in a hash.",
            "key field value [field value ...]"
        ) { set(&$0, replyOK: false) },
        spec(
            "hmset", -4, [.write, .denyOOM, .fast], "Sets the values of multiple fields.",
            "key field value [field value ...]"
        ) { set(&$0, replyOK: true) },
        spec(
            "hsetnx", 4, [.write, .denyOOM, .fast],
            "Sets the value of a field in a hash only when the field doesn't exist.",
            "key field value", setnx),
        spec("hget", 3, [.readonly, .fast], "Returns the value of a field in a hash.", "key field", get),
        spec(
            "hmget", -3, [.readonly, .fast], "Returns the values of all fields in a hash.", "key field [field ...]",
            mget),
        spec("hgetall", 2, [.readonly], "Returns all fields and values in a hash.", "key", getall),
        spec(
            "hdel", -3, [.write, .fast],
            "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.",
            "key field [field ...]", del),
        spec("hexists", 3, [.readonly, .fast], "Determines whether a field exists in a hash.", "key field", exists),
        spec("hlen", 2, [.readonly, .fast], "Returns the number of fields in a hash.", "key", len),
        spec(
            "hstrlen", 3, [.readonly, .fast], since: "3.2.0", "Returns the length of the value of a field.",
            "key field",
            strlen),
        spec("hkeys", 2, [.readonly], "Returns all fields in a hash.", "key") { list(&$0, fields: true) },
        spec("hvals", 2, [.readonly], "Returns all values in a hash.", "key") { list(&$0, fields: false) },
        spec(
            "hincrby", 4, [.write, .denyOOM, .fast],
            "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
            "key field increment", incrby),
        spec(
            "hincrbyfloat", 4, [.write, .denyOOM, .fast], since: "2.6.0",
            "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
            "key field increment", incrbyfloat),
        spec(
            "hrandfield", -2, [.readonly], since: "6.2.0", "Returns one or more random fields from a hash.",
            "key [count [WITHVALUES]]", randfield),
        spec(
            "hscan", -3, [.readonly], since: "2.8.0", "Iterates over fields and values of a hash.",
            "key cursor [MATCH pattern] [COUNT count]", scan),
    ]

    // MARK: Access helpers

    static func read(_ c: CommandContext, _ key: Bytes) -> Result<HashValue?, Reply> {
        c.readCollection(key, .hash)
    }

    static func modify<R>(
        _ c: inout CommandContext, _ key: Bytes, create: Bool, _ body: (inout HashValue) -> R
    ) -> Result<R?, Reply> {
        c.modifyCollection(key, .hash, create: create, body)
    }

    // MARK: Commands

    static func set(_ c: inout CommandContext, replyOK: Bool) -> Reply {
        guard c.args.count % 2 == 0 else { return Errors.arity(c.commandName) }
        let args = c.args
        let limits = c.engine.settings.hashLimits
        let outcome = modify(&c, args[1], create: true) { hash -> Int in
            var added = 0
            for i in stride(from: 2, to: args.count, by: 2) where hash.set(args[i], args[i + 1], limits: limits) {
                added += 1
            }
            return added
        }
        switch outcome {
        case .failure(let error): return error
        case .success(let added):
            c.changed((args.count - 2) / 2)
            c.notify(.hash, "hset", args[1])
            return replyOK ? .ok : .integer(added ?? 0)
        }
    }

    static func setnx(_ c: inout CommandContext) -> Reply {
        let args = c.args
        let limits = c.engine.settings.hashLimits
        let outcome = modify(&c, args[1], create: true) { hash -> Bool in
            guard hash.get(args[2]) == nil else { return false }
            hash.set(args[2], args[3], limits: limits)
            return true
        }
        switch outcome {
        case .failure(let error): return error
        case .success(let inserted):
            if inserted == true {
                c.changed()
                c.notify(.hash, "hset", args[1])
            }
            return .integer(inserted == true ? 1 : 0)
        }
    }

    static func get(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .hash) { hash in .optional(hash?.get(c.args[2])) }
    }

    static func mget(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .hash) { hash in .array(c.args.dropFirst(2).map { .optional(hash?.get($0)) }) }
    }

    static func getall(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .hash) { hash in
            .map((hash?.entries ?? []).map { (.bulk($0.field), .bulk($0.value)) })
        }
    }

    static func del(_ c: inout CommandContext) -> Reply {
        let fields = c.args.dropFirst(2)
        let outcome = modify(&c, c.args[1], create: false) { hash -> Int in
            fields.reduce(0) { $0 + (hash.remove($1) ? 1 : 0) }
        }
        return c.countReply(outcome, .hash, "hdel")
    }

    static func exists(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .hash) { hash in .integer(hash?.get(c.args[2]) == nil ? 0 : 1) }
    }

    static func len(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .hash) { hash in .integer(hash?.count ?? 0) }
    }

    static func strlen(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .hash) { hash in .integer(hash?.get(c.args[2])?.count ?? 0) }
    }

    static func list(_ c: inout CommandContext, fields: Bool) -> Reply {
        c.replyReading(c.args[1], .hash) { hash in
            .array((hash?.entries ?? []).map { .bulk(fields ? $0.field : $0.value) })
        }
    }

    static func incrby(_ c: inout CommandContext) -> Reply {
        guard let delta = c.integer(3) else { return Errors.notInteger }
        let args = c.args
        let limits = c.engine.settings.hashLimits
        let outcome = modify(&c, args[1], create: true) { hash -> Result<Int, Reply> in
            var current = 0
            if let existing = hash.get(args[2]) {
                guard let n = existing.strictInteger else {
                    return .failure(.error("ERR hash value is not an integer"))
                }
                current = n
            }
            let (result, overflow) = current.addingReportingOverflow(delta)
            if overflow { return .failure(Errors.overflow) }
            hash.set(args[2], Bytes(result), limits: limits)
            return .success(result)
        }
        switch outcome {
        case .failure(let error), .success(.some(.failure(let error))): return error
        case .success(.some(.success(let result))):
            c.changed()
            c.notify(.hash, "hincrby", c.args[1])
            return .integer(result)
        case .success(.none): return Errors.wrongType
        }
    }

    static func incrbyfloat(_ c: inout CommandContext) -> Reply {
        guard let delta = c.args[3].strictLongDouble else { return Errors.notFloat }
        if delta.isInfinite { return .error("ERR value is NaN or Infinity") }
        let args = c.args
        let limits = c.engine.settings.hashLimits
        let outcome = modify(&c, args[1], create: true) { hash -> Result<Bytes, Reply> in
            var current: Float80 = 0
            if let existing = hash.get(args[2]) {
                guard let n = existing.strictLongDouble else {
                    return .failure(.error("ERR hash value is not a float"))
                }
                current = n
            }
            let result = current + delta
            if result.isNaN || result.isInfinite {
                return .failure(.error("ERR increment would produce NaN or Infinity"))
            }
            let text = NumberFormat.humanFloat(result)
            hash.set(args[2], text, limits: limits)
            return .success(text)
        }
        switch outcome {
        case .failure(let error), .success(.some(.failure(let error))): return error
        case .success(.some(.success(let text))):
            c.changed()
            c.notify(.hash, "hincrbyfloat", c.args[1])
            c.propagate([Bytes("HSET"), c.args[1], c.args[2], text])
            return .bulk(text)
        case .success(.none): return Errors.wrongType
        }
    }

    static func randfield(_ c: inout CommandContext) -> Reply {
        let args = c.args
        var count: Int?
        var withValues = false
        // Redis's order: the count's range, the syntax, then WITHVALUES's halved range.
        if args.count >= 3 {
            guard let n = c.integer(2) else { return Errors.notInteger }
            if n == Int.min {
                return .error(
                    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
            }
            count = n
            if args.count > 4 || (args.count == 4 && !args[3].equalsIgnoringCase("withvalues")) { return Errors.syntax }
            withValues = args.count == 4
            if withValues && (n < -Int.max / 2 || n > Int.max / 2) { return .error("ERR value is out of range") }
        }
        let hash: HashValue?
        switch read(c, args[1]) {
        case .failure(let error): return error
        case .success(let h): hash = h
        }
        guard let count else {
            guard let hash else { return .null }
            return .optional(hash.entries.randomElement(using: &c.engine.random)?.field)
        }
        guard let hash, count != 0 else { return .array([]) }
        if RandomReplyLimit.exceeds(count) { return RandomReplyLimit.tooLarge }
        let entries = hash.entries
        var picked: [HashEntry]
        if count < 0 {
            picked = (0..<(-count)).compactMap { _ in entries.randomElement(using: &c.engine.random) }
        } else if count >= entries.count {
            picked = entries
        } else {
            picked = Array(entries.shuffled(using: &c.engine.random).prefix(count))
        }
        if withValues { return .pairs(picked.map { (.bulk($0.field), .bulk($0.value)) }) }
        return .array(picked.map { .bulk($0.field) })
    }

    static func scan(_ c: inout CommandContext) -> Reply {
        KeyCommands.collectionScan(c, read: { read(c, $0) }) { hash, cursor, count, matches in
            let (next, entries) = hash.scan(cursor: cursor, count: count)
            return (next, entries.filter { matches($0.field) }.flatMap { [.bulk($0.field), .bulk($0.value)] })
        }
    }
}
