//! A blocking TCP connection with a timeout on each operation, for MIGRATE. Redis 7.0's
//! MIGRATE stops the server while it connects, writes and reads replies (`connSyncWrite`,
//! `connSyncReadLine`); Strata does the same on the event loop, so every step is bounded
//! by the command's timeout: a non-blocking socket and `poll` for each wait.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A connection MIGRATE writes and reads synchronously, each step within a timeout.
protocol BlockingConnection: AnyObject {
    /// Writes all of `bytes`; false on error or timeout.
    func write(_ bytes: [UInt8], timeoutMilliseconds: Int) -> Bool
    /// Reads one line without its `\r\n` (at most `limit` bytes kept); nil on timeout,
    /// error, or when the peer closes first.
    func readLine(timeoutMilliseconds: Int, limit: Int) -> [UInt8]?
}

extension BlockingConnection {
    func readLine(timeoutMilliseconds: Int) -> [UInt8]? {
        readLine(timeoutMilliseconds: timeoutMilliseconds, limit: 1023)
    }
}

/// Lines cut from bytes received: the first whole line is taken out of `pending`; the
/// middle of an overlong line is dropped so that at most `limit` bytes are kept.
func takeLine(from pending: inout [UInt8], limit: Int) -> [UInt8]? {
    if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
        var line = Array(pending[..<newline])
        pending.removeSubrange(...newline)
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return Array(line.prefix(limit))
    }
    if pending.count > limit + 2 { pending.removeSubrange(limit..<(pending.count - 2)) }
    return nil
}

/// A connected socket read and written synchronously.
final class SyncConnection: BlockingConnection {
    private let fd: Int32
    /// Bytes read past the last line returned.
    private var pending: [UInt8] = []

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    /// Connects to `host` (a name or an address) and `port` within `timeoutMilliseconds`:
    /// the first address whose connection starts, once it is writable; nil when none
    /// starts or it is not writable in time.
    static func connect(host: String, port: Int, timeoutMilliseconds: Int) -> SyncConnection? {
        guard port > 0 && port <= 65535 else { return nil }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        let deadline = Deadline(afterMilliseconds: timeoutMilliseconds)
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            let connection = SyncConnection(fd: fd)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if posixConnect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return connection }
            guard errno == EINPROGRESS else { continue }
            // As Redis: a socket that becomes writable counts as connected, even when it is
            // refused; the first write then fails ("error writing", not "connecting").
            return connection.wait(for: Int16(POLLOUT), until: deadline) ? connection : nil
        }
        return nil
    }

    /// Waits until the socket is ready for `events`; false on timeout or error.
    private func wait(for events: Int16, until deadline: Deadline) -> Bool {
        while true {
            let remaining = deadline.remainingMilliseconds
            guard remaining > 0 else { return false }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, Int(Int32.max))))
            if ready > 0 { return true }
            if ready < 0 && errno == EINTR { continue }
            return false
        }
    }

    /// Writes all of `bytes` within `timeoutMilliseconds`; false when it could not.
    func write(_ bytes: [UInt8], timeoutMilliseconds: Int) -> Bool {
        let deadline = Deadline(afterMilliseconds: timeoutMilliseconds)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                offset += written
            } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                guard wait(for: Int16(POLLOUT), until: deadline) else { return false }
            } else {
                return false
            }
        }
        return true
    }

    /// Reads one line within `timeoutMilliseconds`, without its `\r\n`; at most `limit`
    /// bytes are kept (the rest of a longer line is read and dropped). Nil on timeout,
    /// error, or when the peer closes first.
    func readLine(timeoutMilliseconds: Int, limit: Int) -> [UInt8]? {
        let deadline = Deadline(afterMilliseconds: timeoutMilliseconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let line = takeLine(from: &pending, limit: limit) { return line }
            // A peer that keeps sending without a newline never makes recv wait: the
            // deadline is checked on every turn, or it would hold the event loop for ever.
            guard deadline.remainingMilliseconds > 0 else { return nil }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                pending.append(contentsOf: buffer[0..<count])
            } else if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                guard wait(for: Int16(POLLIN), until: deadline) else { return nil }
            } else {
                return nil
            }
        }
    }
}

/// The system's `connect`, which the method of the same name hides.
private func posixConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> Int32 {
    #if canImport(Glibc)
        Glibc.connect(fd, address, length)
    #else
        Darwin.connect(fd, address, length)
    #endif
}

/// A point on the monotonic clock.
private struct Deadline {
    let nanoseconds: UInt64

    init(afterMilliseconds milliseconds: Int) {
        let bounded = UInt64(min(max(0, milliseconds), 1 << 40))  // about 35 years
        nanoseconds = Deadline.now() &+ bounded &* 1_000_000
    }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// Milliseconds left, rounded up; 0 once passed.
    var remainingMilliseconds: Int {
        let current = Deadline.now()
        guard nanoseconds > current else { return 0 }
        return Int((nanoseconds - current + 999_999) / 1_000_000)
    }
}
