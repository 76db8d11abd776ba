//! One node's view of the cluster: the nodes it knows, who serves each hash slot, the
//! slots it is moving in or out, the epochs, and whether the cluster is usable. The value
//! is plain data with no I/O: the server feeds it commands, bus messages and the clock,
//! performs what it asks for (connect, send, save `nodes.conf`), and the same inputs give
//! the same state in tests.

/// Settings of the cluster the state needs (the `cluster-*` directives).
public struct ClusterSettings: Equatable, Sendable {
    /// `cluster-node-timeout`, ms; kept within 0...``maxNodeTimeout`` (the directive takes
    /// any long, and the protocol's arithmetic multiplies it).
    public var nodeTimeout: Int64 = 15_000 {
        didSet { nodeTimeout = min(max(nodeTimeout, 0), ClusterSettings.maxNodeTimeout) }
    }
    /// The largest node timeout used: about 35 years.
    public static let maxNodeTimeout: Int64 = 1 << 40
    /// `cluster-require-full-coverage`.
    public var requireFullCoverage = true
    /// `cluster-allow-reads-when-down`.
    public var allowReadsWhenDown = false
    /// `cluster-allow-pubsubshard-when-down`.
    public var allowShardPubSubWhenDown = true
    /// `cluster-replica-no-failover`.
    public var replicaNoFailover = false
    /// `cluster-replica-validity-factor` (0: any replica may fail over), at most 2^31 - 1.
    public var replicaValidityFactor: Int64 = 10 {
        didSet { replicaValidityFactor = min(max(replicaValidityFactor, 0), Int64(Int32.max)) }
    }
    /// `repl-ping-replica-period`, ms, at most ``maxNodeTimeout``.
    public var replicationPingPeriod: Int64 = 10_000 {
        didSet { replicationPingPeriod = min(max(replicationPingPeriod, 0), ClusterSettings.maxNodeTimeout) }
    }
    /// `cluster-allow-replica-migration`: a replica may move to an orphaned primary, and
    /// a primary left without slots follows the node that took them.
    public var allowReplicaMigration = true
    /// `cluster-migration-barrier`: the working replicas a primary keeps before one of
    /// them moves to an orphaned primary.
    public var migrationBarrier: Int64 = 1
    /// `cluster-preferred-endpoint-type`: how nodes are named to clients.
    public var preferredEndpoint: PreferredEndpoint = .ip

    /// `cluster-preferred-endpoint-type`.
    public enum PreferredEndpoint: String, Sendable { case ip, hostname, unknownEndpoint = "unknown-endpoint" }

    public init() {}
}

/// The cluster as this node sees it.
public struct ClusterState: Sendable {
    /// This node's name.
    public internal(set) var myself: String
    /// Every node known, this one included, by name.
    public internal(set) var nodes: [String: ClusterNode]
    /// Node names in the order they became known (listings follow it).
    public internal(set) var order: [String]
    /// The primary serving each slot.
    public internal(set) var slotOwners: [String?]
    /// The slots this node serves (kept beside the owners for the check before each command).
    public internal(set) var mySlots = SlotBitmap()
    /// Slots this node is handing over, to the node receiving them (`SETSLOT MIGRATING`).
    public internal(set) var migratingTo: [Int: String] = [:]
    /// Slots this node is receiving, from the node handing them over (`SETSLOT IMPORTING`).
    public internal(set) var importingFrom: [Int: String] = [:]
    /// The highest epoch seen in the cluster.
    public internal(set) var currentEpoch: UInt64 = 0
    /// The epoch of this node's last vote for a failover.
    public internal(set) var lastVoteEpoch: UInt64 = 0
    /// Whether the cluster accepts queries (`cluster_state:ok`).
    public internal(set) var isOK = false
    /// Primaries serving at least one slot.
    public internal(set) var size = 0
    public var settings: ClusterSettings
    /// Messages sent (counted by the server as they leave) and received, by type.
    public var sentByType = [UInt64](repeating: 0, count: ClusterMessageType.allCases.count)
    public var receivedByType = [UInt64](repeating: 0, count: ClusterMessageType.allCases.count)
    /// Set by every change `nodes.conf` must record; the server saves and clears it.
    public var needsSave = false
    /// Unix ms of the first state evaluation, and of the last time this node was in a
    /// minority partition (rejoin delays).
    var firstStateCheck: Int64?
    var amongMinoritySince: Int64 = 0
    /// A failover election or manual failover under way.
    var election = FailoverElection()
    /// Names this node refuses to re-add for a minute after `CLUSTER FORGET`.
    var forgotten: [String: Int64] = [:]
    /// Primaries without a working replica that used to have one, with the Unix ms when
    /// this node first saw them so (replica migration waits for it to last).
    var orphanedSince: [String: Int64] = [:]

    /// A new cluster of one node, named `name` (random when nil).
    public init(name: String? = nil, settings: ClusterSettings = ClusterSettings(), now: Int64) {
        let me = name ?? ClusterNodeName.random()
        myself = me
        nodes = [me: ClusterNode(name: me, flags: [.myself, .primary], now: now)]
        order = [me]
        slotOwners = Array(repeating: nil, count: HashSlot.count)
        self.settings = settings
    }

    /// This node.
    public var me: ClusterNode {
        get { nodes[myself] ?? ClusterNode(name: myself, flags: [.myself, .primary], now: 0) }
        set { nodes[myself] = newValue }
    }

    /// The node named `name`.
    public func node(_ name: String) -> ClusterNode? { nodes[name] }

    /// The nodes in listing order.
    public var orderedNodes: [ClusterNode] { order.compactMap { nodes[$0] } }

    /// Replicas of `primary`, in listing order.
    public func replicas(of primary: String) -> [ClusterNode] {
        orderedNodes.filter { $0.isReplica && $0.primary == primary }
    }

    // MARK: Nodes

    /// Adds `node` (replacing one of the same name).
    public mutating func add(_ node: ClusterNode) {
        if nodes[node.name] == nil { order.append(node.name) }
        nodes[node.name] = node
        needsSave = true
    }

    /// Removes `name`: its slots become unassigned, failure reports it made are dropped,
    /// replicas of it keep a dangling primary until they say otherwise.
    public mutating func remove(_ name: String) {
        guard nodes.removeValue(forKey: name) != nil else { return }
        order.removeAll { $0 == name }
        for slot in 0..<HashSlot.count where slotOwners[slot] == name { slotOwners[slot] = nil }
        for (slot, target) in migratingTo where target == name { migratingTo[slot] = nil }
        for (slot, source) in importingFrom where source == name { importingFrom[slot] = nil }
        for other in order { nodes[other]?.failureReports[name] = nil }
        orphanedSince[name] = nil
        needsSave = true
    }

    /// Renames a node met in a handshake to the name its first PONG gave.
    public mutating func rename(_ old: String, to new: String) {
        guard var node = nodes.removeValue(forKey: old) else { return }
        node.name = new
        node.flags.remove(.handshake)
        nodes[new] = node
        if let i = order.firstIndex(of: old) { order[i] = new }
        needsSave = true
    }

    /// Changes a node's fields through `body`.
    public mutating func update(_ name: String, _ body: (inout ClusterNode) -> Void) {
        guard var node = nodes[name] else { return }
        body(&node)
        nodes[name] = node
    }

    /// Whether a handshake with `ip:port` (bus port `busPort`) is already under way.
    public func handshakeInProgress(ip: String, port: Int, busPort: Int) -> Bool {
        nodes.values.contains { $0.inHandshake && $0.ip == ip && $0.port == port && $0.busPort == busPort }
    }

    /// Starts a handshake with the node at `ip:port`: it is added under a random name
    /// with the handshake and meet flags; the first PONG tells its name. False when one
    /// is already under way.
    @discardableResult
    public mutating func startHandshake(ip: String, port: Int, busPort: Int, now: Int64) -> Bool {
        if handshakeInProgress(ip: ip, port: port, busPort: busPort) { return false }
        add(
            ClusterNode(
                name: ClusterNodeName.random(), flags: [.handshake, .meet], ip: ip, port: port, busPort: busPort,
                now: now))
        return true
    }

    // MARK: Slots

    /// Assigns `slot` to `owner` (nil: unassigned), keeping the nodes' bitmaps in step.
    public mutating func assign(_ slot: Int, to owner: String?) {
        if let previous = slotOwners[slot] { nodes[previous]?.slots.set(slot, false) }
        slotOwners[slot] = owner
        if let owner { nodes[owner]?.slots.set(slot, true) }
        mySlots.set(slot, owner == myself)
        needsSave = true
    }

    /// Whether this node serves `slot` with nothing moving in or out: a command whose keys
    /// are all in it runs here without further questions.
    @inlinable
    public func servesSettled(_ slot: Int) -> Bool {
        isOK && mySlots.contains(slot) && (migratingTo.isEmpty || migratingTo[slot] == nil)
            && (importingFrom.isEmpty || importingFrom[slot] == nil)
    }

    /// The number of slots `name` serves.
    public func slotCount(of name: String) -> Int { nodes[name]?.slots.count ?? 0 }

    /// The primary this node follows, or itself when it is a primary.
    public var myPrimary: String {
        if let primary = me.primary, me.isReplica { return primary }
        return myself
    }

    /// The config epoch a node advertises: its own, or its primary's when it is a replica.
    public func advertisedEpoch(of name: String) -> UInt64 {
        guard let node = nodes[name] else { return 0 }
        if node.isReplica, let primary = node.primary, let p = nodes[primary] { return p.configEpoch }
        return node.configEpoch
    }

    /// The largest config epoch of any node (a new epoch for this one must exceed it).
    public var maxConfigEpoch: UInt64 { nodes.values.map(\.configEpoch).max() ?? 0 }

    // MARK: State

    /// Recomputes `cluster_state` and the size (Redis's `clusterUpdateState`): failing
    /// when a slot is unassigned or served by a failing node (with full coverage
    /// required), or when fewer than a majority of the primaries serving slots are
    /// reachable. A primary that was in a minority waits a rejoin delay before it says ok
    /// again, and a new primary waits 2 s after start before saying ok at all.
    ///
    /// - Returns: the new state when it changed (for the log line).
    @discardableResult
    public mutating func updateState(now: Int64) -> Bool? {
        let first = firstStateCheck ?? now
        firstStateCheck = first
        if me.isPrimary && !isOK && now - first < 2_000 { return nil }
        // Per node rather than per slot: the owners' bitmaps hold the same slots.
        var ok = true
        var assigned = 0
        var servingPrimaries = 0
        var reachable = 0
        for node in nodes.values where !node.slots.isEmpty {
            assigned += node.slots.count
            if node.isFailing { ok = false }
            guard node.isPrimary else { continue }
            servingPrimaries += 1
            if !node.isFailing && !node.isPossiblyFailing { reachable += 1 }
        }
        if !settings.requireFullCoverage {
            ok = true
        } else if assigned < HashSlot.count {
            ok = false
        }
        size = servingPrimaries
        if reachable < servingPrimaries / 2 + 1 {
            ok = false
            amongMinoritySince = now
        }
        guard ok != isOK else { return nil }
        let rejoinDelay = min(max(settings.nodeTimeout, 500), 5_000)
        if ok && me.isPrimary && now - amongMinoritySince < rejoinDelay { return nil }
        isOK = ok
        return ok
    }

    /// Counts of assigned slots served by reachable, possibly failing and failing nodes.
    public var slotHealth: (assigned: Int, ok: Int, possiblyFailing: Int, failing: Int) {
        var result = (assigned: 0, ok: 0, possiblyFailing: 0, failing: 0)
        for node in nodes.values where !node.slots.isEmpty {
            let count = node.slots.count
            result.assigned += count
            if node.isFailing {
                result.failing += count
            } else if node.isPossiblyFailing {
                result.possiblyFailing += count
            } else {
                result.ok += count
            }
        }
        return result
    }
}
