//! Blocking list pops and moves: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP. Each first
//! tries its non-blocking form; when every key is empty it returns
//! `Reply.blockedOn(keys:timeoutMilliseconds:)` and the server parks the client, running
//! the command again when one of the keys is written (first come, first served).

/// The blocking list commands.
public enum BlockingListCommands {
    /// Their table entries.
    public static let specs: [CommandSpec] = [
        .dataType(
            "blpop", -3, [.write, .noscript, .blocking], group: "list", keys: (1, -2, 1), since: "2.0.0",
            "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
            "key [key ...] timeout"
        ) { pop(&$0, head: true) },
        .dataType(
            "brpop", -3, [.write, .noscript, .blocking], group: "list", keys: (1, -2, 1), since: "2.0.0",
            "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
            "key [key ...] timeout"
        ) { pop(&$0, head: false) },
        .dataType(
            "blmove", 6, [.write, .denyOOM, .noscript, .blocking], group: "list", keys: (1, 2, 1), since: "6.2.0",
            "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.",
            "source destination LEFT|RIGHT LEFT|RIGHT timeout", blmove),
        .dataType(
            "brpoplpush", 4, [.write, .denyOOM, .noscript, .blocking], group: "list", keys: (1, 2, 1),
            since: "2.2.0",
            "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.",
            "source destination timeout", brpoplpush),
        .dataType(
            "blmpop", -5, [.write, .blocking], group: "list", keys: (3, -1, 1), since: "7.0.0",
            "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
            "timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]", blmpop),
    ]

    /// Parses a timeout in seconds (fractions allowed) into milliseconds, 0 for ever.
    ///
    /// As Redis 7.0: the seconds are read as a long double and rounded up to milliseconds; a
    /// value whose milliseconds do not fit 64 bits (infinity, 1e300) converts to the most
    /// negative integer (x86's conversion), so it is "negative", and a tiny negative value
    /// rounds up to 0, blocking for ever.
    static func timeout(_ c: CommandContext, _ index: Int) -> Result<Int64, Reply> {
        guard let seconds = c.args[index].strictLongDouble else {
            return .failure(.error("ERR timeout is not a float or out of range"))
        }
        let milliseconds = (seconds * 1000).rounded(.up)
        guard milliseconds >= 0, milliseconds < 0x1p63 else {
            return .failure(.error("ERR timeout is negative"))
        }
        return .success(Int64(milliseconds))
    }

    static func pop(_ c: inout CommandContext, head: Bool) -> Reply {
        let wait: Int64
        switch timeout(c, c.args.count - 1) {
        case .failure(let error): return error
        case .success(let ms): wait = ms
        }
        let keys = Array(c.args[1..<(c.args.count - 1)])
        for key in keys {
            switch ListCommands.popElements(&c, key, head: head, count: 1) {
            case .failure(let error):
                // A key that stopped being a list while the client waited is skipped, as
                // Redis serves only keys that hold a list; at the first call it is an error.
                if c.engine.retryingBlockedCommand { continue }
                return error
            case .success(let popped?):
                guard let element = popped.first else { continue }
                c.changed()
                c.propagate([Bytes(head ? "LPOP" : "RPOP"), key])
                return .array([.bulk(key), .bulk(element)])
            case .success(nil): continue
            }
        }
        return .blockedOn(keys: keys, timeoutMilliseconds: wait)
    }

    static func blmove(_ c: inout CommandContext) -> Reply {
        guard let from = ListCommands.side(c.args[3]), let to = ListCommands.side(c.args[4]) else {
            return Errors.syntax
        }
        return moveOrBlock(&c, fromHead: from, toHead: to, timeoutIndex: 5)
    }

    static func brpoplpush(_ c: inout CommandContext) -> Reply {
        moveOrBlock(&c, fromHead: false, toHead: true, timeoutIndex: 3)
    }

    static func moveOrBlock(_ c: inout CommandContext, fromHead: Bool, toHead: Bool, timeoutIndex: Int) -> Reply {
        let wait: Int64
        switch timeout(c, timeoutIndex) {
        case .failure(let error): return error
        case .success(let ms): wait = ms
        }
        let reply = ListCommands.move(&c, fromHead: fromHead, toHead: toHead)
        if reply == .null || (c.engine.retryingBlockedCommand && reply == Errors.wrongType) {
            return .blockedOn(keys: [c.args[1]], timeoutMilliseconds: wait)
        }
        if case .error = reply { return reply }
        c.propagate([
            Bytes("LMOVE"), c.args[1], c.args[2], Bytes(fromHead ? "LEFT" : "RIGHT"), Bytes(toHead ? "LEFT" : "RIGHT"),
        ])
        return reply
    }

    static func blmpop(_ c: inout CommandContext) -> Reply {
        let wait: Int64
        switch timeout(c, 1) {
        case .failure(let error): return error
        case .success(let ms): wait = ms
        }
        // LMPOP's parsing and popping, on the arguments after the timeout.
        let innerArguments = [Bytes("lmpop")] + c.args.dropFirst(2)
        let reply = withUnsafePointer(to: innerArguments) { arguments in
            var inner = CommandContext(engine: c.engine, arguments: arguments, db: c.db, now: c.now)
            return ListCommands.lmpop(&inner)
        }
        if case .array = reply { c.propagate(innerArguments) }
        let waits = reply == .nullArray || (c.engine.retryingBlockedCommand && reply == Errors.wrongType)
        guard waits, let numkeys = c.integer(2) else { return reply }
        return .blockedOn(keys: Array(c.args[3..<(3 + numkeys)]), timeoutMilliseconds: wait)
    }
}
