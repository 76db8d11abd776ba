//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS and XINFO CONSUMERS with Redis 7.0's
//! fields, in its order. `radix-tree-keys` counts Strata's blocks and `radix-tree-nodes`
//! estimates a radix tree over them: Redis's own numbers depend on its rax layout.

/// The XINFO container.
public enum StreamInfoCommands {
    static func infoSpec(
        _ name: String, _ arity: Int, _ summary: String, _ synopsis: String,
        _ handler: @escaping (inout CommandContext) -> Reply
    ) -> CommandSpec {
        .dataType(
            name, arity, [.readonly], group: "stream", keys: (2, 2, 1), since: "5.0.0", summary, synopsis, handler)
    }

    /// Its table entry.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "xinfo", arity: -2, flags: [], group: "stream", since: "5.0.0",
            summary: "A container for stream introspection commands.", categories: ["slow"], handler: .container,
            subcommands: [
                infoSpec("xinfo|stream", -3, "Returns information about a stream.", "key [FULL [COUNT count]]", stream),
                infoSpec("xinfo|groups", 3, "Returns a list of the consumer groups of a stream.", "key", groups),
                infoSpec(
                    "xinfo|consumers", 4, "Returns a list of the consumers in a consumer group.", "key group",
                    consumers),
                CommandSpec(
                    "xinfo|help", arity: 2, flags: [.loading, .stale], group: "stream", since: "5.0.0",
                    summary: "Returns helpful text about the different subcommands.", categories: ["stream", "slow"],
                    handler: .engine(help)),
            ])
    ]

    static func existing(_ c: CommandContext) -> Result<StreamValue, Reply> {
        switch StreamCommands.read(c, c.args[2]) {
        case .failure(let error): return .failure(error)
        case .success(nil): return .failure(.error("ERR no such key"))
        case .success(let stream?): return .success(stream)
        }
    }

    static func field(_ name: String, _ value: Reply) -> (Reply, Reply) { (.bulk(Bytes(name)), value) }

    static func entriesRead(_ group: StreamGroup) -> Reply {
        group.entriesRead == StreamGroup.unknownEntriesRead ? .null : .integer(Int(group.entriesRead))
    }

    static func lag(_ stream: StreamValue, _ group: StreamGroup) -> Reply {
        stream.lag(of: group).map { .integer(Int($0)) } ?? .null
    }

    static func stream(_ c: inout CommandContext) -> Reply {
        let args = c.args
        let stream: StreamValue
        switch existing(c) {
        case .failure(let error): return error
        case .success(let found): stream = found
        }
        let syntax = Reply.error(
            "ERR unknown subcommand or wrong number of arguments for '\(args[1].string)'. Try XINFO HELP.")
        var full = false
        var count = 10
        if args.count > 3 {
            guard args[3].equalsIgnoringCase("full") else { return syntax }
            full = true
            if args.count > 4 {
                guard args.count == 6, args[4].equalsIgnoringCase("count") else { return syntax }
                guard let given = args[5].strictInteger else { return Errors.notInteger }
                count = given < 0 ? 10 : given
            }
        }
        let blocks = stream.nodes.count
        var fields: [(Reply, Reply)] = [
            field("length", .integer(stream.length)),
            field("radix-tree-keys", .integer(blocks)),
            field("radix-tree-nodes", .integer(blocks + 1 + blocks / 2)),
            field("last-generated-id", .bulk(stream.lastID.bytes)),
            field("max-deleted-entry-id", .bulk(stream.maxDeletedID.bytes)),
            field("entries-added", .integer(Int(clamping: stream.entriesAdded))),
            field("recorded-first-entry-id", .bulk(stream.recordedFirstID.bytes)),
        ]
        guard full else {
            fields.append(field("groups", .integer(stream.groups.count)))
            fields.append(field("first-entry", stream.firstEntry.map(StreamCommands.entryReply) ?? .null))
            fields.append(field("last-entry", stream.lastEntry.map(StreamCommands.entryReply) ?? .null))
            return .map(fields)
        }
        let limit = count == 0 ? nil : count
        let entries = stream.range(from: .zero, to: .max, count: limit)
        fields.append(field("entries", .array(entries.map(StreamCommands.entryReply))))
        let groups = stream.groupNames.compactMap { name -> Reply? in
            guard let group = stream.groups[name] else { return nil }
            var pending: [Reply] = []
            group.pending.forEach { id, entry in
                pending.append(
                    .array([
                        .bulk(id.bytes), .bulk(entry.consumer), .integer(Int(entry.deliveryTime)),
                        .integer(Int(clamping: entry.deliveryCount)),
                    ]))
                return limit == nil || pending.count < count
            }
            let consumers = group.consumerNames.compactMap { consumerName -> Reply? in
                guard let consumer = group.consumers[consumerName] else { return nil }
                var owned: [Reply] = []
                group.pending.forEach { id, entry in
                    if entry.consumer == consumerName {
                        owned.append(
                            .array([
                                .bulk(id.bytes), .integer(Int(entry.deliveryTime)),
                                .integer(Int(clamping: entry.deliveryCount)),
                            ]))
                    }
                    return limit == nil || owned.count < count
                }
                return .map([
                    field("name", .bulk(consumerName)), field("seen-time", .integer(Int(consumer.seenTime))),
                    field("pel-count", .integer(consumer.pending)), field("pending", .array(owned)),
                ])
            }
            return .map([
                field("name", .bulk(name)), field("last-delivered-id", .bulk(group.lastID.bytes)),
                field("entries-read", entriesRead(group)), field("lag", lag(stream, group)),
                field("pel-count", .integer(group.pending.count)), field("pending", .array(pending)),
                field("consumers", .array(consumers)),
            ])
        }
        fields.append(field("groups", .array(groups)))
        return .map(fields)
    }

    static func groups(_ c: inout CommandContext) -> Reply {
        let stream: StreamValue
        switch existing(c) {
        case .failure(let error): return error
        case .success(let found): stream = found
        }
        return .array(
            stream.groupNames.compactMap { name in
                guard let group = stream.groups[name] else { return nil }
                return .map([
                    field("name", .bulk(name)), field("consumers", .integer(group.consumers.count)),
                    field("pending", .integer(group.pending.count)),
                    field("last-delivered-id", .bulk(group.lastID.bytes)), field("entries-read", entriesRead(group)),
                    field("lag", lag(stream, group)),
                ])
            })
    }

    static func consumers(_ c: inout CommandContext) -> Reply {
        let stream: StreamValue
        switch existing(c) {
        case .failure(let error): return error
        case .success(let found): stream = found
        }
        guard let group = stream.groups[c.args[3]] else {
            return StreamGroupCommands.noSuchGroup(c.args[2], c.args[3])
        }
        return .array(
            group.consumerNames.compactMap { name in
                guard let consumer = group.consumers[name] else { return nil }
                return .map([
                    field("name", .bulk(name)), field("pending", .integer(consumer.pending)),
                    field("idle", .integer(Int(max(0, elapsed(from: consumer.seenTime, to: c.now))))),
                ])
            })
    }

    static func help(_ c: inout CommandContext) -> Reply {
        let lines = [
            "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
            "HELP",
            "    Prints this help.",
        ]
        return .array(lines.map { .status($0) })
    }
}
