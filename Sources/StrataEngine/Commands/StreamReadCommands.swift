//! XREAD and XREADGROUP (Redis 7.0 `xreadCommand`): reads after an id from several
//! streams, `$` (XREAD: only what arrives later), `>` (XREADGROUP: entries never delivered
//! to the group) and history ids (XREADGROUP: the consumer's own pending entries), with
//! `COUNT`, `NOACK` and `BLOCK`. A read that finds nothing with `BLOCK` returns
//! `Reply.blockedOn`, and the server runs it again when one of its streams is written;
//! `$` is resolved first (``Engine/blockedArguments``) so the retry reads what came after.
//! Group deliveries are logged as Redis logs them: `XGROUP CREATECONSUMER` for a consumer
//! made on the way, an `XCLAIM ... FORCE JUSTID LASTID` per entry delivered, and
//! `XGROUP SETID ... ENTRIESREAD` for the group's new position.

/// The stream reading commands.
public enum StreamReadCommands {
    /// Their table entries.
    public static let specs: [CommandSpec] = [
        .dataType(
            "xread", -4, [.readonly, .blocking, .waitsForItsOwnEntries], group: "stream", keys: (0, 0, 0),
            since: "5.0.0",
            "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.",
            "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]"
        ) { read(&$0, grouped: false) }.findingKeys(keyArguments),
        .dataType(
            "xreadgroup", -7, [.write, .blocking, .waitsForItsOwnEntries], group: "stream", keys: (0, 0, 0),
            since: "5.0.0",
            "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.",
            "GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]"
        ) { read(&$0, grouped: true) }.findingKeys(keyArguments),
    ]

    /// Where a read starts in one stream.
    enum Position: Equatable {
        /// Entries with greater ids.
        case after(StreamID)
        /// XREAD's `$`: the stream's last id at the time of the call.
        case last
        /// XREADGROUP's `>`: entries never delivered to the group.
        case undelivered
    }

    /// A parsed XREAD / XREADGROUP.
    struct Request {
        var count = 0
        var timeout: Int64?
        var group: (name: Bytes, consumer: Bytes)?
        var noAck = false
        var keysStart = 0
        var keys: [Bytes] = []
        var positions: [Position] = []
    }

    /// The keys of an XREAD / XREADGROUP invocation (the first half of what follows
    /// `STREAMS`), for `COMMAND GETKEYS`.
    @Sendable public static func keyArguments(_ args: [Bytes]) -> [Bytes]? {
        guard let streams = args.dropFirst().firstIndex(where: { $0.equalsIgnoringCase("streams") }) else { return [] }
        let rest = args.count - streams - 1
        guard rest > 0, rest % 2 == 0 else { return [] }
        return Array(args[(streams + 1)...(streams + rest / 2)])
    }

    static let unbalanced = Reply.error(
        "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")

    static func parse(_ c: CommandContext, grouped: Bool) -> Result<Request, Reply> {
        let args = c.args
        var request = Request()
        var index = 1
        while index < args.count {
            let option = args[index]
            let more = args.count - index - 1
            if option.equalsIgnoringCase("block") && more > 0 {
                if c.engine.runningScript {  // Redis names the command as it was sent
                    return .failure(
                        .error("ERR \(args[0].string) command is not allowed with BLOCK option from scripts"))
                }
                guard let ms = args[index + 1].strictInteger else {
                    return .failure(.error("ERR timeout is not an integer or out of range"))
                }
                guard ms >= 0 else { return .failure(.error("ERR timeout is negative")) }
                request.timeout = Int64(ms)
                index += 2
            } else if option.equalsIgnoringCase("count") && more > 0 {
                guard let count = args[index + 1].strictInteger else { return .failure(Errors.notInteger) }
                request.count = max(0, count)
                index += 2
            } else if option.equalsIgnoringCase("streams") && more > 0 {
                request.keysStart = index + 1
                let rest = args.count - request.keysStart
                guard rest % 2 == 0 else { return .failure(unbalanced) }
                request.keys = Array(args[request.keysStart..<(request.keysStart + rest / 2)])
                break
            } else if option.equalsIgnoringCase("group") && more >= 2 {
                guard grouped else {
                    return .failure(
                        .error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."))
                }
                request.group = (args[index + 1], args[index + 2])
                index += 3
            } else if option.equalsIgnoringCase("noack") {
                guard grouped else {
                    return .failure(
                        .error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."))
                }
                request.noAck = true
                index += 1
            } else {
                return .failure(Errors.syntax)
            }
        }
        guard request.keysStart > 0 else { return .failure(Errors.syntax) }
        if grouped && request.group == nil { return .failure(.error("ERR Missing GROUP option for XREADGROUP")) }
        let idsStart = request.keysStart + request.keys.count
        for (offset, key) in request.keys.enumerated() {
            let stream: StreamValue?
            switch StreamCommands.read(c, key) {
            case .failure(let error): return .failure(error)
            case .success(let found): stream = found
            }
            if let group = request.group, stream?.groups[group.name] == nil {
                return .failure(
                    .error(
                        "NOGROUP No such key '\(key.string)' or consumer group '\(group.name.string)' in XREADGROUP with GROUP option"
                    ))
            }
            let argument = args[idsStart + offset]
            if argument == Bytes("$") {
                guard !grouped else {
                    return .failure(
                        .error(
                            "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."
                        ))
                }
                request.positions.append(.after(stream?.lastID ?? .zero))
            } else if argument == Bytes(">") {
                guard grouped else {
                    return .failure(
                        .error(
                            "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
                        ))
                }
                request.positions.append(.undelivered)
            } else {
                guard let id = StreamID.parse(argument) else { return .failure(StreamID.invalidError) }
                // Redis marks `>` with the greatest id, so a group read after that id is `>`.
                request.positions.append(grouped && id == .max ? .undelivered : .after(id))
            }
        }
        return .success(request)
    }

    static func read(_ c: inout CommandContext, grouped: Bool) -> Reply {
        c.leavesWatchesAlone = grouped  // XREADGROUP changes group state only
        let request: Request
        switch parse(c, grouped: grouped) {
        case .failure(let error):
            return grouped && c.engine.retryingBlockedCommand ? goneWhileBlocked(c) : error
        case .success(let parsed): request = parsed
        }
        var served: [(Reply, Reply)] = []
        for (key, position) in zip(request.keys, request.positions) {
            if let group = request.group {
                if let reply = serveGroup(&c, key, group: group, position: position, request: request) {
                    served.append((.bulk(key), reply))
                }
            } else if let entries = readAfter(c, key, position, count: request.count) {
                served.append((.bulk(key), .array(entries.map(StreamCommands.entryReply))))
            }
        }
        if !served.isEmpty { return .keyed(served) }
        if grouped { c.propagateNothing() }
        guard let timeout = request.timeout else { return .nullArray }
        if !grouped {
            // Run again with `$` replaced by the id it stood for now.
            var again = c.args
            let idsStart = request.keysStart + request.keys.count
            for (offset, position) in request.positions.enumerated() {
                if case .after(let id) = position { again[idsStart + offset] = id.bytes }
            }
            c.engine.blockedArguments = again
        }
        return .blockedOn(keys: request.keys, timeoutMilliseconds: timeout)
    }

    /// What a parked XREADGROUP hears when its stream or group went away while it waited
    /// (Redis 7.0.15's texts).
    static func goneWhileBlocked(_ c: CommandContext) -> Reply {
        for key in keyArguments(c.args) ?? [] {
            guard case .stream? = c.lookup(key) else { return .error("UNBLOCKED the stream key no longer exists") }
        }
        return .error("NOGROUP the consumer group this client was blocked on no longer exists")
    }

    /// XREAD's entries of the stream at `key` after `position`; nil when there are none.
    static func readAfter(_ c: CommandContext, _ key: Bytes, _ position: Position, count: Int) -> [StreamEntry]? {
        guard case .success(let stream?) = StreamCommands.read(c, key), case .after(let id) = position,
            let last = stream.lastLiveID, last > id, let start = id.successor
        else { return nil }
        return stream.range(from: start, to: .max, count: count == 0 ? nil : count)
    }

    /// Where an XREADGROUP starts in the stream at `key` (nil: nothing to serve now) and
    /// whether the consumer is new. Reads here, so no copy of the stream stays alive
    /// while `serveGroup` changes it.
    static func groupStart(_ c: CommandContext, _ key: Bytes, group: (name: Bytes, consumer: Bytes), position: Position)
        -> (start: StreamID, isNewConsumer: Bool)?
    {
        guard case .success(let stream?) = StreamCommands.read(c, key), let current = stream.groups[group.name]
        else { return nil }
        let isNewConsumer = current.consumers[group.consumer] == nil
        switch position {
        case .after(let id):
            return (id.successor ?? .max, isNewConsumer)
        case .undelivered, .last:
            guard let last = stream.lastLiveID, last > current.lastID, let next = current.lastID.successor else {
                return nil
            }
            return (next, isNewConsumer)
        }
    }

    /// Serves one stream of an XREADGROUP; nil when there is nothing to serve now.
    static func serveGroup(
        _ c: inout CommandContext, _ key: Bytes, group: (name: Bytes, consumer: Bytes), position: Position,
        request: Request
    ) -> Reply? {
        guard let (start, isNewConsumer) = groupStart(c, key, group: group, position: position) else { return nil }
        let now = c.now
        let limit = request.count == 0 ? Int.max : request.count
        var effects: [[Bytes]] = []
        func claimEffect(_ id: StreamID, _ entry: StreamPendingEntry, lastID: StreamID) -> [Bytes] {
            StreamClaimCommands.claimEffect(key, group: group.name, id: id, entry, lastID: lastID)
        }
        let logs = c.engine.recordsEffects
        let replies = StreamCommands.modify(&c, key, create: false) { stream -> [Reply] in
            if position == .undelivered {
                let entries = stream.range(from: start, to: .max, count: request.count == 0 ? nil : request.count)
                guard let current = stream.groups[group.name] else { return [] }
                // The group's position after each entry, by Redis's counter rules.
                var positions: [(StreamID, Int64)] = []
                positions.reserveCapacity(entries.count)
                var read = current.entriesRead
                for entry in entries {
                    read = stream.entriesRead(after: read, delivering: entry.id)
                    positions.append((entry.id, read))
                }
                stream.withGroup(group.name) { state in
                    state.consumers[group.consumer, default: StreamConsumer(seenTime: now)].seenTime = now
                    for (id, entriesRead) in positions {
                        state.lastID = id
                        state.entriesRead = entriesRead
                        guard !request.noAck else { continue }
                        state.deliver(id, to: group.consumer, time: now, count: 1)
                        if logs, let pending = state.pending[id] {
                            effects.append(claimEffect(id, pending, lastID: id))
                        }
                    }
                    if logs {
                        effects.append(StreamClaimCommands.positionEffect(key, group: group.name, state))
                    }
                }
                return entries.map(StreamCommands.entryReply)
            }
            stream.withGroup(group.name) { state in
                state.consumers[group.consumer, default: StreamConsumer(seenTime: now)].seenTime = now
            }
            var replies: [Reply] = []
            // History: the consumer's own pending entries after `start`.
            var history: [StreamID] = []
            stream.groups[group.name]?.pending.forEach(from: start) { id, entry in
                if entry.consumer == group.consumer { history.append(id) }
                return history.count < limit
            }
            for id in history {
                guard let entry = stream.range(from: id, to: id, count: 1).first else {
                    replies.append(.array([.bulk(id.bytes), .nullArray]))
                    continue
                }
                stream.withGroup(group.name) { state in
                    guard var pending = state.pending[id] else { return }
                    pending.deliveryTime = now
                    pending.deliveryCount &+= 1
                    state.pending[id] = pending
                    if logs { effects.append(claimEffect(id, pending, lastID: state.lastID)) }
                }
                replies.append(StreamCommands.entryReply(entry))
            }
            return replies
        }
        guard case .success(let entries?) = replies else { return nil }
        c.changed()
        if isNewConsumer {
            c.propagate([Bytes("XGROUP"), Bytes("CREATECONSUMER"), key, group.name, group.consumer])
            c.notify(.stream, "xgroup-createconsumer", key)
        }
        for effect in effects { c.propagate(effect) }
        if effects.isEmpty { c.propagateNothing() }
        return .array(entries)
    }
}
