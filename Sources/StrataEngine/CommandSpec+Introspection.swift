//! What `COMMAND INFO` prints for a spec: Strata's own behaviour (arity, the flags that
//! change how it runs) joined with Redis's published metadata (descriptive flags, legacy
//! key range, ACL categories, tips, key specs), so a client sees what Redis would print
//! while the flags Strata acts on stay visible and testable. A command Redis does not know
//! falls back to what its spec says.

extension CommandSpec {
    /// Redis 7.0's metadata of this command, when Redis has the command.
    public var redisMetadata: CommandMetadata? { CommandMetadata.named(name) }

    /// The flags `COMMAND INFO` prints, in Redis's order.
    public var printedFlags: [String] {
        var names = Set(flags.names)
        if flags.contains(.showsMonitorFirst) { names.insert("skip_monitor") }
        if flags.contains(.skipsSlowLog) { names.insert("skip_slowlog") }
        if let metadata = redisMetadata {
            names.formUnion(metadata.flags.filter { CommandMetadata.descriptiveFlags.contains($0) })
        } else if keyFinder != nil {
            names.insert("movablekeys")
        }
        return CommandMetadata.flagOrder.filter { names.contains($0) }
    }

    /// The ACL categories, without `@`, in Redis's order.
    public var printedCategories: [String] {
        if let metadata = redisMetadata { return metadata.categories.map { String($0.dropFirst()) } }
        let own = categories.map { $0 == "sorted-set" ? "sortedset" : $0 }
        return CommandMetadata.categoryOrder.filter { own.contains($0) }
            + own.filter { !CommandMetadata.categoryOrder.contains($0) }
    }

    /// The legacy first key, last key and step `COMMAND INFO` prints.
    public var printedKeyRange: (first: Int, last: Int, step: Int) {
        redisMetadata?.legacyKeys ?? (firstKey, lastKey, keyStep)
    }

    /// The key specs `COMMAND INFO` prints: Redis's, or one made from the key positions.
    public var printedKeySpecs: [KeySpec] {
        if let metadata = redisMetadata { return metadata.keySpecs }
        guard firstKey > 0 else { return [] }
        return [
            KeySpec(
                flags: flags.contains(.write) ? [.readWrite, .access, .update] : [.readOnly, .access],
                beginSearch: .index(firstKey),
                findKeys: .range(lastKey: lastKey < 0 ? lastKey : lastKey - firstKey, keyStep: keyStep, limit: 0))
        ]
    }

    /// The `COMMAND INFO` entry of this command, with its subcommands.
    public var infoReply: Reply {
        let range = printedKeyRange
        let subcommandReplies = subcommands.values.sorted { $0.name < $1.name }.map(\.infoReply)
        return .array([
            .text(name),
            .integer(arity),
            .set(printedFlags.map { .status($0) }),
            .integer(range.first),
            .integer(range.last),
            .integer(range.step),
            .set(printedCategories.map { .status("@" + $0) }),
            .set((redisMetadata?.tips ?? []).map { .text($0) }),
            .set(printedKeySpecs.map(\.reply)),
            subcommandReplies.isEmpty ? .set([]) : .array(subcommandReplies),
        ])
    }
}

extension KeySpecFlags {
    /// The flags as `COMMAND` prints them: a set of status replies.
    public var reply: Reply { .set(names.map { .status($0) }) }
}

extension KeySpec {
    /// The key spec as `COMMAND INFO` prints it.
    public var reply: Reply {
        var fields: [(Reply, Reply)] = []
        if let notes { fields.append((.text("notes"), .text(notes))) }
        fields.append((.text("flags"), flags.reply))
        let begin: (String, [(Reply, Reply)])
        switch beginSearch {
        case .index(let index):
            begin = ("index", [(.text("index"), .integer(index))])
        case .keyword(let keyword, let startFrom):
            begin = ("keyword", [(.text("keyword"), .text(keyword)), (.text("startfrom"), .integer(startFrom))])
        case .unknown:
            begin = ("unknown", [])
        }
        let find: (String, [(Reply, Reply)])
        switch findKeys {
        case .range(let lastKey, let keyStep, let limit):
            find = (
                "range",
                [
                    (.text("lastkey"), .integer(lastKey)), (.text("keystep"), .integer(keyStep)),
                    (.text("limit"), .integer(limit)),
                ]
            )
        case .keyNumber(let index, let firstKey, let keyStep):
            find = (
                "keynum",
                [
                    (.text("keynumidx"), .integer(index)), (.text("firstkey"), .integer(firstKey)),
                    (.text("keystep"), .integer(keyStep)),
                ]
            )
        case .unknown:
            find = ("unknown", [])
        }
        fields.append((.text("begin_search"), .map([(.text("type"), .text(begin.0)), (.text("spec"), .map(begin.1))])))
        fields.append((.text("find_keys"), .map([(.text("type"), .text(find.0)), (.text("spec"), .map(find.1))])))
        return .map(fields)
    }
}
