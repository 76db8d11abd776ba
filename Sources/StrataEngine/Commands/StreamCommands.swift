//! Stream commands without consumer groups (Redis 7.0 `t_stream.c` semantics and errors):
//! XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID. An emptied stream is kept, as
//! Redis keeps it. XADD is logged with the id it generated and XTRIM/XADD trims as an
//! exact `MINID` trim, so replay rebuilds the same entries.

/// The stream commands.
public enum StreamCommands {
    static func spec(
        _ name: String, _ arity: Int, _ flags: CommandFlags, since: String = "5.0.0", _ summary: String,
        _ synopsis: String, _ handler: @escaping (inout CommandContext) -> Reply
    ) -> CommandSpec {
        .dataType(name, arity, flags, group: "stream", keys: (1, 1, 1), since: since, summary, synopsis, handler)
    }

    /// Their table entries.
    public static let specs: [CommandSpec] = [
        spec(
            "xadd", -5, [.write, .denyOOM, .fast],
            "Appends a new message to a stream. Creates the key if it doesn't exist.",
            "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]", xadd),
        spec("xlen", 2, [.readonly, .fast], "Return the number of messages in a stream.", "key", xlen),
        spec(
            "xrange", -4, [.readonly], "Returns the messages from a stream within a range of IDs.",
            "key start end [COUNT count]"
        ) { range(&$0, reverse: false) },
        spec(
            "xrevrange", -4, [.readonly], "Returns the messages from a stream within a range of IDs in reverse order.",
            "key end start [COUNT count]"
        ) { range(&$0, reverse: true) },
        spec(
            "xdel", -3, [.write, .fast], "Returns the number of messages after removing them from a stream.",
            "key id [id ...]", xdel),
        spec(
            "xtrim", -4, [.write], "Deletes messages from the beginning of a stream.",
            "key MAXLEN|MINID [=|~] threshold [LIMIT count]", xtrim),
        spec(
            "xsetid", -3, [.write, .denyOOM, .fast], "An internal command for replicating stream values.",
            "key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]", xsetid),
    ]

    static let equalOrSmaller = Reply.error(
        "ERR The ID specified in XADD is equal or smaller than the target stream top item")

    /// The stream at `key`: nil when missing, WRONGTYPE for another type.
    static func read(_ c: CommandContext, _ key: Bytes) -> Result<StreamValue?, Reply> {
        guard let value = c.read(key) else { return .success(nil) }
        guard case .stream(let storage) = value else { return .failure(Errors.wrongType) }
        return .success(storage.stream)
    }

    /// Runs `body` on the stream at `key` in place (created when `create`), keeping it
    /// even when empty; nil when missing and not created. The table's reference is
    /// released first, so the stream's block array is not copied on every write (a frozen
    /// snapshot still sharing the box keeps its own copy).
    static func modify<R>(_ c: inout CommandContext, _ key: Bytes, create: Bool, _ body: (inout StreamValue) -> R)
        -> Result<R?, Reply>
    {
        var wrongType = false
        let outcome = c.engine.modify(key, db: c.db, now: c.now) { value -> R? in
            guard case .stream(var storage) = value else {
                wrongType = true
                return nil
            }
            value = .integer(0)
            var stream = storage.stream
            if isKnownUniquelyReferenced(&storage) {
                storage.stream = StreamValue()
                let result = body(&stream)
                storage.stream = stream
                value = .stream(storage)
                return result
            }
            let result = body(&stream)
            value = .stream(StreamStorage(stream))
            return result
        }
        if wrongType { return .failure(Errors.wrongType) }
        if let outcome, let outcome { return .success(outcome) }
        guard create else { return .success(nil) }
        var stream = StreamValue()
        let result = body(&stream)
        c.store(key, .stream(StreamStorage(stream)))
        return .success(result)
    }

    /// MAXLEN/MINID [=|~] threshold [LIMIT count], starting at `index`.
    struct Trim {
        var strategy: StreamValue.TrimStrategy
        var approximate: Bool
        var limit: Int
    }

    static func parseTrim(_ c: CommandContext, at index: inout Int, idEnd: Int) -> Result<Trim?, Reply> {
        let args = c.args
        let option = args[index]
        let isMaxLength = option.equalsIgnoringCase("maxlen")
        guard isMaxLength || option.equalsIgnoringCase("minid") else { return .success(nil) }
        index += 1
        guard index < idEnd else { return .failure(Errors.syntax) }
        var approximate = false
        if args[index] == Bytes("~") || args[index] == Bytes("=") {
            approximate = args[index] == Bytes("~")
            index += 1
            guard index < idEnd else { return .failure(Errors.syntax) }
        }
        let strategy: StreamValue.TrimStrategy
        if isMaxLength {
            guard let length = args[index].strictInteger else { return .failure(Errors.notInteger) }
            guard length >= 0 else { return .failure(.error("ERR The MAXLEN argument must be >= 0.")) }
            strategy = .maxLength(length)
        } else {
            guard let id = StreamID.parse(args[index]) else { return .failure(StreamID.invalidError) }
            strategy = .minID(id)
        }
        index += 1
        let perNode = c.engine.settings.streamLimits.maxEntries
        var limit = approximate ? 100 * (perNode > 0 ? perNode : 100) : 0
        if index + 1 < idEnd && args[index].equalsIgnoringCase("limit") {
            guard let given = args[index + 1].strictInteger else { return .failure(Errors.notInteger) }
            guard given >= 0 else { return .failure(.error("ERR The LIMIT argument must be >= 0.")) }
            guard approximate else {
                return .failure(.error("ERR syntax error, LIMIT cannot be used without the special ~ option"))
            }
            limit = given
            index += 2
        }
        return .success(Trim(strategy: strategy, approximate: approximate, limit: limit))
    }

    static func xadd(_ c: inout CommandContext) -> Reply {
        let args = c.args
        var index = 2
        var noMakeStream = false
        var trim: Trim?
        while index < args.count {
            if args[index].equalsIgnoringCase("nomkstream") {
                noMakeStream = true
                index += 1
                continue
            }
            if args[index].equalsIgnoringCase("limit") && index + 2 < args.count {
                return .error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
            }
            switch parseTrim(c, at: &index, idEnd: args.count) {
            case .failure(let error): return error
            case .success(let parsed?):
                trim = parsed
                continue
            case .success(nil): break
            }
            break
        }
        guard index < args.count else { return Errors.syntax }
        let idArgument = args[index]
        let fields = Array(args[(index + 1)...])
        guard !fields.isEmpty, fields.count % 2 == 0 else { return Errors.arity("xadd") }
        // The id's form: `*`, `ms-*`, or explicit.
        var explicit: StreamID?
        var requestedMs: UInt64?
        if idArgument != Bytes("*") {
            let raw = idArgument.array
            if raw.count > 2, raw.suffix(2) == [UInt8(ascii: "-"), UInt8(ascii: "*")] {
                guard let id = StreamID.parse(Bytes(raw.dropLast(2))), !raw.dropLast(2).contains(UInt8(ascii: "-"))
                else { return StreamID.invalidError }
                requestedMs = id.ms
            } else {
                guard let id = StreamID.parse(idArgument) else { return StreamID.invalidError }
                guard id > .zero else { return .error("ERR The ID specified in XADD must be greater than 0-0") }
                explicit = id
            }
        }
        let top: StreamID
        switch c.lookup(args[1]) {
        case .stream(let storage)?: top = storage.stream.lastID
        case nil:
            if noMakeStream { return .null }
            top = .zero
        case _?: return Errors.wrongType
        }
        if top == .max {
            return .error("ERR The stream has exhausted the last possible ID, unable to add more items")
        }
        let id: StreamID
        if let explicit {
            guard explicit > top else { return equalOrSmaller }
            id = explicit
        } else if let ms = requestedMs {
            if ms > top.ms {
                id = StreamID(ms: ms, seq: 0)
            } else if ms == top.ms && top.seq < .max {
                id = StreamID(ms: ms, seq: top.seq + 1)
            } else {
                return equalOrSmaller
            }
        } else {
            let now = UInt64(max(0, c.now))
            if now > top.ms {
                id = StreamID(ms: now, seq: 0)
            } else if let next = top.successor {
                id = next
            } else {
                return .error("ERR The stream has exhausted the last possible ID, unable to add more items")
            }
        }
        let limits = c.engine.settings.streamLimits
        let outcome = modify(&c, args[1], create: true) { stream -> Int in
            stream.append(StreamEntry(id: id, fields: fields), limits: limits)
            guard let trim else { return 0 }
            return stream.trim(trim.strategy, approximate: trim.approximate, limit: trim.limit)
        }
        guard case .success(let trimmed?) = outcome else { return Errors.wrongType }
        c.changed()
        let idBytes = id.bytes
        if c.engine.recordsEffects { c.propagate([Bytes("XADD"), args[1], idBytes] + fields) }
        c.notify(.stream, "xadd", args[1])
        if trimmed > 0 {
            propagateTrim(&c, args[1])
            c.notify(.stream, "xtrim", args[1])
        }
        return .bulk(idBytes)
    }

    /// Logs a trim as the exact `MINID` trim that leaves the same entries.
    static func propagateTrim(_ c: inout CommandContext, _ key: Bytes) {
        guard case .success(let stream?) = read(c, key) else { return }
        let first = stream.firstID ?? stream.lastID.successor ?? .max
        c.propagate([Bytes("XTRIM"), key, Bytes("MINID"), Bytes("="), first.bytes])
    }

    static func xlen(_ c: inout CommandContext) -> Reply {
        switch read(c, c.args[1]) {
        case .failure(let error): return error
        case .success(let stream): return .integer(stream?.length ?? 0)
        }
    }

    static func entryReply(_ entry: StreamEntry) -> Reply {
        .array([.bulk(entry.id.bytes), .array(entry.fields.map { .bulk($0) })])
    }

    static func range(_ c: inout CommandContext, reverse: Bool) -> Reply {
        let args = c.args
        guard
            let startBound = StreamID.bound(args[reverse ? 3 : 2], isStart: true),
            let endBound = StreamID.bound(args[reverse ? 2 : 3], isStart: false)
        else { return StreamID.invalidError }
        var count: Int?
        if args.count > 4 {
            guard args.count == 6, args[4].equalsIgnoringCase("count") else { return Errors.syntax }
            guard let given = args[5].strictInteger else { return Errors.notInteger }
            count = max(0, given)
        }
        let stream: StreamValue?
        switch read(c, args[1]) {
        case .failure(let error): return error
        case .success(let found): stream = found
        }
        if count == 0 && stream != nil { return .nullArray }  // as Redis 7.0: after a missing key's []
        guard let stream, case .success(let start) = startBound, case .success(let end) = endBound else {
            if case .failure(let error) = startBound { return error }
            if case .failure(let error) = endBound { return error }
            return .array([])
        }
        return .array(stream.range(from: start, to: end, count: count, reverse: reverse).map(entryReply))
    }

    static func xdel(_ c: inout CommandContext) -> Reply {
        // As Redis: the key (missing: 0, another type: WRONGTYPE) before the ids.
        switch read(c, c.args[1]) {
        case .failure(let error): return error
        case .success(nil): return .integer(0)
        case .success: break
        }
        var ids: [StreamID] = []
        for argument in c.args.dropFirst(2) {
            guard let id = StreamID.parse(argument) else { return StreamID.invalidError }
            ids.append(id)
        }
        let deleted: Int
        switch modify(&c, c.args[1], create: false, { (stream: inout StreamValue) -> Int in stream.delete(ids) }) {
        case .failure(let error): return error
        case .success(let count): deleted = count ?? 0
        }
        if deleted > 0 {
            c.changed(deleted)
            c.notify(.stream, "xdel", c.args[1])
        }
        return .integer(deleted)
    }

    static func xtrim(_ c: inout CommandContext) -> Reply {
        var index = 2
        let trim: Trim
        switch parseTrim(c, at: &index, idEnd: c.args.count) {
        case .failure(let error): return error
        case .success(nil): return Errors.syntax
        case .success(let parsed?): trim = parsed
        }
        guard index == c.args.count else { return Errors.syntax }
        let removed: Int
        let outcome = modify(&c, c.args[1], create: false) { (stream: inout StreamValue) -> Int in
            stream.trim(trim.strategy, approximate: trim.approximate, limit: trim.limit)
        }
        switch outcome {
        case .failure(let error): return error
        case .success(let count): removed = count ?? 0
        }
        if removed > 0 {
            c.changed(removed)
            propagateTrim(&c, c.args[1])
            c.notify(.stream, "xtrim", c.args[1])
        } else {
            c.propagateNothing()
        }
        return .integer(removed)
    }

    static func xsetid(_ c: inout CommandContext) -> Reply {
        c.leavesWatchesAlone = true  // group state only (Redis signals no key)
        let args = c.args
        guard let id = StreamID.parse(args[2]) else { return StreamID.invalidError }
        var entriesAdded: UInt64?
        var maxDeleted: StreamID?
        var index = 3
        while index < args.count {
            guard index + 1 < args.count else { return Errors.syntax }
            if args[index].equalsIgnoringCase("entriesadded") {
                guard let n = args[index + 1].strictInteger else { return Errors.notInteger }
                guard n >= 0 else { return .error("ERR entries_added must be positive") }
                entriesAdded = UInt64(n)
            } else if args[index].equalsIgnoringCase("maxdeletedid") {
                guard let deleted = StreamID.parse(args[index + 1]) else { return StreamID.invalidError }
                maxDeleted = deleted
            } else {
                return Errors.syntax
            }
            index += 2
        }
        if let maxDeleted, id < maxDeleted {
            return .error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
        }
        let stream: StreamValue
        switch read(c, args[1]) {
        case .failure(let error): return error
        case .success(nil): return .error("ERR no such key")
        case .success(let found?): stream = found
        }
        if let entriesAdded, entriesAdded < UInt64(stream.length) {
            return .error("ERR The entries_added specified in XSETID is smaller than the target stream length")
        }
        if stream.length > 0, let last = stream.lastLiveID, id < last {
            return .error("ERR The ID specified in XSETID is smaller than the target stream top item")
        }
        _ = modify(&c, args[1], create: false) { stream in
            stream.lastID = id
            if let entriesAdded { stream.entriesAdded = entriesAdded }
            if let maxDeleted { stream.maxDeletedID = maxDeleted }
        }
        c.changed()
        c.notify(.stream, "xsetid", args[1])
        return .ok
    }
}
