//! Deadline commands: EXPIRE and friends (with NX/XX/GT/LT), TTL/PTTL, EXPIRETIME/
//! PEXPIRETIME, PERSIST. Deadlines are absolute Unix milliseconds (Redis 7.0 `expire.c`).

/// The expiry commands.
public enum ExpireCommands {
    static func spec(_ name: String, unit: ExpireUnit, absolute: Bool, since: String, summary: String) -> CommandSpec {
        CommandSpec(
            name, arity: -3, flags: [.write, .fast], keys: (1, 1, 1), group: "generic", since: since,
            summary: summary,
            synopsis:
                "key \(absolute ? (unit == .seconds ? "unix-time-seconds" : "unix-time-milliseconds") : (unit == .seconds ? "seconds" : "milliseconds")) [NX|XX|GT|LT]",
            categories: ["keyspace", "write", "fast"],
            handler: .engine { expire(&$0, unit: unit, absolute: absolute) })
    }

    static func ttlSpec(
        _ name: String, since: String, summary: String, _ body: @escaping (inout CommandContext) -> Reply
    ) -> CommandSpec {
        CommandSpec(
            name, arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "generic", since: since,
            summary: summary, synopsis: "key", categories: ["keyspace", "read", "fast"], handler: .engine(body))
    }

    /// Their table entries.
    public static let specs: [CommandSpec] = [
        spec(
            "expire", unit: .seconds, absolute: false, since: "1.0.0",
            summary: "Sets the expiration time of a key in seconds."),
        spec(
            "pexpire", unit: .milliseconds, absolute: false, since: "2.6.0",
            summary: "Sets the expiration time of a key in milliseconds."),
        spec(
            "expireat", unit: .seconds, absolute: true, since: "1.2.0",
            summary: "Sets the expiration time of a key to a Unix timestamp."),
        spec(
            "pexpireat", unit: .milliseconds, absolute: true, since: "2.6.0",
            summary: "Sets the expiration time of a key to a Unix milliseconds timestamp."),
        ttlSpec("ttl", since: "1.0.0", summary: "Returns the expiration time in seconds of a key.") {
            ttl(&$0, milliseconds: false, absolute: false)
        },
        ttlSpec("pttl", since: "2.6.0", summary: "Returns the expiration time in milliseconds of a key.") {
            ttl(&$0, milliseconds: true, absolute: false)
        },
        ttlSpec("expiretime", since: "7.0.0", summary: "Returns the expiration time of a key as a Unix timestamp.") {
            ttl(&$0, milliseconds: false, absolute: true)
        },
        ttlSpec(
            "pexpiretime", since: "7.0.0",
            summary: "Returns the expiration time of a key as a Unix milliseconds timestamp."
        ) { ttl(&$0, milliseconds: true, absolute: true) },
        CommandSpec(
            "persist", arity: 2, flags: [.write, .fast], keys: (1, 1, 1), group: "generic", since: "2.2.0",
            summary: "Removes the expiration time of a key.", synopsis: "key",
            categories: ["keyspace", "write", "fast"], handler: .engine(persist)),
    ]

    static func expire(_ c: inout CommandContext, unit: ExpireUnit, absolute: Bool) -> Reply {
        var nx = false, xx = false, gt = false, lt = false
        for option in c.args.dropFirst(3) {
            if option.equalsIgnoringCase("nx") {
                nx = true
            } else if option.equalsIgnoringCase("xx") {
                xx = true
            } else if option.equalsIgnoringCase("gt") {
                gt = true
            } else if option.equalsIgnoringCase("lt") {
                lt = true
            } else {
                return .error("ERR Unsupported option \(option.string)")
            }
        }
        if nx && (xx || gt || lt) {
            return .error("ERR NX and XX, GT or LT options at the same time are not compatible")
        }
        if gt && lt { return .error("ERR GT and LT options at the same time are not compatible") }
        guard let raw = c.integer(2) else { return Errors.notInteger }
        var when = Int64(raw)
        if unit == .seconds {
            let (product, overflow) = when.multipliedReportingOverflow(by: 1000)
            if overflow { return Errors.invalidExpireTime(c.commandName) }
            when = product
        }
        if !absolute {
            let (sum, overflow) = when.addingReportingOverflow(c.now)
            if overflow { return Errors.invalidExpireTime(c.commandName) }
            when = sum
        }
        let key = c.args[1]
        guard c.lookup(key) != nil else { return .integer(0) }
        let current = c.engine.databases[c.db].deadline(key)
        if nx && current != nil { return .integer(0) }
        if xx && current == nil { return .integer(0) }
        if gt {
            guard let current, when > current else { return .integer(0) }
        }
        if lt, let current, when >= current { return .integer(0) }
        c.propagateDeadline(key, when)
        if c.hasPassed(when) {
            c.delete(key)
            c.notify(.generic, "del", key)
        } else {
            c.engine.setDeadline(key, when, db: c.db)
            c.notify(.generic, "expire", key)
        }
        c.changed()
        return .integer(1)
    }

    static func ttl(_ c: inout CommandContext, milliseconds: Bool, absolute: Bool) -> Reply {
        let key = c.args[1]
        guard c.lookup(key) != nil else { return .integer(-2) }
        guard let deadline = c.engine.databases[c.db].deadline(key) else { return .integer(-1) }
        let remaining: Int64
        if absolute {
            remaining = max(0, deadline)
        } else {
            // A past deadline only survives while expiry is suspended; it may be far negative.
            let (difference, overflow) = deadline.subtractingReportingOverflow(c.now)
            remaining = overflow ? (deadline < 0 ? 0 : Int64.max) : max(0, difference)
        }
        // Seconds round to nearest as Redis's `(ttl+500)/1000`, without overflowing near the limit.
        return .integer(Int(milliseconds ? remaining : remaining / 1000 + (remaining % 1000 + 500) / 1000))
    }

    static func persist(_ c: inout CommandContext) -> Reply {
        guard c.lookup(c.args[1]) != nil else { return .integer(0) }
        guard c.engine.removeDeadline(c.args[1], db: c.db) else { return .integer(0) }
        c.changed()
        c.notify(.generic, "persist", c.args[1])
        return .integer(1)
    }
}
