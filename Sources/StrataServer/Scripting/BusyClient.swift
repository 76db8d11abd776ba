//! A connection accepted while a script is busy. SwiftNIO cannot accept while the event
//! loop is inside the script, so the busy checkpoint accepts from the listening sockets
//! itself and answers these clients over the raw socket (`-BUSY`, or `SCRIPT KILL` and
//! the other commands allowed then). When the script ends, each is handed to SwiftNIO
//! (`ClientBootstrap.withConnectedSocket`) with the input it has not answered yet.

import NIOCore
import RESP
import StrataEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A client served over its raw socket while a script is busy.
final class BusyClient {
    /// Its socket.
    let fd: Int32
    /// Everything received that does not form a whole command yet.
    private(set) var unanswered: [UInt8] = []
    /// Set after QUIT or a closed socket: not handed over.
    private(set) var closed = false
    /// Its session, kept when it is handed over.
    let session: ClientSession
    /// The SwiftNIO handler already made for this socket, when SwiftNIO accepted it in the
    /// pass that started the script but had not activated it yet: the socket belongs to
    /// SwiftNIO, so it is never closed here and never adopted again.
    let pendingHandler: ConnectionHandler?

    init(fd: Int32, session: ClientSession, pendingHandler: ConnectionHandler? = nil) {
        self.fd = fd
        self.session = session
        self.pendingHandler = pendingHandler
    }

    /// Reads what the client sent and answers every whole command.
    func serve(core: ServerCore) {
        guard !closed else { return }
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while unanswered.count < 1024 * 1024 {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                finish()
                return
            }
            guard count > 0 else { break }
            unanswered += chunk[0..<count]
            if count < chunk.count { break }
        }
        var input = ByteBufferAllocator().buffer(bytes: unanswered)
        var output = ByteBufferAllocator().buffer(capacity: 256)
        var parser = RESPRequestParser<Bytes>(limits: core.parserLimits, authenticated: session.authenticated)
        var answered = 0
        var quit = false
        while !quit {
            let command: [Bytes]?
            do {
                command = try parser.next(&input)
            } catch let error as RESPProtocolError {
                output.writeRESPError("ERR " + error.message)
                quit = true
                break
            } catch {
                quit = true
                break
            }
            guard let command else { break }
            answered = input.readerIndex
            quit = !core.executeWhileBusy(command, session: session).write(into: &output, version: session.resp)
        }
        unanswered.removeFirst(answered)
        output.withUnsafeReadableBytes { bytes in
            var sent = 0
            while sent < bytes.count {
                let count = send(fd, bytes.baseAddress.map { $0 + sent }, bytes.count - sent, Int32(MSG_NOSIGNAL))
                guard count > 0 else { break }
                sent += count
            }
        }
        if quit { finish() }
    }

    private func finish() {
        closed = true
        if pendingHandler == nil { close(fd) }
    }
}

extension ServerCore {
    /// Accepts the connections waiting on `listener` as busy clients.
    func acceptWhileBusy(_ listener: Int32) {
        for _ in 0..<64 {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let session = makeSession(
                address: SocketDescriptors.describe(fd, peer: true),
                localAddress: SocketDescriptors.describe(fd, peer: false),
                fd: Int(fd))
            busyClients.append(BusyClient(fd: fd, session: session))
        }
    }

    /// Hands the connections accepted during a busy script to SwiftNIO; those SwiftNIO had
    /// accepted but not activated get what they sent and was not answered as input, and
    /// close once active if they asked to (QUIT).
    func adoptBusyClients() {
        let accepted = busyClients
        busyClients.removeAll()
        for client in accepted {
            if let handler = client.pendingHandler {
                handler.pendingInput = client.unanswered
                handler.closesWhenActive = client.closed
            } else if !client.closed {
                adoptSocket?(client.fd, client.unanswered, client.session)
            }
        }
    }
}
