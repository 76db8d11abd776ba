//! The cluster as clients and tools read it: `CLUSTER NODES` lines (also the lines of
//! `nodes.conf`), the ranges of `CLUSTER SLOTS`, the shards of `CLUSTER SHARDS` and the
//! fields of `CLUSTER INFO`, in Redis 7.0's formats.

extension ClusterState {
    /// The client port to show for `node`: its plaintext port when asked for one and it
    /// serves TLS on `port`.
    public func clientPort(of node: ClusterNode, plaintext: Bool) -> Int {
        plaintext && node.plaintextPort != 0 ? node.plaintextPort : node.port
    }

    /// One `CLUSTER NODES` line, without the newline. `linked` tells whether this node has
    /// an outgoing bus link to it.
    public func description(of node: ClusterNode, linked: Bool, plaintextPorts: Bool = false) -> String {
        var line = "\(node.name) \(node.ip):\(clientPort(of: node, plaintext: plaintextPorts))@\(node.busPort)"
        if !node.hostname.isEmpty { line += ",\(node.hostname)" }
        line += " \(node.flags.description) \(node.primary ?? "-")"
        line += " \(node.pingSent) \(node.pongReceived) \(advertisedEpoch(of: node.name))"
        line += linked || node.isMyself ? " connected" : " disconnected"
        for range in node.slots.ranges {
            line += range.count == 1 ? " \(range.lowerBound)" : " \(range.lowerBound)-\(range.upperBound)"
        }
        if node.isMyself {
            for (slot, target) in migratingTo.sorted(by: { $0.key < $1.key }) { line += " [\(slot)->-\(target)]" }
            for (slot, source) in importingFrom.sorted(by: { $0.key < $1.key }) { line += " [\(slot)-<-\(source)]" }
        }
        return line
    }

    /// `CLUSTER NODES`: a line per node, nodes in handshake left out when `withHandshakes`
    /// is false (as `nodes.conf` does).
    public func nodesText(linked: (String) -> Bool, withHandshakes: Bool = true, plaintextPorts: Bool = false) -> String
    {
        var text = ""
        for node in orderedNodes where withHandshakes || !node.inHandshake {
            text += description(of: node, linked: linked(node.name), plaintextPorts: plaintextPorts) + "\n"
        }
        return text
    }

    /// How clients are told to reach `node` (`cluster-preferred-endpoint-type`).
    public func endpoint(of node: ClusterNode) -> String {
        switch settings.preferredEndpoint {
        case .ip: return node.ip
        case .hostname: return node.hostname.isEmpty ? "?" : node.hostname
        case .unknownEndpoint: return "?"
        }
    }

    /// One entry of `CLUSTER SLOTS`: a slot range, the primary, then its replicas that
    /// are not failing.
    public struct SlotRangeEntry: Equatable {
        public var range: ClosedRange<Int>
        /// The primary first.
        public var nodes: [ClusterNode]
    }

    /// `CLUSTER SLOTS`, by ascending slot.
    public var slotRanges: [SlotRangeEntry] {
        var entries: [SlotRangeEntry] = []
        for primary in orderedNodes where primary.isPrimary {
            let serving = [primary] + replicas(of: primary.name).filter { !$0.isFailing }
            for range in primary.slots.ranges { entries.append(SlotRangeEntry(range: range, nodes: serving)) }
        }
        return entries.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    /// `CLUSTER SHARDS`: each primary with its replicas and its slot ranges.
    public var shards: [(ranges: [ClosedRange<Int>], nodes: [ClusterNode])] {
        orderedNodes.filter { $0.isPrimary && !$0.inHandshake }.map { primary in
            (primary.slots.ranges, [primary] + replicas(of: primary.name).filter { !$0.inHandshake })
        }
    }

    /// A node's health as `CLUSTER SHARDS` reports it.
    public func health(of node: ClusterNode) -> String {
        if node.isFailing || node.isPossiblyFailing { return "fail" }
        if node.isReplica && node.replicationOffset == 0 { return "loading" }
        return "online"
    }

    /// `CLUSTER INFO`'s fields.
    public func infoFields(linkBufferLimitExceeded: UInt64 = 0) -> [(String, String)] {
        let health = slotHealth
        var fields: [(String, String)] = [
            ("cluster_state", isOK ? "ok" : "fail"),
            ("cluster_slots_assigned", String(health.assigned)),
            ("cluster_slots_ok", String(health.ok)),
            ("cluster_slots_pfail", String(health.possiblyFailing)),
            ("cluster_slots_fail", String(health.failing)),
            ("cluster_known_nodes", String(nodes.count)),
            ("cluster_size", String(size)),
            ("cluster_current_epoch", String(currentEpoch)),
            ("cluster_my_epoch", String(advertisedEpoch(of: myself))),
        ]
        for (direction, counts) in [("sent", sentByType), ("received", receivedByType)] {
            for type in ClusterMessageType.allCases where counts[Int(type.rawValue)] > 0 {
                fields.append(("cluster_stats_messages_\(type.name)_\(direction)", String(counts[Int(type.rawValue)])))
            }
            fields.append(("cluster_stats_messages_\(direction)", String(counts.reduce(0, +))))
        }
        fields.append(("total_cluster_links_buffer_limit_exceeded", String(linkBufferLimitExceeded)))
        return fields
    }
}
