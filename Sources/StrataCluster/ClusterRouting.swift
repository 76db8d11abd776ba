//! Whether this node serves a command, or where the client must go instead (Redis 7.0's
//! `getNodeByQuery`): all keys must hash to one slot; the slot's owner serves it; during
//! a migration the source serves the keys it still has and sends the client to the
//! target (`ASK`) for the rest, while the target serves clients that said `ASKING`; a
//! multi-key command over a slot being moved gets `TRYAGAIN` unless every key is in one
//! place; a replica serves reads to `READONLY` clients of its primary's slots; and a
//! failing cluster refuses keyed commands (reads allowed with
//! `cluster-allow-reads-when-down`).

/// Where a command goes.
public enum ClusterRoute: Equatable, Sendable {
    /// This node serves it.
    case local
    /// `-MOVED slot endpoint:port`.
    case moved(slot: Int, node: String)
    /// `-ASK slot endpoint:port`.
    case ask(slot: Int, node: String)
    /// `-CROSSSLOT`.
    case crossSlot
    /// `-TRYAGAIN`.
    case tryAgain
    /// `-CLUSTERDOWN Hash slot not served`.
    case unboundSlot
    /// `-CLUSTERDOWN The cluster is down`.
    case down
    /// `-CLUSTERDOWN The cluster is down and only accepts read commands`.
    case downReadOnly

    /// The error line, with `address` naming a node (endpoint:port).
    public func errorLine(address: (String) -> String) -> String? {
        switch self {
        case .local: return nil
        case .moved(let slot, let node): return "MOVED \(slot) \(address(node))"
        case .ask(let slot, let node): return "ASK \(slot) \(address(node))"
        case .crossSlot: return "CROSSSLOT Keys in request don't hash to the same slot"
        case .tryAgain: return "TRYAGAIN Multiple keys request during rehashing of slot"
        case .unboundSlot: return "CLUSTERDOWN Hash slot not served"
        case .down: return "CLUSTERDOWN The cluster is down"
        case .downReadOnly: return "CLUSTERDOWN The cluster is down and only accepts read commands"
        }
    }
}

/// What routing needs to know of a command and its client.
public struct ClusterQuery: Sendable {
    /// The command writes (for EXEC: one of the queued commands does).
    public var isWrite = false
    /// MIGRATE, which works on the local node while the slot is open.
    public var isMigrate = false
    /// The command, or the client (`ASKING`), accepts an importing slot.
    public var asking = false
    /// The client said `READONLY`.
    public var readOnlyClient = false
    /// SPUBLISH, SSUBSCRIBE, SUNSUBSCRIBE: channels stand for keys.
    public var shardPubSub = false

    public init() {}
}

extension ClusterState {
    /// Routes a command whose keys are `keys` (in argument order, all commands of a
    /// transaction together); `exists` tells whether this node holds a key (asked only
    /// while the slot is migrating or importing).
    ///
    /// - Returns: the route, and the slot of the keys (nil without keys).
    public func route<Key: Equatable>(
        keys: [Key], slotOf: (Key) -> Int, query: ClusterQuery, exists: (Key) -> Bool
    ) -> (route: ClusterRoute, slot: Int?) {
        var first: Key?
        var slot = 0
        var owner: String?
        var migrating = false
        var importing = false
        var multipleKeys = false
        var missing = 0
        var existing = 0
        for key in keys {
            let keySlot = slotOf(key)
            if let firstKey = first {
                if key != firstKey {
                    if keySlot != slot { return (.crossSlot, nil) }
                    multipleKeys = true
                }
            } else {
                first = key
                slot = keySlot
                guard let servedBy = slotOwners[keySlot] else { return (.unboundSlot, keySlot) }
                owner = servedBy
                if servedBy == myself && migratingTo[keySlot] != nil {
                    migrating = true
                } else if importingFrom[keySlot] != nil {
                    importing = true
                }
            }
            if (migrating || importing) && !query.shardPubSub && !exists(key) {
                missing += 1
            } else {
                existing += 1
            }
        }
        guard let owner else { return (.local, nil) }
        if !isOK {
            if query.shardPubSub {
                if !settings.allowShardPubSubWhenDown { return (.down, slot) }
            } else if !settings.allowReadsWhenDown {
                return (.down, slot)
            } else if query.isWrite {
                return (.downReadOnly, slot)
            }
        }
        if (migrating || importing) && query.isMigrate { return (.local, slot) }
        if migrating && missing > 0 {
            if existing > 0 { return (.tryAgain, slot) }
            return (.ask(slot: slot, node: migratingTo[slot] ?? owner), slot)
        }
        if importing && query.asking {
            if multipleKeys && missing > 0 { return (.tryAgain, slot) }
            return (.local, slot)
        }
        if (query.readOnlyClient || query.shardPubSub) && !query.isWrite && me.isReplica && me.primary == owner {
            return (.local, slot)
        }
        return owner == myself ? (.local, slot) : (.moved(slot: slot, node: owner), slot)
    }
}
