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
