//! TLS for strata-dump's blocking client without an event loop: a SwiftNIO SSL client
//! handler runs inside an `EmbeddedChannel` and the socket is driven by hand. Bytes to
//! send are written to the channel and the encrypted records it produces are sent on the
//! socket; bytes received are fed to the channel and the plaintext it yields is returned.
//! The handshake happens in the initializer, so a refused certificate is an error there.

import NIOCore
import NIOEmbedded
import NIOSSL
import NIOTLS

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Moves bytes between strata-dump and a server: plain or TLS.
protocol RESPTransport: AnyObject {
    /// Sends `bytes` whole.
    func write(_ bytes: [UInt8]) throws
    /// Appends what arrives next (at least one byte) to `buffer`; throws when the peer
    /// closed or nothing came within the socket's timeout.
    func read(into buffer: inout [UInt8]) throws
}

/// The socket itself.
final class PlainTransport: RESPTransport {
    let fd: Int32
    let address: String

    init(fd: Int32, address: String) {
        self.fd = fd
        self.address = address
    }

    func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ConnectionError(description: "\(address): send: \(String(cString: strerror(errno)))")
            }
            sent += n
        }
    }

    func read(into buffer: inout [UInt8]) throws {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffer += chunk[..<n]
                return
            }
            if n < 0 && errno == EINTR { continue }
            if n == 0 { throw ConnectionError(description: "\(address): the server closed the connection") }
            let reason =
                errno == EAGAIN || errno == EWOULDBLOCK ? "no answer (timed out)" : String(cString: strerror(errno))
            throw ConnectionError(description: "\(address): \(reason)")
        }
    }
}

/// TLS over the socket, through an `EmbeddedChannel` holding `NIOSSLClientHandler`.
final class TLSTransport: RESPTransport {
    private let socket: PlainTransport
    private let channel = EmbeddedChannel()
    private let watcher = HandshakeWatcher()

    /// Connects TLS over the connected socket `fd` and completes the handshake.
    /// `serverName` is sent as SNI (host names only, not addresses).
    init(fd: Int32, address: String, context: NIOSSLContext, serverName: String?) throws {
        socket = PlainTransport(fd: fd, address: address)
        do {
            let handler = try NIOSSLClientHandler(context: context, serverHostname: serverName)
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.pipeline.syncOperations.addHandler(watcher)
            // The embedded channel's "connection" starts the handshake.
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 0)).wait()
        } catch {
            throw ConnectionError(description: "\(address): TLS: \(error)")
        }
        var ignored: [UInt8] = []
        while !watcher.completed {
            try sendPending()
            if watcher.completed { break }
            try receiveRecords(into: &ignored)
        }
        try sendPending()
    }

    /// Ends TLS politely (close_notify), without waiting for the server's answer: the
    /// handler's shutdown timer is run at once by moving the embedded clock past it.
    deinit {
        channel.close(promise: nil)
        try? sendPending()
        channel.embeddedEventLoop.advanceTime(by: .seconds(3600))
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }

    func write(_ bytes: [UInt8]) throws {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        do {
            try channel.writeAndFlush(buffer).wait()
        } catch {
            throw ConnectionError(description: "\(socket.address): TLS: \(error)")
        }
        try sendPending()
    }

    func read(into buffer: inout [UInt8]) throws {
        let before = buffer.count
        while buffer.count == before {
            try receiveRecords(into: &buffer)
            try sendPending()
        }
    }

    /// Sends what the TLS handler has produced (handshake messages, records, alerts).
    private func sendPending() throws {
        while true {
            let pending: ByteBuffer?
            do {
                pending = try channel.readOutbound(as: ByteBuffer.self)
            } catch {
                throw ConnectionError(description: "\(socket.address): TLS: \(error)")
            }
            guard let pending else { return }
            try socket.write(Array(pending.readableBytesView))
        }
    }

    /// Reads from the socket once, feeds it to the TLS handler and appends the plaintext
    /// that came out (possibly none: part of a record, a handshake message).
    private func receiveRecords(into buffer: inout [UInt8]) throws {
        var raw: [UInt8] = []
        try socket.read(into: &raw)
        var input = channel.allocator.buffer(capacity: raw.count)
        input.writeBytes(raw)
        do {
            try channel.writeInbound(input)
            while let plain = try channel.readInbound(as: ByteBuffer.self) {
                buffer += plain.readableBytesView
            }
        } catch {
            throw ConnectionError(description: "\(socket.address): TLS: \(TLSTransport.describe(error))")
        }
    }

    /// A SwiftNIO SSL error in a few words.
    static func describe(_ error: Error) -> String {
        let text = "\(error)"
        if let start = text.range(of: "error:") {
            let rest = text[start.lowerBound...]
            let end = rest.range(of: " at ")?.lowerBound ?? rest.endIndex
            return String(rest[..<end])
        }
        return text
    }
}

/// Notes when the handshake completed.
private final class HandshakeWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private(set) var completed = false

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.handshakeCompleted) = event as? TLSUserEvent { completed = true }
        context.fireUserInboundEventTriggered(event)
    }
}
