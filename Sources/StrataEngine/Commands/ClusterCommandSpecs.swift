//! Table entries of cluster mode's commands: the `CLUSTER` subcommands (one server handler
//! that reads the subcommand), `ASKING`, `READONLY` and `READWRITE`. Flags, arities and
//! ACL categories are Redis 7.0's.

/// Specs of the cluster commands.
public enum ClusterCommandSpecs {
    private static let administrative: CommandFlags = [.admin, .stale, .noAsyncLoading]
    private static let dangerous = ["admin", "slow", "dangerous"]

    private static func sub(
        _ name: String, arity: Int, flags: CommandFlags, since: String, summary: String, synopsis: String = "",
        categories: [String] = ["slow"]
    ) -> CommandSpec {
        CommandSpec(
            "cluster|" + name, arity: arity, flags: flags, group: "cluster", since: since, summary: summary,
            synopsis: synopsis, categories: categories, handler: .server(.cluster))
    }

    /// The table entries.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "cluster", arity: -2, flags: [], group: "cluster", since: "3.0.0",
            summary: "A container for Redis Cluster commands.", categories: ["slow"], handler: .container,
            subcommands: [
                sub(
                    "addslots", arity: -3, flags: administrative, since: "3.0.0",
                    summary: "Assigns new hash slots to a node.", synopsis: "slot [slot ...]", categories: dangerous),
                sub(
                    "addslotsrange", arity: -4, flags: administrative, since: "7.0.0",
                    summary: "Assigns new hash slot ranges to a node.",
                    synopsis: "start-slot end-slot [start-slot end-slot ...]", categories: dangerous),
                sub(
                    "bumpepoch", arity: 2, flags: administrative, since: "3.0.0",
                    summary: "Advances the cluster config epoch.", categories: dangerous),
                sub(
                    "count-failure-reports", arity: 3, flags: [.admin, .stale], since: "3.0.0",
                    summary: "Returns the number of active failure reports active for a node.", synopsis: "node-id",
                    categories: dangerous),
                sub(
                    "countkeysinslot", arity: 3, flags: [.stale], since: "3.0.0",
                    summary: "Returns the number of keys in a hash slot.", synopsis: "slot"),
                sub(
                    "delslots", arity: -3, flags: administrative, since: "3.0.0",
                    summary: "Sets hash slots as unbound for a node.", synopsis: "slot [slot ...]",
                    categories: dangerous),
                sub(
                    "delslotsrange", arity: -4, flags: administrative, since: "7.0.0",
                    summary: "Sets hash slot ranges as unbound for a node.",
                    synopsis: "start-slot end-slot [start-slot end-slot ...]", categories: dangerous),
                sub(
                    "failover", arity: -2, flags: administrative, since: "3.0.0",
                    summary: "Forces a replica to perform a manual failover of its master.",
                    synopsis: "[FORCE|TAKEOVER]", categories: dangerous),
                sub(
                    "flushslots", arity: 2, flags: administrative, since: "3.0.0",
                    summary: "Deletes all slots information from a node.", categories: dangerous),
                sub(
                    "forget", arity: 3, flags: administrative, since: "3.0.0",
                    summary: "Removes a node from the nodes table.", synopsis: "node-id", categories: dangerous),
                sub(
                    "getkeysinslot", arity: 4, flags: [.stale], since: "3.0.0",
                    summary: "Returns the key names in a hash slot.", synopsis: "slot count"),
                sub(
                    "help", arity: 2, flags: [.loading, .stale], since: "5.0.0",
                    summary: "Returns helpful text about the different subcommands."),
                sub(
                    "info", arity: 2, flags: [.stale], since: "3.0.0",
                    summary: "Returns information about the state of a node."),
                sub(
                    "keyslot", arity: 3, flags: [.stale], since: "3.0.0", summary: "Returns the hash slot for a key.",
                    synopsis: "key"),
                sub(
                    "links", arity: 2, flags: [.stale], since: "7.0.0",
                    summary: "Returns a list of all TCP links to and from peer nodes."),
                sub(
                    "meet", arity: -4, flags: administrative, since: "3.0.0",
                    summary: "Forces a node to handshake with another node.", synopsis: "ip port [cluster-bus-port]",
                    categories: dangerous),
                sub("myid", arity: 2, flags: [.stale], since: "3.0.0", summary: "Returns the ID of a node."),
                sub(
                    "nodes", arity: 2, flags: [.stale], since: "3.0.0",
                    summary: "Returns the cluster configuration for a node."),
                sub(
                    "replicas", arity: 3, flags: [.admin, .stale], since: "5.0.0",
                    summary: "Lists the replica nodes of a master node.", synopsis: "node-id", categories: dangerous),
                sub(
                    "replicate", arity: 3, flags: administrative, since: "3.0.0",
                    summary: "Configure a node as replica of a master node.", synopsis: "node-id",
                    categories: dangerous),
                sub(
                    "reset", arity: -2, flags: [.admin, .stale, .noscript], since: "3.0.0",
                    summary: "Resets a node.", synopsis: "[HARD|SOFT]", categories: dangerous),
                sub(
                    "saveconfig", arity: 2, flags: administrative, since: "3.0.0",
                    summary: "Forces a node to save the cluster configuration to disk.", categories: dangerous),
                sub(
                    "set-config-epoch", arity: 3, flags: administrative, since: "3.0.0",
                    summary: "Sets the configuration epoch for a new node.", synopsis: "config-epoch",
                    categories: dangerous),
                sub(
                    "setslot", arity: -4, flags: administrative, since: "3.0.0",
                    summary: "Binds a hash slot to a node.",
                    synopsis: "slot <IMPORTING node-id|MIGRATING node-id|NODE node-id|STABLE>",
                    categories: dangerous),
                sub(
                    "shards", arity: 2, flags: [.stale], since: "7.0.0",
                    summary: "Returns the mapping of cluster slots to shards."),
                sub(
                    "slaves", arity: 3, flags: [.admin, .stale], since: "3.0.0",
                    summary: "Lists the replica nodes of a master node.", synopsis: "node-id", categories: dangerous),
                sub(
                    "slots", arity: 2, flags: [.stale], since: "3.0.0",
                    summary: "Returns the mapping of cluster slots to nodes."),
            ]),
        CommandSpec(
            "asking", arity: 1, flags: [.fast], group: "cluster", since: "3.0.0",
            summary: "Signals that a cluster client is following an -ASK redirect.",
            categories: ["fast", "connection"],
            handler: .server(.asking)),
        CommandSpec(
            "readonly", arity: 1, flags: [.fast, .loading, .stale], group: "cluster", since: "3.0.0",
            summary: "Enables read-only queries for a connection to a Redis Cluster replica node.",
            categories: ["fast", "connection"], handler: .server(.readOnly)),
        CommandSpec(
            "readwrite", arity: 1, flags: [.fast, .loading, .stale], group: "cluster", since: "3.0.0",
            summary: "Enables read-write queries for a connection to a Reids Cluster replica node.",
            categories: ["fast", "connection"], handler: .server(.readWrite)),
    ]
}
