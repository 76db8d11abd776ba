//! Table entries for the commands that move keys between servers — DUMP, RESTORE and
//! MIGRATE, which the server executes because the payload format lives in the persistence
//! module — and WAIT, which concerns replication. Flags, key positions and categories are
//! Redis 7.0's.

/// Specs of the key transfer commands and WAIT.
public enum KeyTransferCommandSpecs {
    /// The table entries.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "dump", arity: 2, flags: [.readonly], keys: (1, 1, 1), group: "generic", since: "2.6.0",
            summary: "Returns a serialized representation of the value stored at a key.", synopsis: "key",
            categories: ["keyspace", "read", "slow"], handler: .server(.dump)),
        CommandSpec(
            "restore", arity: -4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "generic", since: "2.6.0",
            summary: "Creates a key from the serialized representation of a value.",
            synopsis: "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
            categories: ["keyspace", "write", "slow", "dangerous"], handler: .server(.restore)),
        CommandSpec(
            "restore-asking", arity: -4, flags: [.write, .denyOOM, .asking], keys: (1, 1, 1), group: "server",
            since: "3.0.0", summary: "An internal command for migrating keys in a cluster.",
            synopsis: "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
            categories: ["keyspace", "write", "slow", "dangerous"], handler: .server(.restore)),
        CommandSpec(
            "migrate", arity: -6, flags: [.write], keys: (3, 3, 1), group: "generic", since: "2.6.0",
            summary: "Atomically transfers a key from one Redis instance to another.",
            synopsis:
                "host port key|\"\" destination-db timeout [COPY] [REPLACE] [AUTH password | AUTH2 username password] [KEYS key [key ...]]",
            categories: ["keyspace", "write", "slow", "dangerous"], handler: .server(.migrate)
        ).findingKeys(migrateKeys),
        CommandSpec(
            "wait", arity: 3, flags: [.noscript], group: "generic", since: "3.0.0",
            summary:
                "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.",
            synopsis: "numreplicas timeout", categories: ["slow", "connection"], handler: .server(.wait)),
    ]

    /// MIGRATE's keys: the key argument, or everything after `KEYS` (skipping the
    /// arguments of `AUTH` and `AUTH2` on the way).
    @Sendable static func migrateKeys(_ args: [Bytes]) -> [Bytes]? {
        guard args.count > 3 else { return [] }
        var index = 6
        while index < args.count {
            let word = args[index]
            if word.equalsIgnoringCase("auth") {
                index += 2
            } else if word.equalsIgnoringCase("auth2") {
                index += 3
            } else if word.equalsIgnoringCase("keys") {
                return args[3].isEmpty ? Array(args[(index + 1)...]) : []
            } else {
                index += 1
            }
        }
        return [args[3]]
    }
}
