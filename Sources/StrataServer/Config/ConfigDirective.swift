import StrataEngine
import StrataPersistence

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One configuration directive: its name, how to print it, and how to set it.
public struct ConfigDirective: Sendable {
    /// The directive name, lowercase, as redis.conf spells it.
    public let name: String
    /// Whether `CONFIG SET` may change it.
    public let mutable: Bool
    /// Renders the current value as `CONFIG GET` prints it.
    let get: @Sendable (ServerConfig) -> String
    /// Parses arguments into the configuration.
    let set: @Sendable (inout ServerConfig, [String]) throws -> Void
    /// Answered only when asked for by its exact name, never matched by a `CONFIG GET`
    /// pattern (Redis's hidden debugging parameters such as `key-load-delay`).
    var hidden = false
    /// Settable at run time only where `enable-protected-configs` allows it (`dir`,
    /// `dbfilename`), as in Redis.
    var protected = false

    /// Every directive Strata implements.
    public static let all: [ConfigDirective] = [
        int("port", 0...65535, \.port, mutable: false),
        ConfigDirective(
            name: "bind", mutable: false, get: { $0.bind.joined(separator: " ") },
            set: { config, args in
                let words = multipleArguments(args)
                guard !words.isEmpty else { throw ConfigError.badDirective }
                config.bind = words
            }),
        bool("protected-mode", \.protectedMode),
        string("requirepass", \.requirePass),
        ConfigDirective(
            name: "dir", mutable: true, get: { _ in FileManager.default.currentDirectoryPath },
            set: { config, args in
                guard args.count == 1 else { throw ConfigError.badDirective }
                config.dir = args[0]
            }, protected: true),
        int("databases", 1...Int(Int32.max), \.databases, mutable: false),
        int("maxclients", 1...Int(UInt32.max), \.maxClients),
        int("timeout", 0...Int(Int32.max), \.timeout),
        int("tracking-table-max-keys", 0...Int(Int64.max), \.trackingTableMaxKeys),
        int("busy-reply-threshold", 0...Int(Int64.max), \.busyReplyThresholdMilliseconds),
        int("slowlog-log-slower-than", -1...Int(Int64.max), \.slowlogLogSlowerThan),
        int("slowlog-max-len", 0...Int(Int64.max), \.slowlogMaxLen),
        int("latency-monitor-threshold", 0...Int(Int64.max), \.latencyMonitorThreshold),
        bool("latency-tracking", \.latencyTracking),
        ConfigDirective(
            name: "latency-tracking-info-percentiles", mutable: true,
            get: { $0.latencyTrackingPercentiles.map(ServerConfig.percentileText).joined(separator: " ") },
            set: { config, args in
                let words = multipleArguments(args)
                var values: [Double] = []
                for word in words {
                    guard let value = Double(word), value.isFinite else {
                        throw ConfigError.invalidValue("Invalid latency-tracking-info-percentiles parameters")
                    }
                    guard (0...100).contains(value) else {
                        throw ConfigError.invalidValue(
                            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
                    }
                    values.append(value)
                }
                config.latencyTrackingPercentiles = values
            }),
        memory("lua-heap-limit", 0...Int(Int64.max), \.luaHeapLimit),
        int("tcp-keepalive", 0...Int(Int32.max), \.tcpKeepalive),
        ConfigDirective(
            name: "loglevel", mutable: true, get: { $0.logLevel },
            set: { config, args in
                guard args.count == 1 else { throw ConfigError.badDirective }
                let level = args[0].lowercased()
                guard ["debug", "verbose", "notice", "warning"].contains(level) else {
                    throw ConfigError.invalidValue(
                        "argument(s) must be one of the following: debug, verbose, notice, warning")
                }
                config.logLevel = level
            }),
        string("logfile", \.logFile, mutable: false),
        string("pidfile", \.pidFile, mutable: false),
        int("hz", 0...Int(Int32.max), \.hz, clamp: 1...500),
        int("hash-max-listpack-entries", 0...Int(Int64.max), \.hashMaxListpackEntries),
        memory("hash-max-listpack-value", 0...Int(Int64.max), \.hashMaxListpackValue),
        int("set-max-intset-entries", 0...Int(Int64.max), \.setMaxIntsetEntries),
        int("zset-max-listpack-entries", 0...Int(Int64.max), \.zsetMaxListpackEntries),
        memory("zset-max-listpack-value", 0...Int(Int64.max), \.zsetMaxListpackValue),
        int("list-max-listpack-size", Int(Int32.min)...Int(Int32.max), \.listMaxListpackSize),
        int("list-compress-depth", 0...Int(Int32.max), \.listCompressDepth),
        memory("stream-node-max-bytes", 0...Int(Int64.max), \.streamNodeMaxBytes),
        int("stream-node-max-entries", 0...Int(Int64.max), \.streamNodeMaxEntries),
        ConfigDirective(
            name: "save", mutable: true,
            get: { $0.savePoints.map { "\($0.seconds) \($0.changes)" }.joined(separator: " ") },
            set: { config, args in
                let words = multipleArguments(args)
                if words.isEmpty {
                    config.savePoints = []
                    return
                }
                guard words.count % 2 == 0 else { throw ConfigError.invalidValue("Invalid save parameters") }
                var points: [SavePoint] = []
                for i in stride(from: 0, to: words.count, by: 2) {
                    guard let seconds = Int(words[i]), let changes = Int(words[i + 1]), seconds >= 0, changes >= 0
                    else {
                        throw ConfigError.invalidValue("Invalid save parameters")
                    }
                    points.append(SavePoint(seconds: seconds, changes: changes))
                }
                if config.savePointsFromFile {
                    // In a config file (or on the command line), `save` lines accumulate; the
                    // first one replaces the defaults.
                    if !config.fileSavePointsStarted {
                        config.savePoints = []
                        config.fileSavePointsStarted = true
                    }
                    config.savePoints += points
                } else {
                    config.savePoints = points
                }
            }),
        ConfigDirective(
            name: "dbfilename", mutable: true, get: { $0.dbFilename },
            set: { config, args in
                guard args.count == 1 else { throw ConfigError.badDirective }
                guard !args[0].contains("/") else {
                    throw ConfigError.invalidValue("dbfilename can't be a path, just a filename")
                }
                config.dbFilename = args[0]
            }, protected: true),
        choice("snapshot-compression", \.snapshotCompression),
        choice("enable-debug-command", \.enableDebugCommand, mutable: false),
        choice("enable-protected-configs", \.enableProtectedConfigs, mutable: false),
        bool("rdbchecksum", \.rdbChecksum, mutable: false),
        bool("rdbcompression", \.rdbCompression),
        bool("stop-writes-on-bgsave-error", \.stopWritesOnBgsaveError),
        bool("appendonly", \.appendOnly),
        fileName("appenddirname", \.appendDirName),
        fileName("appendfilename", \.appendFilename),
        choice("appendfsync", \.appendFsync),
        bool("aof-use-rdb-preamble", \.aofUseRDBPreamble),
        int("auto-aof-rewrite-percentage", 0...Int(Int32.max), \.autoAOFRewritePercentage),
        memory("auto-aof-rewrite-min-size", 0...Int(Int64.max), \.autoAOFRewriteMinSize),
        bool("aof-load-truncated", \.aofLoadTruncated),
        bool("aof-timestamp-enabled", \.aofTimestampEnabled),
        bool("no-appendfsync-on-rewrite", \.noAppendFsyncOnRewrite),
        bool("aof-rewrite-incremental-fsync", \.aofRewriteIncrementalFsync),
        memory("maxmemory", 0...Int(Int64.max), \.maxMemory, unsigned: true),
        choice("maxmemory-policy", \.maxMemoryPolicy),
        int("maxmemory-samples", 1...Int(Int32.max), \.maxMemorySamples),
        int("maxmemory-eviction-tenacity", 0...100, \.maxMemoryEvictionTenacity),
        int("lfu-log-factor", 0...Int(Int32.max), \.lfuLogFactor),
        int("lfu-decay-time", 0...Int(Int32.max), \.lfuDecayTime),
        memory("hll-sparse-max-bytes", 0...Int(Int64.max), \.hllSparseMaxBytes),
        ConfigDirective(
            name: "client-output-buffer-limit", mutable: true, get: { $0.clientOutputBufferLimits.text },
            set: { config, args in
                try config.clientOutputBufferLimits.apply(multipleArguments(args))
            }),
        ConfigDirective(
            name: "notify-keyspace-events", mutable: true, get: { $0.notifyKeyspaceEvents.flags },
            set: { config, args in
                guard args.count == 1 else { throw ConfigError.badDirective }
                guard let types = KeyspaceEventTypes(flags: args[0]) else {
                    throw ConfigError.invalidValue("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
                }
                config.notifyKeyspaceEvents = types
            }),
        memory("proto-max-bulk-len", 1024 * 1024...Int(Int64.max), \.protoMaxBulkLen),
        memory("client-query-buffer-limit", 1024 * 1024...Int(Int64.max), \.clientQueryBufferLimit),
        ConfigDirective(
            name: "daemonize", mutable: false, get: { $0.daemonize ? "yes" : "no" },
            set: { config, args in
                guard args.count == 1 else { throw ConfigError.badDirective }
                if try ConfigValueParsing.bool(args[0]) {
                    throw ConfigError.invalidValue("Strata does not daemonize; run it under a supervisor (systemd)")
                }
                config.daemonize = false
            }),
    ]

    /// Every parameter `CONFIG GET` and `CONFIG SET` know: the ones Strata uses, then the
    /// ones it accepts for compatibility (``inert``), then TLS's (``tls``) and the
    /// cluster's (``cluster``).
    public static let table: [ConfigDirective] = all + inert + tls + cluster + memcached

    /// Old names Redis 7 still accepts, mapped to the current ones. `CONFIG GET` lists
    /// both, as Redis does.
    static let aliases = [
        "hash-max-ziplist-entries": "hash-max-listpack-entries", "hash-max-ziplist-value": "hash-max-listpack-value",
        "zset-max-ziplist-entries": "zset-max-listpack-entries", "zset-max-ziplist-value": "zset-max-listpack-value",
        "list-max-ziplist-size": "list-max-listpack-size", "lua-time-limit": "busy-reply-threshold",
        "slaveof": "replicaof", "slave-announce-ip": "replica-announce-ip",
        "slave-announce-port": "replica-announce-port", "slave-ignore-maxmemory": "replica-ignore-maxmemory",
        "slave-lazy-flush": "replica-lazy-flush", "slave-priority": "replica-priority",
        "slave-read-only": "replica-read-only", "slave-serve-stale-data": "replica-serve-stale-data",
        "min-slaves-max-lag": "min-replicas-max-lag", "min-slaves-to-write": "min-replicas-to-write",
        "repl-ping-slave-period": "repl-ping-replica-period",
        "cluster-slave-no-failover": "cluster-replica-no-failover",
        "cluster-slave-validity-factor": "cluster-replica-validity-factor",
    ]

    private static let byName: [String: ConfigDirective] = Dictionary(
        table.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

    /// Looks a directive up by name (or Redis alias), case-insensitively.
    public static func named(_ name: String) -> ConfigDirective? {
        let lower = name.lowercased()
        return byName[aliases[lower] ?? lower]
    }

    /// The arguments of a parameter taking several (`save`, `bind`...): as given on a
    /// config line, or, when one value holds them all (`CONFIG SET`, a quoted config
    /// argument), that value cut at every single space as Redis cuts it — so doubled or
    /// leading spaces make empty arguments, and an empty value none at all.
    static func multipleArguments(_ args: [String]) -> [String] {
        guard args.count == 1 else { return args }
        if args[0].isEmpty { return [] }
        return args[0].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    }

    static func int(
        _ name: String, _ range: ClosedRange<Int>, _ path: WritableKeyPath<ServerConfig, Int> & Sendable,
        mutable: Bool = true, clamp: ClosedRange<Int>? = nil
    ) -> ConfigDirective {
        ConfigDirective(
            name: name, mutable: mutable, get: { String($0[keyPath: path]) },
            set: { config, args in
                guard args.count == 1 else { throw ConfigError.badDirective }
                var value = try ConfigValueParsing.integer(args[0], range)
                if let clamp { value = min(max(value, clamp.lowerBound), clamp.upperBound) }
                config[keyPath: path] = value
            })
    }

    static func memory(
        _ name: String, _ range: ClosedRange<Int>, _ path: WritableKeyPath<ServerConfig, Int> & Sendable,
        unsigned: Bool = false
    ) -> ConfigDirective {
        ConfigDirective(
            name: name, mutable: true, get: { String($0[keyPath: path]) },
            set: { config, args in
                guard args.count == 1 else { throw ConfigError.badDirective }
                config[keyPath: path] = try ConfigValueParsing.memory(args[0], range, unsigned: unsigned)
            })
    }

    static func bool(
        _ name: String, _ path: WritableKeyPath<ServerConfig, Bool> & Sendable, mutable: Bool = true
    ) -> ConfigDirective {
        ConfigDirective(
            name: name, mutable: mutable, get: { $0[keyPath: path] ? "yes" : "no" },
            set: { config, args in
                guard args.count == 1 else { throw ConfigError.badDirective }
                config[keyPath: path] = try ConfigValueParsing.bool(args[0])
            })
    }

    /// One of an enumeration's values, case-insensitively, with Redis's error listing them
    /// in declaration order.
    static func choice<Value: RawRepresentable & CaseIterable & Sendable>(
        _ name: String, _ path: WritableKeyPath<ServerConfig, Value> & Sendable, mutable: Bool = true
    ) -> ConfigDirective where Value.RawValue == String {
        ConfigDirective(
            name: name, mutable: mutable, get: { $0[keyPath: path].rawValue },
            set: { config, args in
                guard args.count == 1 else { throw ConfigError.badDirective }
                guard let value = Value(rawValue: args[0].lowercased()) else {
                    throw ConfigError.invalidValue(
                        "argument(s) must be one of the following: "
                            + Value.allCases.map(\.rawValue).joined(separator: ", "))
                }
                config[keyPath: path] = value
            })
    }

    /// A file name (not a path), fixed at start-up: `appenddirname`, `appendfilename`.
    static func fileName(_ name: String, _ path: WritableKeyPath<ServerConfig, String> & Sendable) -> ConfigDirective {
        ConfigDirective(
            name: name, mutable: false, get: { $0[keyPath: path] },
            set: { config, args in
                guard args.count == 1 else { throw ConfigError.badDirective }
                guard !args[0].isEmpty, !args[0].contains("/"), args[0] != ".", args[0] != ".." else {
                    throw ConfigError.invalidValue("\(name) can't be a path, just a filename")
                }
                config[keyPath: path] = args[0]
            })
    }

    static func string(
        _ name: String, _ path: WritableKeyPath<ServerConfig, String> & Sendable, mutable: Bool = true
    ) -> ConfigDirective {
        ConfigDirective(
            name: name, mutable: mutable, get: { $0[keyPath: path] },
            set: { config, args in
                guard args.count == 1 else { throw ConfigError.badDirective }
                config[keyPath: path] = args[0]
            })
    }
}
