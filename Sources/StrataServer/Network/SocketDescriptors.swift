//! The file descriptors of client sockets. SwiftNIO does not expose a channel's descriptor,
//! and a busy script needs it to read clients itself (`ServerCore+BusyScript.swift`). An
//! accepted socket takes the lowest free descriptor, so the search starts at 0, skips the
//! clients already known and asks each other descriptor for its peer's address: a few
//! `getpeername` calls per connection.

import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Client socket descriptors, found by their addresses.
struct SocketDescriptors {
    private var known: Set<Int32> = []

    /// The descriptor whose peer is `remote` and local end `local`, or -1.
    mutating func find(remote: SocketAddress?, local: SocketAddress?) -> Int {
        guard let remoteIP = remote?.ipAddress, let remotePort = remote?.port, let localPort = local?.port else {
            return -1
        }
        var limits = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits)
        let highest = Int32(clamping: min(limits.rlim_cur, 1 << 20))
        var fd: Int32 = 0
        while fd < highest {
            defer { fd += 1 }
            if known.contains(fd) { continue }
            guard SocketDescriptors.port(of: fd, peer: true) == remotePort,
                SocketDescriptors.port(of: fd, peer: false) == localPort,
                SocketDescriptors.address(of: fd) == remoteIP
            else { continue }
            known.insert(fd)
            return Int(fd)
        }
        return -1
    }

    /// The listening sockets on `port` (searched once, after binding).
    static func listening(port bound: Int) -> [Int32] {
        var found: [Int32] = []
        for fd in Int32(0)..<4096 {
            var accepting: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0, accepting == 1,
                SocketDescriptors.port(of: fd, peer: false) == bound
            else { continue }
            found.append(fd)
        }
        return found
    }

    /// Records a client descriptor known by other means.
    mutating func remember(_ fd: Int) {
        if fd >= 0 { known.insert(Int32(fd)) }
    }

    /// Forgets a closed client's descriptor (the number may be reused).
    mutating func forget(_ fd: Int) {
        if fd >= 0 { known.remove(Int32(fd)) }
    }

    private static func withAddress<T>(of fd: Int32, peer: Bool, _ body: (UnsafePointer<sockaddr>) -> T?) -> T? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address -> T? in
                let status = peer ? getpeername(fd, address, &length) : getsockname(fd, address, &length)
                guard status == 0 else { return nil }
                return body(address)
            }
        }
    }

    private static func port(of fd: Int32, peer: Bool) -> Int? {
        withAddress(of: fd, peer: peer) { address in
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin_port))
                }
            case AF_INET6:
                return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            default:
                return nil
            }
        }
    }

    /// `ip:port` (`[ip]:port` for IPv6) of a socket's peer or local end, as CLIENT LIST shows it.
    static func describe(_ fd: Int32, peer: Bool) -> String {
        guard let ip = address(of: fd, peer: peer), let port = port(of: fd, peer: peer) else { return "?:0" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    private static func address(of fd: Int32, peer: Bool = true) -> String? {
        withAddress(of: fd, peer: peer) { address in
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            let family = Int32(address.pointee.sa_family)
            let converted: UnsafePointer<CChar>?
            switch family {
            case AF_INET:
                converted = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                    withUnsafePointer(to: inet.pointee.sin_addr) {
                        inet_ntop(AF_INET, $0, &text, socklen_t(text.count))
                    }
                }
            case AF_INET6:
                converted = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { inet in
                    withUnsafePointer(to: inet.pointee.sin6_addr) {
                        inet_ntop(AF_INET6, $0, &text, socklen_t(text.count))
                    }
                }
            default:
                return nil
            }
            return converted == nil ? nil : String(cString: text)
        }
    }
}
