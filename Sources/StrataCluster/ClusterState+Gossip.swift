//! The cluster bus protocol's logic, after Redis 7.0's `clusterProcessPacket`,
//! `clusterSendPing` and `clusterCron`, without I/O: a received message or a clock tick
//! changes the state and returns what the server must do (reply, send, broadcast, drop a
//! link, replicate another node). What nodes learn from each other:
//!
//! - **Handshakes.** `CLUSTER MEET` adds the address under a random name; the link to it
//!   sends MEET, and the first PONG renames the node to the name it gives. The receiver of
//!   a MEET adds the sender in handshake too, and pings it.
//! - **Gossip.** Every PING and PONG describes a few other nodes; a node learns of the
//!   others from a known sender's gossip, and collects failure reports from primaries.
//! - **Failure detection.** A node not answering a PING within the node timeout is
//!   possibly failing (PFAIL); when a majority of the primaries serving slots reported it
//!   within twice the timeout, it is failing (FAIL), which is broadcast.
//! - **Slot ownership.** A primary's messages carry its slot bitmap and config epoch; a
//!   slot goes to whoever claims it with the larger epoch, and a sender with a stale claim
//!   gets an UPDATE. Two primaries with the same epoch resolve it: the one with the larger
//!   name... the smaller name takes a new epoch.

/// Where a received message came from.
public struct ClusterLinkContext: Sendable {
    /// The node of the outgoing link the message arrived on; nil for an incoming link.
    public var outboundNode: String?
    /// The peer's address.
    public var peerIP: String
    /// This end's address (how the peer reaches this node).
    public var localIP: String

    public init(outboundNode: String?, peerIP: String, localIP: String) {
        (self.outboundNode, self.peerIP, self.localIP) = (outboundNode, peerIP, localIP)
    }
}

/// What the server must do after a message or a tick.
public enum ClusterBusAction: Equatable, Sendable {
    /// Answer on the link the message came in on.
    case reply(ClusterBusMessage)
    /// Send on the outgoing link of a node (nothing when it has none).
    case send(ClusterBusMessage, to: String)
    /// Send to every node with an outgoing link, except nodes in handshake.
    case broadcast(ClusterBusMessage)
    /// Close the outgoing link of a node (the next tick reconnects).
    case dropLink(of: String)
    /// Close the link the message came in on.
    case dropThisLink
    /// A node met in a handshake took the name its PONG gave: its link follows it.
    case renamed(String, to: String)
    /// Open an outgoing link to a node.
    case connect(String)
    /// Follow this primary (replication to its address).
    case replicate(primary: String)
    /// Delete this node's keys in slots it lost.
    case deleteKeys(inSlots: [Int])
    /// This replica won an election (or took over): stop replicating, serve writes.
    case promoted
    /// A primary in a coordinated failover: hold writers until then (Unix ms).
    case pauseWriters(until: Int64)
    /// The coordinated failover ended: writers held for it go on.
    case resumeWriters
    /// Deliver a message published on another node.
    case publish(channel: [UInt8], message: [UInt8], shard: Bool)
    /// A line for the log.
    case log(ClusterLogLevel, String)
}

/// The level of a cluster log line.
public enum ClusterLogLevel: Sendable { case verbose, notice, warning }

/// What the server tells the state of itself when it builds a message.
public struct ClusterSelfInfo: Sendable {
    /// The client port announced (`cluster-announce-port` or the port), the plaintext
    /// port when that is a TLS port, the bus port, the announced IP (empty: let peers
    /// use the address they see) and hostname.
    public var port: UInt16
    public var plaintextPort: UInt16
    public var busPort: UInt16
    public var announcedIP: String
    public var hostname: String
    /// The replication offset (a replica's processed offset).
    public var replicationOffset: UInt64
    /// How long a replica has gone without its primary's stream, ms (a replica whose data
    /// is too old does not fail over).
    public var dataAge: Int64 = 0

    public init(
        port: UInt16, plaintextPort: UInt16, busPort: UInt16, announcedIP: String, hostname: String,
        replicationOffset: UInt64
    ) {
        (self.port, self.plaintextPort, self.busPort) = (port, plaintextPort, busPort)
        (self.announcedIP, self.hostname, self.replicationOffset) = (announcedIP, hostname, replicationOffset)
    }
}

extension ClusterState {
    /// Failure reports stay valid for this many node timeouts.
    static let failReportValidity: Int64 = 2
    /// A failing primary still serving slots is cleared after this many node timeouts.
    static let failUndoTime: Int64 = 2

    // MARK: Building messages

    /// A message of `type` from this node: its (or its primary's) slots and epoch.
    public func header(_ type: ClusterMessageType, _ me: ClusterSelfInfo, body: ClusterBusMessage.Body)
        -> ClusterBusMessage
    {
        let primaryName = self.me.isReplica ? self.me.primary : nil
        let shardOwner = primaryName.flatMap { nodes[$0] } ?? self.me
        return ClusterBusMessage(
            type: type, port: me.port, currentEpoch: currentEpoch, configEpoch: shardOwner.configEpoch,
            replicationOffset: me.replicationOffset, sender: myself, slots: shardOwner.slots, primary: primaryName,
            ip: me.announcedIP, plaintextPort: me.plaintextPort, busPort: me.busPort, flags: self.me.flags,
            clusterState: isOK ? 0 : 1,
            messageFlags: self.me.isPrimary && election.manualEnd != 0 ? ClusterBusMessage.pausedFlag : 0, body: body)
    }

    /// A PING, PONG or MEET with gossip about a tenth of the nodes (at least 3, never
    /// this node or nodes in handshake, without an address, or unlinked and slotless)
    /// and about every possibly failing node. A PING on an outgoing link starts the
    /// wait for its PONG.
    public mutating func gossipMessage(
        _ type: ClusterMessageType, to target: String?, _ info: ClusterSelfInfo, linked: (String) -> Bool, now: Int64
    ) -> ClusterBusMessage {
        if type == .ping, let target { update(target) { $0.pingSent = now } }
        var wanted = max(nodes.count / 10, 3)
        wanted = min(wanted, max(nodes.count - 2, 0))
        var candidates = order.filter { name in
            guard let node = nodes[name], name != myself, !node.isPossiblyFailing else { return false }
            if node.inHandshake || !node.hasAddress { return false }
            return linked(name) || !node.slots.isEmpty
        }
        candidates.shuffle()
        var entries = candidates.prefix(wanted).compactMap { nodes[$0].map(ClusterState.gossipEntry) }
        for name in order {
            guard let node = nodes[name], node.isPossiblyFailing, !node.inHandshake, node.hasAddress else { continue }
            entries.append(ClusterState.gossipEntry(node))
        }
        return header(type, info, body: .gossip(entries, hostname: info.hostname.isEmpty ? nil : info.hostname))
    }

    static func gossipEntry(_ node: ClusterNode) -> GossipEntry {
        GossipEntry(
            name: node.name, pingSent: UInt32(clamping: node.pingSent / 1000),
            pongReceived: UInt32(clamping: node.pongReceived / 1000), ip: node.ip,
            port: UInt16(clamping: node.port), busPort: UInt16(clamping: node.busPort), flags: node.flags,
            plaintextPort: UInt16(clamping: node.plaintextPort))
    }

    // MARK: Receiving

    /// Processes a message received on `link` (Redis's `clusterProcessPacket`).
    public mutating func receive(
        _ message: ClusterBusMessage, on link: ClusterLinkContext, _ info: ClusterSelfInfo,
        linked: (String) -> Bool, keysInSlot: (Int) -> Int, now: Int64
    ) -> [ClusterBusAction] {
        receivedByType[Int(message.type.rawValue)] &+= 1
        var actions: [ClusterBusAction] = []
        let known = nodes[message.sender]
        let sender = known.flatMap { $0.inHandshake ? nil : $0.name }
        if known != nil { update(message.sender) { $0.dataReceived = now } }
        if let sender {
            if message.currentEpoch > currentEpoch { currentEpoch = message.currentEpoch }
            if message.configEpoch > nodes[sender]?.configEpoch ?? 0 {
                update(sender) { $0.configEpoch = message.configEpoch }
                needsSave = true
            }
            update(sender) { $0.replicationOffset = message.replicationOffset }
        }
        switch message.type {
        case .ping, .meet:
            if (message.type == .meet || me.ip.isEmpty) && info.announcedIP.isEmpty && !link.localIP.isEmpty
                && link.localIP != me.ip
            {
                me.ip = link.localIP
                needsSave = true
                actions.append(.log(.warning, "IP address for this node updated to \(link.localIP)"))
            }
            if sender == nil && message.type == .meet {
                var node = ClusterNode(
                    name: ClusterNodeName.random(), flags: [.handshake],
                    ip: message.ip.isEmpty ? link.peerIP : message.ip, port: Int(message.port),
                    busPort: Int(message.busPort), now: now)
                node.plaintextPort = Int(message.plaintextPort)
                add(node)
                if case .gossip(let entries, _) = message.body {
                    actions += processGossip(entries, from: nil, now: now)
                }
            }
            actions.append(.reply(gossipMessage(.pong, to: nil, info, linked: linked, now: now)))
        default:
            break
        }
        switch message.type {
        case .ping, .pong, .meet:
            actions += receivePingOrPong(
                message, sender: sender, on: link, linked: linked, now: now, keysInSlot: keysInSlot)
        case .fail:
            guard case .fail(let about) = message.body else { break }
            guard sender != nil else {
                actions.append(
                    .log(.notice, "Ignoring FAIL message from unknown node \(message.sender) about \(about)"))
                break
            }
            if let failing = nodes[about], !failing.isFailing, !failing.isMyself {
                actions.append(.log(.notice, "FAIL message received from \(message.sender) about \(about)"))
                update(about) {
                    $0.flags.insert(.failing)
                    $0.flags.remove(.possiblyFailing)
                    $0.failTime = now
                }
                needsSave = true
                if let change = updateState(now: now) { actions.append(stateLog(change)) }
            }
        case .publish, .publishShard:
            if sender != nil, case .publish(let channel, let payload) = message.body {
                actions.append(.publish(channel: channel, message: payload, shard: message.type == .publishShard))
            }
        case .update:
            guard sender != nil, case .update(let epoch, let about, let slots) = message.body,
                let node = nodes[about], node.configEpoch < epoch
            else { break }
            if node.isReplica { setAsPrimary(about) }
            update(about) { $0.configEpoch = epoch }
            needsSave = true
            actions += updateSlots(
                claimedBy: about, epoch: epoch, slots: slots, keysInSlot: keysInSlot)
        case .failoverAuthRequest:
            if let sender { actions += voteIfNeeded(for: sender, request: message, now: now) }
        case .failoverAuthAck:
            if let sender {
                voteReceived(from: sender, senderEpoch: message.currentEpoch)
                // The vote that makes a majority promotes this replica now, not at the next tick.
                if me.isReplica { actions += handleReplicaFailover(info, now: now) }
            }
        case .manualFailoverStart:
            if let sender { actions += manualFailoverRequested(by: sender, info, now: now) }
        case .module:
            break
        }
        if let sender, me.isReplica, me.primary == sender, message.messageFlags & ClusterBusMessage.pausedFlag != 0 {
            actions += primaryPaused(at: message.replicationOffset)
        }
        // A new claim on slots may make a failing cluster whole: say so now, as Redis does
        // before its next sleep, rather than at the next tick.
        if !isOK, let change = updateState(now: now) { actions.append(stateLog(change)) }
        return actions
    }

    private mutating func receivePingOrPong(
        _ message: ClusterBusMessage, sender: String?, on link: ClusterLinkContext, linked: (String) -> Bool,
        now: Int64, keysInSlot: (Int) -> Int
    ) -> [ClusterBusAction] {
        var actions: [ClusterBusAction] = []
        var linkName = link.outboundNode
        if let linkNode = link.outboundNode, let node = nodes[linkNode] {
            if node.inHandshake {
                if let sender {
                    if updateAddress(sender, message, on: link) {
                        actions.append(
                            .log(
                                .warning,
                                "Address updated for node \(sender), now \(nodes[sender]?.ip ?? ""):\(message.port)"))
                        actions.append(.dropLink(of: sender))
                    }
                    remove(linkNode)
                    actions.append(.dropThisLink)
                    return actions
                }
                rename(linkNode, to: message.sender)
                linkName = message.sender
                actions.append(.renamed(linkNode, to: message.sender))
                update(message.sender) { $0.flags.formUnion(message.flags.intersection([.primary, .replica])) }
                actions.append(.log(.verbose, "Handshake with node \(message.sender) completed."))
            } else if linkNode != message.sender {
                update(linkNode) {
                    $0.flags.insert(.noAddress)
                    ($0.ip, $0.port, $0.plaintextPort, $0.busPort) = ("", 0, 0, 0)
                }
                needsSave = true
                actions.append(.dropThisLink)
                return actions
            }
        }
        if let sender {
            update(sender) {
                $0.flags.remove(.noFailover)
                $0.flags.formUnion(message.flags.intersection(.noFailover))
            }
            if message.type == .ping, updateAddress(sender, message, on: link) {
                actions.append(
                    .log(.warning, "Address updated for node \(sender), now \(nodes[sender]?.ip ?? ""):\(message.port)")
                )
                actions.append(.dropLink(of: sender))
            }
        }
        if message.type == .pong, let name = linkName, let node = nodes[name] {
            update(name) {
                $0.pongReceived = now
                $0.pingSent = 0
            }
            if node.isPossiblyFailing {
                update(name) { $0.flags.remove(.possiblyFailing) }
                if let change = updateState(now: now) { actions.append(stateLog(change)) }
            } else if node.isFailing {
                actions += clearFailureIfNeeded(name, now: now)
            }
        }
        guard let sender, let senderNode = nodes[sender] else { return actions }
        if let primary = message.primary {
            if senderNode.isPrimary {
                for slot in 0..<HashSlot.count where slotOwners[slot] == sender { assign(slot, to: nil) }
                update(sender) {
                    $0.flags.remove([.primary, .migrateTarget])
                    $0.flags.insert(.replica)
                }
                needsSave = true
            }
            if nodes[primary] != nil && nodes[sender]?.primary != primary {
                update(sender) { $0.primary = primary }
                needsSave = true
            }
        } else {
            setAsPrimary(sender)
        }
        let shardOwner = nodes[sender].flatMap { $0.isPrimary ? $0 : $0.primary.flatMap { nodes[$0] } }
        let dirty = shardOwner.map { $0.slots != message.slots } ?? false
        if dirty, nodes[sender]?.isPrimary == true {
            actions += updateSlots(
                claimedBy: sender, epoch: message.configEpoch, slots: message.slots, keysInSlot: keysInSlot)
        }
        if dirty {
            for slot in 0..<HashSlot.count where message.slots.contains(slot) {
                guard let owner = slotOwners[slot], owner != sender, let ownerNode = nodes[owner] else { continue }
                if ownerNode.configEpoch > message.configEpoch {
                    actions.append(
                        .log(
                            .verbose,
                            "Node \(sender) has old slots configuration, sending an UPDATE message about \(owner)"))
                    actions.append(.send(updateMessage(about: ownerNode), to: sender))
                    break
                }
            }
        }
        if me.isPrimary, nodes[sender]?.isPrimary == true, message.configEpoch == me.configEpoch,
            sender > myself
        {
            currentEpoch += 1
            me.configEpoch = currentEpoch
            needsSave = true
            actions.append(
                .log(
                    .verbose,
                    "WARNING: configEpoch collision with node \(sender). configEpoch set to \(currentEpoch)"))
        }
        if case .gossip(let entries, let hostname) = message.body {
            actions += processGossip(entries, from: sender, now: now)
            update(sender) { $0.hostname = hostname ?? "" }
        }
        return actions
    }

    /// An UPDATE telling a node with a stale view that `node` serves its slots.
    func updateMessage(about node: ClusterNode) -> ClusterBusMessage {
        var message = header(
            .update,
            ClusterSelfInfo(port: 0, plaintextPort: 0, busPort: 0, announcedIP: "", hostname: "", replicationOffset: 0),
            body: .update(configEpoch: node.configEpoch, node: node.name, slots: node.slots))
        message.port = UInt16(clamping: me.port)
        message.busPort = UInt16(clamping: me.busPort)
        return message
    }

    /// Updates a known node's address from a message on an incoming link; true when it
    /// changed (its outgoing link must then be dropped).
    private mutating func updateAddress(_ name: String, _ message: ClusterBusMessage, on link: ClusterLinkContext)
        -> Bool
    {
        guard let node = nodes[name], link.outboundNode != name else { return false }
        let ip = message.ip.isEmpty ? link.peerIP : message.ip
        if node.port == Int(message.port) && node.busPort == Int(message.busPort)
            && node.plaintextPort == Int(message.plaintextPort) && node.ip == ip
        {
            return false
        }
        update(name) {
            ($0.ip, $0.port) = (ip, Int(message.port))
            ($0.plaintextPort, $0.busPort) = (Int(message.plaintextPort), Int(message.busPort))
            $0.flags.remove(.noAddress)
        }
        needsSave = true
        return true
    }

    /// Makes a known node a primary (it said it follows nobody).
    mutating func setAsPrimary(_ name: String) {
        guard let node = nodes[name], !node.isPrimary || node.primary != nil else { return }
        update(name) {
            if $0.primary != nil && !$0.isMyself { $0.flags.insert(.migrateTarget) }
            $0.flags.remove(.replica)
            $0.flags.insert(.primary)
            $0.primary = nil
        }
        needsSave = true
    }

    /// Gossip entries from `sender` (nil: an unknown node's MEET, trusted because of the
    /// type): failure reports from primaries, newer PONG times, and unknown nodes added.
    mutating func processGossip(_ entries: [GossipEntry], from sender: String?, now: Int64) -> [ClusterBusAction] {
        var actions: [ClusterBusAction] = []
        let reporterIsPrimary = sender.flatMap { nodes[$0]?.isPrimary } ?? false
        for entry in entries {
            let failingFlags: ClusterNodeFlags = [.failing, .possiblyFailing]
            if let node = nodes[entry.name] {
                if let sender, reporterIsPrimary, !node.isMyself {
                    if !entry.flags.isDisjoint(with: failingFlags) {
                        if node.failureReports[sender] == nil {
                            actions.append(
                                .log(.verbose, "Node \(sender) reported node \(node.name) as not reachable."))
                        }
                        update(node.name) { $0.failureReports[sender] = now }
                        actions += markFailingIfNeeded(node.name, now: now)
                    } else if node.failureReports[sender] != nil {
                        update(node.name) { $0.failureReports[sender] = nil }
                        actions.append(.log(.verbose, "Node \(sender) reported node \(node.name) is back online."))
                    }
                }
                if entry.flags.isDisjoint(with: failingFlags), let current = nodes[entry.name], current.pingSent == 0,
                    validFailureReports(entry.name, now: now) == 0
                {
                    let pongTime = Int64(entry.pongReceived) * 1000
                    if pongTime <= now + 500 && pongTime > current.pongReceived {
                        update(entry.name) { $0.pongReceived = pongTime }
                    }
                }
                if let current = nodes[entry.name], !current.flags.isDisjoint(with: failingFlags),
                    !entry.flags.contains(.noAddress), entry.flags.isDisjoint(with: failingFlags),
                    current.ip != entry.ip || current.port != Int(entry.port) || current.busPort != Int(entry.busPort)
                {
                    update(entry.name) {
                        ($0.ip, $0.port, $0.busPort) = (entry.ip, Int(entry.port), Int(entry.busPort))
                        $0.plaintextPort = Int(entry.plaintextPort)
                        $0.flags.remove(.noAddress)
                    }
                    actions.append(.dropLink(of: entry.name))
                }
            } else if sender != nil, !entry.flags.contains(.noAddress), ClusterNodeName.isValid(entry.name),
                !isForgotten(entry.name, now: now)
            {
                var node = ClusterNode(
                    name: entry.name, flags: entry.flags.subtracting([.myself]), ip: entry.ip, port: Int(entry.port),
                    busPort: Int(entry.busPort), now: now)
                node.plaintextPort = Int(entry.plaintextPort)
                add(node)
            }
        }
        return actions
    }

    /// The failure reports about `name` still valid; older ones are dropped.
    public mutating func validFailureReports(_ name: String, now: Int64) -> Int {
        let oldest = now - settings.nodeTimeout * ClusterState.failReportValidity
        guard let node = nodes[name] else { return 0 }
        let valid = node.failureReports.filter { $0.value >= oldest }
        if valid.count != node.failureReports.count { update(name) { $0.failureReports = valid } }
        return valid.count
    }

    /// Marks a possibly failing node as failing once a majority of the primaries serving
    /// slots (this one included, when a primary) reported it; broadcasts FAIL.
    mutating func markFailingIfNeeded(_ name: String, now: Int64) -> [ClusterBusAction] {
        guard let node = nodes[name], node.isPossiblyFailing, !node.isFailing else { return [] }
        var failures = validFailureReports(name, now: now)
        if me.isPrimary { failures += 1 }
        guard failures >= size / 2 + 1 else { return [] }
        update(name) {
            $0.flags.remove(.possiblyFailing)
            $0.flags.insert(.failing)
            $0.failTime = now
        }
        needsSave = true
        var actions: [ClusterBusAction] = [
            .log(.notice, "Marking node \(name) as failing (quorum reached)."),
            .broadcast(
                header(
                    .fail,
                    ClusterSelfInfo(
                        port: 0, plaintextPort: 0, busPort: 0, announcedIP: "", hostname: "", replicationOffset: 0),
                    body: .fail(node: name))),
        ]
        if let change = updateState(now: now) { actions.append(stateLog(change)) }
        return actions
    }

    /// Clears the failing flag of a node that answers again: at once for a replica or a
    /// primary without slots, after twice the node timeout for a primary nobody replaced.
    mutating func clearFailureIfNeeded(_ name: String, now: Int64) -> [ClusterBusAction] {
        guard let node = nodes[name], node.isFailing else { return [] }
        var why: String?
        if node.isReplica || node.slots.isEmpty {
            why = node.isReplica ? "replica is reachable again." : "master without slots is reachable again."
        } else if now - node.failTime > settings.nodeTimeout * ClusterState.failUndoTime {
            why = "is reachable again and nobody is serving its slots after some time."
        }
        guard let why else { return [] }
        update(name) { $0.flags.remove(.failing) }
        needsSave = true
        var actions: [ClusterBusAction] = [.log(.notice, "Clear FAIL state for node \(name): \(why)")]
        if let change = updateState(now: now) { actions.append(stateLog(change)) }
        return actions
    }

    /// Slots claimed by `claimer` at `epoch` (Redis's `clusterUpdateSlotsConfigWith`): each
    /// goes to it when unassigned or held at a smaller epoch, unless this node is
    /// importing it. A primary left without slots follows the claimer; slots lost with
    /// keys in them are emptied.
    mutating func updateSlots(
        claimedBy claimer: String, epoch: UInt64, slots: SlotBitmap, keysInSlot: (Int) -> Int
    ) -> [ClusterBusAction] {
        guard claimer != myself else { return [.log(.warning, "Discarding UPDATE message about myself.")] }
        let shard = myPrimary
        var newPrimary: String?
        var dirtySlots: [Int] = []
        var claimed = 0
        var movedFromOurShard = 0
        for slot in 0..<HashSlot.count where slots.contains(slot) {
            claimed += 1
            guard let owner = slotOwners[slot] else {
                if importingFrom[slot] == nil { assign(slot, to: claimer) }
                continue
            }
            if owner == claimer || importingFrom[slot] != nil { continue }
            if (nodes[owner]?.configEpoch ?? 0) < epoch {
                if owner == myself && keysInSlot(slot) > 0 { dirtySlots.append(slot) }
                if owner == shard {
                    newPrimary = claimer
                    movedFromOurShard += 1
                }
                assign(slot, to: claimer)
            }
        }
        var actions: [ClusterBusAction] = []
        if newPrimary != nil, slotCount(of: shard) == 0, settings.allowReplicaMigration || claimed == movedFromOurShard
        {
            actions.append(
                .log(.warning, "Configuration change detected. Reconfiguring myself as a replica of \(claimer)"))
            if election.manualReplica != nil { actions.append(.resumeWriters) }
            election = FailoverElection()
            becomeReplica(of: claimer)
            actions.append(.replicate(primary: claimer))
        } else if !dirtySlots.isEmpty {
            actions.append(.deleteKeys(inSlots: dirtySlots))
        }
        return actions
    }

    /// The log line of a state change.
    func stateLog(_ ok: Bool) -> ClusterBusAction {
        .log(.warning, "Cluster state changed: \(ok ? "ok" : "fail")")
    }

    /// The first message on a new outgoing link to `name`: MEET while the node is to be
    /// met, else PING (a ping already pending keeps its time, so that failure detection
    /// counts from the first attempt).
    public mutating func linkEstablished(
        _ name: String, _ info: ClusterSelfInfo, linked: (String) -> Bool, now: Int64
    ) -> ClusterBusMessage? {
        guard let node = nodes[name] else { return nil }
        let type: ClusterMessageType = node.flags.contains(.meet) ? .meet : .ping
        let message = gossipMessage(type, to: name, info, linked: linked, now: now)
        update(name) {
            if node.pingSent != 0 { $0.pingSent = node.pingSent }
            $0.flags.remove(.meet)
        }
        return message
    }

    // MARK: The clock

    /// One tick of the cluster's clock, every 100 ms (Redis's `clusterCron`): handshakes
    /// that took longer than the node timeout are abandoned, nodes without a link get one,
    /// a random node is pinged every tenth tick, nodes whose PONG is older than half the
    /// timeout are pinged, silent links are dropped, and nodes silent past the timeout
    /// become possibly failing.
    ///
    /// - Parameters:
    ///   - linked: whether a node has an outgoing link, and since when (Unix ms).
    public mutating func tick(
        _ iteration: Int, _ info: ClusterSelfInfo, linkSince: @escaping (String) -> Int64?,
        now: Int64
    ) -> [ClusterBusAction] {
        var actions: [ClusterBusAction] = []
        let handshakeTimeout = max(settings.nodeTimeout, 1000)
        let linked = { (name: String) in linkSince(name) != nil }
        for name in order {
            guard let node = nodes[name], !node.isMyself, node.hasAddress else { continue }
            if node.inHandshake && now - node.createdAt > handshakeTimeout {
                remove(name)
                actions.append(.dropLink(of: name))
                continue
            }
            if !linked(name) {
                if node.pingSent == 0 { update(name) { $0.pingSent = now } }
                actions.append(.connect(name))
            }
        }
        if iteration % 10 == 0 {
            let sample = order.filter { name in
                guard let node = nodes[name], linked(name), node.pingSent == 0 else { return false }
                return !node.isMyself && !node.inHandshake
            }.shuffled().prefix(5)
            if let oldest = sample.min(by: { (nodes[$0]?.pongReceived ?? 0) < (nodes[$1]?.pongReceived ?? 0) }) {
                actions.append(.send(gossipMessage(.ping, to: oldest, info, linked: linked, now: now), to: oldest))
            }
        }
        var stateMayChange = false
        for name in order {
            guard let node = nodes[name], node.flags.isDisjoint(with: [.myself, .noAddress, .handshake]) else {
                continue
            }
            let pingDelay = now - node.pingSent
            let dataDelay = now - node.dataReceived
            if let since = linkSince(name), now - since > settings.nodeTimeout, node.pingSent != 0,
                pingDelay > settings.nodeTimeout / 2, dataDelay > settings.nodeTimeout / 2
            {
                actions.append(.dropLink(of: name))
            }
            if linked(name) && node.pingSent == 0 && now - node.pongReceived > settings.nodeTimeout / 2 {
                actions.append(.send(gossipMessage(.ping, to: name, info, linked: linked, now: now), to: name))
                continue
            }
            guard node.pingSent != 0 else { continue }
            if min(pingDelay, dataDelay) > settings.nodeTimeout && !node.isPossiblyFailing && !node.isFailing {
                update(name) { $0.flags.insert(.possiblyFailing) }
                stateMayChange = true
            }
        }
        if stateMayChange || !isOK, let change = updateState(now: now) { actions.append(stateLog(change)) }
        actions += handleManualFailover(myOffset: info.replicationOffset, now: now)
        if me.isReplica { actions += handleReplicaFailover(info, now: now) }
        actions += handleReplicaMigration(now: now)
        return actions
    }
}
