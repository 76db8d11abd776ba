import Logging
import StrataEngine
import StrataPersistence

/// The server's configuration: every directive Strata implements, with Redis 7's names
/// and defaults. Read from a redis.conf-style file and `--directive value` arguments, and
/// changed at run time through `CONFIG SET` where Redis allows it.
public struct ServerConfig: Sendable {
    /// `port`: TCP port, default 6379.
    public var port = 6379
    /// `bind`: addresses to listen on, default `127.0.0.1 -::1`... Strata listens on IPv4 loopback.
    public var bind: [String] = ["127.0.0.1"]
    /// `protected-mode`: refuse non-loopback clients when no password is set, default yes.
    public var protectedMode = true
    /// `enable-debug-command`: whether `DEBUG` may run (`local`: from loopback clients).
    public var enableDebugCommand = DebugCommandAccess.no
    /// `enable-protected-configs`: whether `CONFIG SET` may change `dir` and `dbfilename`
    /// (`local`: from loopback clients).
    public var enableProtectedConfigs = DebugCommandAccess.no
    /// `requirepass`: the default user's password; empty means none.
    public var requirePass = ""
    /// `user <name> <rules...>` directives, in file order (name first).
    public var users: [[String]] = []
    /// `dir`: working directory for data files, default `.`.
    public var dir = "."
    /// `databases`: number of logical databases, default 16.
    public var databases = 16
    /// `maxclients`: connection limit, default 10000.
    public var maxClients = 10000
    /// `tracking-table-max-keys`: most keys the client-side caching table remembers
    /// (0: no limit); default 1000000.
    public var trackingTableMaxKeys = 1_000_000
    /// `timeout`: close clients idle this many seconds; 0 never.
    public var timeout = 0
    /// `busy-reply-threshold` (alias `lua-time-limit`): milliseconds a script runs before
    /// other clients are answered `-BUSY` and `SCRIPT KILL` can stop it; default 5000.
    public var busyReplyThresholdMilliseconds = 5000
    /// Calls at least this slow (µs) go to the slow log; negative turns it off.
    public var slowlogLogSlowerThan = 10000
    /// Entries the slow log keeps.
    public var slowlogMaxLen = 128
    /// Latency spikes at least this long (ms) are recorded; 0 turns the monitor off.
    public var latencyMonitorThreshold = 0
    /// Whether per-command latency histograms are kept (`INFO latencystats`).
    public var latencyTracking = true
    /// The percentiles `INFO latencystats` prints.
    public var latencyTrackingPercentiles: [Double] = [50, 99, 99.9]
    /// `lua-heap-limit` (Strata's own): bytes each Lua interpreter (scripts, functions) may
    /// hold while code runs; a script that needs more fails with an error. 0: no cap.
    /// Default 256 MB.
    public var luaHeapLimit = 256 * 1024 * 1024
    /// `tcp-keepalive`: keepalive interval in seconds; 0 off. Default 300.
    public var tcpKeepalive = 300
    /// `loglevel`: debug, verbose, notice, warning or nothing. Default notice.
    public var logLevel = "notice"
    /// `logfile`: path of the log file; empty logs to standard output.
    public var logFile = ""
    /// `pidfile`: where to write the process id; empty writes none.
    public var pidFile = ""
    /// `hz`: background task frequency, 1–500, default 10.
    public var hz = 10
    /// `proto-max-bulk-len`: largest bulk string, default 512 MiB.
    public var protoMaxBulkLen = 512 * 1024 * 1024
    /// `client-query-buffer-limit`: largest unparsed input per client, default 1 GiB.
    public var clientQueryBufferLimit = 1024 * 1024 * 1024
    /// `hash-max-listpack-entries`: most fields in a compact hash, default 512 (Redis 7.0's
    /// built-in default; its sample redis.conf sets 128).
    public var hashMaxListpackEntries = 512
    /// `hash-max-listpack-value`: longest field or value in a compact hash, default 64.
    public var hashMaxListpackValue = 64
    /// `set-max-intset-entries`: most integer members in an intset, default 512.
    public var setMaxIntsetEntries = 512
    /// `zset-max-listpack-entries`: most members in a compact sorted set, default 128.
    public var zsetMaxListpackEntries = 128
    /// `zset-max-listpack-value`: longest member in a compact sorted set, default 64.
    public var zsetMaxListpackValue = 64
    /// `list-max-listpack-size`: accepted and reported; lists are one deque whatever its
    /// size, and report `quicklist` as Redis 7.0 does.
    public var listMaxListpackSize = -2
    /// `list-compress-depth`: accepted and reported; lists are not compressed in memory.
    public var listCompressDepth = 0
    /// `stream-node-max-bytes`: largest stream block before a new one starts (0: no limit).
    public var streamNodeMaxBytes = 4096
    /// `stream-node-max-entries`: most entries in a stream block (0: no limit).
    public var streamNodeMaxEntries = 100
    /// `maxmemory`: bytes of data before eviction (or OOM errors) starts; 0 for no limit.
    public var maxMemory = 0
    /// `maxmemory-policy`: what to evict, default `noeviction`.
    public var maxMemoryPolicy = EvictionPolicy.noEviction
    /// `maxmemory-samples`: keys sampled per eviction round, default 5.
    public var maxMemorySamples = 5
    /// `maxmemory-eviction-tenacity` (0–100, default 10): how long one command may spend
    /// evicting before the rest continues in the background (100: no limit).
    public var maxMemoryEvictionTenacity = 10
    /// `lfu-log-factor`, default 10.
    public var lfuLogFactor = 10
    /// `lfu-decay-time` in minutes, default 1.
    public var lfuDecayTime = 1
    /// `hll-sparse-max-bytes`: largest sparse HyperLogLog before it turns dense, default 3000.
    public var hllSparseMaxBytes = 3000
    /// `save`: snapshot after `seconds` when at least `changes` writes happened; empty: off.
    public var savePoints: [SavePoint] = [
        SavePoint(seconds: 3600, changes: 1), SavePoint(seconds: 300, changes: 100),
        SavePoint(seconds: 60, changes: 10000),
    ]
    /// Set while a config file or the command line is read: `save` lines accumulate (the
    /// first one drops the defaults), as in Redis.
    var savePointsFromFile = false
    /// Whether a `save` line of the config text has been seen.
    var fileSavePointsStarted = false
    /// `dbfilename`: the snapshot file in `dir`, default `dump.sdb`.
    public var dbFilename = "dump.sdb"
    /// `snapshot-compression`: `lz4` (default), `zlib` or `none` (a plain RDB file).
    public var snapshotCompression = CompressionCodec.lz4
    /// `rdbchecksum`: end the RDB stream with its CRC-64.
    public var rdbChecksum = true
    /// `rdbcompression`: accepted for compatibility; the frames compress the stream.
    public var rdbCompression = true
    /// `stop-writes-on-bgsave-error`: refuse writes (MISCONF) after a failed save.
    public var stopWritesOnBgsaveError = true
    /// `appendonly`: log every write to the AOF directory and start from it.
    public var appendOnly = false
    /// `appenddirname`: the AOF directory inside `dir`.
    public var appendDirName = "appendonlydir"
    /// `appendfilename`: the prefix of the AOF files' names.
    public var appendFilename = "appendonly.aof"
    /// `appendfsync`: when the AOF is fsynced.
    public var appendFsync = AppendFsyncPolicy.everysec
    /// `aof-use-rdb-preamble`: the AOF base is a snapshot (else RESP commands).
    public var aofUseRDBPreamble = true
    /// `auto-aof-rewrite-percentage`: rewrite when the AOF grew this much since the last
    /// rewrite (0: never automatically).
    public var autoAOFRewritePercentage = 100
    /// `auto-aof-rewrite-min-size`: no automatic rewrite below this size.
    public var autoAOFRewriteMinSize = 64 * 1024 * 1024
    /// `aof-load-truncated`: start from an AOF whose last command is cut short.
    public var aofLoadTruncated = true
    /// `aof-timestamp-enabled`: annotate the AOF with `#TS:` lines.
    public var aofTimestampEnabled = false
    /// `no-appendfsync-on-rewrite`: no fsync while a rewrite or snapshot is being written.
    public var noAppendFsyncOnRewrite = false
    /// `aof-rewrite-incremental-fsync`: accepted for compatibility.
    public var aofRewriteIncrementalFsync = true
    /// `client-output-buffer-limit`: per-class limits on unread replies.
    public var clientOutputBufferLimits = OutputBufferLimits()
    /// `notify-keyspace-events`: the keyspace event classes published; none by default.
    public var notifyKeyspaceEvents: KeyspaceEventTypes = []
    /// `daemonize`: Strata never forks; only `no` is accepted.
    public var daemonize = false
    /// The `tls-*` parameters.
    public var tls = TLSSettings()
    /// The values of the parameters Strata accepts without acting on them
    /// (``ConfigDirective/inert``), by canonical name; absent ones have Redis's default.
    public var inertValues: [String: String] = [:]
    /// The config file the server was started with, for `CONFIG REWRITE` and `INFO`.
    public var configFile = ""

    /// Defaults.
    public init() {}

    /// What the engine's commands need to know of this configuration.
    public var engineSettings: EngineSettings {
        var settings = EngineSettings()
        settings.maxStringLength = protoMaxBulkLen
        settings.clusterMode = clusterEnabled
        settings.hashLimits.maxListpackEntries = hashMaxListpackEntries
        settings.hashLimits.maxListpackValue = hashMaxListpackValue
        settings.setLimits.maxIntsetEntries = setMaxIntsetEntries
        settings.sortedSetLimits.maxListpackEntries = zsetMaxListpackEntries
        settings.sortedSetLimits.maxListpackValue = zsetMaxListpackValue
        settings.streamLimits = StreamLimits(maxEntries: streamNodeMaxEntries, maxBytes: streamNodeMaxBytes)
        settings.evictionPolicy = maxMemoryPolicy
        settings.evictionSamples = maxMemorySamples
        settings.lfuLogFactor = lfuLogFactor
        settings.lfuDecayMinutes = lfuDecayTime
        settings.hllSparseMaxBytes = hllSparseMaxBytes
        return settings
    }

    /// The swift-log level for `loglevel`.
    public var loggerLevel: Logger.Level {
        switch logLevel {
        case "debug": return .debug
        case "verbose": return .info
        case "notice": return .notice
        case "warning": return .warning
        default: return .critical
        }
    }
}

/// One `save` point: snapshot after `seconds` if at least `changes` writes happened.
public struct SavePoint: Sendable, Equatable {
    public var seconds: Int
    public var changes: Int

    public init(seconds: Int, changes: Int) {
        self.seconds = seconds
        self.changes = changes
    }
}

/// `appendfsync`: when appended commands reach the disk.
public enum AppendFsyncPolicy: String, Sendable, CaseIterable {
    /// Once a second, on a background thread (first: Redis lists the choices in this order).
    case everysec
    /// Before the reply is sent (one fsync per event-loop pass covers all its writes).
    case always
    /// When the kernel decides.
    case no
}

/// Who may run `DEBUG` (Redis 7's `enable-debug-command`), or change protected
/// parameters (`enable-protected-configs`).
public enum DebugCommandAccess: String, CaseIterable, Sendable {
    case no, yes, local
}

extension ServerConfig {
    /// A percentile as Redis prints it in configuration and INFO: `50`, `99.9` (`%f`
    /// without trailing zeros).
    static func percentileText(_ value: Double) -> String {
        var text = String(printf: "%f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
