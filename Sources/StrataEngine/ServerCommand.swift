//! The commands the server executes itself rather than the engine (connection state,
//! clients, transactions, pub/sub, scripts, persistence, introspection). Each such entry
//! of the command table names its case here, and the server's dispatch switches on it:
//! routing never compares command names.

/// A server-executed command; the raw value is the table name (`container|sub` for
/// subcommands).
public enum ServerCommand: String, Sendable, CaseIterable {
    // Connection
    case ping
    case quit
    case hello
    case auth
    case reset
    case time
    case role
    case replicaof
    case failover

    // Clients
    case clientID = "client|id"
    case clientSetName = "client|setname"
    case clientGetName = "client|getname"
    case clientList = "client|list"
    case clientInfo = "client|info"
    case clientKill = "client|kill"
    case clientUnblock = "client|unblock"
    case clientHelp = "client|help"
    case clientTracking = "client|tracking"
    case clientCaching = "client|caching"
    case clientGetRedir = "client|getredir"
    case clientTrackingInfo = "client|trackinginfo"
    case clientReply = "client|reply"
    case clientPause = "client|pause"
    case clientUnpause = "client|unpause"
    case clientNoEvict = "client|no-evict"

    // Access control
    case aclCat = "acl|cat"
    case aclDelUser = "acl|deluser"
    case aclDryRun = "acl|dryrun"
    case aclGenPass = "acl|genpass"
    case aclGetUser = "acl|getuser"
    case aclHelp = "acl|help"
    case aclList = "acl|list"
    case aclLoad = "acl|load"
    case aclLog = "acl|log"
    case aclSave = "acl|save"
    case aclSetUser = "acl|setuser"
    case aclUsers = "acl|users"
    case aclWhoAmI = "acl|whoami"

    // Introspection and configuration
    case command
    case commandCount = "command|count"
    case commandInfo = "command|info"
    case commandDocs = "command|docs"
    case commandList = "command|list"
    case commandGetKeys = "command|getkeys"
    case commandGetKeysAndFlags = "command|getkeysandflags"
    case commandHelp = "command|help"
    case info
    case memoryStats = "memory|stats"
    case memoryDoctor = "memory|doctor"
    case memoryMallocStats = "memory|malloc-stats"
    case memoryPurge = "memory|purge"
    case moduleList = "module|list"
    case moduleLoad = "module|load"
    case moduleLoadEx = "module|loadex"
    case moduleUnload = "module|unload"
    case moduleHelp = "module|help"
    case lolwut

    // Cluster mode: every CLUSTER subcommand shares one handler, which reads the name.
    case cluster
    case asking
    case readOnly = "readonly"
    case readWrite = "readwrite"
    case debug
    case configGet = "config|get"
    case configSet = "config|set"
    case configResetStat = "config|resetstat"
    case configRewrite = "config|rewrite"
    case configHelp = "config|help"

    case monitor

    // Slow log and latency monitor
    case slowlogGet = "slowlog|get"
    case slowlogLen = "slowlog|len"
    case slowlogReset = "slowlog|reset"
    case slowlogHelp = "slowlog|help"
    case latencyLatest = "latency|latest"
    case latencyHistory = "latency|history"
    case latencyReset = "latency|reset"
    case latencyGraph = "latency|graph"
    case latencyDoctor = "latency|doctor"
    case latencyHistogram = "latency|histogram"
    case latencyHelp = "latency|help"

    // Pub/sub
    case subscribe
    case unsubscribe
    case patternSubscribe = "psubscribe"
    case patternUnsubscribe = "punsubscribe"
    case publish
    case pubsubChannels = "pubsub|channels"
    case pubsubNumSub = "pubsub|numsub"
    case pubsubNumPat = "pubsub|numpat"
    case pubsubHelp = "pubsub|help"
    case shardSubscribe = "ssubscribe"
    case shardUnsubscribe = "sunsubscribe"
    case shardPublish = "spublish"
    case pubsubShardChannels = "pubsub|shardchannels"
    case pubsubShardNumSub = "pubsub|shardnumsub"

    // Transactions
    case multi
    case exec
    case discard
    case watch
    case unwatch

    // Persistence and snapshot transfer
    case save
    case bgSave = "bgsave"
    case lastSave = "lastsave"
    case bgRewriteAOF = "bgrewriteaof"
    case sync
    case psync
    case replConf = "replconf"
    case shutdown

    // Moving keys between servers, and replication
    case dump
    case restore
    case migrate
    case wait

    // Scripts and functions
    case eval
    case evalsha
    case evalReadOnly = "eval_ro"
    case evalshaReadOnly = "evalsha_ro"
    case fcall
    case fcallReadOnly = "fcall_ro"
    case scriptLoad = "script|load"
    case scriptExists = "script|exists"
    case scriptFlush = "script|flush"
    case scriptKill = "script|kill"
    case scriptHelp = "script|help"
    case functionLoad = "function|load"
    case functionDelete = "function|delete"
    case functionFlush = "function|flush"
    case functionDump = "function|dump"
    case functionRestore = "function|restore"
    case functionList = "function|list"
    case functionStats = "function|stats"
    case functionKill = "function|kill"
    case functionHelp = "function|help"

    /// Whether this is a CLIENT subcommand (CLIENT CACHING's effect lasts through them).
    public var isClientSubcommand: Bool { rawValue.hasPrefix("client|") }

    /// Whether the command changes the function libraries (replayed from an AOF after the
    /// keyspace commands, as libraries load first).
    public var changesFunctionLibraries: Bool {
        switch self {
        case .functionLoad, .functionDelete, .functionFlush, .functionRestore: return true
        default: return false
        }
    }
}
