//! The server's state on its event loop: the engine, configuration, connected clients and
//! statistics, and command dispatch. Everything here runs on the one event loop that owns
//! the keyspace; nothing is locked.

import Dispatch
import Logging
import NIOCore
import RESP
import StrataEngine
import StrataScripting

/// Event-loop-confined server state and dispatch.
final class ServerCore {
    let engine: Engine
    /// The engine, uncounted, for the per-command calls (see ``withEngine(_:)``).
    private let engineReference: Unmanaged<Engine>
    var config: ServerConfig
    var parserLimits: RESPParserLimits
    var stats = ServerStats()
    var logger: Logger
    let eventLoop: EventLoop
    /// Where the server reads the time.
    let clock: ServerClock
    let startedAt: Int64
    let runID: String
    /// The primary's replication: id, offset, backlog, replicas.
    var replication: ReplicationState<ConnectionHandler>
    /// The link to this server's primary while it is a replica.
    var primaryLink: PrimaryLink?
    /// Cluster mode's state and bus (nil unless `cluster-enabled yes`).
    var cluster: ClusterRuntime?
    /// The memcached listener's state (nil unless `memcached-port` is set).
    var memcached: MemcachedRuntime?
    /// A coordinated failover (`FAILOVER`) under way.
    var failover = FailoverState()
    /// True while commands of the primary's stream are applied (they reach this server's
    /// replicas as the primary's bytes, not as effects).
    var applyingPrimaryStream = false
    /// `min-replicas-to-write` and `min-replicas-max-lag` (seconds), read once per change:
    /// writes check them.
    var minimumReplicas: (count: Int, maxLag: Int)
    /// The database the primary's stream was on when the snapshot loaded at start was
    /// written (`repl-stream-db`), for the first partial sync after the restart.
    var restoredStreamDb = 0
    /// Clients blocked in WAIT.
    var replicaWaiters: [BlockedClient] = []
    /// The second of the last `PING` sent to replicas.
    var lastReplicationPing: Int64 = 0
    /// Whether expired keys are also removed in the background (`DEBUG SET-ACTIVE-EXPIRE`).
    var activeExpireEnabled = true
    /// The connected clients.
    var clients = ClientRegistry<ConnectionHandler>()
    /// Called on the event loop when SHUTDOWN is executed.
    var shutdownRequested: (() -> Void)?
    /// The port actually bound (differs from `config.port` when that is 0).
    var boundPort = 0
    /// Keys expired by the active cycle since memory was last trimmed.
    var expiredSinceTrim = 0
    /// Commands processed at the last statistics sample (a sample that finds the same
    /// count saw an idle server).
    var commandsAtLastSample = 0
    /// Who listens to which channel and pattern.
    var pubsub = PubSubHub()
    /// Clients parked by blocking commands, and the keys made ready for them.
    var waitQueues = WaitQueues<BlockedClient>()
    /// True while EXEC runs its queued commands (blocking commands then do not block).
    var executingTransaction = false
    /// Who WATCHes which key.
    var watches = WatchRegistry()
    /// Client-side caching: keys read by tracking clients, BCAST prefixes.
    var tracking = TrackingTable() {
        didSet { trackingActive = !tracking.isEmpty }
    }
    /// Whether any client tracks keys. The per-command checks read these plain flags: an
    /// empty collection read through a part is an immortal object whose retain and
    /// release take the runtime's slow path (12% of a GET pipeline's time, measured).
    private(set) var trackingActive = false
    /// Invalidations of the running client's own writes, sent after its reply.
    var pendingSelfInvalidations: [TrackingTable.Invalidation] = [] {
        didSet { hasPendingSelfInvalidations = !pendingSelfInvalidations.isEmpty }
    }
    /// Whether invalidations wait for the running client's reply.
    private(set) var hasPendingSelfInvalidations = false
    /// The client whose command runs (0 outside commands: expiry, eviction).
    var currentClientID: UInt64 = 0
    /// CLIENT PAUSE.
    var pause = ClientPause()
    /// Connections holding a command back until the pause ends.
    var postponedClients: [ConnectionHandler] = []
    /// Connections with replies to flush after the current poll batch.
    private var pendingFlushes: [ConnectionHandler] = []
    private var flushScheduled = false
    /// Highest `used_memory` seen.
    var peakMemory = 0
    /// Memory in use, for `maxmemory`.
    var memoryGauge = MemoryGauge()
    /// Whether a background eviction task is queued (`scheduleBackgroundEviction`).
    var backgroundEvictionScheduled = false
    /// Snapshot state.
    var persistence = SnapshotScheduler()
    /// Append-only file state.
    var aof = AppendOnlyLog<DurabilityHold>()
    /// Calls, rejections, failures and latency per command; error replies per code.
    var commandStats = CommandStatistics()
    /// The slowest recent calls.
    var slowLog = SlowLog()
    /// When the last counted command ended, while a batch of input is executed (nil
    /// between batches); see `commandClock()`.
    var lastCommandEnd: UInt64?
    /// How far loading at start-up has come (`loading_*` in INFO).
    var loadingProgress: LoadingProgress?
    /// systemd's notification socket, under `supervised systemd` (or `auto` finding it).
    var systemd: SystemdNotifier?
    /// What waits for the dataset loaded at start (`whenDatasetLoaded`).
    var datasetLoadWaiters: [() -> Void] = []
    /// Clients in MONITOR mode.
    var monitors = MonitorFeed() {
        didSet {
            monitorsActive = !monitors.isEmpty
            monitorLinesPending = !monitors.backlog.isEmpty
        }
    }
    /// Whether any client monitors, and whether lines wait for delivery.
    private(set) var monitorsActive = false
    private(set) var monitorLinesPending = false
    /// Latency spikes per event.
    var latencyMonitor = LatencyMonitor()
    /// `used_memory` when the server started serving.
    var startupMemory = 0
    /// The listening sockets (a busy script accepts from them itself).
    var listeningDescriptors: [Int32] = []
    /// Connections accepted while a script is busy.
    var busyClients: [BusyClient] = []
    /// Connections SwiftNIO accepted whose channel is not active yet (it activates them in
    /// a task after the pass that accepted them).
    var awaitingActivation: [ConnectionHandler] = []
    /// Hands an accepted socket, and input it sent, to SwiftNIO.
    var adoptSocket: ((Int32, [UInt8], ClientSession) -> Void)?
    /// Client socket descriptors.
    var socketDescriptors = SocketDescriptors()
    /// ACL users and the ACL log.
    let accessControl: AccessControl
    /// Set when a script ends with an error its `redis.call` already counted: the
    /// script's own reply is not counted again.
    var errorReplyAlreadyCounted = false
    /// Set while EXEC runs the queued commands (not while a script runs): a command the
    /// ACL rules refuse then gets the "rules changed since queued" error.
    var runningQueuedCommands = false
    /// TLS contexts and listeners (`ServerCore+TLS.swift`).
    let tlsRuntime = TLSRuntime()
    /// Lua scripts and functions.
    lazy var scripting: ScriptingState = {
        let state = ScriptingState(heapLimit: config.luaHeapLimit, now: clock.wallMilliseconds())
        state.cache.interpreter.host = self
        state.libraries.interpreter.host = self
        return state
    }()

    init(config: ServerConfig, logger: Logger, eventLoop: EventLoop, clock: ServerClock = .system) {
        self.config = config
        self.clock = clock
        self.logger = logger
        self.eventLoop = eventLoop
        self.engine = Engine(databaseCount: config.databases)
        self.engineReference = Unmanaged.passUnretained(engine)
        self.accessControl = AccessControl(catalog: ACLCommandCatalog.of(engine.commands))
        self.engine.settings = config.engineSettings
        self.engine.keyspaceEvents = config.notifyKeyspaceEvents
        self.parserLimits = RESPParserLimits(maxBulkLength: config.protoMaxBulkLen)
        let lazyFree = DispatchQueue(label: "strata.lazyfree", qos: .utility)
        self.engine.releaseInBackground = { dropped in
            lazyFree.async { withExtendedLifetime(dropped) {} }
        }
        self.tracking.maxKeys = config.trackingTableMaxKeys
        self.startedAt = clock.wallMilliseconds()
        self.runID = ServerCore.newReplicationID()
        self.replication = ReplicationState(id: runID)
        self.minimumReplicas = ServerCore.minimumReplicas(config)
        accessControl.setDefaultPassword(config.requirePass)
        accessControl.allChannelsByDefault = config.inertValues["acl-pubsub-default"] == "allchannels"
    }

    /// Whether the default user has a password (protected mode then lets remote clients in).
    var requiresPassword: Bool { !accessControl.defaultUser.state.noPassword }

    /// Creates the session for a new connection.
    func makeSession(remote: SocketAddress?, local: SocketAddress?, fd: Int) -> ClientSession {
        makeSession(address: ServerCore.describe(remote), localAddress: ServerCore.describe(local), fd: fd)
    }

    /// Creates the session for a new connection whose addresses are known as text.
    func makeSession(address: String, localAddress: String, fd: Int) -> ClientSession {
        let id = clients.makeID()
        let session = ClientSession(
            id: id, authenticated: !accessControl.authenticationRequired, address: address,
            localAddress: localAddress, fd: fd, now: clock.wallMilliseconds())
        session.user = accessControl.defaultUser
        return session
    }

    static func describe(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "?:0" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    /// Registers a connection, or returns the error to send before closing it.
    func admit(_ connection: ConnectionHandler) -> String? {
        stats.totalConnectionsReceived += 1
        let refusesProtected = ProtectedMode.refuses(
            protectedMode: config.protectedMode, hasPassword: requiresPassword,
            clientAddress: connection.session.address)
        switch clients.admit(
            connection, id: connection.session.id, maxClients: config.maxClients, protectedModeRefuses: refusesProtected
        )
        {
        case nil:
            return nil
        case .tooManyClients:
            stats.rejectedConnections += 1
            return "ERR max number of clients reached"
        case .protectedMode:
            stats.rejectedConnections += 1
            logger.warning("Denied non-loopback client \(connection.session.address) in protected mode")
            return ProtectedMode.deniedMessage
        }
    }

    /// Removes a closed connection.
    func unregister(_ connection: ConnectionHandler) {
        clients.remove(connection, id: connection.session.id)
        socketDescriptors.forget(connection.session.fd)
        unwatchAll(connection.session)
        unsubscribeAll(connection.session)
        monitors.remove(connection.session.id)
        tracking.disable(connection.session.id)
        postponedClients.removeAll { $0 === connection }
        if let blocked = connection.blocked { release(blocked) }
        if connection.session.isReplica { replicaDisconnected(connection) }
    }

    // MARK: Dispatch

    /// Whether the AOF's last write failed. (A pattern match: comparing the optional error
    /// with nil copied it, strings and all, on every command.)
    var aofWriteFailing: Bool {
        if case .some = aof.writeError { return true }
        return false
    }

    /// Executes one command for a client.
    ///
    /// - Parameter now: Unix ms, read once per read batch by the caller.
    func execute(_ args: [Bytes], session: ClientSession, connection: ConnectionHandler, now: Int64) -> CommandOutcome {
        session.lastInteraction = now
        switch withEngine({ $0.commands.resolveReference(args) }) {
        case .success(let reference):
            // The spec is passed on uncounted: the command table holds it.
            return reference._withUnsafeGuaranteedRef {
                execute(resolved: $0, args: args, session: session, connection: connection, now: now)
            }
        case .failure(let error):
            let known = engine.commands.spec(named: args[0])
            if let known, case .container = known.handler {
            } else if let known {
                commandStats.recordRejection(known)
            }
            noteErrorReply(error)
            session.transaction?.aborted = true
            return .reply(known?.serverCommand == .exec ? abortExec(error, session: session) : error)
        }
    }

    /// ``execute(_:session:connection:now:)`` once the name, subcommand and arity resolved.
    private func execute(
        resolved spec: CommandSpec, args: [Bytes], session: ClientSession, connection: ConnectionHandler, now: Int64
    ) -> CommandOutcome {
        if session.lastCommandSpec !== spec { session.lastCommandSpec = spec }
        if !session.authenticated && !spec.flags.contains(.noAuth) && accessControl.authenticationRequired {
            session.transaction?.aborted = true
            let error = rejected(spec, Reply.error("NOAUTH Authentication required."))
            return .reply(spec.serverCommand == .exec ? abortExec(error, session: session) : error)
        }
        if let user = session.user, !user.isUnrestricted,
            let denial = aclDenial(
                user, spec, args: args, session: session, context: session.inTransaction ? .multi : .toplevel)
        {
            session.transaction?.aborted = true
            let error = rejected(spec, denial)
            return .reply(spec.serverCommand == .exec ? abortExec(error, session: session) : error)
        }
        if cluster != nil, let redirection = clusterRedirection(spec, args: args, session: session, now: now) {
            if spec.serverCommand == .exec {
                _ = discard(session)
            } else {
                session.transaction?.aborted = true
            }
            return .reply(rejected(spec, redirection))
        }
        if let link = primaryLink {
            if spec.flags.contains(.write) && refusesWrites {
                session.transaction?.aborted = true
                return .reply(rejected(spec, .error("READONLY You can't write against a read only replica.")))
            }
            if link.phase != .online && !spec.flags.contains(.stale)
                && config.inertValues["replica-serve-stale-data"] == "no"
            {
                session.transaction?.aborted = true
                return .reply(
                    rejected(
                        spec,
                        .error("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")))
            }
        }
        if session.resp == .resp2 && session.isSubscriber
            && !spec.flags.contains(.subscribedContext)
        {
            return .reply(
                rejected(
                    spec,
                    .error(
                        "ERR Can't execute '\(spec.name)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
                    )))
        }
        if persistence.loading && !spec.flags.contains(.loading) {
            return .reply(rejected(spec, ServerCore.loadingError))
        }
        if let refusal = writeRefusal(
            writes: spec.flags.contains(.write), refusedOnDiskError: spec.flags.contains(.refusedOnDiskError),
            deniedOnOOM: spec.flags.contains(.denyOOM), now: now)
        {
            session.transaction?.aborted = true
            switch refusal {
            case .diskError: return .reply(rejected(spec, aofWriteErrorReply ?? ServerCore.misconfError))
            case .noReplicas: return .reply(rejected(spec, .error("NOREPLICAS Not enough good replicas to write.")))
            case .outOfMemory: return .reply(rejected(spec, ServerCore.oomError))
            }
        }
        if pause.isPausing && !executingTransaction && postpones(spec, session: session) { return .postponed }
        if session.inTransaction && !spec.flags.contains(.transactionControl) {
            return .reply(queue(args, spec: spec, session: session))
        }
        let caller = currentClientID
        currentClientID = session.id
        defer { currentClientID = caller }
        let outcome = runResolved(spec, args: args, session: session, connection: connection, now: now)
        // CLIENT CACHING lasts for the next command (a CLIENT command or a whole transaction
        // keeps it).
        if trackingActive && !session.inTransaction && spec.serverCommand?.isClientSubcommand != true {
            tracking.clearCaching(session.id)
        }
        return outcome
    }

    /// Runs a resolved command that passed the checks of ``execute(_:session:connection:now:)``
    /// (or of a script's `redis.call`), and counts it (commandstats, latency, slow log).
    func runResolved(
        _ spec: CommandSpec, args: [Bytes], session: ClientSession, connection: ConnectionHandler, now: Int64
    ) -> CommandOutcome {
        let started = commandClock()
        if monitorsActive && spec.flags.contains(.showsMonitorFirst) {
            feedMonitors(spec, args: args, session: session)
        }
        defer {
            if monitorsActive && !spec.flags.contains(.showsMonitorFirst) {
                feedMonitors(spec, args: args, session: session)
            }
        }
        switch spec.handler {
        case .engine(let handler):
            var db = session.db
            let sortRestricted = accessControl.catalog.isSort(spec) && refusesSortPatterns(session)
            if sortRestricted { engine.sortPatternsRefused = true }
            let reply = withEngine { $0.run(handler, args: args, db: &db, now: now) }
            if sortRestricted { engine.sortPatternsRefused = false }
            commitWrites(now: now)
            if case .blockedOn(let keys, let timeout) = reply {
                let again = engine.blockedArguments ?? args
                engine.blockedArguments = nil
                if executingTransaction {
                    noteCall(spec, args: args, session: session, since: started, failed: false, now: now)
                    return .reply(.nullArray)
                }
                block(connection, args: again, keys: keys, timeoutMilliseconds: timeout)
                return .none
            }
            let failed: Bool
            if case .error = reply {
                noteErrorReply(reply)
                failed = true
            } else {
                failed = false
            }
            session.db = db
            if trackingActive && spec.flags.contains(.readonly) {
                rememberTrackedKeys(spec, args: args, reader: connection.session.id)
            }
            noteCall(spec, args: args, session: session, since: started, failed: failed, now: now)
            if !waitQueues.ready.isEmpty && !executingTransaction { serveBlockedClients(now: now) }
            return .reply(reply)
        case .server(let command):
            engine.stats.commandsProcessed += 1
            let outcome = runServerCommand(command, args: args, session: session, connection: connection, now: now)
            commitWrites(now: now)
            var failed = false
            if case .reply(let reply) = outcome, case .error = reply {
                if errorReplyAlreadyCounted {
                    errorReplyAlreadyCounted = false
                } else {
                    noteErrorReply(reply)
                }
                failed = true
            }
            noteCall(spec, args: args, session: session, since: started, failed: failed, now: now)
            return outcome
        case .container:
            // The table resolves a container to one of its subcommands.
            return .reply(.error("ERR unknown command '\(spec.name)'"))
        }
    }

    /// Runs `body` on the engine without counting a reference: calling through the stored
    /// reference retains and releases it around each call, twice per command.
    @inline(__always)
    func withEngine<R>(_ body: (Engine) -> R) -> R {
        engineReference._withUnsafeGuaranteedRef(body)
    }

    // MARK: Deferred flushing

    /// Queues `connection` to be flushed once the current poll batch is processed.
    func scheduleFlush(_ connection: ConnectionHandler) {
        pendingFlushes.append(connection)
        ensurePassEndTask()
    }

    /// Makes sure the end-of-pass task (AOF write, then reply flushes) runs.
    func ensurePassEndTask() {
        if !flushScheduled {
            flushScheduled = true
            eventLoop.execute { [unowned(unsafe) self] in self.flushPending() }
        }
    }

    /// Writes the AOF buffer, then flushes every connection's replies that wait for the end
    /// of the pass; also run by a busy script's checkpoint.
    func flushPending() {
        flushScheduled = false
        deliverMonitorLines()
        // As Redis's beforeSleep: the AOF is written before any reply leaves.
        if aof.feed.buffer.readableBytes > 0 { writeAppendOnlyBuffer() }
        if replication.pending.readableBytes > 0 { flushReplicationStream() }
        if tracking.hasPendingBroadcasts || hasPendingSelfInvalidations { deliverTrackingBroadcasts() }
        let connections = pendingFlushes
        pendingFlushes.removeAll(keepingCapacity: true)
        for connection in connections { connection.flushNow() }
    }

    /// Applies a changed configuration to the live server.
    func configurationChanged() {
        parserLimits.maxBulkLength = config.protoMaxBulkLen
        engine.settings = config.engineSettings
        engine.keyspaceEvents = config.notifyKeyspaceEvents
        engine.clearEvictionPool()
        tracking.maxKeys = config.trackingTableMaxKeys
        minimumReplicas = ServerCore.minimumReplicas(config)
        accessControl.allChannelsByDefault = config.inertValues["acl-pubsub-default"] == "allchannels"
        replication.resizeBacklog(to: replicationSetting("repl-backlog-size", 1_048_576))
        logger.logLevel = config.loggerLevel
        cluster?.state.settings = config.clusterSettings
        announceClusterAddress()
        if scripting.cache.memoryLimit != config.luaHeapLimit {
            scripting.cache.memoryLimit = config.luaHeapLimit
            scripting.libraries.memoryLimit = config.luaHeapLimit
        }
    }
}
