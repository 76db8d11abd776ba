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
                    "memory|stats", arity: 2, flags: [], group: "server", since: "4.0.0",
                    summary: "Returns details about memory usage.", categories: ["slow"], handler: .server(.memoryStats)
                ),
                CommandSpec(
                    "memory|doctor", arity: 2, flags: [], group: "server", since: "4.0.0",
                    summary: "Outputs a memory problems report.", categories: ["slow"],
                    handler: .server(.memoryDoctor)),
                CommandSpec(
                    "memory|malloc-stats", arity: 2, flags: [], group: "server", since: "4.0.0",
                    summary: "Returns the allocator statistics.", categories: ["slow"],
                    handler: .server(.memoryMallocStats)),
                CommandSpec(
                    "memory|purge", arity: 2, flags: [], group: "server", since: "4.0.0",
                    summary: "Asks the allocator to release memory.", categories: ["slow"],
                    handler: .server(.memoryPurge)),
                CommandSpec(
                    "memory|help", arity: 2, flags: [.loading, .stale], group: "server", since: "4.0.0",
                    summary: "Returns helpful text about the different subcommands.", categories: ["slow"],
                    handler: .engine { _ in
                        .array(
                            [
                                "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                                "DOCTOR", "    Return memory problems reports.",
                                "MALLOC-STATS",
                                "    Return internal statistics report from the memory allocator.",
                                "PURGE", "    Attempt to purge dirty pages for reclamation by the allocator.",
                                "STATS", "    Return information about the memory usage of the server.",
                                "USAGE <key> [SAMPLES <count>]",
                                "    Return memory in bytes used by <key> and its value. Nested values are",
                                "    sampled up to <count> times (default: 5, 0 means sample all).",
                                "HELP", "    Prints this help.",
                            ].map { .status($0) })
                    }),
            ])
    ]

    static func usage(_ c: inout CommandContext) -> Reply {
        let args = c.args
        // `[SAMPLES count]`, repeatable as in Redis; a negative count is a syntax error.
        var index = 3
        while index < args.count {
            guard args[index].equalsIgnoringCase("samples"), index + 1 < args.count else { return Errors.syntax }
            guard let samples = c.integer(index + 1) else { return Errors.notInteger }
            guard samples >= 0 else { return Errors.syntax }
            index += 2
        }
        let key = args[2]
        guard let value = c.lookup(key) else { return .null }
        let total = value.memoryUsage(
            keyBytes: key.count, hasDeadline: c.engine.databases[c.db].deadline(key) != nil)
        return .integer(total)
    }
}
