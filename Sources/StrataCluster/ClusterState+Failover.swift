//! Replacing a failed primary (Redis 7.0's `clusterHandleSlaveFailover` and
//! `clusterSendFailoverAuthIfNeeded`): a replica whose primary is failing waits 500 ms
//! plus a random 0–500 ms plus a second per replica of the same primary that has more of
//! the stream (so the most up-to-date one usually goes first), takes a new epoch and asks
//! every primary for its vote; a primary serving slots votes once per epoch, for a
//! replica of a failing primary whose claimed slots are not held at a newer epoch, and
//! not twice for the same primary within two node timeouts. With votes from a majority
//! the replica takes its primary's slots at the election's epoch and tells everyone.
//!
//! `CLUSTER FAILOVER` starts the same election on request: `FORCE` without waiting for
//! the primary to fail, the default after the primary paused its writers and the replica
//! processed the stream up to that point, `TAKEOVER` with no election at all.

/// The election a replica runs, and a manual failover under way.
public struct FailoverElection: Sendable {
    /// When votes are (or were) requested, Unix ms; 0: none scheduled.
    var authTime: Int64 = 0
    var authCount = 0
    var authSent = false
    var authRank = 0
    var authEpoch: UInt64 = 0
    /// A manual failover's deadline (0: none), whether the election may start, and the
    /// primary's offset when it paused (nil until known).
    var manualEnd: Int64 = 0
    var manualCanStart = false
    var manualPrimaryOffset: UInt64?
    /// On a primary: the replica that asked for a manual failover.
    var manualReplica: String?

    /// Manual failovers time out after 5 s; the primary pauses writers twice as long.
    static let manualTimeout: Int64 = 5_000
}

/// How `CLUSTER FAILOVER` was asked.
public enum ManualFailoverMode: Sendable { case coordinated, force, takeover }

extension ClusterState {
    /// The rank of this replica: how many replicas of the same primary (that may fail
    /// over) have processed more of the stream.
    func replicaRank(myOffset: UInt64) -> Int {
        guard let primary = me.primary else { return 0 }
        return replicas(of: primary).filter {
            $0.name != myself && !$0.flags.contains(.noFailover) && $0.replicationOffset > myOffset
        }.count
    }

    /// `CLUSTER FAILOVER [FORCE|TAKEOVER]` on a replica: the checks, then the start.
    public mutating func startManualFailover(
        _ mode: ManualFailoverMode, primaryLinked: Bool, now: Int64, _ info: ClusterSelfInfo
    ) -> Result<[ClusterBusAction], ClusterError> {
        if me.isPrimary { return .failure(ClusterError("ERR You should send CLUSTER FAILOVER to a replica")) }
        guard let primary = me.primary, let primaryNode = nodes[primary] else {
            return .failure(ClusterError("ERR I'm a replica but my master is unknown to me"))
        }
        if mode == .coordinated && (primaryNode.isFailing || !primaryLinked) {
            return .failure(ClusterError("ERR Master is down or failed, please use CLUSTER FAILOVER FORCE"))
        }
        election = FailoverElection()
        election.manualEnd = now + FailoverElection.manualTimeout
        switch mode {
        case .takeover:
            bumpConfigEpochWithoutConsensus()
            return .success([.log(.warning, "Taking over the master (user request).")] + replacePrimary(info, now: now))
        case .force:
            election.manualCanStart = true
            return .success([.log(.warning, "Forced failover user request accepted.")])
        case .coordinated:
            return .success([
                .log(.warning, "Manual failover user request accepted."),
                .send(header(.manualFailoverStart, info, body: .empty), to: primary),
            ])
        }
    }

    /// This replica becomes the primary of its shard: the old primary's slots, a PONG to
    /// everyone, and the server stops replicating (`.promoted`).
    mutating func replacePrimary(_ info: ClusterSelfInfo, now: Int64) -> [ClusterBusAction] {
        guard me.isReplica, let old = me.primary else { return [] }
        becomePrimary()
        for slot in 0..<HashSlot.count where slotOwners[slot] == old { assign(slot, to: myself) }
        election = FailoverElection()
        var actions: [ClusterBusAction] = [.promoted]
        if let change = updateState(now: now) { actions.append(stateLog(change)) }
        actions.append(.broadcast(header(.pong, info, body: .gossip([], hostname: nil))))
        return actions
    }

    /// The election's step at each tick (and after each vote received).
    mutating func handleReplicaFailover(_ info: ClusterSelfInfo, now: Int64) -> [ClusterBusAction] {
        let manual = election.manualEnd != 0 && election.manualCanStart
        guard me.isReplica, let primary = me.primary, let primaryNode = nodes[primary],
            primaryNode.isFailing || manual, !settings.replicaNoFailover || manual, !primaryNode.slots.isEmpty
        else { return [] }
        let authTimeout = max(settings.nodeTimeout * 2, 2_000)
        let retryTime = authTimeout * 2
        let authAge = now - election.authTime
        var age = info.dataAge
        if age > settings.nodeTimeout { age -= settings.nodeTimeout }
        // The product may exceed 64 bits (both settings are users'): then no age is too old.
        let (allowed, overflow) = settings.nodeTimeout.multipliedReportingOverflow(by: settings.replicaValidityFactor)
        if settings.replicaValidityFactor > 0 && !manual && !overflow
            && age > settings.replicationPingPeriod + allowed
        {
            return []
        }
        if authAge > retryTime {
            election.authTime = now + 500 + Int64.random(in: 0..<500)
            election.authCount = 0
            election.authSent = false
            election.authRank = replicaRank(myOffset: info.replicationOffset)
            election.authTime += Int64(election.authRank) * 1000
            if election.manualEnd != 0 {
                election.authTime = now
                election.authRank = 0
            }
            var actions: [ClusterBusAction] = [
                .log(
                    .notice,
                    "Start of election delayed for \(election.authTime - now) milliseconds (rank #\(election.authRank), offset \(info.replicationOffset))."
                )
            ]
            let pong = header(.pong, info, body: .gossip([], hostname: nil))
            for replica in replicas(of: primary) where replica.name != myself {
                actions.append(.send(pong, to: replica.name))
            }
            return actions
        }
        var actions: [ClusterBusAction] = []
        if !election.authSent && election.manualEnd == 0 {
            let rank = replicaRank(myOffset: info.replicationOffset)
            if rank > election.authRank {
                let added = Int64(rank - election.authRank) * 1000
                election.authTime += added
                election.authRank = rank
                actions.append(.log(.notice, "Replica rank updated to #\(rank), added \(added) milliseconds of delay."))
            }
        }
        if now < election.authTime || authAge > authTimeout { return actions }
        if !election.authSent {
            currentEpoch += 1
            election.authEpoch = currentEpoch
            election.authSent = true
            needsSave = true
            var request = header(.failoverAuthRequest, info, body: .empty)
            if election.manualEnd != 0 { request.messageFlags |= ClusterBusMessage.forceAckFlag }
            actions.append(.log(.notice, "Starting a failover election for epoch \(currentEpoch)."))
            actions.append(.broadcast(request))
            return actions
        }
        if election.authCount >= size / 2 + 1 {
            actions.append(.log(.notice, "Failover election won: I'm the new master."))
            if me.configEpoch < election.authEpoch {
                me.configEpoch = election.authEpoch
                actions.append(.log(.notice, "configEpoch set to \(me.configEpoch) after successful failover"))
            }
            actions += replacePrimary(info, now: now)
        }
        return actions
    }

    /// A replica asks for this primary's vote.
    mutating func voteIfNeeded(for name: String, request: ClusterBusMessage, now: Int64) -> [ClusterBusAction] {
        guard me.isPrimary, !me.slots.isEmpty, let node = nodes[name] else { return [] }
        let deny = { (why: String) in [ClusterBusAction.log(.warning, "Failover auth denied to \(name): \(why)")] }
        if request.currentEpoch < currentEpoch {
            return deny("reqEpoch (\(request.currentEpoch)) < curEpoch(\(currentEpoch))")
        }
        if lastVoteEpoch == currentEpoch { return deny("already voted for epoch \(currentEpoch)") }
        let forced = request.messageFlags & ClusterBusMessage.forceAckFlag != 0
        if node.isPrimary { return deny("it is a master node") }
        guard let primary = node.primary, let primaryNode = nodes[primary] else {
            return deny("I don't know its master")
        }
        if !primaryNode.isFailing && !forced { return deny("its master is up") }
        if now - primaryNode.votedTime < settings.nodeTimeout * 2 {
            return deny(
                "can't vote about this master before \(settings.nodeTimeout * 2 - (now - primaryNode.votedTime)) milliseconds"
            )
        }
        for slot in 0..<HashSlot.count where request.slots.contains(slot) {
            guard let owner = slotOwners[slot], let ownerNode = nodes[owner] else { continue }
            if ownerNode.configEpoch > request.configEpoch {
                return deny("slot \(slot) epoch (\(ownerNode.configEpoch)) > reqEpoch (\(request.configEpoch))")
            }
        }
        lastVoteEpoch = currentEpoch
        update(primary) { $0.votedTime = now }
        needsSave = true
        var ack = header(
            .failoverAuthAck,
            ClusterSelfInfo(
                port: UInt16(clamping: me.port), plaintextPort: UInt16(clamping: me.plaintextPort),
                busPort: UInt16(clamping: me.busPort), announcedIP: "", hostname: "", replicationOffset: 0),
            body: .empty)
        ack.ip = ""
        return [.send(ack, to: name), .log(.warning, "Failover auth granted to \(name) for epoch \(currentEpoch)")]
    }

    /// A vote arrived.
    mutating func voteReceived(from name: String, senderEpoch: UInt64) {
        guard let node = nodes[name], node.isPrimary, !node.slots.isEmpty, senderEpoch >= election.authEpoch else {
            return
        }
        election.authCount += 1
    }

    /// A primary: a replica asked for a coordinated failover; writers pause and the
    /// replica learns the offset to reach.
    mutating func manualFailoverRequested(by name: String, _ info: ClusterSelfInfo, now: Int64) -> [ClusterBusAction] {
        guard me.isPrimary, nodes[name]?.primary == myself else { return [] }
        election = FailoverElection()
        election.manualEnd = now + FailoverElection.manualTimeout
        election.manualReplica = name
        var ping = header(.ping, info, body: .gossip([], hostname: nil))
        ping.messageFlags |= ClusterBusMessage.pausedFlag
        return [
            .pauseWriters(until: now + FailoverElection.manualTimeout * 2),
            .log(.warning, "Manual failover requested by replica \(name)."),
            .reply(ping),
        ]
    }

    /// A replica in a coordinated failover: the primary's paused offset arrived.
    mutating func primaryPaused(at offset: UInt64) -> [ClusterBusAction] {
        guard election.manualEnd != 0, election.manualPrimaryOffset == nil else { return [] }
        election.manualPrimaryOffset = offset
        return [.log(.warning, "Received replication offset for paused master manual failover: \(offset)")]
    }

    /// A manual failover's progress at each tick: the replica may start once it processed
    /// the stream up to the paused offset; past its deadline it is abandoned.
    mutating func handleManualFailover(myOffset: UInt64, now: Int64) -> [ClusterBusAction] {
        guard election.manualEnd != 0 else { return [] }
        if election.manualEnd < now {
            let pausedHere = election.manualReplica != nil
            election = FailoverElection()
            return [.log(.warning, "Manual failover timed out.")] + (pausedHere ? [.resumeWriters] : [])
        }
        if me.isReplica, !election.manualCanStart, let target = election.manualPrimaryOffset, target == myOffset {
            election.manualCanStart = true
            return [.log(.warning, "All master replication stream processed, manual failover can start.")]
        }
        return []
    }

    /// Whether a manual failover is under way (a primary's messages then say it paused).
    public var manualFailoverInProgress: Bool { election.manualEnd != 0 }
}
