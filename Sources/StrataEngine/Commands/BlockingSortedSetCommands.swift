//! Blocking pops of sorted sets: BZPOPMIN, BZPOPMAX and BZMPOP. Like the blocking list
//! commands they first try the non-blocking pop and, when every key is empty, return
//! `Reply.blockedOn(keys:timeoutMilliseconds:)` so the server parks the client.

/// The blocking sorted-set commands.
public enum BlockingSortedSetCommands {
    /// Their table entries.
    public static let specs: [CommandSpec] = [
        .dataType(
            "bzpopmin", -3, [.write, .noscript, .fast, .blocking], group: "sorted-set", keys: (1, -2, 1),
            since: "5.0.0",
            "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
            "key [key ...] timeout"
        ) { pop(&$0, max: false) },
        .dataType(
            "bzpopmax", -3, [.write, .noscript, .fast, .blocking], group: "sorted-set", keys: (1, -2, 1),
            since: "5.0.0",
            "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.",
            "key [key ...] timeout"
        ) { pop(&$0, max: true) },
        .dataType(
            "bzmpop", -5, [.write, .blocking], group: "sorted-set", keys: (3, -1, 1), since: "7.0.0",
            "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
            "timeout numkeys key [key ...] MIN|MAX [COUNT count]", mpop),
    ]

    static func pop(_ c: inout CommandContext, max: Bool) -> Reply {
        let wait: Int64
        switch BlockingListCommands.timeout(c, c.args.count - 1) {
        case .failure(let error): return error
        case .success(let ms): wait = ms
        }
        let keys = Array(c.args[1..<(c.args.count - 1)])
        for key in keys {
            switch SortedSetCommands.popExtremes(&c, key, max: max, count: 1) {
            case .failure(let error):
                // A key that stopped being a sorted set while the client waited is skipped.
                if c.engine.retryingBlockedCommand { continue }
                return error
            case .success(let popped?):
                guard let item = popped.first else { continue }
                c.changed()
                c.propagate([Bytes(max ? "ZPOPMAX" : "ZPOPMIN"), key])
                return .array([.bulk(key), .bulk(item.member), .double(item.score)])
            case .success(nil): continue
            }
        }
        return .blockedOn(keys: keys, timeoutMilliseconds: wait)
    }

    static func mpop(_ c: inout CommandContext) -> Reply {
        let request: (keys: [Bytes], max: Bool, count: Int)
        switch SortedSetCommands.parseMultiPop(c, numkeysIndex: 2) {
        case .failure(let error): return error
        case .success(let r): request = r
        }
        let wait: Int64
        switch BlockingListCommands.timeout(c, 1) {
        case .failure(let error): return error
        case .success(let ms): wait = ms
        }
        switch SortedSetCommands.popFirstNonEmpty(&c, keys: request.keys, max: request.max, count: request.count) {
        case .failure(let error):
            if c.engine.retryingBlockedCommand { return .blockedOn(keys: request.keys, timeoutMilliseconds: wait) }
            return error
        case .success(let reply?):
            if case .array = reply { c.propagate([Bytes("ZMPOP")] + c.args.dropFirst(2)) }
            return reply
        case .success(nil): return .blockedOn(keys: request.keys, timeoutMilliseconds: wait)
        }
    }
}
