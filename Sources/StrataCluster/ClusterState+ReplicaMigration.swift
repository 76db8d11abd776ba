//! Replica migration (Redis 7.0's `clusterHandleSlaveMigration`): a primary that serves
//! slots and used to have replicas but has no working one left is *orphaned*; one failure
//! more loses its slots. A replica of the primary with the most working replicas moves to
//! it, provided its own primary keeps more than `cluster-migration-barrier` working
//! replicas. Every replica decides alone from the same gossip, so the choice must be the
//! same everywhere: the replica with the smallest name among those of the best-served
//! primaries goes, and only after the orphan stayed orphaned for five seconds (during a
//! failover the new primary's own replicas need that long to announce their switch).

extension ClusterState {
    /// How long a primary must stay orphaned before a replica moves to it.
    static let replicaMigrationDelay: Int64 = 5_000

    /// The tick's replica-migration step: it tracks orphaned primaries, and moves this
    /// replica to one when it is the replica that should go.
    mutating func handleReplicaMigration(now: Int64) -> [ClusterBusAction] {
        // Working replicas (not failing) per primary; every primary with a replica is
        // marked as one that had replicas (Redis marks it as it attaches the replica).
        var working: [String: Int] = [:]
        for node in nodes.values where node.isReplica {
            guard let primary = node.primary, let p = nodes[primary], p.isPrimary else { continue }
            if !p.flags.contains(.migrateTarget) { update(primary) { $0.flags.insert(.migrateTarget) } }
            if !node.isFailing { working[primary, default: 0] += 1 }
        }
        var orphans = 0
        var maxReplicas = 0
        for name in order {
            guard let node = nodes[name] else { continue }
            let orphaned =
                node.isPrimary && !node.isFailing && node.flags.contains(.migrateTarget) && working[name] == nil
            if orphaned {
                if orphanedSince[name] == nil { orphanedSince[name] = now }
                if !node.slots.isEmpty { orphans += 1 }
            } else {
                orphanedSince[name] = nil
            }
            if node.isPrimary && !node.isFailing { maxReplicas = max(maxReplicas, working[name] ?? 0) }
        }
        // Redis counts its own primary's replicas only while that primary is not failing.
        guard me.isReplica, let myPrimary = me.primary, nodes[myPrimary]?.isFailing == false, orphans > 0,
            maxReplicas >= 2, working[myPrimary] == maxReplicas, settings.allowReplicaMigration, isOK
        else { return [] }
        // Only replicas neither failing nor possibly failing count toward the barrier.
        let healthyReplicasOfMine = nodes.values.filter {
            $0.isReplica && $0.primary == myPrimary && !$0.isFailing && !$0.isPossiblyFailing
        }.count
        guard Int64(healthyReplicasOfMine) > settings.migrationBarrier else { return [] }
        var target: String?
        var candidate = myself
        for name in order {
            guard let node = nodes[name], node.isPrimary else { continue }
            if target == nil, orphanedSince[name] != nil, !node.slots.isEmpty { target = name }
            guard working[name] == maxReplicas else { continue }
            for replica in nodes.values where replica.isReplica && replica.primary == name && replica.name < candidate {
                candidate = replica.name
            }
        }
        guard let target, candidate == myself, let since = orphanedSince[target],
            now - since > ClusterState.replicaMigrationDelay
        else { return [] }
        election = FailoverElection()
        becomeReplica(of: target)
        return [.log(.notice, "Migrating to orphaned master \(target)"), .replicate(primary: target)]
    }
}
