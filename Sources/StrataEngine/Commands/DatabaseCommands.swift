//! Database-level commands: SELECT, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, ECHO.

/// The database commands.
public enum DatabaseCommands {
    /// Their table entries.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "select", arity: 2, flags: [.loading, .stale, .fast], group: "connection",
            summary: "Changes the selected database.", synopsis: "index",
            categories: ["keyspace", "fast", "connection"], handler: .engine(select)),
        CommandSpec(
            "dbsize", arity: 1, flags: [.readonly, .fast], group: "server",
            summary: "Returns the number of keys in the database.", categories: ["keyspace", "read", "fast"],
            handler: .engine { .integer($0.engine.keyCount(db: $0.db)) }),
        CommandSpec(
            "flushdb", arity: -1, flags: [.write], group: "server",
            summary: "Removes all keys from the current database.", synopsis: "[ASYNC|SYNC]",
            categories: ["keyspace", "write", "slow", "dangerous"], handler: .engine { flush(&$0, all: false) }),
        CommandSpec(
            "flushall", arity: -1, flags: [.write], group: "server",
            summary: "Removes all keys from all databases.", synopsis: "[ASYNC|SYNC]",
            categories: ["keyspace", "write", "slow", "dangerous"], handler: .engine { flush(&$0, all: true) }),
        CommandSpec(
            "swapdb", arity: 3, flags: [.write, .fast], group: "server", since: "4.0.0",
            summary: "Swaps two Redis databases.", synopsis: "index1 index2",
            categories: ["keyspace", "write", "fast", "dangerous"], handler: .engine(swapdb)),
        CommandSpec(
            "echo", arity: 2, flags: [.loading, .stale, .fast], group: "connection",
            summary: "Returns the given string.", synopsis: "message", categories: ["fast", "connection"],
            handler: .engine { .bulk($0.args[1]) }),
    ]

    static func select(_ c: inout CommandContext) -> Reply {
        let index: Int
        switch c.int32(1) {
        case .failure(let error): return error
        case .success(let n): index = n
        }
        if c.engine.settings.clusterMode && index != 0 { return .error("ERR SELECT is not allowed in cluster mode") }
        guard index >= 0 && index < c.engine.databases.count else { return Errors.dbIndexOutOfRange }
        c.db = index
        return .ok
    }

    static func flush(_ c: inout CommandContext, all: Bool) -> Reply {
        if c.args.count > 2 { return Errors.syntax }
        if c.args.count == 2 && !c.args[1].equalsIgnoringCase("sync") && !c.args[1].equalsIgnoringCase("async") {
            return Errors.syntax
        }
        let async = c.args.count == 2 && c.args[1].equalsIgnoringCase("async")
        var dropped: [Database] = []
        for i in (all ? Array(c.engine.databases.indices) : [c.db]) {
            c.changed(c.engine.databases[i].count)
            dropped.append(c.engine.databases[i])
            c.engine.databases[i].removeAll()
            c.engine.noteWholeDatabase(i)
        }
        if all { c.changed() }
        c.engine.noteFlush()
        if async, let release = c.engine.releaseInBackground {
            release(dropped)
        }
        return .ok
    }

    static func swapdb(_ c: inout CommandContext) -> Reply {
        if c.engine.settings.clusterMode { return .error("ERR SWAPDB is not allowed in cluster mode") }
        // Redis reads C ints here: a number outside 32 bits is as invalid as a non-number.
        guard case .success(let a) = c.int32(1) else { return .error("ERR invalid first DB index") }
        guard case .success(let b) = c.int32(2) else { return .error("ERR invalid second DB index") }
        let range = 0..<c.engine.databases.count
        guard range.contains(a) && range.contains(b) else { return Errors.dbIndexOutOfRange }
        c.engine.databases.swapAt(a, b)
        c.engine.noteWholeDatabase(a)
        c.engine.noteWholeDatabase(b)
        c.changed()
        return .ok
    }
}
