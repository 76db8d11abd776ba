/// What this node knows of a node of the cluster (itself included).
public struct ClusterNode: Equatable, Sendable {
    /// 40 lowercase hex characters, chosen at random by the node when it starts first.
    public var name: String
    public var flags: ClusterNodeFlags
    public var ip: String
    /// The client port (the TLS port when the node serves TLS).
    public var port: Int
    /// The plaintext port when `port` is a TLS port, else 0.
    public var plaintextPort: Int
    public var busPort: Int
    /// The announced hostname, empty when none.
    public var hostname: String
    /// The primary of a replica.
    public var primary: String?
    /// The epoch at which its slots were last claimed.
    public var configEpoch: UInt64
    /// The slots it serves (always empty for a replica).
    public var slots: SlotBitmap
    /// Unix ms of the PING still waiting for its PONG (0: none).
    public var pingSent: Int64
    /// Unix ms of the last PONG received.
    public var pongReceived: Int64
    /// Unix ms of the last bytes received from it on any link.
    public var dataReceived: Int64
    /// Unix ms when it was marked failing.
    public var failTime: Int64
    /// Unix ms when this node voted for a replica of it.
    public var votedTime: Int64
    /// Its replication offset, as its last message said.
    public var replicationOffset: UInt64
    /// Primaries that reported it as possibly failing, with the Unix ms of each report.
    public var failureReports: [String: Int64]
    /// Unix ms when it was created (handshakes time out from there).
    public var createdAt: Int64

    public init(name: String, flags: ClusterNodeFlags, ip: String = "", port: Int = 0, busPort: Int = 0, now: Int64) {
        (self.name, self.flags, self.ip, self.port, self.busPort) = (name, flags, ip, port, busPort)
        plaintextPort = 0
        hostname = ""
        primary = nil
        configEpoch = 0
        slots = SlotBitmap()
        (pingSent, pongReceived, dataReceived, failTime, votedTime) = (0, 0, 0, 0, 0)
        replicationOffset = 0
        failureReports = [:]
        createdAt = now
    }

    public var isPrimary: Bool { flags.contains(.primary) }
    public var isReplica: Bool { flags.contains(.replica) }
    public var isMyself: Bool { flags.contains(.myself) }
    public var inHandshake: Bool { flags.contains(.handshake) }
    public var isFailing: Bool { flags.contains(.failing) }
    public var isPossiblyFailing: Bool { flags.contains(.possiblyFailing) }
    public var hasAddress: Bool { !flags.contains(.noAddress) }
}

/// Node names: 40 random lowercase hex characters.
public enum ClusterNodeName {
    /// A new random name.
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef")
        return String((0..<ClusterBusMessage.nameLength).map { _ in digits[Int(generator.next() & 15)] })
    }

    /// Whether `name` has the form of a node name (Redis's `verifyClusterNodeId`).
    public static func isValid<S: StringProtocol>(_ name: S) -> Bool {
        name.utf8.count == ClusterBusMessage.nameLength
            && name.utf8.allSatisfy { (48...57).contains($0) || (97...122).contains($0) }
    }
}
