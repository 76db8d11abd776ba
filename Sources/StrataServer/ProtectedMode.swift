/// Redis's protected mode: with no password set, only loopback clients are served.
public enum ProtectedMode {
    /// Whether a client from `clientAddress` (`ip:port`) must be refused.
    public static func refuses(protectedMode: Bool, hasPassword: Bool, clientAddress: String) -> Bool {
        guard protectedMode && !hasPassword else { return false }
        return !isLoopback(clientAddress)
    }

    /// Whether `address` (`ip:port`, or a bare ip) is a loopback address (127.0.0.0/8, ::1).
    public static func isLoopback(_ address: String) -> Bool {
        var ip = Substring(address)
        if let colon = ip.lastIndex(of: ":"), ip.filter({ $0 == ":" }).count == 1 {
            ip = ip[..<colon]
        } else if ip.hasPrefix("["), let close = ip.firstIndex(of: "]") {
            ip = ip[ip.index(after: ip.startIndex)..<close]
        } else if let colon = ip.lastIndex(of: ":"), ip.contains("."), ip.filter({ $0 == ":" }).count > 1 {
            // IPv6 text with a port appended, e.g. ::ffff:127.0.0.1:5000
            ip = ip[..<colon]
        }
        if ip.hasPrefix("::ffff:") { ip = ip.dropFirst(7) }
        if ip == "::1" || ip == "0:0:0:0:0:0:0:1" { return true }
        return ip.hasPrefix("127.")
    }

    /// Redis 7's DENIED reply text.
    public static let deniedMessage =
        "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."
}
