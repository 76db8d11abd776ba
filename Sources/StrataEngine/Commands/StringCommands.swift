//! String commands: GET/SET and their variants, counters, APPEND and ranges.
//! Semantics and error replies follow Redis 7.0's `t_string.c`.

/// The string commands.
public enum StringCommands {
    static let string = ["string"]

    /// Their table entries.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "get", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "string",
            summary: "Returns the string value of a key.", synopsis: "key", categories: ["read", "string", "fast"],
            handler: .engine(get)),
        CommandSpec(
            "set", arity: -3, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "string",
            summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
            synopsis:
                "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
            categories: ["write", "string", "slow"], handler: .engine(set)),
        CommandSpec(
            "setnx", arity: 3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string",
            summary: "Set the string value of a key only when the key doesn't exist.", synopsis: "key value",
            categories: ["write", "string", "fast"], handler: .engine(setnx)),
        CommandSpec(
            "setex", arity: 4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "string", since: "2.0.0",
            summary: "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
            synopsis: "key seconds value", categories: ["write", "string", "slow"],
            handler: .engine { setex(&$0, unit: .seconds) }),
        CommandSpec(
            "psetex", arity: 4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "string", since: "2.6.0",
            summary: "Sets both string value and expiration time in milliseconds of a key.",
            synopsis: "key milliseconds value", categories: ["write", "string", "slow"],
            handler: .engine { setex(&$0, unit: .milliseconds) }),
        CommandSpec(
            "getset", arity: 3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string",
            summary: "Returns the previous string value of a key after setting it to a new value.",
            synopsis: "key value", categories: ["write", "string", "fast"], handler: .engine(getset)),
        CommandSpec(
            "getdel", arity: 2, flags: [.write, .fast], keys: (1, 1, 1), group: "string", since: "6.2.0",
            summary: "Returns the string value of a key after deleting the key.", synopsis: "key",
            categories: ["write", "string", "fast"], handler: .engine(getdel)),
        CommandSpec(
            "getex", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: "string", since: "6.2.0",
            summary: "Returns the string value of a key after setting its expiration time.",
            synopsis:
                "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]",
            categories: ["write", "string", "fast"], handler: .engine(getex)),
        CommandSpec(
            "mget", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1), group: "string",
            summary: "Atomically returns the string values of one or more keys.", synopsis: "key [key ...]",
            categories: ["read", "string", "fast"], handler: .engine(mget)),
        CommandSpec(
            "mset", arity: -3, flags: [.write, .denyOOM], keys: (1, -1, 2), group: "string", since: "1.0.1",
            summary: "Atomically creates or modifies the string values of one or more keys.",
            synopsis: "key value [key value ...]", categories: ["write", "string", "slow"],
            handler: .engine { mset($0, onlyIfNoneExist: false) }),
        CommandSpec(
            "msetnx", arity: -3, flags: [.write, .denyOOM], keys: (1, -1, 2), group: "string", since: "1.0.1",
            summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.",
            synopsis: "key value [key value ...]", categories: ["write", "string", "slow"],
            handler: .engine { mset($0, onlyIfNoneExist: true) }),
        CommandSpec(
            "incr", arity: 2, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string",
            summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
            synopsis: "key", categories: ["write", "string", "fast"], handler: .engine { incr(&$0, by: 1) }),
        CommandSpec(
            "decr", arity: 2, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string",
            summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
            synopsis: "key", categories: ["write", "string", "fast"], handler: .engine { incr(&$0, by: -1) }),
        CommandSpec(
            "incrby", arity: 3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string",
            summary:
                "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
            synopsis: "key increment", categories: ["write", "string", "fast"], handler: .engine(incrby)),
        CommandSpec(
            "decrby", arity: 3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string",
            summary:
                "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
            synopsis: "key decrement", categories: ["write", "string", "fast"], handler: .engine(decrby)),
        CommandSpec(
            "incrbyfloat", arity: 3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string",
            since: "2.6.0",
            summary:
                "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
            synopsis: "key increment", categories: ["write", "string", "fast"], handler: .engine(incrbyfloat)),
        CommandSpec(
            "append", arity: 3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "string", since: "2.0.0",
            summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.",
            synopsis: "key value", categories: ["write", "string", "fast"], handler: .engine(append)),
        CommandSpec(
            "strlen", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "string", since: "2.2.0",
            summary: "Returns the length of a string value.", synopsis: "key",
            categories: ["read", "string", "fast"], handler: .engine(strlen)),
        CommandSpec(
            "getrange", arity: 4, flags: [.readonly], keys: (1, 1, 1), group: "string", since: "2.4.0",
            summary: "Returns a substring of the string stored at a key.", synopsis: "key start end",
            categories: ["read", "string", "slow"], handler: .engine(getrange)),
        CommandSpec(
            "substr", arity: 4, flags: [.readonly], keys: (1, 1, 1), group: "string", since: "1.0.0",
            summary: "Returns a substring from a string value.", synopsis: "key start end",
            categories: ["read", "string", "slow"], handler: .engine(getrange)),
        CommandSpec(
            "setrange", arity: 4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "string", since: "2.2.0",
            summary:
                "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
            synopsis: "key offset value", categories: ["write", "string", "slow"], handler: .engine(setrange)),
    ]

    // MARK: Helpers

    /// The string bytes at `key`: `.success(nil)` when missing, failure on wrong type.
    static func readString(_ c: CommandContext, _ key: Bytes) -> Result<Bytes?, Reply> {
        guard let value = c.read(key) else { return .success(nil) }
        guard let bytes = value.stringBytes else { return .failure(Errors.wrongType) }
        return .success(bytes)
    }

    // MARK: GET / SET

    static func get(_ c: inout CommandContext) -> Reply {
        switch readString(c, c.args[1]) {
        case .success(let bytes): return .optional(bytes)
        case .failure(let error): return error
        }
    }

    struct SetOptions {
        var nx = false
        var xx = false
        var get = false
        var keepTTL = false
        var persist = false
        var expire: ExpireSpec?
    }

    /// Parses SET/GETEX options from `start`. GETEX allows PERSIST and no NX/XX/GET/KEEPTTL.
    static func parseSetOptions(_ c: CommandContext, from start: Int, getex: Bool) -> Result<SetOptions, Reply> {
        var options = SetOptions()
        var i = start
        let args = c.args
        while i < args.count {
            let a = args[i]
            let hasNext = i + 1 < args.count
            if !getex && a.equalsIgnoringCase("nx") && !options.xx {
                options.nx = true
            } else if !getex && a.equalsIgnoringCase("xx") && !options.nx {
                options.xx = true
            } else if !getex && a.equalsIgnoringCase("get") {
                options.get = true
            } else if !getex && a.equalsIgnoringCase("keepttl") && options.expire == nil {
                options.keepTTL = true
            } else if getex && a.equalsIgnoringCase("persist") && options.expire == nil {
                options.persist = true
            } else if a.equalsIgnoringCase("ex") && !options.keepTTL && !options.persist && options.expire == nil
                && hasNext
            {
                options.expire = ExpireSpec(unit: .seconds, absolute: false, argumentIndex: i + 1)
                i += 1
            } else if a.equalsIgnoringCase("px") && !options.keepTTL && !options.persist && options.expire == nil
                && hasNext
            {
                options.expire = ExpireSpec(unit: .milliseconds, absolute: false, argumentIndex: i + 1)
                i += 1
            } else if a.equalsIgnoringCase("exat") && !options.keepTTL && !options.persist && options.expire == nil
                && hasNext
            {
                options.expire = ExpireSpec(unit: .seconds, absolute: true, argumentIndex: i + 1)
                i += 1
            } else if a.equalsIgnoringCase("pxat") && !options.keepTTL && !options.persist && options.expire == nil
                && hasNext
            {
                options.expire = ExpireSpec(unit: .milliseconds, absolute: true, argumentIndex: i + 1)
                i += 1
            } else {
                return .failure(Errors.syntax)
            }
            i += 1
        }
        return .success(options)
    }

    static func set(_ c: inout CommandContext) -> Reply {
        let key = c.args[1]
        let value = c.args[2]
        if c.args.count == 3 {
            c.store(key, .fromString(value))
            c.changed()
            c.notify(.string, "set", key)
            return .ok
        }
        let options: SetOptions
        switch parseSetOptions(c, from: 3, getex: false) {
        case .success(let o): options = o
        case .failure(let e): return e
        }
        var deadline: Int64?
        if let spec = options.expire {
            switch c.deadline(from: spec) {
            case .success(let d): deadline = d
            case .failure(let e): return e
            }
        }
        var previous: Bytes?
        let existing = c.lookup(key)
        if options.get, let existing {
            guard let bytes = existing.stringBytes else { return Errors.wrongType }
            previous = bytes
        }
        if options.get { c.engine.stats.keyspaceHits += existing == nil ? 0 : 1 }
        if (options.nx && existing != nil) || (options.xx && existing == nil) {
            return options.get ? .optional(previous) : .null
        }
        c.store(key, .fromString(value), keepDeadline: options.keepTTL)
        if let deadline {
            c.engine.setDeadline(key, deadline, db: c.db)
            c.propagateSet(key, value, deadline: deadline)
        }
        c.changed()
        c.notify(.string, "set", key)
        if deadline != nil { c.notify(.generic, "expire", key) }
        return options.get ? .optional(previous) : .ok
    }

    static func setnx(_ c: inout CommandContext) -> Reply {
        if c.lookup(c.args[1]) != nil { return .integer(0) }
        c.store(c.args[1], .fromString(c.args[2]))
        c.changed()
        c.notify(.string, "set", c.args[1])
        return .integer(1)
    }

    static func setex(_ c: inout CommandContext, unit: ExpireUnit) -> Reply {
        switch c.deadline(from: ExpireSpec(unit: unit, absolute: false, argumentIndex: 2)) {
        case .failure(let e): return e
        case .success(let deadline):
            c.store(c.args[1], .fromString(c.args[3]))
            c.engine.setDeadline(c.args[1], deadline, db: c.db)
            c.changed()
            c.propagateSet(c.args[1], c.args[3], deadline: deadline)
            c.notify(.string, "set", c.args[1])
            c.notify(.generic, "expire", c.args[1])
            return .ok
        }
    }

    static func getset(_ c: inout CommandContext) -> Reply {
        let previous: Bytes?
        switch readString(c, c.args[1]) {
        case .success(let p): previous = p
        case .failure(let e): return e
        }
        c.store(c.args[1], .fromString(c.args[2]))
        c.changed()
        c.notify(.string, "set", c.args[1])
        return .optional(previous)
    }

    static func getdel(_ c: inout CommandContext) -> Reply {
        switch readString(c, c.args[1]) {
        case .failure(let e): return e
        case .success(nil): return .null
        case .success(let bytes?):
            c.delete(c.args[1])
            c.changed()
            c.notify(.generic, "del", c.args[1])
            return .bulk(bytes)
        }
    }

    static func getex(_ c: inout CommandContext) -> Reply {
        let options: SetOptions
        switch parseSetOptions(c, from: 2, getex: true) {
        case .success(let o): options = o
        case .failure(let e): return e
        }
        let key = c.args[1]
        let bytes: Bytes
        switch readString(c, key) {
        case .failure(let e): return e
        case .success(nil): return .null
        case .success(let b?): bytes = b
        }
        // Redis validates the expire value only once the key is known to exist.
        var deadline: Int64?
        if let spec = options.expire {
            switch c.deadline(from: spec) {
            case .success(let d): deadline = d
            case .failure(let e): return e
            }
        }
        if let deadline {
            c.propagateDeadline(key, deadline)
            if c.hasPassed(deadline) {
                c.delete(key)
                c.notify(.generic, "del", key)
            } else {
                c.engine.setDeadline(key, deadline, db: c.db)
                c.notify(.generic, "expire", key)
            }
            c.changed()
        } else if options.persist {
            if c.engine.removeDeadline(key, db: c.db) {
                c.changed()
                c.propagate([Bytes("PERSIST"), key])
                c.notify(.generic, "persist", key)
            }
        }
        return .bulk(bytes)
    }

    static func mget(_ c: inout CommandContext) -> Reply {
        var replies: [Reply] = []
        replies.reserveCapacity(c.args.count - 1)
        for key in c.args.dropFirst() {
            if let value = c.read(key), let bytes = value.stringBytes {
                replies.append(.bulk(bytes))
            } else {
                replies.append(.null)
            }
        }
        return .array(replies)
    }

    static func mset(_ c: CommandContext, onlyIfNoneExist: Bool) -> Reply {
        guard c.args.count % 2 == 1 else { return Errors.arity(c.commandName) }
        if onlyIfNoneExist {
            for i in stride(from: 1, to: c.args.count, by: 2) where c.lookup(c.args[i]) != nil {
                return .integer(0)
            }
        }
        for i in stride(from: 1, to: c.args.count, by: 2) {
            c.store(c.args[i], .fromString(c.args[i + 1]))
            c.notify(.string, "set", c.args[i])
        }
        c.changed((c.args.count - 1) / 2)
        return onlyIfNoneExist ? .integer(1) : .ok
    }

    // MARK: Counters

    static func incr(_ c: inout CommandContext, by delta: Int) -> Reply {
        let key = c.args[1]
        // One lookup: the counter is read and replaced in place.
        let outcome = c.engine.modify(key, db: c.db, now: c.now) { value -> Result<Int, Reply> in
            let current: Int
            switch value {
            case .integer(let n):
                current = n
            default:
                guard let bytes = value.stringBytes else { return .failure(Errors.wrongType) }
                guard let n = bytes.strictInteger else { return .failure(Errors.notInteger) }
                current = n
            }
            let (result, overflow) = current.addingReportingOverflow(delta)
            if overflow { return .failure(Errors.overflow) }
            value = .integer(result)
            return .success(result)
        }
        switch outcome {
        case .some(.success(let result)):
            c.changed()
            c.notify(.string, "incrby", key)
            return .integer(result)
        case .some(.failure(let error)):
            return error
        case .none:
            c.store(key, .integer(delta))
            c.changed()
            c.notify(.string, "incrby", key)
            return .integer(delta)
        }
    }

    static func incrby(_ c: inout CommandContext) -> Reply {
        guard let delta = c.integer(2) else { return Errors.notInteger }
        return incr(&c, by: delta)
    }

    static func decrby(_ c: inout CommandContext) -> Reply {
        guard let delta = c.integer(2) else { return Errors.notInteger }
        if delta == Int.min { return .error("ERR decrement would overflow") }
        return incr(&c, by: -delta)
    }

    static func incrbyfloat(_ c: inout CommandContext) -> Reply {
        let key = c.args[1]
        var current: Float80 = 0
        if let value = c.lookup(key) {
            guard let bytes = value.stringBytes else { return Errors.wrongType }
            guard let n = bytes.strictLongDouble else { return Errors.notFloat }
            current = n
        }
        guard let delta = c.args[2].strictLongDouble else { return Errors.notFloat }
        let result = current + delta
        if result.isNaN || result.isInfinite { return .error("ERR increment would produce NaN or Infinity") }
        let text = NumberFormat.humanFloat(result)
        if !c.engine.update(key, db: c.db, { $0 = .string(text) }) {
            c.store(key, .string(text))
        }
        c.changed()
        c.notify(.string, "incrbyfloat", key)
        c.propagateSet(key, text, deadline: nil, keepTTL: true)
        return .bulk(text)
    }

    // MARK: APPEND and ranges

    static func append(_ c: inout CommandContext) -> Reply {
        let key = c.args[1]
        let suffix = c.args[2]
        guard let value = c.lookup(key) else {
            c.store(key, .fromString(suffix))
            c.changed()
            c.notify(.string, "append", key)
            return .integer(suffix.count)
        }
        guard let bytes = value.stringBytes else { return Errors.wrongType }
        if bytes.count + suffix.count > c.engine.settings.maxStringLength { return Errors.stringTooLong }
        var length = 0
        c.engine.update(key, db: c.db) { stored in
            var b = stored.stringBytes ?? bytes
            stored = .integer(0)  // drop the table's reference so the append is in place
            b.append(suffix)
            length = b.count
            stored = .raw(b)
        }
        c.changed()
        c.notify(.string, "append", key)
        return .integer(length)
    }

    static func strlen(_ c: inout CommandContext) -> Reply {
        switch readString(c, c.args[1]) {
        case .failure(let e): return e
        case .success(let bytes): return .integer(bytes?.count ?? 0)
        }
    }

    static func getrange(_ c: inout CommandContext) -> Reply {
        guard var start = c.integer(2), var end = c.integer(3) else { return Errors.notInteger }
        let bytes: Bytes
        switch readString(c, c.args[1]) {
        case .failure(let e): return e
        case .success(nil): return .bulk(Bytes())
        case .success(let b?): bytes = b
        }
        let length = bytes.count
        if start < 0 && end < 0 && start > end { return .bulk(Bytes()) }
        if start < 0 { start = length + start }
        if end < 0 { end = length + end }
        if start < 0 { start = 0 }
        if end < 0 { end = 0 }
        if end >= length { end = length - 1 }
        if start > end || length == 0 { return .bulk(Bytes()) }
        return .bulk(bytes.slice(start..<(end + 1)))
    }

    static func setrange(_ c: inout CommandContext) -> Reply {
        let key = c.args[1]
        guard let offset = c.integer(2) else { return Errors.notInteger }
        if offset < 0 { return .error("ERR offset is out of range") }
        let patch = c.args[3]
        let existing = c.lookup(key)
        var bytes = Bytes()
        if let existing {
            guard let b = existing.stringBytes else { return Errors.wrongType }
            bytes = b
            if patch.isEmpty { return .integer(b.count) }
        } else if patch.isEmpty {
            return .integer(0)
        }
        if offset > c.engine.settings.maxStringLength - patch.count { return Errors.stringTooLong }
        if existing != nil {
            c.engine.update(key, db: c.db) { $0 = .integer(0) }  // release for in-place mutation
        }
        bytes.withUnsafeMutableBytes(count: Swift.max(bytes.count, offset + patch.count)) { raw in
            patch.withUnsafeBytes { source in
                if let from = source.baseAddress, let to = raw.baseAddress {
                    (to + offset).copyMemory(from: from, byteCount: source.count)
                }
            }
        }
        let length = bytes.count
        if existing != nil {
            c.engine.update(key, db: c.db) { $0 = .raw(bytes) }
        } else {
            c.store(key, .raw(bytes))
        }
        c.changed()
        c.notify(.string, "setrange", key)
        return .integer(length)
    }
}
