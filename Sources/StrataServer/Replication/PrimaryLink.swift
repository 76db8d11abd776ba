//! A replica's link to its primary (`REPLICAOF host port`), as Redis 7.0's replica runs it:
//! connect, the handshake (`PING`, `AUTH` with `masterauth`/`masteruser`, `REPLCONF
//! listening-port`, `REPLCONF capa psync2`), then `PSYNC` with the id and offset of the
//! stream it has (`? -1` the first time). `+CONTINUE` resumes the stream; `+FULLRESYNC id
//! offset` is followed by the primary's snapshot (`$<length>`, newlines before it are
//! keep-alives), written to a temporary file and loaded off the event loop, then the
//! stream. The stream's commands are applied as the primary wrote them (MULTI to EXEC at
//! once), its bytes counted into the offset acknowledged every second (`REPLCONF ACK`)
//! and at once when asked (`REPLCONF GETACK`), and kept in this server's own backlog so
//! that its replicas, and a promotion, continue the same history. A link that drops is
//! retried every second. Bad input from the primary (a malformed stream, a snapshot that
//! does not load) is logged and the link restarted; the keyspace is replaced only by a
//! snapshot that loaded whole. With `tls-replication yes` the link is TLS (the client
//! context of `ServerCore+TLS.swift`).

import CMallocInfo
import NIOCore
import NIOPosix
import NIOSSL
import RESP
import StrataEngine
import StrataPersistence

/// The connection from a replica to its primary.
final class PrimaryLink: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Where the link is (`ROLE`'s state, `master_link_status`).
    enum Phase: Equatable {
        case connecting
        /// Waiting for the reply to handshake step `step`.
        case handshake(step: Int)
        /// Waiting for the `$<length>` line of the snapshot.
        case awaitingSnapshot
        case receivingSnapshot
        case loading
        case online
        case stopped
    }

    let host: String
    let port: Int
    private unowned(unsafe) let core: ServerCore
    private(set) var phase = Phase.connecting
    private var context: ChannelHandlerContext?
    private var inbound = ByteBufferAllocator().buffer(capacity: 16 * 1024)
    private var parser = RESPRequestParser<Bytes>(
        limits: RESPParserLimits(
            maxBulkLength: 1 << 40, maxMultibulkLength: 1 << 31, maxInlineLength: 64 * 1024,
            maxUnauthenticatedMultibulkLength: 1 << 31, maxUnauthenticatedBulkLength: 1 << 40),
        authenticated: true)
    /// The handshake's commands, in order.
    private var handshake: [[String]] = []
    /// The snapshot being received.
    private var snapshotPath = ""
    private var snapshotFile: (any WritableFile)?
    private var snapshotRemaining = 0
    /// A snapshot sent without a length ends with this mark (empty: a length was sent);
    /// the last bytes received, to recognise it, and how many were received.
    private var endMark: [UInt8] = []
    private static let endMarkLength = 40
    private var lastBytes: [UInt8] = []
    private var snapshotReceived = 0
    /// The primary's replication id and the offset of the stream applied
    /// (`slave_repl_offset`).
    private(set) var primaryID = ""
    private(set) var appliedOffset: Int64 = 0
    /// The database the stream selected (`repl-stream-db` in a snapshot).
    private(set) var selectedDb = 0
    var streamDb: Int { selectedDb }
    /// Whether the rest of a large input is to be applied in a later turn.
    private var continuationScheduled = false
    /// Commands between the stream's MULTI and EXEC, run together at EXEC.
    private var transaction: [[Bytes]]?
    /// Where the command being parsed starts in `inbound` (its bytes go to the backlog
    /// once it is applied).
    private var commandStart = 0
    /// When the primary last sent anything (Unix ms), and when the link went down.
    private(set) var lastIOAt: Int64
    /// (0 while up, and before the link was ever up: Redis then prints -1).
    private(set) var downSince: Int64

    init(host: String, port: Int, core: ServerCore) {
        self.host = host
        self.port = port
        self.core = core
        self.selectedDb = core.restoredStreamDb
        self.lastIOAt = core.clock.wallMilliseconds()
        self.downSince = 0
    }

    // MARK: Connecting

    /// Connects (again) unless stopped.
    func connect() {
        guard phase != .stopped else { return }
        phase = .connecting
        let link = NIOLoopBound(self, eventLoop: core.eventLoop)
        // `tls-replication yes`: TLS with the client context (this server's client
        // certificate; the primary's checked against the CA, without a host name, as Redis).
        let tlsContext = core.config.tls.replication ? core.tlsRuntime.contexts?.client : nil
        if core.config.tls.replication && tlsContext == nil {
            // Never a plaintext link when TLS was asked for.
            core.logger.warning("tls-replication is on but TLS is not configured; retrying")
            return retryLater()
        }
        ClientBootstrap(group: core.eventLoop)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .connectTimeout(.seconds(Int64(core.replicationSetting("repl-timeout", 60))))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tlsContext, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(link.value)
                }
            }
            .connect(host: host, port: port)
            .whenFailure { error in
                let link = link.value
                link.core.logger.warning("Error condition on socket for SYNC: \(error)")
                link.core.failoverAnswered(accepted: false)
                link.retryLater()
            }
    }

    /// Stops the link for good (`REPLICAOF NO ONE`, another primary).
    func stop() {
        phase = .stopped
        discardSnapshot()
        context?.close(promise: nil)
    }

    private func retryLater() {
        guard phase != .stopped else { return }
        phase = .connecting
        core.eventLoop.scheduleTask(in: .seconds(1)) { [self] in
            if phase == .connecting && context == nil { connect() }
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        guard phase != .stopped else {
            context.close(promise: nil)
            return
        }
        self.context = context
        lastIOAt = core.clock.wallMilliseconds()
        core.logger.notice("MASTER <-> REPLICA sync started")
        var steps: [[String]] = [["PING"]]
        if let password = core.config.inertValues["masterauth"], !password.isEmpty {
            let user = core.config.inertValues["masteruser"] ?? ""
            steps.append(user.isEmpty ? ["AUTH", password] : ["AUTH", user, password])
        }
        // As Redis: the announced port, else the TLS port when replicating over TLS.
        let announced = core.replicationSetting("replica-announce-port", 0)
        let tlsPort = core.config.tls.replication ? core.config.tls.port : 0
        let listening = announced > 0 ? announced : tlsPort > 0 ? tlsPort : core.boundPort
        steps.append(["REPLCONF", "listening-port", String(listening)])
        steps.append(["REPLCONF", "capa", "eof", "capa", "psync2"])
        let (id, offset) = core.replication.continuation()
        // A primary handing over to its replica asks it to take over (see FAILOVER).
        steps.append(["PSYNC", id, String(offset)] + (core.failover.phase == .inProgress ? ["FAILOVER"] : []))
        handshake = steps
        send(steps[0])
        phase = .handshake(step: 0)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        discardSnapshot()
        transaction = nil
        inbound.clear()
        parser = RESPRequestParser(limits: parser.limits, authenticated: true)
        if phase == .online { downSince = core.clock.wallMilliseconds() }
        guard phase != .stopped else { return }
        core.logger.notice("Connection with master lost.")
        core.failoverAnswered(accepted: false)
        // A snapshot received whole is still loaded; the link is retried after it.
        if phase != .loading { retryLater() }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        core.logger.warning("Error on the connection with master \(host):\(port): \(error)")
        context.close(promise: nil)
    }

    private func send(_ command: [String]) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        AOFEncoding.append(command.map { Bytes($0) }, to: &buffer)
        context.writeAndFlush(NIOAny(buffer), promise: nil)
    }

    /// Closes the connection after a problem with what the primary sent; it is retried.
    private func fail(_ message: String) {
        core.logger.warning("MASTER <-> REPLICA sync: \(message)")
        discardSnapshot()
        context?.close(promise: nil)
    }

    // MARK: Input

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        inbound.writeBuffer(&bytes)
        lastIOAt = core.clock.wallMilliseconds()
        process()
    }

    private func process() {
        while context != nil {
            switch phase {
            case .handshake(let step):
                guard let line = readLine() else { return }
                handshakeReply(line, step: step)
            case .awaitingSnapshot:
                guard let line = readLine() else { return }
                startSnapshot(line)
            case .receivingSnapshot:
                guard receiveSnapshot() else { return }
            case .online:
                applyStream()
                return
            case .connecting, .loading, .stopped:
                return
            }
        }
    }

    /// A reply line without its CRLF; newlines alone (the primary's keep-alives) skipped.
    private func readLine() -> String? {
        while inbound.readableBytes > 0, inbound.readableBytesView.first == UInt8(ascii: "\n") {
            inbound.moveReaderIndex(forwardBy: 1)
        }
        guard let end = inbound.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if inbound.readableBytes > 64 * 1024 { fail("a reply line from the master is too long") }
            return nil
        }
        let length = end - inbound.readerIndex
        var line = inbound.readString(length: length) ?? ""
        inbound.moveReaderIndex(forwardBy: 1)
        if line.hasSuffix("\r") { line.removeLast() }
        return line
    }

    private func handshakeReply(_ line: String, step: Int) {
        let command = handshake[step]
        let isPsync = command[0] == "PSYNC"
        if line.hasPrefix("-") && !isPsync {
            // As Redis: a PING answered -NOAUTH is fine before AUTH; REPLCONF errors are not fatal.
            if command[0] == "AUTH" {
                return fail("Unable to AUTH to MASTER: \(line)")
            }
            if command[0] == "PING" && !line.hasPrefix("-NOAUTH") && !line.hasPrefix("-NOPERM")
                && !line.hasPrefix("-ERR operation not permitted")
            {
                return fail("Error reply to PING from master: '\(line)'")
            }
        }
        guard isPsync else {
            phase = .handshake(step: step + 1)
            send(handshake[step + 1])
            return
        }
        let words = line.split(separator: " ").map(String.init)
        if words.first == "+FULLRESYNC", words.count == 3, let offset = Int64(words[2]),
            ReplicationBacklog.validOffsets.contains(offset)
        {
            core.logger.notice("Full resync from master: \(words[1]):\(offset)")
            core.failoverAnswered(accepted: true)
            primaryID = words[1]
            appliedOffset = offset
            phase = .awaitingSnapshot
        } else if words.first == "+CONTINUE" {
            let newID = words.count > 1 ? words[1] : core.replication.id
            core.logger.notice("Successful partial resynchronization with master.")
            if newID != core.replication.id {
                core.logger.notice("Master replication ID changed to \(newID)")
                core.replication.shiftID(to: newID)
                // As Redis: this server's replicas reconnect to learn the new id.
                for replica in core.replication.replicas { replica.connection.terminate() }
            }
            core.failoverAnswered(accepted: true)
            primaryID = newID
            appliedOffset = core.replication.offset
            goOnline()
        } else if line.hasPrefix("-") && !line.hasPrefix("-NOMASTERLINK") && !line.hasPrefix("-LOADING")
            && core.failover.phase != .inProgress
        {
            // As Redis: a primary refusing PSYNC (an old server, or an ACL user without
            // +psync) is asked for a plain SYNC, which answers with the snapshot directly.
            core.logger.notice("Master does not support PSYNC or is in error state (reply: \(line))")
            core.logger.notice("Retrying with SYNC...")
            primaryID = core.replication.id
            appliedOffset = 0
            phase = .awaitingSnapshot
            send(["SYNC"])
        } else {
            fail("Unexpected reply to PSYNC from master: \(line)")
            core.failoverAnswered(accepted: false)
        }
    }

    // MARK: Snapshot

    private func startSnapshot(_ line: String) {
        if line.hasPrefix("-") { return fail("MASTER aborted replication with an error: \(line.dropFirst())") }
        guard line.hasPrefix("$") else { return fail("Bad protocol from MASTER, the first byte is not '$': \(line)") }
        var length = 0
        if line.hasPrefix("$EOF:") {
            endMark = Array(line.utf8.dropFirst(5))
            guard endMark.count == PrimaryLink.endMarkLength else {
                return fail("Bad end-of-snapshot mark from MASTER: \(line)")
            }
        } else {
            endMark = []
            guard let parsed = Int(line.dropFirst()), parsed >= 0 else {
                return fail("Bad snapshot length from MASTER: \(line)")
            }
            length = parsed
        }
        snapshotPath = core.nextTempPath()
        guard let file = try? POSIXFileSystem.shared.create(snapshotPath) else {
            return fail("Opening the temp file needed for MASTER <-> REPLICA synchronization: \(snapshotPath)")
        }
        core.logger.notice(
            endMark.isEmpty
                ? "MASTER <-> REPLICA sync: receiving \(length) bytes from master to disk"
                : "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk")
        snapshotFile = file
        snapshotRemaining = length
        snapshotReceived = 0
        lastBytes = []
        phase = .receivingSnapshot
    }

    /// Writes what arrived of the snapshot; true once it is whole (and loading).
    private func receiveSnapshot() -> Bool {
        if !endMark.isEmpty { return receiveMarkedSnapshot() }
        let take = min(snapshotRemaining, inbound.readableBytes)
        if take > 0, let slice = inbound.readSlice(length: take) {
            if let error = slice.withUnsafeReadableBytes({ snapshotFile?.writeAll($0).error }) {
                fail("Write error writing to the snapshot from the master: \(error)")
                return false
            }
            snapshotRemaining -= take
        }
        guard snapshotRemaining == 0 else { return false }
        snapshotFile?.close()
        snapshotFile = nil
        loadSnapshot()
        return false
    }

    /// A snapshot sent without a length (`$EOF:<mark>`): everything up to the mark. As in
    /// Redis, the mark is recognised at the end of what arrived (the primary sends nothing
    /// after it until this replica acknowledged), and cut from the file.
    private func receiveMarkedSnapshot() -> Bool {
        guard inbound.readableBytes > 0, let slice = inbound.readSlice(length: inbound.readableBytes) else {
            return false
        }
        if let error = slice.withUnsafeReadableBytes({ snapshotFile?.writeAll($0).error }) {
            fail("Write error writing to the snapshot from the master: \(error)")
            return false
        }
        snapshotReceived += slice.readableBytes
        // Only the tail matters: the mark is at most that long.
        lastBytes.append(contentsOf: slice.readableBytesView.suffix(PrimaryLink.endMarkLength))
        if lastBytes.count > PrimaryLink.endMarkLength {
            lastBytes.removeFirst(lastBytes.count - PrimaryLink.endMarkLength)
        }
        guard lastBytes == endMark else { return false }
        do {
            try snapshotFile?.truncate(to: snapshotReceived - PrimaryLink.endMarkLength)
        } catch {
            fail("Truncating the snapshot from the master: \(error)")
            return false
        }
        snapshotFile?.close()
        snapshotFile = nil
        loadSnapshot()
        return false
    }

    private func loadSnapshot() {
        phase = .loading
        // As Redis's replica, which does not read while it loads: the stream produced
        // meanwhile waits in the socket and the primary's buffer for this replica (where
        // its output limit applies), not in this server's memory.
        context?.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        core.logger.notice("MASTER <-> REPLICA sync: Loading DB in memory")
        let path = snapshotPath
        let settings = core.engine.settings
        let count = core.engine.databases.count
        let fileSystem = core.persistence.fileSystem
        let link = NIOLoopBound(self, eventLoop: core.eventLoop)
        let loop = core.eventLoop
        core.persistence.loadingStarted()
        ServerCore.snapshotQueue.async {
            // At full priority (the queue's own is lower): the link is down until it loaded.
            let previous = strata_set_thread_nice(0)
            defer { _ = strata_set_thread_nice(previous) }
            let result = Result {
                try SnapshotReader.load(
                    path: path, fileSystem: fileSystem, databaseCount: count, settings: settings,
                    now: WallClock.nowMilliseconds(), keepExpired: true)
            }
            unlink(path)
            loop.execute { link.value.snapshotLoaded(result) }
        }
    }

    private func snapshotLoaded(_ result: Result<(databases: [Database], report: SnapshotReport), Error>) {
        core.persistence.loadingFinished()
        snapshotPath = ""
        guard phase == .loading else { return }
        switch result {
        case .failure(let error):
            core.logger.warning(
                "MASTER <-> REPLICA sync: Failed trying to load the MASTER synchronization DB from disk: \(error)")
            phase = .connecting
            if let context { context.close(promise: nil) } else { retryLater() }
        case .success(let (databases, report)):
            core.replaceKeyspaceFromPrimary(databases, functions: report.functions)
            core.replication.startHistory(
                id: primaryID, offset: appliedOffset,
                backlogSize: core.replicationSetting("repl-backlog-size", 1_048_576))
            core.engine.recordsEffects = true
            core.logger.notice("MASTER <-> REPLICA sync: Finished with success")
            selectedDb = 0  // the primary's stream selects before its first command
            if context == nil {
                downSince = core.clock.wallMilliseconds()
                retryLater()
            } else {
                goOnline()
            }
        }
    }

    private func discardSnapshot() {
        snapshotFile?.close()
        snapshotFile = nil
        if !snapshotPath.isEmpty && phase != .loading {
            unlink(snapshotPath)
            snapshotPath = ""
        }
    }

    // MARK: The stream

    private func goOnline() {
        phase = .online
        downSince = 0
        commandStart = inbound.readerIndex
        context?.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        context?.read()
        sendAcknowledgement()
        applyStream()
    }

    /// Input applied in one turn of the event loop before the rest waits for the next:
    /// a large backlog from the primary must not keep this server's clients waiting.
    private static let bytesPerTurn = 4 << 20

    /// Once a second: the acknowledgement, or the link closed (and retried) when the
    /// primary sent nothing for `repl-timeout` seconds (it pings every 10 by default).
    func tick(now: Int64) {
        guard let context, phase != .loading else { return }
        if (now - lastIOAt) / 1000 >= Int64(core.replicationSetting("repl-timeout", 60)) {
            core.logger.warning(
                phase == .receivingSnapshot
                    ? "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value."
                    : "MASTER timeout: no data nor PING received...")
            context.close(promise: nil)
            return
        }
        sendAcknowledgement()
    }

    /// `REPLCONF ACK <offset>`.
    func sendAcknowledgement() {
        guard phase == .online else { return }
        send(["REPLCONF", "ACK", String(appliedOffset)])
    }

    /// Applies the whole commands that arrived, up to ``bytesPerTurn`` in this turn of
    /// the event loop (the rest in the next ones).
    private func applyStream() {
        let now = core.clock.wallMilliseconds()
        let turnStart = inbound.readerIndex
        while phase == .online {
            if inbound.readerIndex - turnStart >= PrimaryLink.bytesPerTurn {
                if !continuationScheduled {
                    continuationScheduled = true
                    core.eventLoop.execute { [self] in
                        continuationScheduled = false
                        if phase == .online { applyStream() }
                    }
                }
                break
            }
            let args: [Bytes]
            do {
                guard let parsed = try parser.next(&inbound) else { break }
                args = parsed
            } catch {
                return fail("Protocol error in the stream from the master: \(error)")
            }
            let length = inbound.readerIndex - commandStart
            let isGetAck =
                args.count >= 2 && args[0].equalsIgnoringCase("replconf") && args[1].equalsIgnoringCase("getack")
            if isGetAck { sendAcknowledgement() }
            apply(args, now: now)
            // The command's bytes, read again (a get outside the readable bytes is refused).
            inbound.moveReaderIndex(to: commandStart)
            if let raw = inbound.readSlice(length: length) { core.relayPrimaryStream(raw) }
            appliedOffset += Int64(length)
            commandStart = inbound.readerIndex
        }
        // Compacted once what was read outweighs what is left (moving a large rest every
        // turn would cost more than the turn).
        if !parser.isMidRequest && inbound.readerIndex >= inbound.readableBytes {
            inbound.discardReadBytes()
            commandStart = inbound.readerIndex
        }
    }

    private func apply(_ args: [Bytes], now: Int64) {
        guard let name = args.first?.lowercased.string else { return }
        switch name {
        case "ping", "replconf":
            return
        case "multi":
            transaction = []
        case "exec":
            let queued = transaction ?? []
            transaction = nil
            core.applyFromPrimary(queued, db: &selectedDb, now: now)
        default:
            if transaction != nil {
                transaction?.append(args)
            } else {
                core.applyFromPrimary([args], db: &selectedDb, now: now)
            }
        }
    }
}
