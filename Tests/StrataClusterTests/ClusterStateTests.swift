import Testing

@testable import StrataCluster

/// Nodes meeting and agreeing over an in-memory bus, the CLUSTER subcommands' checks,
/// routing, and `nodes.conf`.
@Suite("Cluster state")
struct ClusterStateTests {
    static func info(_ port: Int) -> ClusterSelfInfo {
        ClusterSelfInfo(
            port: UInt16(port), plaintextPort: 0, busPort: UInt16(port + 10_000), announcedIP: "", hostname: "",
            replicationOffset: 0)
    }

    /// Nodes on 127.0.0.1 whose outgoing links always connect, delivering every message
    /// at once (messages sent on a link to a node go to that node's inbound side).
    struct Bus {
        var states: [Int: ClusterState] = [:]
        /// Outgoing links: (from port, to node name) → connected since.
        var links: [Int: [String: Int64]] = [:]
        var now: Int64 = 1_000_000

        init(ports: [Int]) {
            for port in ports {
                var state = ClusterState(now: now)
                state.update(state.myself) {
                    $0.port = port
                    $0.busPort = port + 10_000
                }
                states[port] = state
                links[port] = [:]
            }
        }

        func port(of name: String, from: Int) -> Int? {
            states[from]?.node(name).map(\.port)
        }

        mutating func deliver(_ message: ClusterBusMessage, from: Int, to: Int, outbound: String?) {
            guard var state = states[to] else { return }
            let context = ClusterLinkContext(outboundNode: outbound, peerIP: "127.0.0.1", localIP: "127.0.0.1")
            let linksOfTarget = links[to] ?? [:]
            let actions = state.receive(
                message, on: context, ClusterStateTests.info(to), linked: { linksOfTarget[$0] != nil },
                keysInSlot: { _ in 0 }, now: now)
            states[to] = state
            perform(actions, at: to, replyTo: from, outbound: outbound)
        }

        mutating func perform(_ actions: [ClusterBusAction], at port: Int, replyTo: Int?, outbound: String?) {
            for action in actions {
                switch action {
                case .reply(let message):
                    // A reply on an incoming link reaches the sender on its outgoing link.
                    if let replyTo, let name = states[port]?.myself {
                        let senderLink = links[replyTo]?.keys.first { states[replyTo]?.node($0)?.port == port } ?? name
                        deliver(message, from: port, to: replyTo, outbound: senderLink)
                    }
                case .send(let message, let name):
                    if links[port]?[name] != nil, let target = self.port(of: name, from: port) {
                        deliver(message, from: port, to: target, outbound: nil)
                    }
                case .broadcast(let message):
                    for name in links[port]?.keys.sorted() ?? [] {
                        if let target = self.port(of: name, from: port) {
                            deliver(message, from: port, to: target, outbound: nil)
                        }
                    }
                case .connect(let name):
                    guard let target = self.port(of: name, from: port), states[target] != nil else { continue }
                    links[port]?[name] = now
                    let linksHere = links[port] ?? [:]
                    if let first = states[port]?.linkEstablished(
                        name, ClusterStateTests.info(port), linked: { linksHere[$0] != nil }, now: now)
                    {
                        deliver(first, from: port, to: target, outbound: nil)
                    }
                case .renamed(let old, let new):
                    if let since = links[port]?.removeValue(forKey: old) { links[port]?[new] = since }
                case .dropLink(let name):
                    links[port]?[name] = nil
                case .dropThisLink:
                    if let outbound { links[port]?[outbound] = nil }
                case .replicate, .deleteKeys, .publish, .log, .promoted, .pauseWriters, .resumeWriters:
                    break
                }
            }
        }

        mutating func tick(_ iteration: Int) {
            for port in states.keys.sorted() {
                guard var state = states[port] else { continue }
                let linksHere = links[port] ?? [:]
                let actions = state.tick(
                    iteration, ClusterStateTests.info(port), linkSince: { linksHere[$0] }, now: now)
                states[port] = state
                perform(actions, at: port, replyTo: nil, outbound: nil)
            }
            now += 100
        }
    }

    @Test func nodesMeetLearnEachOtherThroughGossipAndAgreeOnSlots() throws {
        var bus = Bus(ports: [7001, 7002, 7003])
        bus.states[7001]?.changeSlots([0...8191], delete: false)
        bus.states[7002]?.changeSlots([8192...16383], delete: false)
        // 7001 meets 7002 and 7003; 7002 and 7003 learn of each other through gossip.
        bus.states[7001]?.startHandshake(ip: "127.0.0.1", port: 7002, busPort: 17002, now: bus.now)
        bus.states[7001]?.startHandshake(ip: "127.0.0.1", port: 7003, busPort: 17003, now: bus.now)
        for iteration in 0..<400 { bus.tick(iteration) }
        let names = Set(bus.states.values.map(\.myself))
        for (port, state) in bus.states {
            #expect(Set(state.nodes.keys) == names, "node \(port) knows \(state.nodes.count)")
            #expect(state.nodes.values.allSatisfy { !$0.inHandshake }, "node \(port)")
            let ok = state.isOK
            #expect(ok, "node \(port)")
            #expect(state.slotHealth.assigned == 16384, "node \(port)")
        }
        let owner = bus.states[7003]?.slotOwners[100]
        #expect(owner == bus.states[7001]?.myself)
    }

    @Test func aSilentNodeBecomesFailingByMajority() throws {
        var bus = Bus(ports: [7001, 7002, 7003])
        bus.states[7001]?.changeSlots([0...5000], delete: false)
        bus.states[7002]?.changeSlots([5001...10000], delete: false)
        bus.states[7003]?.changeSlots([10001...16383], delete: false)
        bus.states[7001]?.startHandshake(ip: "127.0.0.1", port: 7002, busPort: 17002, now: bus.now)
        bus.states[7001]?.startHandshake(ip: "127.0.0.1", port: 7003, busPort: 17003, now: bus.now)
        for iteration in 0..<300 { bus.tick(iteration) }
        let victim = try #require(bus.states[7003]?.myself)
        // 7003 stops answering: its state leaves the bus.
        bus.states[7003] = nil
        for iteration in 300..<(300 + 400) { bus.tick(iteration) }
        for port in [7001, 7002] {
            #expect(bus.states[port]?.node(victim)?.isFailing == true, "node \(port)")
            #expect(bus.states[port]?.isOK == false, "node \(port)")
        }
    }

    @Test func aReplicaOfAFailedPrimaryWinsTheElectionAndTheOldPrimaryFollowsIt() throws {
        var bus = Bus(ports: [7001, 7002, 7003, 7004])
        bus.states[7001]?.changeSlots([0...5000], delete: false)
        bus.states[7002]?.changeSlots([5001...10000], delete: false)
        bus.states[7003]?.changeSlots([10001...16383], delete: false)
        for port in [7002, 7003, 7004] {
            bus.states[7001]?.startHandshake(ip: "127.0.0.1", port: port, busPort: port + 10_000, now: bus.now)
        }
        for iteration in 0..<300 { bus.tick(iteration) }
        let primary = try #require(bus.states[7001]?.myself)
        #expect(bus.states[7004]?.replicate(primary, keyspaceEmpty: true) == nil)
        for iteration in 300..<400 { bus.tick(iteration) }
        #expect(bus.states[7002]?.node(try #require(bus.states[7004]?.myself))?.primary == primary)
        // The primary goes silent; the replica must be voted in by 7002 and 7003.
        let stopped = try #require(bus.states[7001])
        bus.states[7001] = nil
        for iteration in 400..<1000 { bus.tick(iteration) }
        let replica = try #require(bus.states[7004])
        let promoted = replica.me.isPrimary
        #expect(promoted)
        #expect(replica.slotOwners[42] == replica.myself)
        #expect(bus.states[7002]?.slotOwners[42] == replica.myself)
        // The old primary comes back, learns of the newer claim, and follows the winner.
        bus.states[7001] = stopped
        for iteration in 1000..<1300 { bus.tick(iteration) }
        let rejoined = try #require(bus.states[7001])
        #expect(rejoined.me.isReplica)
        #expect(rejoined.me.primary == replica.myself)
    }

    @Test func settingsFromUsersStayWithinWhatTheArithmeticTakes() {
        var settings = ClusterSettings()
        settings.nodeTimeout = .max
        settings.replicaValidityFactor = .max
        settings.replicationPingPeriod = .max
        #expect(settings.nodeTimeout == ClusterSettings.maxNodeTimeout)
        #expect(settings.replicaValidityFactor == Int64(Int32.max))
        // A replica of a failing primary runs its election clock with them, without trapping.
        var state = ClusterState(settings: settings, now: 0)
        let primary = String(repeating: "c", count: 40)
        var node = ClusterNode(name: primary, flags: [.primary, .failing], ip: "127.0.0.1", port: 7001, now: 0)
        node.slots.set(1, true)
        state.add(node)
        state.becomeReplica(of: primary)
        var info = ClusterStateTests.info(7000)
        info.dataAge = .max / 2
        for iteration in 0..<3 {
            _ = state.tick(iteration, info, linkSince: { _ in 0 }, now: .max / 4 + Int64(iteration))
        }
        let replica = state.me.isReplica
        #expect(replica)
    }

    @Test func slotCommandsCheckLikeRedis() {
        var state = ClusterState(now: 0)
        #expect(state.changeSlots([1...3], delete: false) == nil)
        #expect(state.changeSlots([3...4], delete: false) == (ClusterError("ERR Slot 3 is already busy")))
        #expect(
            state.changeSlots([5...5, 5...5], delete: false) == (ClusterError("ERR Slot 5 specified multiple times")))
        #expect(state.changeSlots([9...9], delete: true) == (ClusterError("ERR Slot 9 is already unassigned")))
        #expect(state.me.slots.ranges == [1...3])
        #expect(
            state.flushSlots(keyspaceEmpty: false)
                == (ClusterError("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.")))
        let other = String(repeating: "e", count: 40)
        #expect(
            state.setSlot(2, action: "migrating", node: other, keysInSlot: 0)
                == .failure(ClusterError("ERR I don't know about node \(other)")))
        state.add(ClusterNode(name: other, flags: [.primary], ip: "127.0.0.1", port: 7002, busPort: 17002, now: 0))
        #expect(
            state.setSlot(2, action: "migrating", node: other, keysInSlot: 0)
                == .success(.none))
        #expect(
            state.setSlot(9, action: "migrating", node: other, keysInSlot: 0)
                == .failure(ClusterError("ERR I'm not the owner of hash slot 9")))
        #expect(
            state.setSlot(2, action: "node", node: other, keysInSlot: 3)
                == .failure(
                    ClusterError(
                        "ERR Can't assign hashslot 2 to a different node while I still hold keys for this hash slot.")))
        #expect(state.description(of: state.me, linked: true).hasSuffix("connected 1-3 [2->-\(other)]"))
        #expect(
            state.setConfigEpoch(5)
                == (ClusterError(
                    "ERR The user can assign a config epoch only when the node does not know any other node.")))
        #expect(state.forget(state.myself, now: 0) == (ClusterError("ERR I tried hard but I can't forget myself...")))
        #expect(
            state.replicate(other, keyspaceEmpty: true)
                == (ClusterError("ERR To set a master the node must be empty and without assigned slots.")))
    }

    @Test func routingSendsClientsWhereTheKeysAre() {
        var state = ClusterState(now: 0)
        let other = String(repeating: "f", count: 40)
        state.add(ClusterNode(name: other, flags: [.primary], ip: "127.0.0.1", port: 7002, busPort: 17002, now: 0))
        state.changeSlots([0...8191], delete: false)
        for slot in 8192...16383 { state.assign(slot, to: other) }
        _ = state.updateState(now: 0)
        _ = state.updateState(now: 5_000)
        let ok = state.isOK
        #expect(ok)
        let slotOf = { (key: Int) in key }
        let query = ClusterQuery()
        #expect(state.route(keys: [5, 5], slotOf: slotOf, query: query, exists: { _ in true }).route == .local)
        #expect(
            state.route(keys: [9000], slotOf: slotOf, query: query, exists: { _ in true }).route
                == .moved(slot: 9000, node: other))
        #expect(state.route(keys: [1, 2], slotOf: slotOf, query: query, exists: { _ in true }).route == .crossSlot)
        #expect(state.route(keys: [Int](), slotOf: slotOf, query: query, exists: { _ in true }).route == .local)
        _ = state.setSlot(7, action: "migrating", node: other, keysInSlot: 1)
        #expect(
            state.route(keys: [7], slotOf: slotOf, query: query, exists: { _ in false }).route
                == .ask(slot: 7, node: other))
        #expect(state.route(keys: [7], slotOf: slotOf, query: query, exists: { _ in true }).route == .local)
        let slotOfPair = { (key: String) in 7 }
        #expect(
            state.route(keys: ["a", "b"], slotOf: slotOfPair, query: query, exists: { $0 == "a" }).route == .tryAgain)
        _ = state.setSlot(9000, action: "importing", node: other, keysInSlot: 0)
        var asking = ClusterQuery()
        asking.asking = true
        #expect(state.route(keys: [9000], slotOf: slotOf, query: asking, exists: { _ in false }).route == .local)
        #expect(
            state.route(keys: [9000], slotOf: slotOf, query: query, exists: { _ in false }).route
                == .moved(slot: 9000, node: other))
        state.changeSlots([100...100], delete: true)
        #expect(state.route(keys: [100], slotOf: slotOf, query: query, exists: { _ in true }).route == .unboundSlot)
    }

    @Test func nodesConfigRoundTripsAndReadsRedisFiles() throws {
        let redisFile = """
            9d3d74b64e03297d925d644fb95eeab85034e72d 127.0.0.1:7791@17791 myself,master - 0 1796576817000 1 connected 0-5460
            b490b4c2e094d2f0283129a9cbe5f969f4803145 127.0.0.1:7792@17792 master - 0 1796576817302 2 connected 5461-10922
            2a0eb05496167cea96b91397ab98e3bd9f595a32 127.0.0.1:7793 slave b490b4c2e094d2f0283129a9cbe5f969f4803145 0 1796576817403 3 connected
            vars currentEpoch 3 lastVoteEpoch 0

            """
        let state = try NodesConfigFile.parse(redisFile, settings: ClusterSettings(), now: 5).get()
        #expect(state.myself == "9d3d74b64e03297d925d644fb95eeab85034e72d")
        #expect(state.currentEpoch == 3)
        #expect(state.nodes.count == 3)
        #expect(state.node("2a0eb05496167cea96b91397ab98e3bd9f595a32")?.busPort == 17793)
        #expect(state.node("2a0eb05496167cea96b91397ab98e3bd9f595a32")?.configEpoch == 0)
        #expect(state.slotOwners[10922] == "b490b4c2e094d2f0283129a9cbe5f969f4803145")
        let written = NodesConfigFile.text(of: state, linked: { _ in false })
        let again = try NodesConfigFile.parse(written, settings: ClusterSettings(), now: 5).get()
        #expect(again.slotOwners == state.slotOwners)
        #expect(NodesConfigFile.text(of: again, linked: { _ in false }) == written)
        for broken in [
            "vars currentEpoch", "zz 127.0.0.1:1 master - 0 0 0 connected",
            "\(state.myself) 127.0.0.1:1 myself,master - 0 0 0 connected 99999",
            "\(state.myself) 127.0.0.1:9223372036854775807 myself,master - 0 0 0 connected",
            "\(state.myself) 127.0.0.1:7000@70000 myself,master - 0 0 0 connected",
        ] {
            #expect((try? NodesConfigFile.parse(broken, settings: ClusterSettings(), now: 0).get()) == nil, "\(broken)")
        }
    }
}
