//! systemd's readiness protocol without libsystemd: a `Type=notify` service tells systemd
//! it is ready by sending the datagram `READY=1` to the UNIX socket named in
//! `$NOTIFY_SOCKET` (a path, or an abstract socket when it starts with `@`), and that it is
//! stopping with `STOPPING=1`. Strata sends READY only once the dataset is loaded, as
//! Redis does under `supervised systemd`, so a unit ordered after it finds the data there.

#if canImport(Glibc)
    import Glibc
#endif

/// Sends state changes to systemd's notification socket.
struct SystemdNotifier {
    /// The socket's address as `$NOTIFY_SOCKET` names it.
    let socketPath: String

    /// Why supervision is off although asked for, to log (nil: it is on, or not asked for).
    enum Decision {
        case supervised(SystemdNotifier)
        case notSupervised
        /// `supervised systemd` (or `auto` finding systemd) without `$NOTIFY_SOCKET`.
        case missingSocket
    }

    /// What `supervised` and the environment decide: `systemd`, or `auto` with
    /// `$NOTIFY_SOCKET` set, supervise by systemd; `upstart` and `no` do not here.
    static func decide(supervised: String, environment: [String: String]) -> Decision {
        let socket = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        switch supervised {
        case "systemd":
            guard let socket else { return .missingSocket }
            return .supervised(SystemdNotifier(socketPath: socket))
        case "auto":
            guard let socket else { return .notSupervised }
            return .supervised(SystemdNotifier(socketPath: socket))
        default:
            return .notSupervised
        }
    }

    /// Sends `state` (lines such as `READY=1`); false when the socket could not take it.
    @discardableResult
    func notify(_ state: String) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        // An abstract socket: its name starts with a NUL byte instead of the `@`.
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !path.isEmpty, path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let message = Array(state.utf8)
        let sent = message.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        return sent == message.count
    }
}
