//! MEMORY USAGE: the bytes a key and its value take, as laid out by Strata (the keyspace
//! slot, the dictionary's spare capacity share, and any heap block of key or value).

/// The MEMORY command.
public enum MemoryCommands {
    /// Its table entries.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "memory", arity: -2, flags: [], group: "server", since: "4.0.0",
            summary: "A container for memory diagnostics commands.", categories: ["slow"], handler: .container,
            subcommands: [
                CommandSpec(
                    "memory|usage", arity: -3, flags: [.readonly], keys: (2, 2, 1), group: "server", since: "4.0.0",
                    summary: "Estimates the memory usage of a key.", synopsis: "key [SAMPLES count]",
                    categories: ["read", "slow"], handler: .engine(usage)),
                CommandSpec(
                    "memory|help", arity: 2, flags: [.loading, .stale], group: "server", since: "4.0.0",
                    summary: "Returns helpful text about the different subcommands.", categories: ["slow"],
                    handler: .engine { _ in
                        .array(
                            [
                                "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                                "USAGE <key> [SAMPLES <count>]",
                                "    Return memory in bytes used by <key> and its value. Nested values are",
                                "    sampled up to <count> times (default: 5, 0 means sample all).",
                                "HELP", "    Print this help.",
                            ].map { .status($0) })
                    }),
            ])
    ]

    /// Heap bytes of a string of `count` bytes kept out of line (allocator size class of
    /// a block holding an object header, a length and the bytes).
    static func heapBytes(_ count: Int, inline: Int) -> Int {
        guard count > inline else { return 0 }
        let raw = 24 + count
        return (raw + 15) & ~15
    }

    static func usage(_ c: inout CommandContext) -> Reply {
        let args = c.args
        if args.count == 5 {
            guard args[3].equalsIgnoringCase("samples") else { return Errors.syntax }
            guard let samples = c.integer(4), samples >= 0 else { return Errors.notInteger }
            _ = samples
        } else if args.count != 3 {
            return Errors.syntax
        }
        let key = args[2]
        guard let value = c.lookup(key) else { return .null }
        // A 48-byte slot in a table kept between 3/8 and 3/4 full: about 85 bytes a key.
        var total = 85 + heapBytes(key.count, inline: Bytes.inlineCapacity)
        switch value {
        case .integer: break
        case .shortString: break
        case .longString(let storage), .rawString(let storage):
            total += heapBytes(storage.header, inline: 0)
        case .hash(let hash):
            if let packed = hash.packedByteCount {
                total += heapBytes(packed, inline: 0)
            } else {
                for entry in hash.entries {
                    total +=
                        85 + heapBytes(entry.field.count, inline: Bytes.inlineCapacity)
                        + heapBytes(entry.value.count, inline: Bytes.inlineCapacity)
                }
            }
        case .list(let list):
            for element in list.elements { total += 24 + heapBytes(element.count, inline: Bytes.inlineCapacity) }
        case .set(let set):
            let perMember = set.encodingName == "intset" ? 8 : 60
            for member in set.members { total += perMember + heapBytes(member.count, inline: Bytes.inlineCapacity) }
        case .sortedSet(let zset):
            // Listpack: 32 bytes an element; skiplist: ~46 in tree leaves plus ~64 in the
            // score dictionary.
            let perMember = zset.encodingName == "listpack" ? 32 : 110
            for item in zset.all { total += perMember + heapBytes(item.member.count, inline: Bytes.inlineCapacity) }
        }
        if c.engine.databases[c.db].deadline(key) != nil { total += 64 }
        return .integer(total)
    }
}
