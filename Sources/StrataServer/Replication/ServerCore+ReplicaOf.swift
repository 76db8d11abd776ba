//! The replica's side on the event loop: REPLICAOF/SLAVEOF (and `REPLICAOF NO ONE`, which
//! promotes this server keeping the history it followed), the keyspace replaced by the
//! primary's snapshot, the stream's commands applied with nothing sent back, its bytes
//! relayed to this server's own replicas, writes refused from ordinary clients
//! (`replica-read-only`), and `ROLE`/`INFO replication` as a replica reports them.

import NIOCore
import StrataEngine

extension ServerCore {
    /// `REPLICAOF host port` and `REPLICAOF NO ONE` (also SLAVEOF).
    func replicaofCommand(_ args: [Bytes], session: ClientSession) -> Reply {
        if cluster != nil { return .error("ERR REPLICAOF not allowed in cluster mode.") }
        if failover.phase != .none { return .error("ERR REPLICAOF not allowed while failing over.") }
        let host = args[1].string
        if host.lowercased() == "no" && args[2].string.lowercased() == "one" {
            becomePrimary(reason: "user request from 'id=\(session.id) addr=\(session.address)'")
            return .ok
        }
        guard let port = args[2].strictInteger else { return Errors.notInteger }
        // As Redis; a port out of range would also trap where the address is built.
        guard (0...65535).contains(port) else { return .error("ERR Invalid master port") }
        if let link = primaryLink, link.host == host, link.port == port {
            return .status("OK Already connected to specified master")
        }
        follow(host: host, port: port)
        logger.notice(
            "REPLICAOF \(host):\(port) enabled (user request from 'id=\(session.id) addr=\(session.address)')")
        return .ok
    }

    /// Starts following `host:port`, asking to continue this server's own history (the one
    /// it followed, or its own as a primary). Its replicas stay attached, as in Redis: they
    /// get the new primary's stream, and reconnect if the history changes.
    func follow(host: String, port: Int) {
        primaryLink?.stop()
        config.inertValues["replicaof"] = "\(host) \(port)"
        logger.notice("Connecting to MASTER \(host):\(port)")
        let link = PrimaryLink(host: host, port: port, core: self)
        primaryLink = link
        engine.keepsExpiredKeys = true
        RedisLogHandler.setRole(replica: true)
        link.connect()
    }

    /// Stops following the primary and becomes one, keeping the history it followed as
    /// the previous one (`REPLICAOF NO ONE`, a failover). Nothing when not a replica.
    func becomePrimary(reason: String) {
        config.inertValues["replicaof"] = nil
        guard let link = primaryLink else { return }
        link.stop()
        primaryLink = nil
        engine.keepsExpiredKeys = false
        RedisLogHandler.setRole(replica: false)
        replication.shiftID(to: ServerCore.newReplicationID())
        engine.recordsEffects = replication.isFeeding || aof.isLogging
        logger.notice("MASTER MODE enabled (\(reason))")
    }

    /// Starts following the primary the `replicaof` directive names, once the server has
    /// loaded its own data (the primary's snapshot replaces it, not the other way round).
    func followConfiguredPrimary() {
        if persistence.loading {
            eventLoop.scheduleTask(in: .milliseconds(100)) { [unowned(unsafe) self] in followConfiguredPrimary() }
            return
        }
        guard primaryLink == nil, let words = config.inertValues["replicaof"]?.split(separator: " "),
            words.count == 2, let port = Int(words[1])
        else { return }
        follow(host: String(words[0]), port: port)
    }

    /// Whether a write from an ordinary client is refused (`replica-read-only`).
    var refusesWrites: Bool {
        primaryLink != nil && config.inertValues["replica-read-only"] != "no"
    }

    /// A full sync loaded: the keyspace and functions become the primary's. Watches and
    /// tracked keys of the old keyspace are invalidated, this server's replicas must load
    /// the new history from scratch, and, as in Redis, its append-only log starts again
    /// from a rewrite of the new keyspace (the old log describes the old one).
    func replaceKeyspaceFromPrimary(_ databases: [Database], functions: [Bytes]) {
        let now = clock.wallMilliseconds()
        applyingPrimaryStream = true
        defer { applyingPrimaryStream = false }
        engine.databases = databases
        keyspaceReplaced()
        engine.keepsExpiredKeys = true
        for index in engine.databases.indices { engine.noteWholeDatabase(index) }
        commitWrites(now: now)
        restoreFunctions(
            [[Bytes("FUNCTION"), Bytes("FLUSH")]]
                + functions.map { [Bytes("FUNCTION"), Bytes("LOAD"), Bytes("REPLACE"), $0] })
        for replica in replication.replicas { replica.connection.terminate() }
        if aof.status != .off {
            stopAppendOnly()
            if !startAppendOnly() { logger.warning("Failed enabling the AOF after successful master synchronization!") }
        }
    }

    /// Applies commands of the primary's stream (a transaction's together) in database `db`.
    func applyFromPrimary(_ commands: [[Bytes]], db: inout Int, now: Int64) {
        applyingPrimaryStream = true
        // As in Redis, the primary's commands see its keys as it did: nothing expires
        // under them (the primary sends the DEL when a key expires there).
        engine.suspendsExpiry = true
        defer {
            applyingPrimaryStream = false
            engine.suspendsExpiry = false
        }
        let transaction = commands.count > 1
        if transaction { executingTransaction = true }
        for args in commands {
            switch withEngine({ $0.resolveLogged(args) }) {
            case .failure(let error):
                logger.warning("The master sent a command this replica cannot run (\(args[0].string)): \(error)")
            case .success(let spec):
                switch spec.handler {
                case .engine(let handler):
                    _ = withEngine { $0.run(handler, args: args, db: &db, now: now) }
                    commitWrites(now: now)
                case .server(let command) where command.changesFunctionLibraries:
                    restoreFunctions([args])
                case .server(.publish):
                    _ = publish(channel: args[1], message: args[2])
                case .server(.restore):
                    // What a Redis primary sends for RESTORE (Strata's sends the rebuilt key).
                    if case .error(let message) = restoreCommand(args, db: db, now: now) {
                        logger.warning("The master's RESTORE of \(args[1].string) failed here: \(message)")
                    }
                    commitWrites(now: now)
                default:
                    logger.warning("The master sent '\(spec.name)', which a replica does not apply; skipped")
                }
            }
        }
        if transaction {
            executingTransaction = false
            if engine.hasEffects { feedAppendOnlyFile(now: now) }
        }
        if !waitQueues.ready.isEmpty { serveBlockedClients(now: now) }
    }

    /// Bytes of the primary's stream, applied: into this server's backlog and to its
    /// replicas, unchanged.
    func relayPrimaryStream(_ bytes: ByteBuffer) {
        guard replication.isFeeding else { return }
        replication.append(bytes)
        ensurePassEndTask()
    }

    /// `ROLE` on a replica.
    func replicaRoleReply(_ link: PrimaryLink) -> Reply {
        let state: String
        switch link.phase {
        case .connecting, .stopped: state = "connect"
        case .handshake: state = "handshake"
        case .awaitingSnapshot, .receivingSnapshot, .loading: state = "sync"
        case .online: state = "connected"
        }
        return .array([
            .bulk(Bytes("slave")), .bulk(Bytes(link.host)), .integer(link.port), .bulk(Bytes(state)),
            .integer(Int(link.appliedOffset)),
        ])
    }

    /// The replica's own lines of `INFO replication`, before the fields a primary prints.
    func replicaInfoFields(_ link: PrimaryLink, now: Int64) -> [(String, String)] {
        let up = link.phase == .online
        var fields: [(String, String)] = [
            ("role", "slave"), ("master_host", link.host), ("master_port", String(link.port)),
            ("master_link_status", up ? "up" : "down"),
            ("master_last_io_seconds_ago", up ? String(max(0, (now - link.lastIOAt) / 1000)) : "-1"),
            (
                "master_sync_in_progress",
                [.awaitingSnapshot, .receivingSnapshot, .loading].contains(link.phase) ? "1" : "0"
            ),
            ("slave_read_repl_offset", String(link.appliedOffset)), ("slave_repl_offset", String(link.appliedOffset)),
        ]
        if !up {
            let seconds = link.downSince == 0 ? -1 : max(0, (now - link.downSince) / 1000)
            fields.append(("master_link_down_since_seconds", String(seconds)))
        }
        fields += [
            ("slave_priority", config.inertValues["replica-priority"] ?? "100"),
            ("slave_read_only", refusesWrites ? "1" : "0"),
            ("replica_announced", config.inertValues["replica-announced"] == "no" ? "0" : "1"),
        ]
        return fields
    }
}
