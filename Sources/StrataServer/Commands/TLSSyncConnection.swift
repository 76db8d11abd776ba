//! MIGRATE over TLS (`tls-cluster yes`, as Redis 7.0 connects then). The command blocks
//! the event loop like the plaintext path, but TLS needs an engine to drive the
//! handshake and records, so the connection lives on a private one-thread event loop
//! and the caller waits for each step with a deadline: bytes received are queued under
//! a lock and a semaphore wakes the waiting reader.

import Dispatch
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// A TLS connection written and read synchronously from another thread.
final class TLSSyncConnection: BlockingConnection {
    /// The event loop of every MIGRATE over TLS (started on first use).
    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    private let channel: Channel
    private let inbox: Inbox

    private init(channel: Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    deinit {
        channel.close(promise: nil)
    }

    /// Connects to `host:port` and completes the TLS handshake with `context` (the peer
    /// checked against the CA, without a host name, as Redis) within the timeout; nil
    /// when either fails.
    static func connect(host: String, port: Int, context: NIOSSLContext, timeoutMilliseconds: Int)
        -> TLSSyncConnection?
    {
        guard port > 0 && port <= 65535 else { return nil }
        let inbox = Inbox()
        let timeout = TimeAmount.milliseconds(Int64(max(timeoutMilliseconds, 1)))
        let connected = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try NIOSSLClientHandler(context: context, serverHostname: nil)
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHandler(InboxHandler(inbox: inbox))
                }
            }
            .connect(host: host, port: port)
        // No `wait()`: the caller is an event loop thread, where NIO forbids blocking waits.
        let outcome = NIOLockedValueBox<Result<Channel, Error>?>(nil)
        connected.whenComplete { result in
            outcome.withLockedValue { $0 = result }
            inbox.wake()
        }
        guard inbox.waitFor(timeoutMilliseconds: timeoutMilliseconds, { outcome.withLockedValue { $0 != nil } }),
            case .success(let channel)? = outcome.withLockedValue({ $0 })
        else {
            connected.whenSuccess { $0.close(promise: nil) }
            return nil
        }
        let connection = TLSSyncConnection(channel: channel, inbox: inbox)
        guard inbox.waitFor(timeoutMilliseconds: timeoutMilliseconds, { inbox.handshakeDone || inbox.closed }),
            !inbox.closed
        else { return nil }
        return connection
    }

    func write(_ bytes: [UInt8], timeoutMilliseconds: Int) -> Bool {
        let outcome = NIOLockedValueBox<Bool?>(nil)
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).whenComplete { [inbox] result in
            outcome.withLockedValue { $0 = (try? result.get()) != nil }
            inbox.wake()
        }
        guard inbox.waitFor(timeoutMilliseconds: timeoutMilliseconds, { outcome.withLockedValue { $0 != nil } })
        else { return false }
        return outcome.withLockedValue { $0 } == true
    }

    func readLine(timeoutMilliseconds: Int, limit: Int) -> [UInt8]? {
        var line: [UInt8]?
        let ready = inbox.waitFor(timeoutMilliseconds: timeoutMilliseconds) {
            line = inbox.nextLine(limit: limit)
            return line != nil || inbox.closed
        }
        return ready ? line : nil
    }
}

/// What the connection's event loop hands the waiting thread.
private final class Inbox: @unchecked Sendable {
    private let lock = NIOLock()
    private let signal = DispatchSemaphore(value: 0)
    private var pending: [UInt8] = []
    private var _closed = false
    private var _handshakeDone = false

    var closed: Bool { lock.withLock { _closed } }
    var handshakeDone: Bool { lock.withLock { _handshakeDone } }

    func received(_ buffer: ByteBuffer) {
        lock.withLock { pending.append(contentsOf: buffer.readableBytesView) }
        wake()
    }

    func markClosed() {
        lock.withLock { _closed = true }
        wake()
    }

    func markHandshakeDone() {
        lock.withLock { _handshakeDone = true }
        wake()
    }

    func nextLine(limit: Int) -> [UInt8]? { lock.withLock { takeLine(from: &pending, limit: limit) } }

    func wake() { signal.signal() }

    /// Waits until `condition` holds or the timeout passes; true when it holds.
    func waitFor(timeoutMilliseconds: Int, _ condition: () -> Bool) -> Bool {
        let deadline = DispatchTime.now() + .milliseconds(max(timeoutMilliseconds, 1))
        while !condition() {
            if signal.wait(timeout: deadline) == .timedOut { return condition() }
        }
        return true
    }
}

/// Feeds the inbox from the channel.
private final class InboxHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let inbox: Inbox

    init(inbox: Inbox) { self.inbox = inbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.received(unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { inbox.markHandshakeDone() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.markClosed()
    }
}
