//! Cluster mode's check before a command runs: the command's keys (for EXEC, the keys of
//! every queued command) decide whether this node serves it or which redirection or
//! error the client gets (`ClusterState.route`). Commands without key arguments are
//! served anywhere, as Redis serves them.

import StrataCluster
import StrataEngine

extension ServerCore {
    /// The redirection or error for `spec` with `args`, or nil when this node serves it.
    /// Consumes the client's `ASKING` (it lasts for one command, a whole transaction).
    func clusterRedirection(_ spec: CommandSpec, args: [Bytes], session: ClientSession, now: Int64) -> Reply? {
        guard let cluster else { return nil }
        let asking = session.asking
        if !session.inTransaction && spec.serverCommand != .asking { session.asking = false }
        if let slot = ServerCore.settledSlot(spec, args: args), cluster.state.servesSettled(slot) { return nil }
        if cluster.isKeyless(spec) { return nil }
        var query = ClusterQuery()
        query.asking = asking
        query.readOnlyClient = session.readOnlyCluster
        var keys: [Bytes] = []
        if spec.serverCommand == .exec {
            guard let queued = session.transaction?.queued else { return nil }
            for command in queued {
                guard case .success(let reference) = engine.commands.resolveReference(command) else { continue }
                let queuedSpec = reference.takeUnretainedValue()
                if queuedSpec.flags.contains(.write) { query.isWrite = true }
                keys += clusterKeys(queuedSpec, args: command, query: &query)
            }
        } else {
            keys = clusterKeys(spec, args: args, query: &query)
            if keys.isEmpty { return nil }
            query.isWrite = spec.flags.contains(.write)
            query.isMigrate = spec.serverCommand == .migrate
            if spec.flags.contains(.asking) { query.asking = true }
        }
        let (route, _) = cluster.state.route(
            keys: keys, slotOf: SlotKeyIndex.slot(of:), query: query, exists: { holdsLiveKey($0, now: now) })
        guard let line = route.errorLine(address: { clusterAddress($0, for: session) }) else { return nil }
        return .error(line)
    }

    /// The one slot of a command's keys when its key positions are fixed (no key finder)
    /// and they all hash to it; nil otherwise (no keys, several slots, a key finder): the
    /// common case, one key or keys of one tag, decided without looking keys up by spec.
    static func settledSlot(_ spec: CommandSpec, args: [Bytes]) -> Int? {
        guard spec.keyFinder == nil, spec.serverCommand == nil, spec.firstKey > 0, spec.firstKey < args.count else {
            return nil
        }
        let last = spec.lastKey < 0 ? args.count + spec.lastKey : Swift.min(spec.lastKey, args.count - 1)
        let step = Swift.max(spec.keyStep, 1)
        var slot = -1
        var index = spec.firstKey
        while index <= last {
            let keySlot = SlotKeyIndex.slot(of: args[index])
            if slot == -1 {
                slot = keySlot
            } else if keySlot != slot {
                return nil
            }
            index += step
        }
        return slot >= 0 ? slot : nil
    }

    /// Whether database 0 holds `key`, live at `now` (the check does not expire it).
    private func holdsLiveKey(_ key: Bytes, now: Int64) -> Bool {
        guard engine.databases[0].rawEntry(key) != nil else { return false }
        return (engine.databases[0].deadline(key) ?? .max) > now
    }

    /// Cluster mode inside a script (Redis's `scriptVerifyClusterState`): every key a
    /// `redis.call` touches must be served here, and all of them in one slot unless the
    /// script declared `allow-cross-slot-keys`.
    func clusterScriptRefusal(_ spec: CommandSpec, args: [Bytes], run: ScriptRun) -> Reply? {
        guard let cluster else { return nil }
        var query = ClusterQuery()
        query.asking = run.caller.session.asking
        query.readOnlyClient = run.caller.session.readOnlyCluster
        let keys = clusterKeys(spec, args: args, query: &query)
        if keys.isEmpty { return nil }
        query.isWrite = spec.flags.contains(.write)
        let (route, slot) = cluster.state.route(
            keys: keys, slotOf: SlotKeyIndex.slot(of:), query: query, exists: { holdsLiveKey($0, now: run.now) })
        switch route {
        case .local: break
        case .down: return .error("ERR Script attempted to execute a command while the cluster is down")
        case .downReadOnly:
            return .error("ERR Script attempted to execute a write command while the cluster is down and readonly")
        default: return .error("ERR Script attempted to access a non local key in a cluster node")
        }
        // Scripts without a shebang keep the old rule: any local key (Redis 7.0's legacy mode).
        let declared = run.flags.contains(.declared) || run.isFunction
        if let slot, declared, !run.flags.contains(.allowCrossSlotKeys) {
            if let first = run.clusterSlot, first != slot {
                return .error("ERR Script attempted to access keys that do not hash to the same slot")
            }
            run.clusterSlot = slot
        }
        return nil
    }

    /// The keys routing considers: the key arguments, or the channels of sharded pub/sub.
    private func clusterKeys(_ spec: CommandSpec, args: [Bytes], query: inout ClusterQuery) -> [Bytes] {
        switch spec.serverCommand {
        case .shardPublish:
            query.shardPubSub = true
            return args.count > 1 ? [args[1]] : []
        case .shardSubscribe, .shardUnsubscribe:
            query.shardPubSub = true
            return Array(args.dropFirst())
        default:
            guard let metadata = spec.redisMetadata else { return [] }
            return metadata.keyReferences(in: args).compactMap { $0.position < args.count ? args[$0.position] : nil }
        }
    }
}
