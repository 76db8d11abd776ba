import Testing

@testable import StrataCluster

/// Replica migration over the in-memory bus: a primary that lost its only replica gets
/// one from the primary with the most, as `cluster-migration-barrier` allows.
@Suite("Replica migration")
struct ReplicaMigrationTests {
    typealias Bus = ClusterStateTests.Bus

    /// Three primaries (7001–7003); 7004 and 7005 replicate 7001, 7006 replicates 7002,
    /// 7007 replicates 7003. Every node has `barrier` as its migration barrier.
    static func cluster(barrier: Int64, allowMigration: Bool = true) throws -> Bus {
        let ports = Array(7001...7007)
        var bus = Bus(ports: ports)
        for port in ports {
            bus.states[port]?.settings.nodeTimeout = 2_000
            bus.states[port]?.settings.migrationBarrier = barrier
            bus.states[port]?.settings.allowReplicaMigration = allowMigration
        }
        bus.states[7001]?.changeSlots([0...5000], delete: false)
        bus.states[7002]?.changeSlots([5001...10000], delete: false)
        bus.states[7003]?.changeSlots([10001...16383], delete: false)
        for port in ports.dropFirst() {
            bus.states[7001]?.startHandshake(ip: "127.0.0.1", port: port, busPort: port + 10_000, now: bus.now)
        }
        for iteration in 0..<200 { bus.tick(iteration) }
        for (replica, primaryPort) in [(7004, 7001), (7005, 7001), (7006, 7002), (7007, 7003)] {
            let primary = try #require(bus.states[primaryPort]?.myself)
            #expect(bus.states[replica]?.replicate(primary, keyspaceEmpty: true) == nil)
        }
        for iteration in 200..<300 { bus.tick(iteration) }
        return bus
    }

    @Test func aReplicaOfTheBestServedPrimaryMovesToAnOrphanedOne() throws {
        var bus = try Self.cluster(barrier: 1)
        let orphan = try #require(bus.states[7003]?.myself)
        let richest = try #require(bus.states[7001]?.myself)
        // The smaller name of 7001's two replicas is the one every node expects to move.
        let mover = try #require([7004, 7005].min { bus.states[$0]!.myself < bus.states[$1]!.myself })
        let stayer = mover == 7004 ? 7005 : 7004
        let lost = try #require(bus.states[7007]?.myself)
        bus.states[7007] = nil
        // The move comes at least five seconds after the replica's failure is agreed.
        var failedAt: Int?
        var movedAt: Int?
        for iteration in 300..<600 {
            bus.tick(iteration)
            if failedAt == nil, bus.states[mover]?.node(lost)?.isFailing == true { failedAt = iteration }
            if movedAt == nil, bus.states[mover]?.me.primary == orphan { movedAt = iteration }
        }
        let failed = try #require(failedAt)
        let moved = try #require(movedAt)
        #expect(moved - failed >= 50, "moved \(moved - failed) ticks of 100 ms after the failure")
        #expect(bus.states[mover]?.me.primary == orphan)
        #expect(bus.states[stayer]?.me.primary == richest)
        #expect(bus.states[7006]?.me.primary == bus.states[7002]?.myself)
        // The others learn of the move through gossip.
        let moverName = try #require(bus.states[mover]?.myself)
        for port in [7001, 7002, 7003, 7006] {
            #expect(bus.states[port]?.node(moverName)?.primary == orphan, "node \(port)")
        }
    }

    @Test func theBarrierAndTheSwitchKeepReplicasWhereTheyAre() throws {
        for (barrier, allowed) in [(Int64(2), true), (1, false)] {
            var bus = try Self.cluster(barrier: barrier, allowMigration: allowed)
            let richest = try #require(bus.states[7001]?.myself)
            bus.states[7007] = nil
            for iteration in 300..<900 { bus.tick(iteration) }
            #expect(bus.states[7004]?.me.primary == richest, "barrier \(barrier), allowed \(allowed)")
            #expect(bus.states[7005]?.me.primary == richest, "barrier \(barrier), allowed \(allowed)")
        }
    }
}
