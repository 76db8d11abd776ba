//! Generic key commands: existence, deletion, type, iteration, renaming, copying, moving
//! between databases, and OBJECT introspection (Redis 7.0 `db.c` / `object.c` semantics).

/// The generic key commands.
public enum KeyCommands {
    /// Their table entries.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "del", arity: -2, flags: [.write], keys: (1, -1, 1), group: "generic",
            summary: "Deletes one or more keys.", synopsis: "key [key ...]",
            categories: ["keyspace", "write", "slow"], handler: .engine(del)),
        CommandSpec(
            "unlink", arity: -2, flags: [.write, .fast], keys: (1, -1, 1), group: "generic", since: "4.0.0",
            summary: "Asynchronously deletes one or more keys.", synopsis: "key [key ...]",
            categories: ["keyspace", "write", "fast"], handler: .engine(del)),
        CommandSpec(
            "exists", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1), group: "generic",
            summary: "Determines whether one or more keys exist.", synopsis: "key [key ...]",
            categories: ["keyspace", "read", "fast"], handler: .engine(exists)),
        CommandSpec(
            "touch", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1), group: "generic", since: "3.2.1",
            summary:
                "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
            synopsis: "key [key ...]", categories: ["keyspace", "read", "fast"], handler: .engine(touch)),
        CommandSpec(
            "type", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "generic",
            summary: "Determines the type of value stored at a key.", synopsis: "key",
            categories: ["keyspace", "read", "fast"], handler: .engine(type)),
        CommandSpec(
            "keys", arity: 2, flags: [.readonly], group: "generic",
            summary: "Returns all key names that match a pattern.", synopsis: "pattern",
            categories: ["keyspace", "read", "slow", "dangerous"], handler: .engine(keys)),
        CommandSpec(
            "scan", arity: -2, flags: [.readonly], group: "generic", since: "2.8.0",
            summary: "Iterates over the key names in the database.",
            synopsis: "cursor [MATCH pattern] [COUNT count] [TYPE type]",
            categories: ["keyspace", "read", "slow"], handler: .engine(scan)),
        CommandSpec(
            "randomkey", arity: 1, flags: [.readonly], group: "generic",
            summary: "Returns a random key name from the database.", categories: ["keyspace", "read", "slow"],
            handler: .engine(randomkey)),
        CommandSpec(
            "rename", arity: 3, flags: [.write], keys: (1, 2, 1), group: "generic",
            summary: "Renames a key and overwrites the destination.", synopsis: "key newkey",
            categories: ["keyspace", "write", "slow"], handler: .engine { rename(&$0, onlyIfAbsent: false) }),
        CommandSpec(
            "renamenx", arity: 3, flags: [.write, .fast], keys: (1, 2, 1), group: "generic",
            summary: "Renames a key only when the target key name doesn't exist.", synopsis: "key newkey",
            categories: ["keyspace", "write", "fast"], handler: .engine { rename(&$0, onlyIfAbsent: true) }),
        CommandSpec(
            "copy", arity: -3, flags: [.write, .denyOOM], keys: (1, 2, 1), group: "generic", since: "6.2.0",
            summary: "Copies the value of a key to a new key.",
            synopsis: "source destination [DB destination-db] [REPLACE]",
            categories: ["keyspace", "write", "slow"], handler: .engine(copy)),
        CommandSpec(
            "move", arity: 3, flags: [.write, .fast], keys: (1, 1, 1), group: "generic",
            summary: "Moves a key to another database.", synopsis: "key db",
            categories: ["keyspace", "write", "fast"], handler: .engine(move)),
        CommandSpec(
            "object", arity: -2, flags: [], group: "generic", since: "2.2.3",
            summary: "A container for object introspection commands.", categories: ["slow"],
            handler: .container,
            subcommands: [
                CommandSpec(
                    "object|encoding", arity: 3, flags: [.readonly], keys: (2, 2, 1), group: "generic",
                    since: "2.2.3", summary: "Returns the internal encoding of a Redis object.", synopsis: "key",
                    categories: ["keyspace", "read", "slow"], handler: .engine(objectEncoding)),
                CommandSpec(
                    "object|idletime", arity: 3, flags: [.readonly], keys: (2, 2, 1), group: "generic",
                    since: "2.2.3", summary: "Returns the time since the last access to a Redis object.",
                    synopsis: "key", categories: ["keyspace", "read", "slow"], handler: .engine(objectIdletime)),
                CommandSpec(
                    "object|freq", arity: 3, flags: [.readonly], keys: (2, 2, 1), group: "generic",
                    since: "4.0.0", summary: "Returns the logarithmic access frequency counter of a Redis object.",
                    synopsis: "key", categories: ["keyspace", "read", "slow"], handler: .engine(objectFreq)),
                CommandSpec(
                    "object|refcount", arity: 3, flags: [.readonly], keys: (2, 2, 1), group: "generic",
                    since: "2.2.3", summary: "Returns the reference count of a value of a key.", synopsis: "key",
                    categories: ["keyspace", "read", "slow"], handler: .engine(objectRefcount)),
                CommandSpec(
                    "object|help", arity: 2, flags: [.loading, .stale], group: "generic", since: "6.2.0",
                    summary: "Returns helpful text about the different subcommands.", categories: ["keyspace", "slow"],
                    handler: .engine(objectHelp)),
            ]),
    ]

    static func del(_ c: inout CommandContext) -> Reply {
        var removed = 0
        for key in c.args.dropFirst() where c.delete(key) {
            removed += 1
            c.notify(.generic, "del", key)
        }
        c.changed(removed)
        return .integer(removed)
    }

    static func exists(_ c: inout CommandContext) -> Reply {
        var found = 0
        for key in c.args.dropFirst() where c.lookup(key) != nil { found += 1 }
        return .integer(found)
    }

    static func touch(_ c: inout CommandContext) -> Reply {
        var found = 0
        // A read lookup: updates the access time, or the LFU counter.
        for key in c.args.dropFirst() where c.read(key) != nil { found += 1 }
        return .integer(found)
    }

    static func type(_ c: inout CommandContext) -> Reply {
        .status(c.lookup(c.args[1])?.typeName ?? "none")
    }

    static func keys(_ c: inout CommandContext) -> Reply {
        let pattern = c.args[1]
        let all = pattern.count == 1 && pattern[0] == UInt8(ascii: "*")
        var result: [Reply] = []
        for key in c.engine.databases[c.db].allKeys() {
            if !all && !GlobPattern.matches(pattern, key) { continue }
            if isExpired(c, key) { continue }
            result.append(.bulk(key))
        }
        return .array(result)
    }

    /// Whether a stored key is past its deadline (without deleting it).
    static func isExpired(_ c: CommandContext, _ key: Bytes) -> Bool {
        if let deadline = c.engine.databases[c.db].deadline(key), deadline <= c.now { return true }
        return false
    }

    static func scan(_ c: inout CommandContext) -> Reply {
        guard let cursor = parseCursor(c.args[1]) else { return .error("ERR invalid cursor") }
        let options: ScanOptions
        switch scanOptions(c, from: 2, allowType: true) {
        case .failure(let error): return error
        case .success(let o): options = o
        }
        let (pattern, count, typeFilter) = (options.pattern, options.count, options.type)
        let (next, keys) = c.engine.databases[c.db].scan(cursor: cursor, count: count)
        var replies: [Reply] = []
        for key in keys {
            if let pattern, !GlobPattern.matches(pattern, key) { continue }
            guard let value = c.lookup(key) else { continue }
            if let typeFilter, value.typeName != typeFilter { continue }
            replies.append(.bulk(key))
        }
        return .array([.bulk(Bytes(String(next))), .array(replies)])
    }

    /// The options of SCAN, HSCAN and SSCAN.
    struct ScanOptions {
        var pattern: Bytes?
        var count = 10
        var type: String?
    }

    /// Parses `[MATCH pattern] [COUNT count]` (and `[TYPE type]` for SCAN) from `start`.
    static func scanOptions(_ c: CommandContext, from start: Int, allowType: Bool) -> Result<ScanOptions, Reply> {
        var options = ScanOptions()
        var i = start
        while i < c.args.count {
            let option = c.args[i]
            guard i + 1 < c.args.count else { return .failure(Errors.syntax) }
            if option.equalsIgnoringCase("match") {
                options.pattern = c.args[i + 1]
            } else if option.equalsIgnoringCase("count") {
                guard let n = c.integer(i + 1) else { return .failure(Errors.notInteger) }
                guard n >= 1 else { return .failure(Errors.syntax) }
                options.count = n
            } else if allowType && option.equalsIgnoringCase("type") {
                options.type = c.args[i + 1].lowercased.string
            } else {
                return .failure(Errors.syntax)
            }
            i += 2
        }
        return .success(options)
    }

    /// HSCAN, SSCAN and ZSCAN, in Redis's order of checks: the cursor, then the key (a
    /// missing key answers an empty scan, another type WRONGTYPE), then the options. `page`
    /// returns the next cursor and the reply items of the elements `matches` accepts.
    static func collectionScan<Value>(
        _ c: CommandContext, read: (Bytes) -> Result<Value?, Reply>,
        page: (Value, _ cursor: UInt64, _ count: Int, _ matches: (Bytes) -> Bool) -> (UInt64, [Reply])
    ) -> Reply {
        guard let cursor = parseCursor(c.args[2]) else { return .error("ERR invalid cursor") }
        let value: Value
        switch read(c.args[1]) {
        case .failure(let error): return error
        case .success(nil): return .array([.bulk(Bytes("0")), .array([])])
        case .success(let found?): value = found
        }
        let options: ScanOptions
        switch scanOptions(c, from: 3, allowType: false) {
        case .failure(let error): return error
        case .success(let parsed): options = parsed
        }
        let (next, items) = page(value, cursor, options.count) { element in
            options.pattern.map { GlobPattern.matches($0, element) } ?? true
        }
        return .array([.bulk(Bytes(String(next))), .array(items)])
    }

    /// A SCAN cursor with C `strtoul` rules, as Redis: optional sign (a negative value
    /// wraps), digits only, no leading space, no overflow.
    static func parseCursor(_ text: Bytes) -> UInt64? {
        var digits = Substring(text.string)
        var negative = false
        if digits.first == "-" || digits.first == "+" {
            negative = digits.first == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt64(digits) else {
            return nil
        }
        return negative ? 0 &- value : value
    }

    static func randomkey(_ c: inout CommandContext) -> Reply {
        for _ in 0..<100 {
            guard let key = c.engine.databases[c.db].randomKey(using: &c.engine.random) else { return .null }
            if c.lookup(key) != nil { return .bulk(key) }
        }
        return .null
    }

    static func rename(_ c: inout CommandContext, onlyIfAbsent: Bool) -> Reply {
        let source = c.args[1]
        let target = c.args[2]
        guard let value = c.lookup(source) else { return Errors.noSuchKey }
        if source == target { return onlyIfAbsent ? .integer(0) : .ok }
        let deadline = c.engine.databases[c.db].deadline(source)
        if c.lookup(target) != nil {
            if onlyIfAbsent { return .integer(0) }
            c.delete(target)
        }
        c.delete(source)
        c.store(target, value)
        if let deadline { c.engine.setDeadline(target, deadline, db: c.db) }
        c.changed()
        c.notify(.generic, "rename_from", source)
        c.notify(.generic, "rename_to", target)
        return onlyIfAbsent ? .integer(1) : .ok
    }

    static func copy(_ c: inout CommandContext) -> Reply {
        let source = c.args[1]
        let target = c.args[2]
        var targetDB = c.db
        var replace = false
        var i = 3
        while i < c.args.count {
            if c.args[i].equalsIgnoringCase("replace") {
                replace = true
            } else if c.args[i].equalsIgnoringCase("db") && i + 1 < c.args.count {
                let n: Int
                switch c.int32(i + 1) {
                case .failure(let error): return error
                case .success(let parsed): n = parsed
                }
                guard n >= 0 && n < c.engine.databases.count else { return Errors.dbIndexOutOfRange }
                targetDB = n
                i += 1
            } else {
                return Errors.syntax
            }
            i += 1
        }
        if c.engine.settings.clusterMode && (c.db != 0 || targetDB != 0) {
            return .error("ERR Copying to another database is not allowed in cluster mode")
        }
        if source == target && targetDB == c.db {
            return .error("ERR source and destination objects are the same")
        }
        guard let value = c.lookup(source) else { return .integer(0) }
        let deadline = c.engine.databases[c.db].deadline(source)
        if c.engine.lookup(target, db: targetDB, now: c.now) != nil {
            if !replace { return .integer(0) }
            c.engine.delete(target, db: targetDB, now: c.now)
        }
        c.engine.store(target, value, db: targetDB, now: c.now)
        if let deadline { c.engine.setDeadline(target, deadline, db: targetDB) }
        c.changed()
        c.engine.notify(.generic, "copy_to", key: target, db: targetDB)
        return .integer(1)
    }

    static func move(_ c: inout CommandContext) -> Reply {
        if c.engine.settings.clusterMode { return .error("ERR MOVE is not allowed in cluster mode") }
        let key = c.args[1]
        let targetDB: Int
        switch c.int32(2) {
        case .failure(let error): return error
        case .success(let n): targetDB = n
        }
        guard targetDB >= 0 && targetDB < c.engine.databases.count else { return Errors.dbIndexOutOfRange }
        if targetDB == c.db { return .error("ERR source and destination objects are the same") }
        guard let value = c.lookup(key) else { return .integer(0) }
        if c.engine.lookup(key, db: targetDB, now: c.now) != nil { return .integer(0) }
        let deadline = c.engine.databases[c.db].deadline(key)
        c.engine.store(key, value, db: targetDB, now: c.now)
        if let deadline { c.engine.setDeadline(key, deadline, db: targetDB) }
        c.delete(key)
        c.changed()
        c.notify(.generic, "move_from", key)
        c.engine.notify(.generic, "move_to", key: key, db: targetDB)
        return .integer(1)
    }

    static func objectEncoding(_ c: inout CommandContext) -> Reply {
        guard let value = c.lookup(c.args[2]) else { return .null }
        return .bulk(Bytes(value.encodingName))
    }

    static func objectIdletime(_ c: inout CommandContext) -> Reply {
        guard c.lookup(c.args[2]) != nil, let entry = c.engine.databases[c.db].rawEntry(c.args[2]) else {
            return .null
        }
        if c.engine.settings.evictionPolicy.usesLFU {
            return .error(
                "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
            )
        }
        let idle =
            Int(Entry.ticks(from: entry.accessClock, to: c.accessClockNow)) * Int(Entry.clockTickMilliseconds) / 1000
        return .integer(max(0, idle))
    }

    static func objectFreq(_ c: inout CommandContext) -> Reply {
        guard c.lookup(c.args[2]) != nil, let entry = c.engine.databases[c.db].rawEntry(c.args[2]) else {
            return .null
        }
        if c.engine.settings.evictionPolicy.usesLFU {
            let counter = LFU.decayedCounter(
                entry.accessClock, now: c.now, decayMinutes: c.engine.settings.lfuDecayMinutes)
            return .integer(Int(counter))
        }
        return .error(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
        )
    }

    static func objectRefcount(_ c: inout CommandContext) -> Reply {
        guard c.lookup(c.args[2]) != nil else { return .null }
        return .integer(1)
    }

    static func objectHelp(_ c: inout CommandContext) -> Reply {
        let lines = [
            "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
            "HELP",
            "    Prints this help.",
        ]
        return .array(lines.map { .status($0) })
    }
}
