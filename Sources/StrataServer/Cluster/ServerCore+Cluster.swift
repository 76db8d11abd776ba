//! Cluster mode on the event loop (`cluster-enabled yes`): `nodes.conf` loaded or created
//! at start, the bus's links, the 100 ms clock, and what the cluster state asks for after
//! a message or a tick (send, connect, drop, follow a primary, delete lost keys, deliver
//! messages published elsewhere). The state itself, with the protocol's rules, is
//! `ClusterState` (StrataCluster); this file is its I/O.

import NIOCore
import NIOPosix
import NIOSSL
import StrataCluster
import StrataEngine
import StrataPersistence

#if canImport(Glibc)
    import Glibc
#endif

/// The cluster's part of the server.
final class ClusterRuntime {
    var state: ClusterState
    /// Outgoing links by node name (one per node, made while connecting too).
    var outbound: [String: ClusterLink] = [:]
    /// Incoming links.
    var inbound: [ObjectIdentifier: ClusterLink] = [:]
    /// Ticks so far (a random node is pinged every tenth).
    var iteration = 0
    /// Where `nodes.conf` is.
    let configPath: String
    /// The epochs (current, last vote, this node's) in the file as last saved.
    var savedEpochs: [UInt64] = []
    /// Links closed because their send buffer passed `cluster-link-sendbuf-limit`.
    var linksFreedForBufferLimit: UInt64 = 0

    init(state: ClusterState, configPath: String) {
        self.state = state
        self.configPath = configPath
    }

    /// Whether a node has an outgoing link (connected or connecting).
    func isLinked(_ name: String) -> Bool { outbound[name] != nil }

    /// Every link, outgoing ones first.
    var allLinks: [ClusterLink] { Array(outbound.values) + Array(inbound.values) }

    /// What the links hold in memory (INFO's `mem_cluster_links`): each link's record
    /// and receive buffer, as Redis counts them, plus what waits to be sent.
    var linksMemory: Int {
        allLinks.reduce(0) { $0 &+ ClusterLink.baseMemory &+ $1.pendingBytes }
    }

    /// Per command (by ordinal): whether it can have no key at all, so that routing skips
    /// it without looking its key specs up by name (Redis skips commands with no key specs
    /// that are not movable).
    private var keylessByOrdinal: [Bool?] = []

    func isKeyless(_ spec: CommandSpec) -> Bool {
        if spec.ordinal < keylessByOrdinal.count, let known = keylessByOrdinal[spec.ordinal] { return known }
        let shardChannels: [ServerCommand] = [.shardPublish, .shardSubscribe, .shardUnsubscribe]
        let keyless =
            spec.keyFinder == nil && spec.firstKey == 0 && spec.serverCommand != .exec
            && !shardChannels.contains { $0 == spec.serverCommand } && spec.redisMetadata?.hasKeys != true
        if spec.ordinal >= keylessByOrdinal.count {
            keylessByOrdinal += Array(repeating: nil, count: spec.ordinal + 1 - keylessByOrdinal.count)
        }
        keylessByOrdinal[spec.ordinal] = keyless
        return keyless
    }
}

extension ServerCore {
    /// The largest bus frame accepted: a PUBLISH of the largest bulk string, twice.
    var clusterFrameLimit: Int {
        let (twice, overflow) = max(config.protoMaxBulkLen, 1 << 20).multipliedReportingOverflow(by: 2)
        return overflow ? Int(UInt32.max) : min(ClusterBusMessage.headerSize + 16 + twice, Int(UInt32.max))
    }

    /// Loads `nodes.conf`, or creates it with a new node, and keeps the keyspace's slot
    /// index. An unreadable or corrupt file stops the server (as Redis).
    ///
    /// - Returns: the error line to log before exiting, or nil.
    func startCluster() -> String? {
        let now = clock.wallMilliseconds()
        let path = config.clusterConfigFile
        var state: ClusterState
        if let bytes = try? persistence.fileSystem.contents(of: path), !bytes.isEmpty {
            switch NodesConfigFile.parse(
                String(decoding: bytes, as: UTF8.self), settings: config.clusterSettings, now: now)
            {
            case .failure(let error):
                logger.warning("Unrecoverable error: corrupted cluster config file \"\(error.message)\".")
                return "Unrecoverable error: corrupted cluster config file."
            case .success(let loaded):
                state = loaded
                logger.notice("Node configuration loaded, I'm \(state.myself)")
            }
        } else {
            state = ClusterState(settings: config.clusterSettings, now: now)
            logger.notice("No cluster configuration found, I'm \(state.myself)")
            state.needsSave = true
        }
        cluster = ClusterRuntime(state: state, configPath: path)
        announceClusterAddress()
        engine.databases[0].enableSlotIndex()
        if let error = saveClusterConfig() { return "Cannot save the cluster config file: \(error)" }
        eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) {
            [unowned(unsafe) self] _ in
            self.clusterTick()
        }
        return nil
    }

    /// Puts this node's announced ports, hostname and IP in its own record (at start and
    /// after CONFIG SET: peers learn them from the next message).
    func announceClusterAddress() {
        guard let cluster else { return }
        let ports = config.clusterAnnouncedPorts
        let announcedBusPort = config.clusterInt("cluster-announce-bus-port", 0)
        let busPort = announcedBusPort != 0 ? announcedBusPort : config.clusterBusPort
        var me = cluster.state.me
        (me.port, me.plaintextPort, me.busPort) = (ports.port, ports.plaintext, busPort)
        me.hostname = config.inertValues["cluster-announce-hostname"] ?? ""
        if let ip = config.inertValues["cluster-announce-ip"], !ip.isEmpty { me.ip = ip }
        guard me != cluster.state.me else { return }
        cluster.state.me = me
        cluster.state.needsSave = true
    }

    /// After the keyspace was replaced (a load, a full sync): index its slots again.
    func keyspaceReplaced() {
        if cluster != nil { engine.databases[0].enableSlotIndex() }
    }

    /// What this node says of itself in its messages.
    var clusterSelfInfo: ClusterSelfInfo {
        let me = cluster?.state.me
        let offset = primaryLink.map { UInt64(clamping: $0.appliedOffset) } ?? UInt64(clamping: replication.offset)
        var info = ClusterSelfInfo(
            port: UInt16(clamping: me?.port ?? config.port), plaintextPort: UInt16(clamping: me?.plaintextPort ?? 0),
            busPort: UInt16(clamping: me?.busPort ?? config.clusterBusPort),
            announcedIP: config.inertValues["cluster-announce-ip"] ?? "",
            hostname: config.inertValues["cluster-announce-hostname"] ?? "", replicationOffset: offset)
        info.dataAge = replicaDataAge(now: clock.wallMilliseconds())
        return info
    }

    /// Writes `nodes.conf` when the state changed: replaced atomically and fsynced when an
    /// epoch changed (a vote or a new config epoch must survive a power loss) or `force`
    /// says so; otherwise rewritten in place without fsync, as Redis 7.0 writes it (slot
    /// moves rewrite it several times per slot, and a rename or truncation makes the file
    /// system flush it at once).
    ///
    /// - Returns: the error, when the file could not be written.
    @discardableResult
    func saveClusterConfig(force: Bool = false) -> String? {
        guard let cluster, cluster.state.needsSave || force else { return nil }
        let text = NodesConfigFile.text(of: cluster.state, linked: cluster.isLinked)
        let epochs = [cluster.state.currentEpoch, cluster.state.lastVoteEpoch, cluster.state.me.configEpoch]
        do {
            if force || epochs != cluster.savedEpochs {
                let writer = try DurableFileWriter(
                    path: cluster.configPath, tempPath: cluster.configPath + ".tmp-\(getpid())",
                    fileSystem: persistence.fileSystem)
                try writer.append(Array(text.utf8))
                try writer.commit()
            } else {
                try persistence.fileSystem.overwrite(cluster.configPath, with: Array(text.utf8))
            }
            cluster.savedEpochs = epochs
            cluster.state.needsSave = false
            return nil
        } catch {
            logger.warning("Could not save the cluster config file \(cluster.configPath): \(error)")
            return "\(error)"
        }
    }

    // MARK: The bus

    /// A link accepted on the bus port.
    func clusterAccepted(_ link: ClusterLink) {
        cluster?.inbound[ObjectIdentifier(link)] = link
    }

    /// A message from a link.
    func clusterReceived(_ message: ClusterBusMessage, on link: ClusterLink, peerIP: String, localIP: String) {
        guard let cluster else { return }
        let now = clock.wallMilliseconds()
        let context = ClusterLinkContext(outboundNode: link.node, peerIP: peerIP, localIP: localIP)
        let actions = cluster.state.receive(
            message, on: context, clusterSelfInfo, linked: cluster.isLinked,
            keysInSlot: { [unowned(unsafe) self] in self.keysInSlot($0) }, now: now)
        perform(actions, link: link)
        saveClusterConfig()
    }

    /// A message that did not decode: logged; the link stays unless its framing is lost.
    func clusterDropped(_ error: ClusterBusMessage.DecodeError, on link: ClusterLink) {
        logger.warning("\(error.description)")
    }

    /// A link closed, by either side.
    func clusterLinkClosed(_ link: ClusterLink) {
        guard let cluster else { return }
        link.channel = nil
        cluster.inbound[ObjectIdentifier(link)] = nil
        if let name = link.node, cluster.outbound[name] === link { cluster.outbound[name] = nil }
    }

    /// Carries out what the cluster state asked for. `link` is the link a message came on.
    func perform(_ actions: [ClusterBusAction], link: ClusterLink?) {
        guard let cluster else { return }
        for action in actions {
            switch action {
            case .reply(let message):
                if let link { send(message, on: link) }
            case .send(let message, let name):
                if let target = cluster.outbound[name] { send(message, on: target) }
            case .broadcast(let message):
                for (name, target) in cluster.outbound where cluster.state.node(name)?.inHandshake == false {
                    send(message, on: target)
                }
            case .dropLink(let name):
                cluster.outbound.removeValue(forKey: name)?.close()
            case .dropThisLink:
                if let link {
                    if let name = link.node, cluster.outbound[name] === link { cluster.outbound[name] = nil }
                    cluster.inbound[ObjectIdentifier(link)] = nil
                    link.close()
                }
            case .renamed(let old, let new):
                if let moved = cluster.outbound.removeValue(forKey: old) {
                    moved.node = new
                    cluster.outbound[new] = moved
                }
            case .connect(let name):
                connectClusterLink(to: name)
            case .replicate(let primary):
                followClusterPrimary(primary)
            case .deleteKeys(let slots):
                deleteKeys(inSlots: slots)
            case .promoted:
                becomePrimary(reason: "cluster failover")
                saveClusterConfig(force: true)
            case .pauseWriters(let until):
                pauseWritersForFailover(milliseconds: max(until - clock.wallMilliseconds(), 1))
            case .resumeWriters:
                pause.unpause()
                resumePostponedClients()
            case .publish(let channel, let message, let shard):
                deliverPublished(channel: Bytes(channel), message: Bytes(message), shard: shard)
            case .log(let level, let text):
                switch level {
                case .verbose: logger.info("\(text)")
                case .notice: logger.notice("\(text)")
                case .warning: logger.warning("\(text)")
                }
            }
        }
    }

    /// Sends `message` on `link` and counts it (`cluster_stats_messages_*_sent`).
    func send(_ message: ClusterBusMessage, on link: ClusterLink) {
        guard link.channel != nil else { return }
        link.send(message)
        cluster?.state.sentByType[Int(message.type.rawValue)] &+= 1
    }

    /// Opens the outgoing link to `name`; once connected it sends MEET or PING.
    func connectClusterLink(to name: String) {
        guard let cluster, cluster.outbound[name] == nil, let node = cluster.state.node(name), !node.ip.isEmpty,
            (1...65535).contains(node.busPort)
        else { return }
        // `tls-cluster yes`: TLS with this server's client certificate, the peer's checked
        // against the CA without a host name (as Redis); never plaintext instead.
        let tlsContext = config.tls.cluster ? tlsRuntime.contexts?.client : nil
        if config.tls.cluster && tlsContext == nil {
            logger.warning("tls-cluster is on but TLS is not configured; not connecting to \(name)")
            return
        }
        let link = ClusterLink(node: name, createdAt: clock.wallMilliseconds())
        cluster.outbound[name] = link
        let limit = clusterFrameLimit
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.milliseconds(max(1000, cluster.state.settings.nodeTimeout)))
            .channelInitializer { [unowned(unsafe) self] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tlsContext, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(ClusterBusFrameDecoder(limit: limit)))
                    try channel.pipeline.syncOperations.addHandler(ClusterBusHandler(core: self, link: link))
                }
            }
            .connect(host: node.ip, port: node.busPort)
            .whenComplete { [unowned(unsafe) self] result in
                guard let cluster = self.cluster else { return }
                switch result {
                case .success(let channel):
                    guard let current = link.node, cluster.outbound[current] === link else {
                        channel.close(promise: nil)
                        return
                    }
                    link.channel = channel
                    if let first = cluster.state.linkEstablished(
                        current, self.clusterSelfInfo, linked: cluster.isLinked, now: self.clock.wallMilliseconds())
                    {
                        self.send(first, on: link)
                    }
                case .failure(let error):
                    self.logger.debug("Unable to connect to Cluster Node [\(node.ip)]:\(node.busPort) -> \(error)")
                    if let current = link.node, cluster.outbound[current] === link { cluster.outbound[current] = nil }
                }
            }
    }

    /// The 100 ms clock: handshakes, reconnections, pings, failure detection, the state.
    func clusterTick() {
        guard let cluster else { return }
        cluster.iteration &+= 1
        let now = clock.wallMilliseconds()
        freeLinksOverSendBufferLimit()
        let actions = cluster.state.tick(
            cluster.iteration, clusterSelfInfo, linkSince: { [unowned cluster] in cluster.outbound[$0]?.createdAt },
            now: now)
        perform(actions, link: nil)
        // A replica whose primary's address is known follows it.
        if cluster.state.me.isReplica, let primary = cluster.state.me.primary,
            let node = cluster.state.node(primary), node.hasAddress, !node.ip.isEmpty, primaryLink == nil
        {
            follow(host: node.ip, port: node.port)
        }
        saveClusterConfig()
    }

    /// Closes the links whose send buffer passed `cluster-link-sendbuf-limit` (a peer that
    /// stopped reading must not grow this node's memory without bound); outgoing ones are
    /// made again by the next tick.
    func freeLinksOverSendBufferLimit() {
        guard let cluster, let limit = Int(config.inertValues["cluster-link-sendbuf-limit"] ?? ""), limit > 0
        else { return }
        for link in cluster.allLinks where link.pendingBytes > limit {
            logger.warning(
                "Freeing cluster link(\(link.isInbound ? "from" : "to") node \(link.node ?? ""), used memory: \(link.pendingBytes)) due to exceeding send buffer memory limit."
            )
            if let name = link.node, cluster.outbound[name] === link { cluster.outbound[name] = nil }
            cluster.inbound[ObjectIdentifier(link)] = nil
            link.close()
            cluster.linksFreedForBufferLimit &+= 1
        }
    }

    /// How long this replica has gone without its primary's stream, ms (Redis's
    /// `data_age`: since the last byte while linked, since the link went down otherwise).
    func replicaDataAge(now: Int64) -> Int64 {
        guard let link = primaryLink else { return 0 }
        if link.phase == .online { return now - link.lastIOAt }
        return now - link.downSince
    }

    /// Follows `primary` (a slot change made this node its replica, or CLUSTER REPLICATE).
    func followClusterPrimary(_ primary: String) {
        guard let node = cluster?.state.node(primary), !node.ip.isEmpty else { return }
        if let link = primaryLink, link.host == node.ip, link.port == node.port { return }
        follow(host: node.ip, port: node.port)
    }

    /// Keys this node holds in `slot`.
    func keysInSlot(_ slot: Int) -> Int {
        engine.databases[0].slotIndex?.count(in: slot) ?? 0
    }

    /// Deletes every key of `slots` (slots this node lost while holding keys), as DELs
    /// for replicas and the AOF.
    func deleteKeys(inSlots slots: [Int]) {
        let now = clock.wallMilliseconds()
        for slot in slots {
            let keys = engine.databases[0].slotIndex?.keys(in: slot, limit: .max) ?? []
            for key in keys {
                _ = engine.runServerWrite(args: [Bytes("DEL"), key], db: 0, now: now) { c in
                    .integer(c.delete(key) ? 1 : 0)
                }
            }
        }
        commitWrites(now: now)
    }

    /// A message published on another node, delivered to this node's subscribers.
    func deliverPublished(channel: Bytes, message: Bytes, shard: Bool) {
        if shard {
            pubsub.forEachShardDelivery(channel: channel, message: message) { id, frame in
                clients[id]?.deliver(frame)
            }
        } else {
            publish(channel: channel, message: message)
        }
    }

    /// Sends a PUBLISH (every node) or PUBLISHSHARD (this shard's nodes) over the bus.
    func propagatePublish(channel: Bytes, message: Bytes, shard: Bool) {
        guard let cluster else { return }
        let body = ClusterBusMessage.Body.publish(
            channel: channel.withUnsafeBytes { Array($0) }, message: message.withUnsafeBytes { Array($0) })
        let type: ClusterMessageType = shard ? .publishShard : .publish
        let packet = cluster.state.header(type, clusterSelfInfo, body: body)
        let shardPrimary = cluster.state.myPrimary
        for (name, link) in cluster.outbound {
            guard let node = cluster.state.node(name), !node.inHandshake else { continue }
            if shard && name != shardPrimary && node.primary != shardPrimary { continue }
            send(packet, on: link)
        }
    }
}
