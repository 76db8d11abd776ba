//! What Redis publishes about each command beyond arity and behaviour: its printed flags,
//! legacy key range, ACL categories, tips and key specs, as redis-server 7.0.15 reports
//! them in `COMMAND INFO`. The data is generated from the reference server (see
//! `CommandMetadata+Redis70.swift`) and looked up by full name, so introspection matches
//! Redis for every command, including ones added to Strata later.

/// Redis's published metadata of one command or subcommand.
public struct CommandMetadata: Sendable {
    /// Full lowercase name (`get`, `client|list`).
    public let name: String
    /// Redis's arity.
    public let arity: Int
    /// The flags Redis prints, in its order.
    public let flags: [String]
    /// The legacy first key, last key and step (`COMMAND INFO` elements 4 to 6).
    public let legacyKeys: (first: Int, last: Int, step: Int)
    /// ACL categories with their `@`, in Redis's order.
    public let categories: [String]
    /// Command tips (`nondeterministic_output`, `request_policy:all_shards`, ...).
    public let tips: [String]
    /// Key specifications.
    public let keySpecs: [KeySpec]

    /// The metadata of a command or subcommand by full lowercase name.
    public static func named(_ name: String) -> CommandMetadata? { all[name] }

    /// Every command and subcommand of Redis 7.0, by full lowercase name.
    public static let all: [String: CommandMetadata] = redis70()

    /// The flag names `COMMAND INFO` can print, in the order Redis prints them.
    public static let flagOrder = [
        "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking", "loading", "stale",
        "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth", "no_mandatory_keys", "no_async_loading",
        "no_multi", "movablekeys", "allow_busy",
    ]

    /// Flags that describe a command to clients without changing how Strata runs it
    /// (cluster routing, asynchronous loading, key discovery): printed from the metadata.
    public static let descriptiveFlags: Set<String> = [
        "module", "asking", "no_mandatory_keys", "no_async_loading", "movablekeys",
    ]

    /// The ACL categories, in the order Redis prints them.
    public static let categoryOrder = [
        "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",
        "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction",
        "scripting",
    ]

    /// Collects generated entries.
    struct Table {
        var entries: [String: CommandMetadata] = [:]

        mutating func add(
            _ name: String, arity: Int, flags: String, legacyKeys: (Int, Int, Int), categories: String,
            tips: String, keySpecs: [KeySpec]
        ) {
            entries[name] = CommandMetadata(
                name: name, arity: arity, flags: flags.split(separator: " ").map(String.init),
                legacyKeys: (legacyKeys.0, legacyKeys.1, legacyKeys.2),
                categories: categories.split(separator: " ").map(String.init),
                tips: tips.split(separator: " ").map(String.init), keySpecs: keySpecs)
        }
    }
}
