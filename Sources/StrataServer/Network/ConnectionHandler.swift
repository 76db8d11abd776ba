//! The per-connection channel handler: the server's hot path. Following DESIGN.md, RESP is
//! parsed directly in the read callback, each command executes inline on the event loop,
//! replies are appended to one outgoing buffer, and that buffer is flushed once per read
//! batch. As Redis does in `beforeSleep`, the flush is deferred until every connection
//! made readable by the same poll has been processed: the clients then wake once to a
//! full set of replies instead of once per reply, which halves the kernel's wake-up work
//! on a busy machine. When the client stops reading its replies, reading its requests
//! stops too (back-pressure), so a slow client cannot grow our memory unbounded.
//!
//! Replies of a plain TCP connection are sent with one `send` on its socket when the
//! channel holds nothing of ours (the common case: the socket takes the whole batch), as
//! Redis writes from `beforeSleep`: SwiftNIO's write path (pipeline hop, pending-write
//! queue, flush bookkeeping) cost more user CPU per unpipelined request than Redis spends
//! on the whole command. Whatever the socket does not take goes through the channel,
//! which waits for the socket to drain; until those writes complete, everything goes the
//! same way, so the bytes keep their order. Each read's buffer is let go of as soon as
//! its input is parsed, so that SwiftNIO's receive pool reuses it instead of allocating
//! one per read.

import NIOCore
import RESP
import StrataEngine
import StrataPersistence

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Handles one client connection.
final class ConnectionHandler: ChannelInboundHandler, HeldRepliesClient {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The server outlives every connection; `unowned(unsafe)` avoids reference counting
    /// on the hot path.
    private unowned(unsafe) let core: ServerCore
    /// The client's state.
    let session: ClientSession
    private var parser: RESPRequestParser<Bytes>
    private var inbound: ByteBuffer
    private var outbound: ByteBuffer
    private var context: ChannelHandlerContext?
    /// Whether input executes, waits (blocked, held, sending a snapshot) or the
    /// connection is closing.
    private(set) var state = ConnectionState.serving
    /// Whether the connection is closing.
    private var closing: Bool { state.isClosing }
    private var hasPendingWrite = false
    /// The AOF offset this client's last write ended at; with `appendfsync always` its
    /// replies are held until the AOF is synced that far.
    var durableOffsetNeeded: UInt64 = 0
    /// Whether the connection is TLS: its socket carries encrypted bytes, so a busy
    /// script cannot read it directly (the client waits for the script instead).
    let encrypted: Bool

    /// The socket replies are sent on directly (``sendDirectly(_:)``), or -1: TLS connections
    /// (the channel encrypts) and sockets whose descriptor is unknown.
    private let directSocket: Int32
    /// Writes handed to the channel that it has not completed; replies are sent directly
    /// only when this is 0, so that they cannot overtake bytes the channel still holds.
    private var channelWritesInFlight = 0
    /// An empty buffer `inbound` is set to when all of a read was parsed, which lets go of
    /// the read's buffer for SwiftNIO to reuse.
    private let emptyInbound: ByteBuffer

    init(core: ServerCore, session: ClientSession, allocator: ByteBufferAllocator, encrypted: Bool = false) {
        self.core = core
        self.session = session
        self.encrypted = encrypted
        self.parser = RESPRequestParser(limits: core.parserLimits, authenticated: session.authenticated)
        self.emptyInbound = allocator.buffer(capacity: 0)
        self.inbound = emptyInbound
        self.outbound = allocator.buffer(capacity: 1024)
        self.directSocket = encrypted || session.fd < 0 || session.fd > Int(Int32.max) ? -1 : Int32(session.fd)
    }

    /// Bytes of unparsed input held for this client.
    var queryBufferSize: Int { inbound.readableBytes }
    /// Bytes of replies held and not yet handed to the socket.
    var outputBufferSize: Int { outbound.readableBytes }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if !context.channel.isActive { core.awaitingActivation.append(self) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        core.awaitingActivation.removeAll { $0 === self }
    }

    /// Input received before the channel existed (a connection accepted while a script was
    /// busy); processed once it is active.
    var pendingInput: [UInt8] = []
    /// Set when the client sent QUIT before the channel was active: it closes at once then.
    var closesWhenActive = false

    func channelActive(context: ChannelHandlerContext) {
        core.awaitingActivation.removeAll { $0 === self }
        if closesWhenActive {
            closeAfterFlush(context)
            return
        }
        if let refusal = core.admit(self) {
            outbound.writeRESPError(refusal)
            closeAfterFlush(context)
            return
        }
        context.fireChannelActive()
        if !pendingInput.isEmpty {
            inbound.writeBytes(pendingInput)
            pendingInput = []
            processInbound(context)
            flushOutbound(context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        core.awaitingActivation.removeAll { $0 === self }
        core.unregister(self)
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var buffer = unwrapInboundIn(data)
        core.stats.netInputBytes += buffer.readableBytes
        core.stats.readsProcessed += 1
        if inbound.readableBytes == 0 {
            inbound = buffer
        } else {
            inbound.writeBuffer(&buffer)
        }
        if exceedsQueryBufferLimit(context) { return }
        processInbound(context)
        _ = exceedsQueryBufferLimit(context)
    }

    /// Closes the client when its unparsed input plus a partly parsed command exceed
    /// `client-query-buffer-limit`, as Redis does.
    private func exceedsQueryBufferLimit(_ context: ChannelHandlerContext) -> Bool {
        let held = inbound.readableBytes + parser.pendingArgumentBytes
        guard !closing, held > core.config.clientQueryBufferLimit else { return false }
        core.logger.warning(
            "Closing client that reached max query buffer length: id=\(session.id) addr=\(session.address)")
        enterClosing()
        context.close(promise: nil)
        return true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if hasPendingWrite || outbound.readableBytes > 0 { core.scheduleFlush(self) }
    }

    /// Starts a SYNC's snapshot transfer: input waits unprocessed until it is sent.
    func startSnapshotTransfer() { state.startSnapshotTransfer() }

    /// Sends `prefix`, then the file at `path` as a snapshot (see ``queueSnapshotFile``),
    /// then closes the connection.
    func sendSnapshotAndClose(prefix: String, path: String, bytes: Int) {
        guard let context, !closing else {
            unlink(path)
            return
        }
        outbound.writeString(prefix)
        let queued = queueSnapshotFile(context, path: path, bytes: bytes) { context.close(promise: nil) }
        enterClosing()
        if !queued { context.close(promise: nil) }
    }

    /// Sends the file at `path` as a replica's snapshot (see ``queueSnapshotFile``), then the
    /// stream produced meanwhile (`held`); the connection goes on as a replica.
    /// `whenSent` runs once the socket took the file.
    func sendSnapshot(path: String, bytes: Int, then held: HeldStream.Contents, whenSent: @escaping () -> Void) {
        guard let context, !closing else {
            unlink(path)
            return
        }
        guard queueSnapshotFile(context, path: path, bytes: bytes, whenSent: whenSent) else {
            core.logger.warning("Could not open the snapshot for replica \(session.address)")
            context.close(promise: nil)
            return
        }
        // Written after the file: the channel keeps writes in order.
        sendReplicationBuffers(held)
        finishSnapshotTransfer()
    }

    /// Writes a chunk of a snapshot streamed to a replica, after what is queued; the
    /// future completes when the socket took it (fails when the connection is gone).
    func sendSnapshotChunk(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        guard let context, !closing else { return core.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
        writeOutbound(context)
        core.stats.netOutputBytes += buffer.readableBytes
        let written = writeToChannel(context, .byteBuffer(buffer))
        context.flush()
        return written
    }

    /// A replica's snapshot is on its way: what it sent meanwhile runs.
    func finishSnapshotTransfer() {
        guard let context, !closing else { return }
        state.endSnapshotTransfer()
        if inbound.readableBytes > 0 { processInbound(context) }
        core.scheduleFlush(self)
    }

    /// Queues what is in `outbound`, then `$<bytes>` and the `bytes`-long file at `path` as
    /// Redis sends a replica its RDB (no trailing CRLF), sent from the file; the file is
    /// removed (the open handle keeps its data). False, the file removed, when it cannot be
    /// opened.
    private func queueSnapshotFile(
        _ context: ChannelHandlerContext, path: String, bytes: Int, whenSent: @escaping () -> Void
    ) -> Bool {
        outbound.writeString("$\(bytes)\r\n")
        writeOutbound(context)
        guard writeFile(context, path: path, bytes: bytes, whenSent: whenSent) else { return false }
        context.flush()
        return true
    }

    /// Writes (without flushing) the `bytes`-long file at `path` with sendfile and removes
    /// the file (the open handle keeps its data). False, the file removed, when it cannot
    /// be opened.
    private func writeFile(
        _ context: ChannelHandlerContext, path: String, bytes: Int, whenSent: @escaping () -> Void = {}
    ) -> Bool {
        do {
            let handle = try NIOFileHandle(path: path)
            unlink(path)
            core.stats.netOutputBytes += bytes
            let region = FileRegion(fileHandle: handle, readerIndex: 0, endIndex: bytes)
            writeToChannel(context, .fileRegion(region)).whenComplete { _ in
                try? handle.close()
                whenSent()
            }
            return true
        } catch {
            unlink(path)
            return false
        }
    }

    /// Makes this connection a replica: what it sends gets no reply.
    func becomeReplica() { session.isReplica = true }

    /// Queues bytes of the replication stream for this replica.
    func sendReplicationBytes(_ bytes: [UInt8]) {
        guard let context, !closing, !bytes.isEmpty else { return }
        outbound.writeBytes(bytes)
        if closesOverOutputLimit(context, pending: backlogBytes + outbound.readableBytes) { return }
        core.scheduleFlush(self)
    }

    /// Writes the stream held for this replica while its snapshot was sent: the buffers as
    /// they are (no copy into the outbound buffer: they can be large), then the `file` the
    /// rest went to, with sendfile (the file is removed once opened).
    func sendReplicationBuffers(_ held: HeldStream.Contents) {
        guard let context, !closing else {
            if let file = held.file { unlink(file.path) }
            return
        }
        writeOutbound(context)
        for buffer in held.chunks {
            core.stats.netOutputBytes += buffer.readableBytes
            _ = writeToChannel(context, .byteBuffer(buffer))
        }
        if let file = held.file, !writeFile(context, path: file.path, bytes: file.bytes) {
            core.logger.warning("Could not open the stream held for replica \(session.address)")
            closeNow()
            return
        }
        context.flush()
    }

    /// Queues a buffer of the replication stream for this replica.
    func sendReplicationBuffer(_ buffer: ByteBuffer) {
        guard let context, !closing else { return }
        var copy = buffer
        outbound.writeBuffer(&copy)
        if closesOverOutputLimit(context, pending: backlogBytes + outbound.readableBytes) { return }
        core.scheduleFlush(self)
    }

    /// Sends an error instead of a snapshot and closes the connection.
    func failSnapshotTransfer(_ message: String) {
        guard let context, !closing else { return }
        outbound.writeRESPError(message)
        closeAfterFlush(context)
    }

    /// The blocking command that parked this client, if any: input waits unprocessed.
    var blocked: BlockedClient? { state.blockedClient }

    /// Parks this client on a blocking command.
    func park(_ client: BlockedClient) { state.block(client) }

    /// Unparks this client (served, timed out, released).
    func unpark() { state.unblock() }

    /// Moves to closing; a parked command is released first (its queues forget it).
    private func enterClosing() {
        if let blocked { core.release(blocked) }
        state = .closing
    }

    /// Ends a block: sends the blocking command's reply and resumes the pipeline.
    func unblock(with reply: Reply) {
        guard let context, !closing else { return }
        ReplyEncoder.write(reply, into: &outbound, version: session.resp)
        if inbound.readableBytes > 0 { processInbound(context) }
        core.scheduleFlush(self)
    }

    /// Bytes of replies handed to the channel since it last accepted more (what the client
    /// has not read yet, beyond the socket's buffers).
    private var backlogBytes = 0
    /// When the pending replies first passed the soft limit, in monotonic ns (0 when under).
    private var softLimitSince: UInt64 = 0

    /// Queues a pub/sub message for this client (sent with the next flush).
    func deliver(_ message: Reply) {
        guard let context, !closing else { return }
        ReplyEncoder.write(message, into: &outbound, version: session.resp)
        if closesOverOutputLimit(context, pending: backlogBytes + outbound.readableBytes) { return }
        core.scheduleFlush(self)
    }

    /// Applies `client-output-buffer-limit` as Redis does, to the class of this client
    /// (`pubsub` while it has subscriptions, else `normal`): past the hard limit, or past
    /// the soft limit for longer than its seconds, the client is closed and its replies
    /// dropped. `pending` is what the client has not read: replies not yet handed to the
    /// channel plus those the channel still holds.
    ///
    /// - Returns: whether the client was closed.
    private func closesOverOutputLimit(_ context: ChannelHandlerContext, pending: Int) -> Bool {
        let limits = core.config.clientOutputBufferLimits
        let limit = session.isReplica ? limits.replica : session.isSubscriber ? limits.pubsub : limits.normal
        var over = limit.hardBytes > 0 && pending > limit.hardBytes
        if limit.softBytes > 0 && pending > limit.softBytes {
            let now = core.clock.monotonicNanoseconds()
            if softLimitSince == 0 { softLimitSince = now }
            // Whole seconds, as Redis counts them: with 0 seconds, over from the next second.
            over = over || (now - softLimitSince) / 1_000_000_000 > UInt64(limit.softSeconds)
        } else {
            softLimitSince = 0
        }
        guard over else { return false }
        core.logger.warning(
            "Client id=\(session.id) addr=\(session.address) closed for overcoming of output buffer limits.")
        enterClosing()
        outbound.clear()
        context.close(promise: nil)
        return true
    }

    /// Writes and flushes what is queued; called by the server after the poll batch.
    func flushNow() {
        guard let context else { return }
        flushOutbound(context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            backlogBytes = 0
            softLimitSince = 0
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            // Input may have been left unprocessed while paused.
            if inbound.readableBytes > 0 && !closing {
                processInbound(context)
                flushOutbound(context)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        enterClosing()
        context.close(promise: nil)
    }

    /// Closes this client at once, dropping what it has not read (a replica that stopped
    /// reading or acknowledging: waiting for its queue to drain could last forever).
    func closeNow() {
        guard let context, !closing else { return }
        enterClosing()
        outbound.clear()
        context.close(promise: nil)
    }

    /// Applies `client-output-buffer-limit` counting `held` more bytes kept elsewhere for
    /// this client (the stream kept for a replica until its snapshot is sent); returns
    /// whether the client was closed.
    func closesOverOutputLimit(holding held: Int) -> Bool {
        guard let context, !closing else { return false }
        return closesOverOutputLimit(context, pending: backlogBytes + outbound.readableBytes + held)
    }

    /// Closes this client (CLIENT KILL, timeout, shutdown) after what is queued is written.
    func terminate() {
        guard let context, !closing else { return }
        closeAfterFlush(context)
    }

    // MARK: Processing

    /// The command held back by CLIENT PAUSE; it runs first when the pause ends.
    private var postponedCommand: [Bytes]?

    /// Whether a command waits for a pause to end.
    var isPostponed: Bool { state.isPostponed }

    /// Runs the command held back by a pause that has ended, then the rest of the input.
    func resumePostponed() {
        guard state.isPostponed, let context else { return }
        state.resume()
        processInbound(context)
        core.scheduleFlush(self)
    }

    private func processInbound(_ context: ChannelHandlerContext) {
        // Strong locals, taken once per batch: calls through the unowned property and the
        // stored session were retained and released around each command.
        let core = self.core
        let session = self.session
        let now = core.clock.wallMilliseconds()
        core.lastCommandEnd = nil  // the first command of the batch reads the clock
        defer { core.lastCommandEnd = nil }
        parser.limits = core.parserLimits  // CONFIG SET applies to connected clients too
        while state.executesInput {
            let held = postponedCommand
            postponedCommand = nil
            guard let command = held ?? nextCommand(context) else { break }
            let logged = core.aof.feed.appendedOffset
            let outcome = core.execute(command, session: session, connection: self, now: now)
            if core.aof.feed.appendedOffset != logged { durableOffsetNeeded = core.aof.feed.appendedOffset }
            if case .postponed = outcome {
                postponedCommand = command
                state.postpone()
                core.notePostponed(self)
                break
            }
            // CLIENT REPLY OFF or SKIP: the reply is dropped (pushes still go out).
            let silenced = session.repliesOff || session.skipsThisReply || session.isReplica
            session.skipsThisReply = false
            if session.skipsNextReply {
                session.skipsNextReply = false
                session.skipsThisReply = true
            }
            guard deliver(silenced ? outcome.silenced : outcome, context) else { return }
            parser.recycle(command)
            core.deliverMonitorLines()
            if core.hasPendingSelfInvalidations { core.deliverSelfInvalidations() }
            parser.authenticated = session.authenticated
            if outbound.readableBytes > 64 * 1024 {
                if !sendDirectly(context) { writeOutbound(context) }
                if !context.channel.isWritable {
                    // The client is not reading: stop reading its requests until it does.
                    context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
                    break
                }
            }
        }
        if inbound.readableBytes == 0 {
            inbound = emptyInbound
        } else if inbound.readerIndex > 1024 * 1024 {
            inbound.discardReadBytes()
        }
    }

    /// Whether this client can be served while a script is busy: idle, readable, not
    /// parked, not closing.
    var canServeWhileBusy: Bool {
        guard let context, state.executesInput, session.fd >= 0, !encrypted else { return false }
        return context.channel.isWritable
    }

    /// Reads what the client sent straight from its socket and answers it, while the event
    /// loop is inside a busy script (see `ServerCore+BusyScript.swift`).
    func serveWhileBusy() {
        guard let context, canServeWhileBusy else { return }
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var total = 0
        while total < 1024 * 1024 {
            let count = chunk.withUnsafeMutableBytes {
                recv(Int32(session.fd), $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
            }
            guard count > 0 else { break }
            inbound.writeBytes(chunk[0..<count])
            total += count
            if count < chunk.count { break }
        }
        core.stats.netInputBytes += total
        while !closing, let command = nextCommand(context) {
            guard deliver(core.executeWhileBusy(command, session: session), context) else { return }
        }
        if !sendDirectly(context) { writeOutbound(context) }
        if hasPendingWrite {
            hasPendingWrite = false
            context.flush()
        }
    }

    /// The next whole command of the input, or nil when more bytes are needed or the input
    /// was malformed (then the error is queued and the connection closes after it).
    private func nextCommand(_ context: ChannelHandlerContext) -> [Bytes]? {
        do {
            return try parser.next(&inbound)
        } catch let error as RESPProtocolError {
            core.noteErrorReply(.error("ERR " + error.message))
            core.logger.debug("Protocol error from client id=\(session.id) addr=\(session.address): \(error.message)")
            outbound.writeRESPError("ERR " + error.message)
        } catch {}
        closeAfterFlush(context)
        return nil
    }

    /// Queues a command's outcome; false once the connection is closing after it.
    private func deliver(_ outcome: CommandOutcome, _ context: ChannelHandlerContext) -> Bool {
        guard outcome.write(into: &outbound, version: session.resp) else {
            closeAfterFlush(context)
            return false
        }
        return true
    }

    /// The buffer handed to the channel by the previous write, reused for the next
    /// replies once the channel has written it (no allocation per flush); small ones only.
    private var spareOutbound: ByteBuffer?

    private func writeOutbound(_ context: ChannelHandlerContext) {
        guard outbound.readableBytes > 0, !closing else { return }
        let bytes = outbound.readableBytes
        if closesOverOutputLimit(context, pending: backlogBytes + bytes) { return }
        core.stats.netOutputBytes += bytes
        let buffer = outbound
        if var spare = spareOutbound {
            spareOutbound = nil
            spare.clear()  // keeps the storage when the channel is done with it, else allocates
            outbound = spare
        } else {
            outbound = context.channel.allocator.buffer(
                capacity: Swift.min(Swift.max(buffer.readableBytes, 1024), 64 * 1024))
        }
        if buffer.capacity <= 16 * 1024 { spareOutbound = buffer }
        _ = writeToChannel(context, .byteBuffer(buffer))
        core.stats.writesProcessed += 1
        hasPendingWrite = true
        if !context.channel.isWritable { backlogBytes += bytes }
    }

    /// Hands `data` to the channel (not flushed), counted in ``channelWritesInFlight`` until
    /// the channel has written it.
    private func writeToChannel(_ context: ChannelHandlerContext, _ data: IOData) -> EventLoopFuture<Void> {
        let promise = context.eventLoop.makePromise(of: Void.self)
        channelWritesInFlight += 1
        promise.futureResult.whenComplete { _ in self.channelWritesInFlight -= 1 }
        context.write(NIOAny(data), promise: promise)
        return promise.futureResult
    }

    /// Sends `outbound` with one `send` on the socket when the channel holds nothing of
    /// ours; true when all of it went, or the client was closed for its output buffer
    /// limit (what the socket did not take stays in `outbound` for the channel to write
    /// once the socket drains). The limit applies to the whole batch before any of it is
    /// sent, as Redis applies it to its reply buffer before writing.
    private func sendDirectly(_ context: ChannelHandlerContext) -> Bool {
        let bytes = outbound.readableBytes
        guard bytes > 0 else { return true }
        guard directSocket >= 0, channelWritesInFlight == 0, !closing else { return false }
        if closesOverOutputLimit(context, pending: backlogBytes + bytes) { return true }
        let sent = outbound.withUnsafeReadableBytes {
            send(directSocket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
        }
        guard sent > 0 else { return false }  // would block, or an error the channel reports
        core.stats.netOutputBytes += sent
        core.stats.writesProcessed += 1
        guard sent == bytes else {
            outbound.moveReaderIndex(forwardBy: sent)
            return false
        }
        outbound.clear()
        return true
    }

    /// Sends the replies held for an fsync and resumes the client's pipeline.
    func releaseHeldReplies() {
        state.releaseReplies()
        guard let context, !closing else { return }
        flushOutbound(context)
        if inbound.readableBytes > 0 && state.executesInput {
            processInbound(context)
            core.scheduleFlush(self)
        }
    }

    private func flushOutbound(_ context: ChannelHandlerContext) {
        if core.mustHoldReplies(until: durableOffsetNeeded) {
            // The replies stay in `outbound` (input waits meanwhile, so they are one batch's).
            if !state.holdsReplies {
                state.holdReplies()
                core.holdUntilDurable(self)
            }
            return
        }
        // An empty buffer counts as sent: a write handed over unflushed must still be flushed.
        if !hasPendingWrite && sendDirectly(context) { return }
        writeOutbound(context)
        if hasPendingWrite {
            hasPendingWrite = false
            context.flush()
        }
    }

    private func closeAfterFlush(_ context: ChannelHandlerContext) {
        enterClosing()
        core.stats.netOutputBytes += outbound.readableBytes
        let buffer = outbound
        outbound = context.channel.allocator.buffer(capacity: 0)
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

/// What the server does after a command.
enum CommandOutcome {
    /// Send the reply.
    case reply(Reply)
    /// Send the reply, then close the connection.
    case replyThenClose(Reply)
    /// Send nothing (the connection is being closed by other means).
    case none
    /// Nothing yet: CLIENT PAUSE holds the command back until the pause ends.
    case postponed

    /// The same outcome without its reply (CLIENT REPLY OFF or SKIP).
    var silenced: CommandOutcome {
        switch self {
        case .reply: return .none
        case .replyThenClose: return .replyThenClose(.sequence([]))
        case .none, .postponed: return self
        }
    }

    /// Encodes the reply, if any, into `buffer`; false when the connection closes after it.
    func write(into buffer: inout ByteBuffer, version: RESPVersion) -> Bool {
        switch self {
        case .reply(let reply):
            ReplyEncoder.write(reply, into: &buffer, version: version)
            return true
        case .replyThenClose(let reply):
            ReplyEncoder.write(reply, into: &buffer, version: version)
            return false
        case .none, .postponed:
            return true
        }
    }
}
