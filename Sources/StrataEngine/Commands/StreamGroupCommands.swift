//! Consumer group commands (Redis 7.0 `t_stream.c`): XGROUP CREATE/SETID/DESTROY/
//! CREATECONSUMER/DELCONSUMER, XACK and XPENDING (XCLAIM and XAUTOCLAIM are in
//! `StreamClaimCommands`). They are logged as sent.

/// The consumer group commands.
public enum StreamGroupCommands {
    static func groupSpec(
        _ name: String, _ arity: Int, _ flags: CommandFlags, _ summary: String, _ synopsis: String,
        _ handler: @escaping (inout CommandContext) -> Reply
    ) -> CommandSpec {
        .dataType(name, arity, flags, group: "stream", keys: (2, 2, 1), since: "5.0.0", summary, synopsis, handler)
    }

    /// Their table entries.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "xgroup", arity: -2, flags: [], group: "stream", since: "5.0.0",
            summary: "A container for consumer groups commands.", categories: ["slow"], handler: .container,
            subcommands: [
                groupSpec(
                    "xgroup|create", -5, [.write, .denyOOM], "Creates a consumer group.",
                    "key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]", create),
                groupSpec(
                    "xgroup|setid", -5, [.write], "Sets the last-delivered ID of a consumer group.",
                    "key group id|$ [ENTRIESREAD entries-read]", setID),
                groupSpec("xgroup|destroy", 4, [.write], "Destroys a consumer group.", "key group", destroy),
                groupSpec(
                    "xgroup|createconsumer", 5, [.write, .denyOOM], "Creates a consumer in a consumer group.",
                    "key group consumer", createConsumer),
                groupSpec(
                    "xgroup|delconsumer", 5, [.write], "Deletes a consumer from a consumer group.",
                    "key group consumer", deleteConsumer),
                CommandSpec(
                    "xgroup|help", arity: 2, flags: [.loading, .stale], group: "stream", since: "5.0.0",
                    summary: "Returns helpful text about the different subcommands.", categories: ["stream", "slow"],
                    handler: .engine(help)),
            ]),
        .dataType(
            "xack", -4, [.write, .fast], group: "stream", keys: (1, 1, 1), since: "5.0.0",
            "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.",
            "key group id [id ...]", xack),
        .dataType(
            "xpending", -3, [.readonly], group: "stream", keys: (1, 1, 1), since: "5.0.0",
            "Returns the information and entries from a stream consumer group's pending entries list.",
            "key group [[IDLE min-idle-time] start end count [consumer]]", xpending),
        .dataType(
            "xclaim", -6, [.write, .fast], group: "stream", keys: (1, 1, 1), since: "5.0.0",
            "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.",
            "key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]",
            StreamClaimCommands.xclaim),
        .dataType(
            "xautoclaim", -6, [.write, .fast], group: "stream", keys: (1, 1, 1), since: "6.2.0",
            "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.",
            "key group consumer min-idle-time start [COUNT count] [JUSTID]", StreamClaimCommands.xautoclaim),
    ]

    static func noGroup(_ key: Bytes, _ group: Bytes) -> Reply {
        .error("NOGROUP No such key '\(key.string)' or consumer group '\(group.string)'")
    }

    static func noSuchGroup(_ key: Bytes, _ group: Bytes) -> Reply {
        .error("NOGROUP No such consumer group '\(group.string)' for key name '\(key.string)'")
    }

    static let keyRequired = Reply.error(
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
    )

    // MARK: XGROUP

    /// The options after `id` of CREATE and SETID.
    static func groupOptions(_ c: CommandContext, allowMakeStream: Bool) -> Result<(Bool, Int64), Reply> {
        var makeStream = false
        var entriesRead = StreamGroup.unknownEntriesRead
        var index = 5
        while index < c.args.count {
            if allowMakeStream && c.args[index].equalsIgnoringCase("mkstream") {
                makeStream = true
                index += 1
            } else if c.args[index].equalsIgnoringCase("entriesread") && index + 1 < c.args.count {
                guard let n = c.args[index + 1].strictInteger else { return .failure(Errors.notInteger) }
                guard n >= 0 || Int64(n) == StreamGroup.unknownEntriesRead else {
                    return .failure(.error("ERR value for ENTRIESREAD must be positive or -1"))
                }
                entriesRead = Int64(n)
                index += 2
            } else {
                return .failure(
                    .error(
                        "ERR unknown subcommand or wrong number of arguments for '\(c.args[1].string)'. Try XGROUP HELP."
                    ))
            }
        }
        return .success((makeStream, entriesRead))
    }

    /// The stream at `args[2]` for an XGROUP subcommand (the key must exist), and, when
    /// `needsGroup`, its group `args[3]`.
    static func groupStream(_ c: CommandContext, needsGroup: Bool) -> Result<StreamValue, Reply> {
        switch StreamCommands.read(c, c.args[2]) {
        case .failure(let error): return .failure(error)
        case .success(nil): return .failure(keyRequired)
        case .success(let stream?):
            if needsGroup && stream.groups[c.args[3]] == nil {
                return .failure(noSuchGroup(c.args[2], c.args[3]))
            }
            return .success(stream)
        }
    }

    static func create(_ c: inout CommandContext) -> Reply {
        let (key, name) = (c.args[2], c.args[3])
        let makeStream: Bool
        let entriesRead: Int64
        switch groupOptions(c, allowMakeStream: true) {
        case .failure(let error): return error
        case .success(let options): (makeStream, entriesRead) = options
        }
        let existing: StreamValue?
        switch StreamCommands.read(c, key) {
        case .failure(let error): return error
        case .success(let found): existing = found
        }
        if existing == nil && !makeStream { return keyRequired }
        let id: StreamID
        if c.args[4] == Bytes("$") {
            id = existing?.lastID ?? .zero
        } else {
            guard let parsed = StreamID.parse(c.args[4]) else { return StreamID.invalidError }
            id = parsed
        }
        if existing?.groups[name] != nil { return .error("BUSYGROUP Consumer Group name already exists") }
        _ = StreamCommands.modify(&c, key, create: true) { stream in
            stream.groups[name] = StreamGroup(lastID: id, entriesRead: entriesRead)
        }
        c.leavesWatchesAlone = existing != nil  // MKSTREAM making the stream is a change of the key
        c.changed()
        c.notify(.stream, "xgroup-create", key)
        return .ok
    }

    static func setID(_ c: inout CommandContext) -> Reply {
        c.leavesWatchesAlone = true  // group state only (Redis signals no key)
        let (key, name) = (c.args[2], c.args[3])
        let entriesRead: Int64
        switch groupOptions(c, allowMakeStream: false) {
        case .failure(let error): return error
        case .success(let options): entriesRead = options.1
        }
        let stream: StreamValue
        switch groupStream(c, needsGroup: true) {
        case .failure(let error): return error
        case .success(let found): stream = found
        }
        let id: StreamID
        if c.args[4] == Bytes("$") {
            id = stream.lastID
        } else {
            guard case .success(let parsed)? = StreamID.bound(c.args[4], isStart: true) else {
                return StreamID.invalidError
            }
            id = parsed
        }
        _ = StreamCommands.modify(&c, key, create: false) { stream in
            stream.withGroup(name) { group in
                group.lastID = id
                group.entriesRead = entriesRead
            }
        }
        c.changed()
        c.notify(.stream, "xgroup-setid", key)
        return .ok
    }

    static func destroy(_ c: inout CommandContext) -> Reply {
        c.leavesWatchesAlone = true  // group state only (Redis signals no key)
        let (key, name) = (c.args[2], c.args[3])
        switch groupStream(c, needsGroup: false) {
        case .failure(let error): return error
        case .success(let stream): if stream.groups[name] == nil { return .integer(0) }
        }
        _ = StreamCommands.modify(&c, key, create: false) { stream in stream.groups[name] = nil }
        c.changed()
        c.notify(.stream, "xgroup-destroy", key)
        return .integer(1)
    }

    static func createConsumer(_ c: inout CommandContext) -> Reply {
        c.leavesWatchesAlone = true  // group state only (Redis signals no key)
        let (key, name, consumer) = (c.args[2], c.args[3], c.args[4])
        switch groupStream(c, needsGroup: true) {
        case .failure(let error): return error
        case .success(let stream): if stream.groups[name]?.consumers[consumer] != nil { return .integer(0) }
        }
        let now = c.now
        _ = StreamCommands.modify(&c, key, create: false) { stream in
            stream.withGroup(name) { $0.consumers[consumer] = StreamConsumer(seenTime: now) }
        }
        c.changed()
        c.notify(.stream, "xgroup-createconsumer", key)
        return .integer(1)
    }

    static func deleteConsumer(_ c: inout CommandContext) -> Reply {
        c.leavesWatchesAlone = true  // group state only (Redis signals no key)
        let (key, name, consumer) = (c.args[2], c.args[3], c.args[4])
        switch groupStream(c, needsGroup: true) {
        case .failure(let error): return error
        case .success(let stream): if stream.groups[name]?.consumers[consumer] == nil { return .integer(0) }
        }
        let outcome = StreamCommands.modify(&c, key, create: false) { stream in
            stream.withGroup(name) { $0.deleteConsumer(consumer) } ?? 0
        }
        c.changed()
        c.notify(.stream, "xgroup-delconsumer", key)
        guard case .success(let pending?) = outcome else { return .integer(0) }
        return .integer(pending)
    }

    static func help(_ c: inout CommandContext) -> Reply {
        let lines = [
            "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
            "HELP",
            "    Prints this help.",
        ]
        return .array(lines.map { .status($0) })
    }

    // MARK: XACK, XPENDING

    static func xack(_ c: inout CommandContext) -> Reply {
        c.leavesWatchesAlone = true  // group state only (Redis signals no key)
        let (key, name) = (c.args[1], c.args[2])
        // Ids are checked only when the group exists (a missing key or group acks nothing,
        // whatever the ids), and all before any is acknowledged; parsed again while acking
        // rather than kept in an array (most XACKs carry one id).
        let args = c.args
        let valid = args.dropFirst(3).allSatisfy { StreamID.parse($0) != nil }
        let outcome = StreamCommands.modify(&c, key, create: false) { stream -> Reply in
            stream.withGroup(name) { group -> Reply in
                guard valid else { return StreamID.invalidError }
                var acknowledged = 0
                for argument in args.dropFirst(3) {
                    if let id = StreamID.parse(argument), group.acknowledge(id) { acknowledged += 1 }
                }
                return .integer(acknowledged)
            } ?? .integer(0)
        }
        switch outcome {
        case .failure(let error): return error
        case .success(nil): return .integer(0)
        case .success(let reply?):
            if case .integer(let acknowledged) = reply { c.changed(acknowledged) }
            return reply
        }
    }

    static func xpending(_ c: inout CommandContext) -> Reply {
        let args = c.args
        let (key, name) = (args[1], args[2])
        guard args.count == 3 || (6...9).contains(args.count) else { return Errors.syntax }
        var range: (start: StreamID, end: StreamID, count: Int, minIdle: Int, consumer: Bytes?)?
        if args.count >= 6 {
            var index = 3
            var minIdle = 0
            if args[3].equalsIgnoringCase("idle") {
                guard let idle = args[4].strictInteger else { return Errors.notInteger }
                guard args.count >= 8 else { return Errors.syntax }
                minIdle = idle
                index = 5
            }
            guard let count = args[index + 2].strictInteger else { return Errors.notInteger }
            guard let startBound = StreamID.bound(args[index], isStart: true) else { return StreamID.invalidError }
            guard case .success(let start) = startBound else {
                if case .failure(let error) = startBound { return error }
                return StreamID.invalidError
            }
            guard let endBound = StreamID.bound(args[index + 1], isStart: false) else { return StreamID.invalidError }
            guard case .success(let end) = endBound else {
                if case .failure(let error) = endBound { return error }
                return StreamID.invalidError
            }
            let consumer = index + 3 < args.count ? args[index + 3] : nil
            range = (start, end, max(0, count), minIdle, consumer)
        }
        let group: StreamGroup
        switch StreamCommands.read(c, key) {
        case .failure(let error): return error
        case .success(let stream):
            guard let found = stream?.groups[name] else { return noGroup(key, name) }
            group = found
        }
        guard let range else {
            guard let bounds = group.pending.bounds else { return .array([.integer(0), .null, .null, .nullArray]) }
            let owners = group.consumerNames.compactMap { name -> Reply? in
                guard let consumer = group.consumers[name], consumer.pending > 0 else { return nil }
                return .array([.bulk(name), .bulk(Bytes(String(consumer.pending)))])
            }
            return .array([
                .integer(group.pending.count), .bulk(bounds.first.bytes), .bulk(bounds.last.bytes), .array(owners),
            ])
        }
        if let consumer = range.consumer, group.consumers[consumer] == nil { return .array([]) }
        var rows: [Reply] = []
        group.pending.forEach(from: range.start, to: range.end) { id, entry in
            guard rows.count < range.count else { return false }
            if let consumer = range.consumer, entry.consumer != consumer { return true }
            let idle = elapsed(from: entry.deliveryTime, to: c.now)
            if range.minIdle != 0 && idle < range.minIdle { return true }
            rows.append(
                .array([
                    .bulk(id.bytes), .bulk(entry.consumer), .integer(Int(max(0, idle))),
                    .integer(Int(clamping: entry.deliveryCount)),
                ]))
            return true
        }
        return .array(rows)
    }
}
