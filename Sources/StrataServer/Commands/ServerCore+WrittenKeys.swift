//! Which keys a successful write command touched: the one answer both WATCH invalidation
//! and the wake-up of clients parked by blocking commands use.

import StrataEngine

/// What a write command touched.
enum WrittenKeys {
    /// These keys (the command's key positions, plus the target of MOVE or COPY ... DB).
    case keys([WatchedKey])
    /// Every key of these databases (FLUSHDB, FLUSHALL, SWAPDB).
    case databases([Int])
}

extension ServerCore {
    /// The keys a write command `args` ran in database `db` may have changed.
    func writtenKeys(_ spec: CommandSpec, args: [Bytes], db: Int) -> WrittenKeys {
        switch spec.name {
        case "flushall": return .databases(Array(engine.databases.indices))
        case "flushdb": return .databases([db])
        case "swapdb": return .databases(args.dropFirst().compactMap { $0.strictInteger })
        default: break
        }
        var keys = spec.keyPositions(argumentCount: args.count).map { WatchedKey(db: db, key: args[$0]) }
        if spec.name == "move", let other = args[2].strictInteger {
            keys.append(WatchedKey(db: other, key: args[1]))
        }
        if spec.name == "copy", let index = args.firstIndex(where: { $0.equalsIgnoringCase("db") }),
            index + 1 < args.count, let other = args[index + 1].strictInteger
        {
            keys.append(WatchedKey(db: other, key: args[2]))
        }
        return .keys(keys)
    }
}

extension ServerCore {
    /// Stream commands that change only consumer group state (or XSETID's counters): as in
    /// Redis 7.0 they do not invalidate a WATCH on the stream (only XADD, XDEL, XTRIM and a
    /// stream made by `XGROUP CREATE ... MKSTREAM` do), though they still wake blocked
    /// readers (XGROUP DESTROY releases XREADGROUP clients).
    static let groupStateCommands: Set<String> = [
        "xgroup|create", "xgroup|setid", "xgroup|createconsumer", "xgroup|delconsumer", "xgroup|destroy", "xack",
        "xclaim", "xautoclaim", "xsetid", "xreadgroup",
    ]

    /// Whether a successful write invalidates WATCHes on its keys.
    static func touchesWatchedKeys(_ spec: CommandSpec, args: [Bytes]) -> Bool {
        guard groupStateCommands.contains(spec.name) else { return true }
        // XGROUP CREATE ... MKSTREAM may have made the stream (counted as a change even
        // when the key existed).
        return spec.name == "xgroup|create" && args.dropFirst(5).contains { $0.equalsIgnoringCase("mkstream") }
    }
}
