//! The `cluster-*` parameters, with Redis 7.0's names, defaults and checks. They are kept
//! as text like the compatibility-only ones (`ServerConfig.inertValues`) and read through
//! the typed accessors below, which the cluster code uses.

import StrataCluster

extension ConfigDirective {
    private static let intMax = Int(Int32.max)
    private static let longMax = Int.max

    /// The cluster parameters.
    static let cluster: [ConfigDirective] = [
        keptBool("cluster-allow-pubsubshard-when-down", true),
        keptBool("cluster-allow-reads-when-down", false),
        keptBool("cluster-allow-replica-migration", true),
        keptInt("cluster-announce-bus-port", 0...65535, 0),
        keptString("cluster-announce-hostname", "", validate: validateHostname),
        keptString("cluster-announce-ip", ""),
        keptInt("cluster-announce-port", 0...65535, 0),
        keptInt("cluster-announce-tls-port", 0...65535, 0),
        keptString("cluster-config-file", "nodes.conf", mutable: false),
        keptBool("cluster-enabled", false, mutable: false),
        keptMemory("cluster-link-sendbuf-limit", 0...longMax, 0, unsigned: true),
        keptInt("cluster-migration-barrier", 0...intMax, 1),
        keptInt("cluster-node-timeout", 0...longMax, 15000),
        keptInt("cluster-port", 0...65535, 0, mutable: false),
        keptEnum("cluster-preferred-endpoint-type", ["ip", "hostname", "unknown-endpoint"], "ip"),
        keptBool("cluster-replica-no-failover", false),
        keptInt("cluster-replica-validity-factor", 0...intMax, 10),
        keptBool("cluster-require-full-coverage", true),
    ]
}

extension ServerConfig {
    /// `cluster-enabled`.
    public var clusterEnabled: Bool { inertValues["cluster-enabled"] == "yes" }

    /// `cluster-config-file`, relative to `dir` unless absolute.
    var clusterConfigFile: String { inertValues["cluster-config-file"] ?? "nodes.conf" }

    /// `cluster-port`, or the client port + 10000 when 0 (the TLS port with `tls-cluster`).
    var clusterBusPort: Int {
        let configured = Int(inertValues["cluster-port"] ?? "0") ?? 0
        return configured != 0 ? configured : (tls.cluster ? tls.port : port) + 10_000
    }

    /// The client ports this node announces to the cluster, as Redis derives them: with
    /// `tls-cluster yes` the TLS port, and the plaintext port beside it for plaintext
    /// clients (`cluster-announce-tls-port` and `cluster-announce-port` override them);
    /// otherwise the port (or `cluster-announce-port`) and no plaintext one.
    var clusterAnnouncedPorts: (port: Int, plaintext: Int) {
        let announcedTLS = clusterInt("cluster-announce-tls-port", 0)
        let announced = clusterInt("cluster-announce-port", 0)
        if tls.cluster && announcedTLS != 0 { return (announcedTLS, announced) }
        if tls.cluster { return (announced != 0 ? announced : tls.port, port) }
        return (announced != 0 ? announced : port, 0)
    }

    func clusterInt(_ name: String, _ defaultValue: Int) -> Int { Int(inertValues[name] ?? "") ?? defaultValue }
    func clusterFlag(_ name: String, _ defaultValue: Bool) -> Bool {
        inertValues[name].map { $0 == "yes" } ?? defaultValue
    }

    /// What the cluster state needs of the configuration.
    var clusterSettings: ClusterSettings {
        var settings = ClusterSettings()
        settings.nodeTimeout = Int64(clusterInt("cluster-node-timeout", 15_000))
        settings.requireFullCoverage = clusterFlag("cluster-require-full-coverage", true)
        settings.allowReadsWhenDown = clusterFlag("cluster-allow-reads-when-down", false)
        settings.allowShardPubSubWhenDown = clusterFlag("cluster-allow-pubsubshard-when-down", true)
        settings.replicaNoFailover = clusterFlag("cluster-replica-no-failover", false)
        settings.replicaValidityFactor = Int64(clusterInt("cluster-replica-validity-factor", 10))
        settings.replicationPingPeriod = Int64(clusterInt("repl-ping-replica-period", 10)) * 1000
        settings.allowReplicaMigration = clusterFlag("cluster-allow-replica-migration", true)
        settings.migrationBarrier = Int64(clusterInt("cluster-migration-barrier", 1))
        settings.preferredEndpoint =
            ClusterSettings.PreferredEndpoint(rawValue: inertValues["cluster-preferred-endpoint-type"] ?? "ip") ?? .ip
        return settings
    }
}
