import Foundation
import Testing

@testable import StrataServer

#if canImport(Glibc)
    import Glibc
#endif

/// `supervised` and `$NOTIFY_SOCKET` decide supervision as Redis decides it, and a
/// notification arrives as one datagram on the socket, a path or an abstract name.
@Suite("systemd notifications")
struct SystemdNotifierTests {
    @Test func supervisedAndTheEnvironmentDecide() {
        func decision(_ supervised: String, _ socket: String?) -> String {
            switch SystemdNotifier.decide(
                supervised: supervised, environment: socket.map { ["NOTIFY_SOCKET": $0] } ?? [:])
            {
            case .supervised(let notifier): return "supervised " + notifier.socketPath
            case .notSupervised: return "no"
            case .missingSocket: return "missing"
            }
        }
        #expect(decision("systemd", "/run/n") == "supervised /run/n")
        #expect(decision("auto", "@n") == "supervised @n")
        #expect(decision("systemd", nil) == "missing")
        #expect(decision("systemd", "") == "missing")
        #expect(decision("auto", nil) == "no")
        #expect(decision("no", "/run/n") == "no")
        #expect(decision("upstart", "/run/n") == "no")
    }

    /// A datagram socket bound at `address` (abstract when it starts with `@`).
    private func boundSocket(_ address: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var name = sockaddr_un()
        name.sun_family = sa_family_t(AF_UNIX)
        var path = Array(address.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        withUnsafeMutableBytes(of: &name.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let bound = withUnsafePointer(to: &name) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        #expect(bound == 0)
        return fd
    }

    private func receive(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
    }

    @Test(arguments: [false, true])
    func aNotificationIsOneDatagram(abstract: Bool) {
        let name = "strata-notify-test-\(getpid())-\(abstract)"
        let address = abstract ? "@" + name : NSTemporaryDirectory() + name
        unlink(address)
        let fd = boundSocket(address)
        defer {
            close(fd)
            if !abstract { unlink(address) }
        }
        #expect(SystemdNotifier(socketPath: address).notify("READY=1\n"))
        #expect(receive(fd) == "READY=1\n")
        #expect(!SystemdNotifier(socketPath: NSTemporaryDirectory() + "nobody-listens-\(getpid())").notify("READY=1\n"))
        #expect(!SystemdNotifier(socketPath: "/" + String(repeating: "x", count: 200)).notify("READY=1\n"))
    }
}
