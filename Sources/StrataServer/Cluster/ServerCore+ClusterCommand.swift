//! `CLUSTER` and its subcommands, `ASKING`, `READONLY` and `READWRITE`, with Redis 7.0's
//! replies and errors. State changes go through `ClusterState`; the keyspace answers the
//! questions that need it (is it empty, which keys a slot holds).

import StrataCluster
import StrataEngine

#if canImport(Glibc)
    import Glibc
#endif

extension ServerCore {
    static let clusterDisabled = Reply.error("ERR This instance has cluster support disabled")

    /// ASKING, READONLY, READWRITE.
    func clusterConnectionCommand(_ command: ServerCommand, session: ClientSession) -> Reply {
        guard cluster != nil else { return ServerCore.clusterDisabled }
        switch command {
        case .asking: session.asking = true
        case .readOnly: session.readOnlyCluster = true
        default: session.readOnlyCluster = false
        }
        return .ok
    }

    /// Whether database 0 holds no key.
    private var keyspaceEmpty: Bool { engine.databases[0].count == 0 }

    /// `endpoint:port` of a node, for MOVED and ASK to `session`.
    func clusterAddress(_ name: String, for session: ClientSession) -> String {
        guard let cluster, let node = cluster.state.node(name) else { return ":0" }
        return
            "\(cluster.state.endpoint(of: node)):\(cluster.state.clientPort(of: node, plaintext: plaintextPorts(session)))"
    }

    /// Whether `session` is told the nodes' plaintext ports: with `tls-cluster yes` nodes
    /// announce their TLS ports, and a client on the plaintext port gets the plaintext
    /// ones (as Redis 7.0 answers it).
    func plaintextPorts(_ session: ClientSession) -> Bool { config.tls.cluster && !session.encrypted }

    /// A slot argument (Redis's `getSlotOrReply`).
    private func slotArgument(_ argument: Bytes) -> Int? {
        guard let value = argument.strictInteger, (0..<HashSlot.count).contains(value) else { return nil }
        return value
    }

    private static let badSlot = Reply.error("ERR Invalid or out of range slot")

    func clusterCommand(_ args: [Bytes], session: ClientSession, now: Int64) -> Reply {
        guard let cluster else { return ServerCore.clusterDisabled }
        let subcommand = args[1].lowercased.string
        defer {
            if cluster.state.needsSave { saveClusterConfig() }
            if let change = cluster.state.updateState(now: now) {
                logger.warning("Cluster state changed: \(change ? "ok" : "fail")")
            }
        }
        switch subcommand {
        case "myid":
            return .bulk(Bytes(cluster.state.myself))
        case "nodes":
            return .verbatim(cluster.state.nodesText(linked: cluster.isLinked, plaintextPorts: plaintextPorts(session)))
        case "info":
            return .verbatim(
                cluster.state.infoFields(linkBufferLimitExceeded: cluster.linksFreedForBufferLimit).map {
                    "\($0.0):\($0.1)\r\n"
                }.joined())
        case "slots":
            let plaintext = plaintextPorts(session)
            return .array(cluster.state.slotRanges.map { slotsEntry($0, plaintext: plaintext) })
        case "shards":
            return .array(cluster.state.shards.map { shardEntry(ranges: $0.ranges, nodes: $0.nodes) })
        case "keyslot":
            return .integer(SlotKeyIndex.slot(of: args[2]))
        case "countkeysinslot":
            guard let slot = args[2].strictInteger else { return Errors.notInteger }
            guard (0..<HashSlot.count).contains(slot) else { return .error("ERR Invalid slot") }
            return .integer(keysInSlot(slot))
        case "getkeysinslot":
            guard let slot = args[2].strictInteger, let count = args[3].strictInteger else { return Errors.notInteger }
            guard (0..<HashSlot.count).contains(slot), count >= 0 else {
                return .error("ERR Invalid slot or number of keys")
            }
            return .array((engine.databases[0].slotIndex?.keys(in: slot, limit: count) ?? []).map { .bulk($0) })
        case "addslots", "delslots":
            var ranges: [ClosedRange<Int>] = []
            for argument in args.dropFirst(2) {
                guard let slot = slotArgument(argument) else { return ServerCore.badSlot }
                ranges.append(slot...slot)
            }
            return cluster.state.changeSlots(ranges, delete: subcommand == "delslots").map { .error($0.message) } ?? .ok
        case "addslotsrange", "delslotsrange":
            guard args.count % 2 == 0 else { return Errors.arity("cluster|\(subcommand)") }
            var ranges: [ClosedRange<Int>] = []
            for index in stride(from: 2, to: args.count, by: 2) {
                guard let start = slotArgument(args[index]), let end = slotArgument(args[index + 1]) else {
                    return ServerCore.badSlot
                }
                guard start <= end else {
                    return .error("ERR start slot number \(start) is greater than end slot number \(end)")
                }
                ranges.append(start...end)
            }
            return cluster.state.changeSlots(ranges, delete: subcommand == "delslotsrange").map { .error($0.message) }
                ?? .ok
        case "flushslots":
            return cluster.state.flushSlots(keyspaceEmpty: keyspaceEmpty).map { .error($0.message) } ?? .ok
        case "setslot":
            guard let slot = slotArgument(args[2]) else { return ServerCore.badSlot }
            guard args.count <= 5 else {
                return .error("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP")
            }
            let result = cluster.state.setSlot(
                slot, action: args[3].string, node: args.count == 5 ? args[4].string : nil,
                keysInSlot: keysInSlot(slot))
            switch result {
            case .failure(let error):
                return .error(error.message)
            case .success(.becameReplica(let primary)):
                logger.warning("Configuration change detected. Reconfiguring myself as a replica of \(primary)")
                followClusterPrimary(primary)
            case .success(.finishedImport(let newEpoch)):
                if newEpoch { logger.warning("configEpoch updated after importing slot \(slot)") }
                broadcastPong(now: now)
            case .success(.none):
                break
            }
            return .ok
        case "bumpepoch":
            let bumped = cluster.state.bumpConfigEpochWithoutConsensus()
            return .status("\(bumped ? "BUMPED" : "STILL") \(cluster.state.me.configEpoch)")
        case "set-config-epoch":
            guard let epoch = args[2].strictInteger else { return Errors.notInteger }
            if let error = cluster.state.setConfigEpoch(Int64(epoch)) { return .error(error.message) }
            logger.warning("configEpoch set to \(epoch) via CLUSTER SET-CONFIG-EPOCH")
            return .ok
        case "meet":
            return clusterMeet(args, now: now)
        case "forget":
            return cluster.state.forget(args[2].string, now: now).map { .error($0.message) }
                ?? forgetLinks(args[2].string)
        case "replicate":
            if let error = cluster.state.replicate(args[2].string, keyspaceEmpty: keyspaceEmpty) {
                return .error(error.message)
            }
            followClusterPrimary(args[2].string)
            return .ok
        case "replicas", "slaves":
            guard let node = cluster.state.lookup(args[2].string) else {
                return .error("ERR Unknown node \(args[2].string)")
            }
            guard !node.isReplica else { return .error("ERR The specified node is not a master") }
            return .array(
                cluster.state.replicas(of: node.name).map {
                    .bulk(
                        Bytes(
                            cluster.state.description(
                                of: $0, linked: cluster.isLinked($0.name), plaintextPorts: plaintextPorts(session))))
                })
        case "count-failure-reports":
            guard let node = cluster.state.lookup(args[2].string) else {
                return .error("ERR Unknown node \(args[2].string)")
            }
            return .integer(cluster.state.validFailureReports(node.name, now: now))
        case "reset":
            return clusterReset(args, now: now)
        case "failover":
            var mode = ManualFailoverMode.coordinated
            if args.count == 3 {
                if args[2].equalsIgnoringCase("force") {
                    mode = .force
                } else if args[2].equalsIgnoringCase("takeover") {
                    mode = .takeover
                } else {
                    return Errors.syntax
                }
            } else if args.count > 3 {
                return Errors.syntax
            }
            let primaryLinked = cluster.state.me.primary.map { cluster.outbound[$0]?.channel != nil } ?? false
            switch cluster.state.startManualFailover(mode, primaryLinked: primaryLinked, now: now, clusterSelfInfo) {
            case .failure(let error): return .error(error.message)
            case .success(let actions): perform(actions, link: nil)
            }
            return .ok
        case "saveconfig":
            if let error = saveClusterConfig(force: true) {
                return .error("ERR error saving the cluster node config: \(error)")
            }
            return .ok
        case "links":
            return .array(clusterLinks())
        default:
            return .array(ServerCore.clusterHelp.map { .text($0) })
        }
    }

    private func forgetLinks(_ name: String) -> Reply {
        cluster?.outbound.removeValue(forKey: name)?.close()
        return .ok
    }

    /// `CLUSTER MEET ip port [bus-port]`.
    private func clusterMeet(_ args: [Bytes], now: Int64) -> Reply {
        guard let cluster else { return ServerCore.clusterDisabled }
        guard args.count <= 5 else {
            return .error("ERR unknown subcommand or wrong number of arguments for 'meet'. Try CLUSTER HELP.")
        }
        guard let port = args[3].strictInteger else {
            return .error("ERR Invalid TCP base port specified: \(args[3].string)")
        }
        var busPort = port &+ 10_000
        if args.count == 5 {
            guard let given = args[4].strictInteger else {
                return .error("ERR Invalid TCP bus port specified: \(args[4].string)")
            }
            busPort = given
        }
        guard let ip = ServerCore.normalizedIP(args[2].string), (1...65535).contains(port),
            (1...65535).contains(busPort)
        else {
            return .error("ERR Invalid node address specified: \(args[2].string):\(args[3].string)")
        }
        cluster.state.startHandshake(ip: ip, port: port, busPort: busPort, now: now)
        return .ok
    }

    /// An IPv4 or IPv6 address in its canonical form; nil for anything else (Redis takes
    /// addresses only, not host names).
    static func normalizedIP(_ text: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            guard inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            return String(cString: buffer)
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            return String(cString: buffer)
        }
        return nil
    }

    /// `CLUSTER RESET [HARD|SOFT]`.
    private func clusterReset(_ args: [Bytes], now: Int64) -> Reply {
        guard let cluster else { return ServerCore.clusterDisabled }
        var hard = false
        if args.count == 3 {
            if args[2].equalsIgnoringCase("hard") {
                hard = true
            } else if !args[2].equalsIgnoringCase("soft") {
                return Errors.syntax
            }
        } else if args.count > 3 {
            return Errors.syntax
        }
        if cluster.state.me.isPrimary && !keyspaceEmpty {
            return .error("ERR CLUSTER RESET can't be called with master nodes containing keys")
        }
        if cluster.state.me.isReplica {
            becomePrimary(reason: "CLUSTER RESET")
            flushAllForClusterReset(now: now)
        }
        cluster.state.reset(hard: hard, now: now)
        for link in cluster.outbound.values { link.close() }
        cluster.outbound = [:]
        return .ok
    }

    /// A replica's data goes with its primary on `CLUSTER RESET`: FLUSHALL's own handler,
    /// so WATCH, tracking, replicas and the AOF see a FLUSHALL.
    private func flushAllForClusterReset(now: Int64) {
        let args = [Bytes("FLUSHALL")]
        guard let spec = engine.commands.spec(named: args[0]), case .engine(let handler) = spec.handler else { return }
        _ = engine.runServerWrite(args: args, db: 0, now: now) { handler(&$0) }
        commitWrites(now: now)
    }

    /// Sends a PONG to every linked node (after taking over a slot).
    func broadcastPong(now: Int64) {
        guard let cluster else { return }
        for (name, link) in cluster.outbound where cluster.state.node(name)?.inHandshake == false {
            send(
                cluster.state.gossipMessage(.pong, to: nil, clusterSelfInfo, linked: cluster.isLinked, now: now),
                on: link)
        }
    }

    /// One node of `CLUSTER SLOTS`: endpoint, port, name, and the other known addresses.
    private func slotsNode(_ node: ClusterNode, plaintext: Bool) -> Reply {
        guard let state = cluster?.state else { return .nullArray }
        var extra: [(Reply, Reply)] = []
        if state.settings.preferredEndpoint != .ip { extra.append((.text("ip"), .text(node.ip))) }
        if state.settings.preferredEndpoint != .hostname && !node.hostname.isEmpty {
            extra.append((.text("hostname"), .text(node.hostname)))
        }
        let port = state.clientPort(of: node, plaintext: plaintext)
        return .array([.text(state.endpoint(of: node)), .integer(port), .text(node.name), .map(extra)])
    }

    private func slotsEntry(_ entry: ClusterState.SlotRangeEntry, plaintext: Bool) -> Reply {
        .array(
            [.integer(entry.range.lowerBound), .integer(entry.range.upperBound)]
                + entry.nodes.map { slotsNode($0, plaintext: plaintext) })
    }

    private func shardEntry(ranges: [ClosedRange<Int>], nodes: [ClusterNode]) -> Reply {
        guard let state = cluster?.state else { return .nullArray }
        let slots = ranges.flatMap { [Reply.integer($0.lowerBound), .integer($0.upperBound)] }
        let described: [Reply] = nodes.map { node in
            // With `tls-cluster yes`: the plaintext port (when there is one) and the TLS port.
            var fields: [(Reply, Reply)] = [(.text("id"), .text(node.name))]
            let port = config.tls.cluster ? node.plaintextPort : node.port
            if port != 0 { fields.append((.text("port"), .integer(port))) }
            if config.tls.cluster { fields.append((.text("tls-port"), .integer(node.port))) }
            fields += [(.text("ip"), .text(node.ip)), (.text("endpoint"), .text(state.endpoint(of: node)))]
            if !node.hostname.isEmpty { fields.append((.text("hostname"), .text(node.hostname))) }
            let offset = node.isMyself ? clusterSelfInfo.replicationOffset : node.replicationOffset
            fields += [
                (.text("role"), .text(node.isReplica ? "replica" : "master")),
                (.text("replication-offset"), .integer(Int(clamping: offset))),
                (.text("health"), .text(state.health(of: node))),
            ]
            return .map(fields)
        }
        return .map([(.text("slots"), .array(slots)), (.text("nodes"), .array(described))])
    }

    /// `CLUSTER LINKS`: the outgoing and incoming links.
    private func clusterLinks() -> [Reply] {
        guard let cluster else { return [] }
        var links: [Reply] = []
        for (name, link) in cluster.outbound.sorted(by: { $0.key < $1.key }) {
            links.append(linkEntry(direction: "to", node: name, link: link))
        }
        for link in cluster.inbound.values {
            links.append(linkEntry(direction: "from", node: link.node ?? "", link: link))
        }
        return links
    }

    private func linkEntry(direction: String, node: String, link: ClusterLink) -> Reply {
        .map([
            (.text("direction"), .text(direction)), (.text("node"), .text(node)),
            (.text("create-time"), .integer(Int(link.createdAt))),
            (.text("events"), .text(link.channel == nil ? "" : "r")),
            (.text("send-buffer-allocated"), .integer(link.pendingBytes)),
            (.text("send-buffer-used"), .integer(link.pendingBytes)),
        ])
    }

    static let clusterHelp = [
        "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ADDSLOTS <slot> [<slot> ...]",
        "    Assign slots to current node.",
        "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
        "    Assign slots which are between <start-slot> and <end-slot> to current node.",
        "BUMPEPOCH",
        "    Advance the cluster config epoch.",
        "COUNT-FAILURE-REPORTS <node-id>",
        "    Return number of failure reports for <node-id>.",
        "COUNTKEYSINSLOT <slot>",
        "    Return the number of keys in <slot>.",
        "DELSLOTS <slot> [<slot> ...]",
        "    Delete slots information from current node.",
        "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
        "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
        "FAILOVER [FORCE|TAKEOVER]",
        "    Promote current replica node to being a master.",
        "FORGET <node-id>",
        "    Remove a node from the cluster.",
        "GETKEYSINSLOT <slot> <count>",
        "    Return key names stored by current node in a slot.",
        "FLUSHSLOTS",
        "    Delete current node own slots information.",
        "INFO",
        "    Return information about the cluster.",
        "KEYSLOT <key>",
        "    Return the hash slot for <key>.",
        "LINKS",
        "    Return information about all network links between this node and its peers.",
        "    Output format is an array where each array element is a map containing attributes of a link",
        "MEET <ip> <port> [<bus-port>]",
        "    Connect nodes into a working cluster.",
        "MYID",
        "    Return the node id.",
        "NODES",
        "    Return cluster configuration seen by node. Output format:",
        "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
        "REPLICATE <node-id>",
        "    Configure current node as replica to <node-id>.",
        "RESET [HARD|SOFT]",
        "    Reset current node (default: soft).",
        "SET-CONFIG-EPOCH <epoch>",
        "    Set config epoch of current node.",
        "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
        "    Set slot state.",
        "REPLICAS <node-id>",
        "    Return <node-id> replicas.",
        "SAVECONFIG",
        "    Force saving cluster configuration on disk.",
        "SLOTS",
        "    Return information about slots range mappings. Each range is made of:",
        "    start, end, master and replicas IP addresses, ports and ids",
        "SHARDS",
        "    Return information about slot range mappings and the nodes associated with them.",
        "HELP",
        "    Print this help.",
    ]
}
