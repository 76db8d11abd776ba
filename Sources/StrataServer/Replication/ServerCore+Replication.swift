//! The primary's side of replication, on the event loop: PSYNC and SYNC from a replica
//! (`+CONTINUE` from the backlog, or `+FULLRESYNC` and a snapshot written from the frozen
//! keyspace, the stream produced meanwhile following it), the stream fed from the write
//! record's effects, `REPLCONF ACK`, the periodic `PING`, `ROLE` and `INFO replication`.
//! A caller that only wants a snapshot (`REPLCONF rdb-only 1`: `redis-cli --rdb`,
//! `strata-dump backup`) gets one and is disconnected, as before.

import NIOCore
import StrataEngine
import StrataPersistence

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ServerCore {
    /// The kept value of a numeric replication parameter.
    func replicationSetting(_ name: String, _ defaultValue: Int) -> Int {
        config.inertValues[name].flatMap { Int($0) } ?? defaultValue
    }

    /// A new random 40-hex-digit id (the run id, replication ids).
    static func newReplicationID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<40).map { _ in String(UInt8.random(in: 0..<16, using: &generator), radix: 16) }.joined()
    }

    /// SYNC and PSYNC.
    func synchronize(_ command: ServerCommand, args: [Bytes], connection: ConnectionHandler) -> CommandOutcome {
        let handshake = connection.session.replicaHandshake
        if handshake.snapshotOnly { return snapshotTransfer(command, connection: connection) }
        // A replica asking again on the same link: ignored, as Redis does.
        if replication.replica(on: connection) != nil { return .none }
        if command == .psync, args.count > 3, args[3].equalsIgnoringCase("failover"),
            let refusal = takeOverForFailover(replid: args[1].string, from: connection.session)
        {
            return .reply(refusal)
        }
        if let link = primaryLink, link.phase != .online {
            return .reply(.error("NOMASTERLINK Can't SYNC while not connected with my master"))
        }
        // What this pass produced belongs to the replicas already attached, and to the backlog.
        flushReplicationStream()
        let now = clock.wallMilliseconds()
        let address = handshake.announcedAddress ?? ServerCore.host(of: connection.session.address)
        if command == .psync, args.count >= 3 {
            let replid = args[1].string
            if let offset = Int64(args[2].string), replication.canContinue(replid: replid, offset: offset),
                let bytes = replication.stream(from: offset)
            {
                stats.partialSyncsAccepted += 1
                replication.attach(
                    ReplicaLink(
                        connection: connection, address: address,
                        port: handshake.listeningPort, phase: .online, held: heldStream(), now: now))
                connection.becomeReplica()
                connection.sendReplicationBytes(
                    Array((handshake.understandsPsync2 ? "+CONTINUE \(replication.id)\r\n" : "+CONTINUE\r\n").utf8))
                connection.sendReplicationBytes(bytes)
                logger.notice(
                    "Partial resynchronization request from \(connection.session.address) accepted. Sending \(bytes.count) bytes of backlog starting from offset \(offset)."
                )
                return .none
            }
            if replid != "?" {
                stats.partialSyncsRejected += 1
                logger.notice(
                    "Partial resynchronization not accepted for \(connection.session.address): replication id or offset not in the backlog"
                )
            }
        }
        return fullSynchronization(command, connection: connection, address: address, port: handshake.listeningPort)
    }

    /// `+FULLRESYNC`, a snapshot of the keyspace frozen now, then the stream from the
    /// offset it was frozen at.
    private func fullSynchronization(
        _ command: ServerCommand, connection: ConnectionHandler, address: String, port: Int
    ) -> CommandOutcome {
        replication.ensureBacklog(
            size: replicationSetting("repl-backlog-size", 1_048_576), newID: ServerCore.newReplicationID)
        engine.recordsEffects = true
        replication.forceSelect()
        stats.fullSyncs += 1
        let offset = replication.offset
        let now = clock.wallMilliseconds()
        let link = ReplicaLink(
            connection: connection, address: address, port: port,
            phase: .waitingForSnapshot, acknowledges: command == .psync,
            held: heldStream(), now: now)
        replication.attach(link)
        connection.becomeReplica()
        connection.startSnapshotTransfer()
        if command == .psync {
            connection.sendReplicationBytes(Array("+FULLRESYNC \(replication.id) \(offset)\r\n".utf8))
        }
        if connection.session.replicaHandshake.acceptsEndMarker && config.inertValues["repl-diskless-sync"] != "no" {
            streamSnapshot(to: link, address: "\(address):\(port)")
            return .none
        }
        logger.notice(
            "Replica \(address):\(port) asks for synchronization; starting a snapshot for it at offset \(offset)")
        writeTransferSnapshot(nice: 0) { core, result in
            guard core.replication.replica(on: connection) === link else {
                if case .success(let (path, _)) = result { unlink(path) }
                return
            }
            switch result {
            case .success(let (path, bytes)):
                core.logger.notice("Synchronization with replica \(address):\(port): sending a \(bytes)-byte snapshot")
                link.phase = .online
                connection.sendSnapshot(path: path, bytes: bytes, then: link.held.take()) {
                    link.acknowledgedAt = core.clock.wallMilliseconds()
                }
            case .failure(let error):
                core.logger.warning("Snapshot for replica \(address):\(port) failed: \(error)")
                core.replication.detach(connection, now: core.clock.wallMilliseconds())
                connection.terminate()
            }
        }
        return .none
    }

    /// Where the stream is held for a replica while it syncs (its file in the data directory).
    private func heldStream() -> HeldStream {
        HeldStream { [unowned(unsafe) self] in nextTempPath() }
    }

    /// A diskless full sync: the snapshot of the keyspace frozen now is written straight to
    /// the replica's socket as `$EOF:<mark>`, the RDB, then the mark. As in Redis, the
    /// stream produced meanwhile follows once the replica acknowledged (it finds the end of
    /// the snapshot by the mark, so nothing may follow it until it loaded).
    private func streamSnapshot(to link: ReplicaLink<ConnectionHandler>, address: String) {
        let connection = link.connection
        let mark = ServerCore.newReplicationID()
        link.phase = .sendingSnapshot
        connection.sendReplicationBytes(Array("$EOF:\(mark)\r\n".utf8))
        logger.notice("Starting BGSAVE for SYNC with target: replicas sockets (\(address))")
        let bound = NIOLoopBound(connection, eventLoop: eventLoop)
        let sink = DisklessSnapshotSink(eventLoop: eventLoop) { chunk in
            // Progress keeps the replica from timing out (`repl-timeout`).
            bound.value.sendSnapshotChunk(chunk).map { link.acknowledgedAt = self.clock.wallMilliseconds() }
        }
        var options = snapshotOptions
        options.codec = .none
        let now = clock.wallMilliseconds()
        writeFrozenKeyspace(nice: 0) { frozen in
            try SnapshotWriter.write(
                draining: &frozen, to: sink.path, tempPath: sink.path, fileSystem: sink, options: options, now: now)
        } finish: { core, result in
            guard core.replication.replica(on: connection) === link else { return }
            switch result {
            case .success(let summary):
                connection.sendReplicationBytes(Array(mark.utf8))
                connection.finishSnapshotTransfer()
                link.acknowledgedAt = core.clock.wallMilliseconds()
                core.logger.notice(
                    "Streamed RDB transfer with replica \(address) succeeded (socket), \(summary.fileBytes) bytes. Waiting for REPLCONF ACK from replica to enable streaming"
                )
            case .failure(let error):
                core.logger.warning("Diskless snapshot for replica \(address) failed: \(error)")
                core.replication.detach(connection, now: core.clock.wallMilliseconds())
                connection.terminate()
            }
        }
    }

    /// Sends the effects the engine recorded to the replicas (and the backlog).
    func feedReplicas() {
        guard replication.feed(engine.record.effects) else { return }
        if currentClientID != 0, let client = clients[currentClientID] {
            client.session.replicationOffset = replication.offset
        }
        ensurePassEndTask()
    }

    /// At the end of the event loop's pass (and before a replica attaches): the stream
    /// produced goes to the backlog and, in one write each, to the online replicas.
    func flushReplicationStream() {
        guard let bytes = replication.takePending() else { return }
        for replica in replication.replicas {
            if replica.phase == .online {
                replica.connection.sendReplicationBuffer(bytes)
            } else {
                do {
                    try replica.held.append(bytes)
                } catch {
                    logger.warning(
                        "Could not hold the stream for replica \(replica.address):\(replica.port) (\(error)); it will sync again"
                    )
                    replica.connection.closeNow()
                    continue
                }
                // What is kept for it until its snapshot is sent counts as its output.
                _ = replica.connection.closesOverOutputLimit(holding: replica.held.bytes)
            }
        }
    }

    /// Adds a command of the primary's own to the stream (`PING`, `REPLCONF GETACK *`).
    func feedReplicas(command: [String]) {
        // A replica adds nothing of its own: its replicas get its primary's stream as it
        // came (its PINGs included), so that offsets agree along a chain.
        guard replication.isFeeding, primaryLink == nil else { return }
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        AOFEncoding.append(command.map { Bytes($0) }, to: &buffer)
        replication.append(buffer)
        ensurePassEndTask()
    }

    /// The once-a-second replication work: a `PING` every `repl-ping-replica-period`
    /// seconds, and the backlog freed `repl-backlog-ttl` seconds after the last replica left.
    func replicationCron(now: Int64) {
        guard replication.isFeeding else { return }
        // As Redis: a newline a second to the replicas waiting for their snapshot to be
        // written (they skip it), so that their link does not time out meanwhile.
        for replica in replication.replicas where replica.phase == .waitingForSnapshot {
            replica.connection.sendReplicationBytes([UInt8(ascii: "\n")])
        }
        // As Redis: a replica that acknowledged nothing (nor made progress with its
        // snapshot) for `repl-timeout` seconds is dropped, whatever it has not read.
        let timeout = Int64(replicationSetting("repl-timeout", 60))
        for replica in replication.replicas
        where replica.acknowledges && replica.phase != .waitingForSnapshot
            && (now - replica.acknowledgedAt) / 1000 > timeout
        {
            logger.warning("Disconnecting timedout replica (streaming sync): \(replica.address):\(replica.port)")
            replica.connection.closeNow()
        }
        // No PING while a failover holds writes: the offsets must stay where the replicas are.
        guard !pause.holdsForFailover else { return }
        let period = Int64(replicationSetting("repl-ping-replica-period", 10))
        if !replication.replicas.isEmpty, now / 1000 % max(period, 1) == 0, now / 1000 != lastReplicationPing {
            lastReplicationPing = now / 1000
            feedReplicas(command: ["PING"])
        }
        let ttl = Int64(replicationSetting("repl-backlog-ttl", 3600))
        // Compared in seconds: `repl-backlog-ttl` goes up to 2^63 - 1, which in ms overflows.
        if ttl > 0, let left = replication.lastReplicaLeftAt, (now - left) / 1000 > ttl {
            replication.dropBacklog()
            engine.recordsEffects = aof.isLogging
            logger.notice("Replication backlog freed after \(ttl) seconds without replicas.")
        }
    }

    /// The `min-replicas-*` settings; no minimum when either is 0, as in Redis.
    static func minimumReplicas(_ config: ServerConfig) -> (count: Int, maxLag: Int) {
        let count = config.inertValues["min-replicas-to-write"].flatMap { Int($0) } ?? 0
        let lag = config.inertValues["min-replicas-max-lag"].flatMap { Int($0) } ?? 10
        return lag > 0 ? (count, lag) : (0, lag)
    }

    /// Online replicas that acknowledged within `min-replicas-max-lag` seconds
    /// (`min_slaves_good_slaves`).
    func goodReplicas(now: Int64) -> Int {
        let maxLag = Int64(minimumReplicas.maxLag)
        return replication.replicas.filter { $0.phase == .online && (now - $0.acknowledgedAt) / 1000 <= maxLag }.count
    }

    /// Whether a write is refused for want of good replicas (`-NOREPLICAS`); never on a
    /// replica, as in Redis.
    var lacksGoodReplicas: Bool {
        primaryLink == nil && goodReplicas(now: clock.wallMilliseconds()) < minimumReplicas.count
    }

    /// What a snapshot records of replication, as Redis's `rdbPopulateSaveInfo`: a replica
    /// records its primary's history and the database its stream is on; a primary with a
    /// backlog its own; nil otherwise.
    var replicationSaveInfo: (streamDb: Int, id: String, offset: Int64)? {
        if let link = primaryLink {
            guard link.phase == .online else { return nil }
            return (max(link.streamDb, 0), replication.id, replication.offset)
        }
        guard replication.isFeeding else { return nil }
        return (max(replication.streamDb, 0), replication.id, replication.offset)
    }

    /// After the start-up load of a snapshot: the replication history it recorded, if any.
    func restoreReplication(from aux: [String: String]) {
        guard let id = aux["repl-id"], id.count == 40, let offset = aux["repl-offset"].flatMap(Int64.init),
            ReplicationBacklog.validOffsets.contains(offset)
        else { return }
        replication.startHistory(
            id: id, offset: offset, backlogSize: replicationSetting("repl-backlog-size", 1_048_576))
        engine.recordsEffects = true
        restoredStreamDb = aux["repl-stream-db"].flatMap { Int($0) } ?? 0
        logger.notice("Restored the replication id and offset from the snapshot: \(id):\(offset)")
    }

    /// `REPLCONF ACK <offset>` from a replica.
    func replicaAcknowledged(_ connection: ConnectionHandler, offset: Int64) {
        guard let replica = replication.replica(on: connection) else { return }
        if replica.phase == .sendingSnapshot {
            // The first acknowledgement after a diskless snapshot: the stream follows.
            replica.phase = .online
            connection.sendReplicationBuffers(replica.held.take())
            logger.notice("Synchronization with replica \(replica.address):\(replica.port) succeeded")
        }
        replica.acknowledgedOffset = max(replica.acknowledgedOffset, offset)
        replica.acknowledgedAt = clock.wallMilliseconds()
        serveReplicaWaiters()
        updateFailover(now: replica.acknowledgedAt)
    }

    /// A connection closed: if it was a replica, it no longer is.
    func replicaDisconnected(_ connection: ConnectionHandler) {
        guard replication.detach(connection, now: clock.wallMilliseconds()) else { return }
        logger.notice("Connection with replica \(connection.session.address) lost.")
    }

    /// `ROLE` on a primary.
    func roleReply() -> Reply {
        let replicas = replication.replicas.filter { $0.phase == .online }.map { replica -> Reply in
            .array([
                .bulk(Bytes(replica.address)), .bulk(Bytes(String(replica.port))),
                .bulk(Bytes(String(replica.acknowledgedOffset))),
            ])
        }
        return .array([.bulk(Bytes("master")), .integer(Int(replication.offset)), .array(replicas)])
    }

    /// `INFO replication` on a primary.
    func replicationInfoFields(now: Int64) -> [(String, String)] {
        var fields: [(String, String)] = primaryLink.map { replicaInfoFields($0, now: now) } ?? [("role", "master")]
        fields.append(("connected_slaves", String(replication.replicas.count)))
        if minimumReplicas.count > 0 { fields.append(("min_slaves_good_slaves", String(goodReplicas(now: now)))) }
        for (index, replica) in replication.replicas.enumerated() {
            let lag = max(0, (now - replica.acknowledgedAt) / 1000)
            fields.append(
                (
                    "slave\(index)",
                    "ip=\(replica.address),port=\(replica.port),state=\(replica.phase.rawValue),offset=\(replica.acknowledgedOffset),lag=\(lag)"
                ))
        }
        let backlog = replication.backlog
        fields += [
            ("master_failover_state", failover.phase.rawValue), ("master_replid", replication.id),
            ("master_replid2", replication.previousID), ("master_repl_offset", String(replication.offset)),
            ("second_repl_offset", String(replication.previousIDEndOffset)),
            ("repl_backlog_active", backlog == nil ? "0" : "1"),
            ("repl_backlog_size", String(replicationSetting("repl-backlog-size", 1_048_576))),
            ("repl_backlog_first_byte_offset", String(backlog?.firstByteOffset ?? 0)),
            ("repl_backlog_histlen", String(backlog?.count ?? 0)),
        ]
        return fields
    }

    /// The host part of `ip:port` (an IPv6 address keeps its colons).
    static func host(of address: String) -> String {
        guard let colon = address.lastIndex(of: ":") else { return address }
        return String(address[..<colon])
    }
}
