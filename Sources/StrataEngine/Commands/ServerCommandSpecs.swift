//! Table entries for commands the server executes itself (connection state, client
//! registry, configuration, introspection). They live in the one command table so that
//! `COMMAND`, arity checks and ACL-style decisions see every command.

/// Specs of server-executed commands.
public enum ServerCommandSpecs {
    static func sub(
        _ id: ServerCommand, arity: Int,
        flags: CommandFlags = [.admin, .noscript, .loading, .stale],
        group: String, since: String, summary: String, synopsis: String = "", categories: [String] = ["slow"]
    ) -> CommandSpec {
        CommandSpec(
            id.rawValue, arity: arity, flags: flags, group: group, since: since, summary: summary,
            synopsis: synopsis,
            categories: categories, handler: .server(id))
    }

    /// An `ACL` subcommand; `admin` ones are in @admin and @dangerous as in Redis.
    static func aclSub(
        _ id: ServerCommand, arity: Int, flags: CommandFlags = [.admin, .noscript, .loading, .stale],
        _ summary: String, _ synopsis: String = "", since: String = "6.0.0", admin: Bool = true
    ) -> CommandSpec {
        sub(
            id, arity: arity, flags: flags, group: "server", since: since, summary: summary, synopsis: synopsis,
            categories: admin ? ["admin", "slow", "dangerous"] : ["slow"])
    }

    /// The table entries.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "module", arity: -2, flags: [], group: "server", since: "4.0.0",
            summary: "A container for module commands.", categories: ["slow"], handler: .container,
            subcommands: [
                sub(
                    .moduleList, arity: 2, flags: [.admin, .noscript], group: "server", since: "4.0.0",
                    summary: "Returns all loaded modules.", categories: ["admin", "slow", "dangerous"]),
                sub(
                    .moduleLoad, arity: -3, flags: [.admin, .noscript, .noAsyncLoading], group: "server",
                    since: "4.0.0", summary: "Loads a module.", synopsis: "path [arg [arg ...]]",
                    categories: ["admin", "slow", "dangerous"]),
                sub(
                    .moduleLoadEx, arity: -3, flags: [.admin, .noscript, .noAsyncLoading], group: "server",
                    since: "7.0.0", summary: "Loads a module using extended parameters.",
                    synopsis: "path [CONFIG name value [CONFIG name value ...]] [ARGS args [args ...]]",
                    categories: ["admin", "slow", "dangerous"]),
                sub(
                    .moduleUnload, arity: 3, flags: [.admin, .noscript, .noAsyncLoading], group: "server",
                    since: "4.0.0", summary: "Unloads a module.", synopsis: "name",
                    categories: ["admin", "slow", "dangerous"]),
                sub(
                    .moduleHelp, arity: 2, flags: [.loading, .stale], group: "server", since: "5.0.0",
                    summary: "Returns helpful text about the different subcommands."),
            ]),
        CommandSpec(
            "lolwut", arity: -1, flags: [.readonly, .fast], group: "server", since: "5.0.0",
            summary: "Displays computer art and the Redis version", synopsis: "[VERSION version]",
            categories: ["read", "fast"], handler: .server(.lolwut)),
        CommandSpec(
            "monitor", arity: 1, flags: [.admin, .noscript, .loading, .stale], group: "server", since: "1.0.0",
            summary: "Listens for all requests received by the server in real-time.",
            categories: ["admin", "slow", "dangerous"], handler: .server(.monitor)),
        CommandSpec(
            "slowlog", arity: -2, flags: [], group: "server", since: "2.2.12",
            summary: "A container for slow log commands.", categories: ["slow"], handler: .container,
            subcommands: [
                sub(
                    .slowlogGet, arity: -2, flags: [.admin, .loading, .stale], group: "server", since: "2.2.12",
                    summary: "Returns the slow log's entries.", synopsis: "[count]",
                    categories: ["admin", "slow", "dangerous"]),
                sub(
                    .slowlogLen, arity: 2, flags: [.admin, .loading, .stale], group: "server", since: "2.2.12",
                    summary: "Returns the number of entries in the slow log.",
                    categories: ["admin", "slow", "dangerous"]),
                sub(
                    .slowlogReset, arity: 2, flags: [.admin, .loading, .stale], group: "server", since: "2.2.12",
                    summary: "Clears all entries from the slow log.", categories: ["admin", "slow", "dangerous"]),
                sub(
                    .slowlogHelp, arity: 2, flags: [.loading, .stale], group: "server", since: "6.2.0",
                    summary: "Show helpful text about the different subcommands"),
            ]),
        CommandSpec(
            "latency", arity: -2, flags: [], group: "server", since: "2.8.13",
            summary: "A container for latency diagnostics commands.", categories: ["slow"], handler: .container,
            subcommands: [
                sub(
                    .latencyLatest, arity: 2, group: "server", since: "2.8.13",
                    summary: "Returns the latest latency samples for all events.",
                    categories: ["admin", "slow", "dangerous"]),
                sub(
                    .latencyHistory, arity: 3, group: "server", since: "2.8.13",
                    summary: "Returns timestamp-latency samples for an event.", synopsis: "event",
                    categories: ["admin", "slow", "dangerous"]),
                sub(
                    .latencyReset, arity: -2, group: "server", since: "2.8.13",
                    summary: "Resets the latency data for one or more events.", synopsis: "[event [event ...]]",
                    categories: ["admin", "slow", "dangerous"]),
                sub(
                    .latencyGraph, arity: 3, group: "server", since: "2.8.13",
                    summary: "Returns a latency graph for an event.", synopsis: "event",
                    categories: ["admin", "slow", "dangerous"]),
                sub(
                    .latencyDoctor, arity: 2, group: "server", since: "2.8.13",
                    summary: "Returns a human-readable latency analysis report.",
                    categories: ["admin", "slow", "dangerous"]),
                sub(
                    .latencyHistogram, arity: -2, group: "server", since: "7.0.0",
                    summary: "Returns the cumulative distribution of latencies of a subset or all commands.",
                    synopsis: "[command [command ...]]", categories: ["admin", "slow", "dangerous"]),
                sub(
                    .latencyHelp, arity: 2, flags: [.loading, .stale], group: "server", since: "2.8.13",
                    summary: "Returns helpful text about the different subcommands."),
            ]),
        CommandSpec(
            "ping", arity: -1, flags: [.fast, .subscribedContext, .refusedOnDiskError], group: "connection",
            summary: "Returns the server's liveliness response.",
            synopsis: "[message]", categories: ["fast", "connection"], handler: .server(.ping)),
        CommandSpec(
            "quit", arity: -1,
            flags: [.allowBusy, .noAuth, .loading, .stale, .fast, .noscript, .subscribedContext, .transactionControl],
            group: "connection",
            summary: "Closes the connection.", categories: ["fast", "connection"], handler: .server(.quit)),
        CommandSpec(
            "hello", arity: -1, flags: [.noAuth, .noscript, .loading, .stale, .fast, .allowBusy], group: "connection",
            since: "6.0.0", summary: "Handshakes with the Redis server.",
            synopsis: "[protover [AUTH username password] [SETNAME clientname]]",
            categories: ["fast", "connection"], handler: .server(.hello)),
        CommandSpec(
            "auth", arity: -2, flags: [.noAuth, .noscript, .loading, .stale, .fast, .allowBusy], group: "connection",
            summary: "Authenticates the connection.", synopsis: "[username] password",
            categories: ["fast", "connection"], handler: .server(.auth)),
        CommandSpec(
            "reset", arity: 1,
            flags: [.noAuth, .noscript, .loading, .stale, .fast, .allowBusy, .subscribedContext, .transactionControl],
            group: "connection",
            since: "6.2.0", summary: "Resets the connection.", categories: ["fast", "connection"],
            handler: .server(.reset)),
        CommandSpec(
            "acl", arity: -2, flags: [], group: "server", since: "6.0.0",
            summary: "A container for Access List Control commands.", categories: ["slow"], handler: .container,
            subcommands: [
                aclSub(
                    .aclCat, arity: -2, flags: [.noscript, .loading, .stale],
                    "Lists the ACL categories, or the commands inside a category.", "[category]", admin: false),
                aclSub(
                    .aclDelUser, arity: -3, "Deletes ACL users, and terminates their connections.",
                    "username [username ...]"),
                aclSub(
                    .aclDryRun, arity: -4,
                    "Simulates the execution of a command by a user, without executing the command.",
                    "username command [arg [arg ...]]", since: "7.0.0"),
                aclSub(
                    .aclGenPass, arity: -2, flags: [.noscript, .loading, .stale],
                    "Generates a pseudorandom, secure password that can be used to identify ACL users.", "[bits]",
                    admin: false),
                aclSub(.aclGetUser, arity: 3, "Lists the ACL rules of a user.", "username"),
                aclSub(
                    .aclHelp, arity: 2, flags: [.loading, .stale],
                    "Returns helpful text about the different subcommands.", admin: false),
                aclSub(.aclList, arity: 2, "Dumps the effective rules in ACL file format."),
                aclSub(.aclLoad, arity: 2, "Reloads the rules from the configured ACL file."),
                aclSub(.aclLog, arity: -2, "Lists recent security events generated due to ACL rules.", "[count|RESET]"),
                aclSub(.aclSave, arity: 2, "Saves the effective ACL rules in the configured ACL file."),
                aclSub(
                    .aclSetUser, arity: -3, "Creates and modifies an ACL user and its rules.",
                    "username [rule [rule ...]]"),
                aclSub(.aclUsers, arity: 2, "Lists all ACL users."),
                aclSub(
                    .aclWhoAmI, arity: 2, flags: [.noscript, .loading, .stale],
                    "Returns the authenticated username of the current connection.", admin: false),
            ]),
        CommandSpec(
            "client", arity: -2, flags: [], group: "connection", since: "2.4.0",
            summary: "A container for client connection commands.", categories: ["slow"], handler: .container,
            subcommands: [
                sub(
                    .clientID, arity: 2, flags: [.noscript, .loading, .stale], group: "connection", since: "5.0.0",
                    summary: "Returns the unique client ID of the connection.", categories: ["slow", "connection"]),
                sub(
                    .clientSetName, arity: 3, flags: [.noscript, .loading, .stale], group: "connection", since: "2.6.9",
                    summary: "Sets the connection name.", synopsis: "connection-name",
                    categories: ["slow", "connection"]),
                sub(
                    .clientGetName, arity: 2, flags: [.noscript, .loading, .stale], group: "connection", since: "2.6.9",
                    summary: "Returns the name of the connection.", categories: ["slow", "connection"]),
                sub(
                    .clientList, arity: -2, group: "connection", since: "2.4.0", summary: "Lists open connections.",
                    synopsis: "[TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]",
                    categories: ["admin", "slow", "dangerous", "connection"]),
                sub(
                    .clientInfo, arity: 2, flags: [.noscript, .loading, .stale], group: "connection", since: "6.2.0",
                    summary: "Returns information about the connection.", categories: ["slow", "connection"]),
                sub(
                    .clientKill, arity: -3, group: "connection", since: "2.4.0",
                    summary: "Terminates open connections.",
                    synopsis:
                        "ip:port | [ID client-id] [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no]",
                    categories: ["admin", "slow", "dangerous", "connection"]),
                sub(
                    .clientUnblock, arity: -3, flags: [.admin, .noscript, .loading, .stale], group: "connection",
                    since: "5.0.0",
                    summary: "Unblocks a client blocked by a blocking command from a different connection.",
                    synopsis: "client-id [TIMEOUT|ERROR]", categories: ["admin", "slow", "dangerous", "connection"]),
                sub(
                    .clientTracking, arity: -3, flags: [.noscript, .loading, .stale], group: "connection",
                    since: "6.0.0", summary: "Enable or disable server assisted client side caching support",
                    synopsis:
                        "ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]",
                    categories: ["slow", "connection"]),
                sub(
                    .clientCaching, arity: 3, flags: [.noscript, .loading, .stale], group: "connection",
                    since: "6.0.0", summary: "Instruct the server about tracking or not keys in the next request",
                    synopsis: "YES|NO", categories: ["slow", "connection"]),
                sub(
                    .clientGetRedir, arity: 2, flags: [.noscript, .loading, .stale], group: "connection",
                    since: "6.0.0", summary: "Get tracking notifications redirection client ID if any",
                    categories: ["slow", "connection"]),
                sub(
                    .clientTrackingInfo, arity: 2, flags: [.noscript, .loading, .stale], group: "connection",
                    since: "6.2.0",
                    summary:
                        "Return information about server assisted client side caching for the current connection",
                    categories: ["slow", "connection"]),
                sub(
                    .clientReply, arity: 3, flags: [.noscript, .loading, .stale], group: "connection",
                    since: "3.2.0", summary: "Instruct the server whether to reply to commands",
                    synopsis: "ON|OFF|SKIP", categories: ["slow", "connection"]),
                sub(
                    .clientPause, arity: -3, group: "connection", since: "2.9.50",
                    summary: "Stop processing commands from clients for some time", synopsis: "timeout [WRITE|ALL]",
                    categories: ["admin", "slow", "dangerous", "connection"]),
                sub(
                    .clientUnpause, arity: 2, group: "connection", since: "6.2.0",
                    summary: "Resume processing of clients that were paused",
                    categories: ["admin", "slow", "dangerous", "connection"]),
                sub(
                    .clientNoEvict, arity: 3, group: "connection", since: "7.0.0",
                    summary: "Set client eviction mode for the current connection", synopsis: "ON|OFF",
                    categories: ["admin", "slow", "dangerous", "connection"]),
                sub(
                    .clientHelp, arity: 2, flags: [.loading, .stale], group: "connection", since: "5.0.0",
                    summary: "Returns helpful text about the different subcommands.",
                    categories: ["slow", "connection"]),
            ]),
        CommandSpec(
            "command", arity: -1, flags: [.loading, .stale], group: "server", since: "2.8.13",
            summary: "Returns detailed information about all commands.", categories: ["slow", "connection"],
            handler: .server(.command),
            subcommands: [
                sub(
                    .commandCount, arity: 2, flags: [.loading, .stale], group: "server",
                    since: "2.8.13",
                    summary: "Returns a count of commands.", categories: ["slow", "connection"]),
                sub(
                    .commandInfo, arity: -2, flags: [.loading, .stale], group: "server",
                    since: "2.8.13",
                    summary: "Returns information about one, multiple or all commands.",
                    synopsis: "[command-name [command-name ...]]", categories: ["slow", "connection"]),
                sub(
                    .commandDocs, arity: -2, flags: [.loading, .stale], group: "server",
                    since: "7.0.0",
                    summary: "Returns documentary information about one, multiple or all commands.",
                    synopsis: "[command-name [command-name ...]]", categories: ["slow", "connection"]),
                sub(
                    .commandList, arity: -2, flags: [.loading, .stale], group: "server",
                    since: "7.0.0",
                    summary: "Returns a list of command names.",
                    synopsis: "[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]",
                    categories: ["slow", "connection"]),
                sub(
                    .commandGetKeys, arity: -4, flags: [.loading, .stale], group: "server",
                    since: "2.8.13",
                    summary: "Extracts the key names from an arbitrary command.", synopsis: "command [arg [arg ...]]",
                    categories: ["slow", "connection"]),
                sub(
                    .commandGetKeysAndFlags, arity: -4, flags: [.loading, .stale], group: "server",
                    since: "7.0.0",
                    summary: "Extracts the key names and access flags for an arbitrary command.",
                    synopsis: "command [arg [arg ...]]", categories: ["slow", "connection"]),
                sub(
                    .commandHelp, arity: 2, flags: [.loading, .stale], group: "server",
                    since: "5.0.0",
                    summary: "Returns helpful text about the different subcommands.",
                    categories: ["slow", "connection"]),
            ]),
        CommandSpec(
            "info", arity: -1, flags: [.loading, .stale], group: "server",
            summary: "Returns information and statistics about the server.",
            synopsis: "[section [section ...]]", categories: ["slow", "dangerous"], handler: .server(.info)),
        CommandSpec(
            "config", arity: -2, flags: [], group: "server", since: "2.0.0",
            summary: "A container for server configuration commands.", categories: ["slow"], handler: .container,
            subcommands: [
                sub(
                    .configGet, arity: -3, group: "server", since: "2.0.0",
                    summary: "Returns the effective values of configuration parameters.",
                    synopsis: "parameter [parameter ...]", categories: ["admin", "slow", "dangerous"]),
                sub(
                    .configSet, arity: -4, group: "server", since: "2.0.0",
                    summary: "Sets configuration parameters in-flight.",
                    synopsis: "parameter value [parameter value ...]", categories: ["admin", "slow", "dangerous"]),
                sub(
                    .configResetStat, arity: 2, group: "server", since: "2.0.0",
                    summary: "Resets the server's statistics.", categories: ["admin", "slow", "dangerous"]),
                sub(
                    .configRewrite, arity: 2, group: "server", since: "2.8.0",
                    summary: "Persists the effective configuration to file.",
                    categories: ["admin", "slow", "dangerous"]),
                sub(
                    .configHelp, arity: 2, flags: [.loading, .stale], group: "server", since: "5.0.0",
                    summary: "Returns helpful text about the different subcommands.", categories: ["slow"]),
            ]),
        CommandSpec(
            "subscribe", arity: -2, flags: [.pubsub, .noscript, .loading, .stale, .subscribedContext], group: "pubsub",
            since: "2.0.0",
            summary: "Listens for messages published to channels.", synopsis: "channel [channel ...]",
            categories: ["pubsub", "slow"], handler: .server(.subscribe)),
        CommandSpec(
            "unsubscribe", arity: -1, flags: [.pubsub, .noscript, .loading, .stale, .subscribedContext],
            group: "pubsub", since: "2.0.0",
            summary: "Stops listening to messages posted to channels.", synopsis: "[channel [channel ...]]",
            categories: ["pubsub", "slow"], handler: .server(.unsubscribe)),
        CommandSpec(
            "psubscribe", arity: -2, flags: [.pubsub, .noscript, .loading, .stale, .subscribedContext], group: "pubsub",
            since: "2.0.0",
            summary: "Listens for messages published to channels that match one or more patterns.",
            synopsis: "pattern [pattern ...]", categories: ["pubsub", "slow"], handler: .server(.patternSubscribe)),
        CommandSpec(
            "punsubscribe", arity: -1, flags: [.pubsub, .noscript, .loading, .stale, .subscribedContext],
            group: "pubsub",
            since: "2.0.0",
            summary: "Stops listening to messages published to channels that match one or more patterns.",
            synopsis: "[pattern [pattern ...]]", categories: ["pubsub", "slow"], handler: .server(.patternUnsubscribe)),
        CommandSpec(
            "publish", arity: 3, flags: [.pubsub, .loading, .stale, .fast, .mayReplicate], group: "pubsub",
            since: "2.0.0",
            summary: "Posts a message to a channel.", synopsis: "channel message", categories: ["pubsub", "fast"],
            handler: .server(.publish)),
        CommandSpec(
            "ssubscribe", arity: -2, flags: [.pubsub, .noscript, .loading, .stale, .subscribedContext],
            group: "pubsub", since: "7.0.0", summary: "Listens for messages published to shard channels.",
            synopsis: "shardchannel [shardchannel ...]", categories: ["pubsub", "slow"],
            handler: .server(.shardSubscribe)),
        CommandSpec(
            "sunsubscribe", arity: -1, flags: [.pubsub, .noscript, .loading, .stale, .subscribedContext],
            group: "pubsub", since: "7.0.0", summary: "Stops listening to messages posted to shard channels.",
            synopsis: "[shardchannel [shardchannel ...]]", categories: ["pubsub", "slow"],
            handler: .server(.shardUnsubscribe)),
        CommandSpec(
            "spublish", arity: 3, flags: [.pubsub, .loading, .stale, .fast], group: "pubsub", since: "7.0.0",
            summary: "Post a message to a shard channel", synopsis: "shardchannel message",
            categories: ["pubsub", "fast"], handler: .server(.shardPublish)),
        CommandSpec(
            "pubsub", arity: -2, flags: [], group: "pubsub", since: "2.8.0",
            summary: "A container for Pub/Sub commands.", categories: ["slow"], handler: .container,
            subcommands: [
                sub(
                    .pubsubChannels, arity: -2, flags: [.pubsub, .loading, .stale], group: "pubsub", since: "2.8.0",
                    summary: "Returns the active channels.", synopsis: "[pattern]", categories: ["pubsub", "slow"]),
                sub(
                    .pubsubNumSub, arity: -2, flags: [.pubsub, .loading, .stale], group: "pubsub", since: "2.8.0",
                    summary: "Returns a count of subscribers to channels.", synopsis: "[channel [channel ...]]",
                    categories: ["pubsub", "slow"]),
                sub(
                    .pubsubNumPat, arity: 2, flags: [.pubsub, .loading, .stale], group: "pubsub", since: "2.8.0",
                    summary: "Returns a count of unique pattern subscriptions.", categories: ["pubsub", "slow"]),
                sub(
                    .pubsubShardChannels, arity: -2, flags: [.pubsub, .loading, .stale], group: "pubsub",
                    since: "7.0.0", summary: "Returns the active shard channels.", synopsis: "[pattern]",
                    categories: ["pubsub", "slow"]),
                sub(
                    .pubsubShardNumSub, arity: -2, flags: [.pubsub, .loading, .stale], group: "pubsub",
                    since: "7.0.0", summary: "Returns the count of subscribers of shard channels.",
                    synopsis: "[shardchannel [shardchannel ...]]", categories: ["pubsub", "slow"]),
                sub(
                    .pubsubHelp, arity: 2, flags: [.loading, .stale], group: "pubsub", since: "6.2.0",
                    summary: "Returns helpful text about the different subcommands.", categories: ["slow"]),
            ]),
        CommandSpec(
            "multi", arity: 1, flags: [.noscript, .loading, .stale, .fast, .allowBusy, .transactionControl],
            group: "transactions",
            since: "1.2.0", summary: "Starts a transaction.", categories: ["fast", "transaction"],
            handler: .server(.multi)),
        CommandSpec(
            "exec", arity: 1, flags: [.noscript, .loading, .stale, .transactionControl, .skipsSlowLog],
            group: "transactions",
            since: "1.2.0",
            summary: "Executes all commands in a transaction.", categories: ["slow", "transaction"],
            handler: .server(.exec)),
        CommandSpec(
            "discard", arity: 1, flags: [.noscript, .loading, .stale, .fast, .allowBusy, .transactionControl],
            group: "transactions",
            since: "2.0.0", summary: "Discards a transaction.", categories: ["fast", "transaction"],
            handler: .server(.discard)),
        CommandSpec(
            "watch", arity: -2, flags: [.noscript, .loading, .stale, .fast, .allowBusy, .transactionControl],
            keys: (1, -1, 1),
            group: "transactions", since: "2.2.0",
            summary: "Monitors changes to keys to determine the execution of a transaction.", synopsis: "key [key ...]",
            categories: ["fast", "transaction"], handler: .server(.watch)),
        CommandSpec(
            "unwatch", arity: 1, flags: [.noscript, .loading, .stale, .fast, .allowBusy], group: "transactions",
            since: "2.2.0", summary: "Forgets about watched keys of a transaction.",
            categories: ["fast", "transaction"], handler: .server(.unwatch)),
        CommandSpec(
            "role", arity: 1, flags: [.noscript, .loading, .stale, .fast], group: "server", since: "2.8.12",
            summary: "Returns the replication role.", categories: ["admin", "fast", "dangerous"],
            handler: .server(.role)),
        CommandSpec(
            "replicaof", arity: 3, flags: [.admin, .noscript, .stale, .noAsyncLoading], group: "server",
            since: "5.0.0", summary: "Configures a server as replica of another, or promotes it to a master.",
            synopsis: "host port", categories: ["admin", "slow", "dangerous"], handler: .server(.replicaof)),
        CommandSpec(
            "slaveof", arity: 3, flags: [.admin, .noscript, .stale, .noAsyncLoading], group: "server",
            since: "1.0.0", summary: "Sets a Redis server as a replica of another, or promotes it to being a master.",
            synopsis: "host port", categories: ["admin", "slow", "dangerous"], handler: .server(.replicaof)),
        CommandSpec(
            "failover", arity: -1, flags: [.admin, .noscript, .stale], group: "server", since: "6.2.0",
            summary: "Starts a coordinated failover from a server to one of its replicas.",
            synopsis: "[TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]",
            categories: ["admin", "slow", "dangerous"], handler: .server(.failover)),
        CommandSpec(
            "time", arity: 1, flags: [.loading, .stale, .fast], group: "server", since: "2.6.0",
            summary: "Returns the server time.", categories: ["fast"], handler: .server(.time)),
        CommandSpec(
            "shutdown", arity: -1, flags: [.admin, .noscript, .loading, .stale, .noMulti, .allowBusy], group: "server",
            summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.",
            synopsis: "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]", categories: ["admin", "slow", "dangerous"],
            handler: .server(.shutdown)),
        CommandSpec(
            "save", arity: 1, flags: [.admin, .noscript, .noMulti], group: "server",
            summary: "Synchronously saves the database(s) to disk.", categories: ["admin", "slow", "dangerous"],
            handler: .server(.save)),
        CommandSpec(
            "bgsave", arity: -1, flags: [.admin, .noscript], group: "server",
            summary: "Asynchronously saves the database(s) to disk.", synopsis: "[SCHEDULE]",
            categories: ["admin", "slow", "dangerous"], handler: .server(.bgSave)),
        CommandSpec(
            "bgrewriteaof", arity: 1, flags: [.admin, .noscript], group: "server",
            summary: "Asynchronously rewrites the append-only file to disk.",
            categories: ["admin", "slow", "dangerous"], handler: .server(.bgRewriteAOF)),
        CommandSpec(
            "sync", arity: 1, flags: [.admin, .noscript, .noMulti], group: "server",
            summary: "An internal command used in replication.", categories: ["admin", "slow", "dangerous"],
            handler: .server(.sync)),
        CommandSpec(
            "psync", arity: -3, flags: [.admin, .noscript, .noMulti], group: "server",
            summary: "An internal command used in replication.", synopsis: "replicationid offset",
            categories: ["admin", "slow", "dangerous"], handler: .server(.psync)),
        CommandSpec(
            "replconf", arity: -1, flags: [.admin, .noscript, .loading, .stale, .allowBusy], group: "server",
            summary: "An internal command for configuring the replication stream.",
            categories: ["admin", "slow", "dangerous"], handler: .server(.replConf)),
        CommandSpec(
            "debug", arity: -2, flags: [.admin, .noscript, .loading, .stale], group: "server",
            summary: "A container for debugging commands.", synopsis: "subcommand [argument ...]",
            categories: ["admin", "slow", "dangerous"], handler: .server(.debug)),
        CommandSpec(
            "lastsave", arity: 1, flags: [.loading, .stale, .fast], group: "server",
            summary: "Returns the Unix timestamp of the last successful save to disk.",
            categories: ["admin", "fast", "dangerous"], handler: .server(.lastSave)),
    ]
}
