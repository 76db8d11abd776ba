//! A small blocking RESP client for `restore --to` and `backup --from`: connects to
//! HOST:PORT (loopback or remote, IPv4 or IPv6), sends pipelined commands and reads replies
//! (framed and parsed by the RESP module's encoder and reply parser), and reads a raw
//! snapshot payload as a replica does. Timeouts make a silent server an error, never a hang.
//! With a TLS context the bytes go through ``TLSTransport``; otherwise straight through the
//! socket.

import Foundation
import NIOSSL
import RESP

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failure talking to a server.
struct ConnectionError: Error, CustomStringConvertible {
    var description: String
}

final class RESPConnection {
    private let fd: Int32
    private let transport: RESPTransport
    private var buffer: [UInt8] = []
    private var position = 0
    private let parser = RESPReplyParser()
    let address: String

    /// Connects to `address` (`HOST:PORT`, `[V6]:PORT`), with TLS when `tls` is given.
    init(_ address: String, timeoutSeconds: Int = 60, tls: NIOSSLContext? = nil) throws {
        self.address = address
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw ConnectionError(description: "\(address): expected HOST:PORT")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw ConnectionError(description: "\(address): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        var lastError = ECONNREFUSED
        var connected: Int32 = -1
        while let info = candidate {
            let socket = Glibc.socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if socket >= 0 {
                if connect(socket, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                    connected = socket
                    break
                }
                lastError = errno
                close(socket)
            }
            candidate = info.pointee.ai_next
        }
        guard connected >= 0 else {
            throw ConnectionError(description: "\(address): \(String(cString: strerror(lastError)))")
        }
        fd = connected
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if let tls {
            // SNI for host names only, as clients send it.
            let isAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
            do {
                transport = try TLSTransport(fd: fd, address: address, context: tls, serverName: isAddress ? nil : host)
            } catch {
                close(fd)
                throw error
            }
        } else {
            transport = PlainTransport(fd: fd, address: address)
        }
    }

    deinit { close(fd) }

    /// Sends `bytes` whole.
    func send(_ bytes: [UInt8]) throws {
        try transport.write(bytes)
    }

    /// Sends one command and reads its reply.
    func call(_ args: [String]) throws -> RESPReply {
        try send(.respCommand(args.map { Array($0.utf8) }))
        return try readReply()
    }

    // MARK: Reading

    private func fill() throws {
        if position > 0 && position == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            position = 0
        } else if position > 1 << 20 {
            buffer.removeFirst(position)
            position = 0
        }
        try transport.read(into: &buffer)
    }

    /// The longest line ``readLine()`` accepts, in bytes.
    static let maximumLineLength = 64 * 1024

    /// One line without its CRLF; a line longer than ``maximumLineLength`` is an error.
    func readLine() throws -> [UInt8] {
        while true {
            if let end = buffer[position...].firstIndex(of: 10) {
                var line = Array(buffer[position..<end])
                if line.last == 13 { line.removeLast() }
                position = end + 1
                return line
            }
            guard buffer.count - position <= RESPConnection.maximumLineLength else {
                throw ConnectionError(
                    description: "\(address): a line longer than \(RESPConnection.maximumLineLength) bytes")
            }
            try fill()
        }
    }

    /// Up to `limit` bytes that have arrived (at least one).
    func readSome(limit: Int) throws -> [UInt8] {
        if position == buffer.count { try fill() }
        let count = min(limit, buffer.count - position)
        let out = Array(buffer[position..<(position + count)])
        position += count
        return out
    }

    /// The largest reply ``readReply()`` waits for. strata-dump's commands get short
    /// replies (`+OK`, errors, counts); a server that sends more is refused rather than
    /// buffered without bound (and re-parsed on every read).
    static let maximumReplyBytes = 16 * 1024 * 1024

    /// One reply; a reply that breaks the protocol is an error naming the server.
    func readReply() throws -> RESPReply {
        while true {
            let parsed: (reply: RESPReply, length: Int)?
            do {
                parsed = try buffer.withUnsafeBytes { raw in
                    try parser.parse(UnsafeRawBufferPointer(rebasing: raw[position...]))
                }
            } catch {
                throw ConnectionError(description: "\(address): \(error)")
            }
            if let (reply, length) = parsed {
                position += length
                return reply
            }
            guard buffer.count - position <= RESPConnection.maximumReplyBytes else {
                throw ConnectionError(
                    description: "\(address): a reply longer than \(RESPConnection.maximumReplyBytes) bytes")
            }
            try fill()
        }
    }

    /// Authenticates when a password is given (`AUTH [user] password`).
    func authenticate(user: String?, password: String?) throws {
        guard let password else { return }
        let reply = try call(["AUTH"] + (user.map { [$0] } ?? []) + [password])
        if case .error(let message) = reply { throw ConnectionError(description: "\(address): AUTH: \(message)") }
    }
}
