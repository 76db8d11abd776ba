import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import StrataEngine
@testable import StrataServer

#if canImport(Glibc)
    import Glibc
#endif

/// A clock the tests move by hand.
final class FakeClock: @unchecked Sendable {
    var wallMicroseconds: Int64 = 1_800_000_000_000_000
    var monotonicNanoseconds: UInt64 = 1_000_000_000
    /// Added to the monotonic clock at every reading (a server that is slow).
    var stepPerReading: UInt64 = 0

    func advance(milliseconds: Int64) {
        wallMicroseconds += milliseconds * 1000
        monotonicNanoseconds += UInt64(milliseconds) * 1_000_000
    }

    var serverClock: ServerClock {
        ServerClock(
            wallMicroseconds: { self.wallMicroseconds },
            monotonicNanoseconds: {
                self.monotonicNanoseconds += self.stepPerReading
                return self.monotonicNanoseconds
            })
    }
}

/// A server core on SwiftNIO's embedded event loop with a fake clock, and client
/// connections on embedded channels.
final class EmbeddedServer {
    let loop = EmbeddedEventLoop()
    let clock = FakeClock()
    let core: ServerCore

    init(configure: (inout ServerConfig) -> Void = { _ in }) {
        var config = ServerConfig()
        configure(&config)
        core = ServerCore(config: config, logger: Logger(label: "test"), eventLoop: loop, clock: clock.serverClock)
        core.configurationChanged()
    }

    /// A connected client.
    func connect() throws -> Client {
        let channel = EmbeddedChannel(loop: loop)
        let session = core.makeSession(address: "127.0.0.1:40000", localAddress: "127.0.0.1:6379", fd: -1)
        let handler = ConnectionHandler(core: core, session: session, allocator: channel.allocator)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        return Client(channel: channel, handler: handler, loop: loop)
    }

    final class Client {
        let channel: EmbeddedChannel
        let handler: ConnectionHandler
        let loop: EmbeddedEventLoop

        init(channel: EmbeddedChannel, handler: ConnectionHandler, loop: EmbeddedEventLoop) {
            self.channel = channel
            self.handler = handler
            self.loop = loop
        }

        /// Sends one command and runs the event loop's pass.
        func send(_ words: String...) throws {
            var buffer = channel.allocator.buffer(capacity: 64)
            buffer.writeString("*\(words.count)\r\n")
            for word in words { buffer.writeString("$\(word.utf8.count)\r\n\(word)\r\n") }
            try channel.writeInbound(buffer)
            loop.run()
        }

        /// Everything written to the client so far, as text.
        func received() throws -> String {
            var text = ""
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
                text += String(buffer: buffer)
            }
            return text
        }

        var state: ConnectionState { handler.state }
    }
}

@Suite("Connections on EmbeddedChannel")
struct ConnectionTests {
    @Test func servesAPipelineAndTransactions() throws {
        let server = EmbeddedServer()
        let client = try server.connect()
        try client.send("PING")
        #expect(try client.received() == "+PONG\r\n")
        try client.send("MULTI")
        try client.send("SET", "k", "v")
        try client.send("EXEC")
        #expect(try client.received() == "+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n")
        #expect(client.state.executesInput)
    }

    @Test func aBlockedClientWaitsAndIsServedByAPush() throws {
        let server = EmbeddedServer()
        let waiter = try server.connect()
        let pusher = try server.connect()
        try waiter.send("BLPOP", "q", "0")
        #expect(waiter.state.blockedClient != nil)
        try waiter.send("PING")  // waits behind the blocked command
        #expect(try waiter.received() == "")
        try pusher.send("RPUSH", "q", "x")
        #expect(try pusher.received() == ":1\r\n")
        #expect(try waiter.received() == "*2\r\n$1\r\nq\r\n$1\r\nx\r\n+PONG\r\n")
        #expect(waiter.state.executesInput)
    }

    @Test func aBlockingTimeoutFollowsTheEventLoopClock() throws {
        let server = EmbeddedServer()
        let waiter = try server.connect()
        try waiter.send("BLPOP", "q", "1.5")
        server.loop.advanceTime(by: .milliseconds(1499))
        #expect(try waiter.received() == "")
        server.loop.advanceTime(by: .milliseconds(1))
        #expect(try waiter.received() == "*-1\r\n")
        #expect(waiter.state.executesInput)
    }

    @Test func aClosingBlockedClientLeavesTheQueues() throws {
        let server = EmbeddedServer()
        let waiter = try server.connect()
        try waiter.send("BLPOP", "q", "0")
        #expect(!server.core.waitQueues.isEmpty)
        try waiter.channel.close().wait()
        server.loop.run()
        #expect(server.core.waitQueues.isEmpty)
        #expect(server.core.clients.isEmpty)
    }

    @Test func idleClientsCloseAfterTimeoutOnTheFakeClock() throws {
        let server = EmbeddedServer { $0.timeout = 10 }
        let idle = try server.connect()
        let subscriber = try server.connect()
        try idle.send("PING")
        try subscriber.send("SUBSCRIBE", "news")
        server.clock.advance(milliseconds: 10_000)
        server.core.closeIdleClients()
        server.loop.run()
        #expect(idle.channel.isActive, "10 s is not more than the timeout")
        server.clock.advance(milliseconds: 1_001)
        server.core.closeIdleClients()
        server.loop.run()
        #expect(!idle.channel.isActive)
        #expect(subscriber.channel.isActive, "subscribers are never idle")
    }

    @Test func aSubscriberOverTheSoftLimitForLongerThanItsSecondsIsClosed() throws {
        let server = EmbeddedServer {
            $0.clientOutputBufferLimits.pubsub = .init(hardBytes: 0, softBytes: 1024, softSeconds: 5)
        }
        let subscriber = try server.connect()
        try subscriber.send("SUBSCRIBE", "news")
        _ = try subscriber.received()
        // Replies accumulate until the event loop's pass ends (the loop is not run here).
        let message = Bytes(String(repeating: "m", count: 2048))
        #expect(server.core.publish(channel: Bytes("news"), message: message) == 1)
        server.clock.advance(milliseconds: 5_000)
        #expect(server.core.publish(channel: Bytes("news"), message: message) == 1)
        #expect(!subscriber.state.isClosing, "5 s over the soft limit is not more than 5 s")
        server.clock.advance(milliseconds: 1_000)
        #expect(server.core.publish(channel: Bytes("news"), message: message) == 1)
        #expect(subscriber.state.isClosing)
    }

    @Test func evictionStopsAtItsTimeBudgetAndGoesOnInTheBackground() throws {
        let server = EmbeddedServer {
            $0.maxMemory = 1
            $0.maxMemoryPolicy = .allKeysRandom
            $0.maxMemoryEvictionTenacity = 10  // 500 µs
        }
        var db = 0
        for index in 0..<1000 {
            _ = server.core.engine.execute([Bytes("SET"), Bytes("k\(index)"), Bytes("v")], db: &db, now: 1)
        }
        server.core.engine.discardRecord()
        server.core.memoryGauge.refresh()
        server.clock.stepPerReading = 1_000_000  // every reading of the clock sees 1 ms pass
        _ = server.core.performEvictions(now: 1)
        #expect(server.core.engine.stats.evictedKeys == 16, "the budget ends the first batch of 16")
        #expect(server.core.backgroundEvictionScheduled)
        server.clock.stepPerReading = 0
        server.loop.run()  // the background task, with time to spare, evicts the rest
        #expect(server.core.engine.keyCount(db: 0) == 0)
    }

    @Test func connectionStateTransitions() {
        final class Dummy {}
        var state = ConnectionState.serving
        #expect(state.executesInput)
        state.holdReplies()
        #expect(state.holdsReplies && !state.executesInput)
        state.releaseReplies()
        #expect(state.executesInput)
        let loop = EmbeddedEventLoop()
        let core = ServerCore(config: ServerConfig(), logger: Logger(label: "test"), eventLoop: loop)
        let channel = EmbeddedChannel(loop: loop)
        let handler = ConnectionHandler(
            core: core, session: core.makeSession(address: "a", localAddress: "b", fd: -1), allocator: channel.allocator
        )
        let parked = BlockedClient(connection: handler, args: [], keys: [])
        state.block(parked)
        #expect(state.blockedClient === parked)
        state.holdReplies()
        #expect(state.holdsReplies && state.blockedClient === parked, "replies before a blocking command wait too")
        state.unblock()
        #expect(state.holdsReplies && state.blockedClient == nil, "still held after the block ends")
        state.block(parked)
        #expect(state.blockedClient == nil, "a held client executes nothing, so it cannot block")
        state.releaseReplies()
        state.startSnapshotTransfer()
        #expect(!state.executesInput && !state.isClosing)
        state.block(parked)
        #expect(state.blockedClient == nil)
        state = .closing
        state.releaseReplies()
        state.unblock()
        #expect(state.isClosing)
    }

    @Test func aScriptCheckpointGoesBusyAtTheThresholdThenServesEveryTenMilliseconds() throws {
        let server = EmbeddedServer()
        let caller = try server.connect()
        let run = ScriptRun(
            name: "spin", isFunction: false, flags: [], readOnly: false, caller: caller.handler, now: 0,
            startedAt: 1_000_000_000, outOfMemoryAtStart: false)
        let threshold: UInt64 = 5_000_000_000
        #expect(run.checkpoint(now: 1_000_000_000 + threshold - 1, busyThresholdNanoseconds: threshold) == .carryOn)
        #expect(
            run.checkpoint(now: 1_000_000_000 + threshold, busyThresholdNanoseconds: threshold)
                == .becameBusy(elapsedMilliseconds: 5_000))
        let busySince = 1_000_000_000 + threshold
        #expect(run.checkpoint(now: busySince + 9_999_999, busyThresholdNanoseconds: threshold) == .carryOn)
        #expect(run.checkpoint(now: busySince + 10_000_000, busyThresholdNanoseconds: threshold) == .serveClients)
        #expect(run.checkpoint(now: busySince + 10_000_001, busyThresholdNanoseconds: threshold) == .carryOn)
        run.killMessage = "Script killed by user with SCRIPT KILL..."
        #expect(
            run.checkpoint(now: busySince + 10_000_002, busyThresholdNanoseconds: threshold)
                == .stop("Script killed by user with SCRIPT KILL..."))
    }

    @Test func aConnectionNotYetActiveWhenAScriptTurnsBusyIsAnsweredAndKeepsItsInput() throws {
        // SwiftNIO activates an accepted channel in a task after the pass that accepted it;
        // a script started in that pass must still answer it (here over a socket pair).
        let server = EmbeddedServer()
        let caller = try server.connect()
        var ends: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0)
        defer { for end in ends { close(end) } }
        let channel = EmbeddedChannel(loop: server.loop)
        let session = server.core.makeSession(
            address: "127.0.0.1:40001", localAddress: "127.0.0.1:6379", fd: Int(ends[0]))
        let handler = ConnectionHandler(core: server.core, session: session, allocator: channel.allocator)
        try channel.pipeline.syncOperations.addHandler(handler)
        #expect(server.core.awaitingActivation.count == 1)
        let request = Array("*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhe".utf8)
        #expect(send(ends[1], request, request.count, 0) == request.count)
        let run = ScriptRun(
            name: "spin", isFunction: false, flags: [], readOnly: false, caller: caller.handler, now: 0,
            startedAt: 0, outOfMemoryAtStart: false)
        server.core.scripting.run = run
        server.core.serveClientsWhileBusy(run)
        var reply = [UInt8](repeating: 0, count: 256)
        let count = recv(ends[1], &reply, reply.count, Int32(MSG_DONTWAIT))
        #expect(count > 0 && String(decoding: reply[0..<max(count, 0)], as: UTF8.self).hasPrefix("-BUSY"))
        server.core.scripting.run = nil
        server.core.adoptBusyClients()
        #expect(handler.pendingInput == Array("*2\r\n$4\r\nECHO\r\n$2\r\nhe".utf8), "the partial command waits")
        #expect(server.core.busyClients.isEmpty)
    }

    @Test func aWaiterThatStillFindsNothingCommitsTheExpiriesItMet() throws {
        let server = EmbeddedServer { $0.notifyKeyspaceEvents = KeyspaceEventTypes(flags: "Ex") ?? [] }
        let watcher = try server.connect()
        let reader = try server.connect()
        let writer = try server.connect()
        try watcher.send("SUBSCRIBE", "__keyevent@0__:expired")
        try writer.send("XADD", "s1", "1-1", "f", "v")
        try writer.send("XADD", "s2", "1-1", "f", "v")
        try writer.send("PEXPIRE", "s2", "1000")
        try reader.send("XREAD", "BLOCK", "0", "STREAMS", "s1", "s2", "$", "$")
        _ = try watcher.received()
        server.clock.advance(milliseconds: 2_000)
        // A write to s1 wakes the reader; it finds no new entry, but meets s2 expired.
        try writer.send("XDEL", "s1", "1-1")
        #expect(reader.state.blockedClient != nil)
        #expect(try watcher.received().contains("$2\r\ns2\r\n"), "the expiry is published")
    }
}
