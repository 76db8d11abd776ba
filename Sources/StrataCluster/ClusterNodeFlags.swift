/// A node's flags, with Redis Cluster's bit values (they travel on the bus as they are).
public struct ClusterNodeFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let primary = ClusterNodeFlags(rawValue: 1)
    public static let replica = ClusterNodeFlags(rawValue: 2)
    /// Possibly failing: this node has not heard from it within the node timeout.
    public static let possiblyFailing = ClusterNodeFlags(rawValue: 4)
    /// Failing: a majority of primaries agreed.
    public static let failing = ClusterNodeFlags(rawValue: 8)
    public static let myself = ClusterNodeFlags(rawValue: 16)
    /// Met, but its name is not known yet (the first PONG tells it).
    public static let handshake = ClusterNodeFlags(rawValue: 32)
    /// Its address is unknown.
    public static let noAddress = ClusterNodeFlags(rawValue: 64)
    /// A MEET is to be sent to it instead of a PING.
    public static let meet = ClusterNodeFlags(rawValue: 128)
    /// A primary that replicas may migrate to.
    public static let migrateTarget = ClusterNodeFlags(rawValue: 256)
    /// A replica that will not attempt a failover.
    public static let noFailover = ClusterNodeFlags(rawValue: 512)

    /// The flags as `CLUSTER NODES` and `nodes.conf` print them, in Redis's order;
    /// `noflags` when none of the printed ones is set.
    public var description: String {
        let names: [(ClusterNodeFlags, String)] = [
            (.myself, "myself"), (.primary, "master"), (.replica, "slave"), (.possiblyFailing, "fail?"),
            (.failing, "fail"), (.handshake, "handshake"), (.noAddress, "noaddr"), (.noFailover, "nofailover"),
        ]
        let printed = names.filter { contains($0.0) }.map(\.1)
        return printed.isEmpty ? "noflags" : printed.joined(separator: ",")
    }

    /// Parses the printed form (as `nodes.conf` holds it); unknown names are ignored.
    public init(description: Substring) {
        self = []
        for name in description.split(separator: ",") {
            switch name {
            case "myself": insert(.myself)
            case "master": insert(.primary)
            case "slave": insert(.replica)
            case "fail?": insert(.possiblyFailing)
            case "fail": insert(.failing)
            case "handshake": insert(.handshake)
            case "noaddr": insert(.noAddress)
            case "nofailover": insert(.noFailover)
            default: break
            }
        }
    }
}
