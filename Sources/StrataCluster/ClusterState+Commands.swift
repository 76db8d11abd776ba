//! The state changes of `CLUSTER` subcommands, with Redis 7.0's checks and error texts.
//! Arguments arrive parsed where the parse is the server's business (integers); the
//! checks that need the keyspace (is it empty, keys in a slot) take its answer as input.

/// A refused cluster operation: the whole error line, code included.
public struct ClusterError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension ClusterState {
    /// `CLUSTER ADDSLOTS`/`DELSLOTS`/`...RANGE`: every slot is checked before any changes;
    /// adding clears an importing state, deleting unassigns whoever serves the slot.
    @discardableResult
    public mutating func changeSlots(_ ranges: [ClosedRange<Int>], delete: Bool) -> ClusterError? {
        var seen = Set<Int>()
        for range in ranges {
            for slot in range {
                if delete && slotOwners[slot] == nil { return (ClusterError("ERR Slot \(slot) is already unassigned")) }
                if !delete && slotOwners[slot] != nil { return (ClusterError("ERR Slot \(slot) is already busy")) }
                if !seen.insert(slot).inserted {
                    return (ClusterError("ERR Slot \(slot) specified multiple times"))
                }
            }
        }
        for range in ranges {
            for slot in range {
                importingFrom[slot] = nil
                assign(slot, to: delete ? nil : myself)
            }
        }
        return nil
    }

    /// `CLUSTER FLUSHSLOTS`: this node serves no slot any more.
    @discardableResult
    public mutating func flushSlots(keyspaceEmpty: Bool) -> ClusterError? {
        guard keyspaceEmpty else { return (ClusterError("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.")) }
        for slot in 0..<HashSlot.count where slotOwners[slot] == myself { assign(slot, to: nil) }
        return nil
    }

    /// The node named `name` when the name is well formed and known.
    public func lookup<S: StringProtocol>(_ name: S) -> ClusterNode? {
        guard ClusterNodeName.isValid(name) else { return nil }
        return nodes[String(name)]
    }

    /// What `CLUSTER SETSLOT` did beyond the slot tables, for the server to carry out.
    public enum SetSlotEffect: Equatable {
        case none
        /// This node gave its last slot away and now replicates the slot's new owner.
        case becameReplica(of: String)
        /// This node took an imported slot and a new config epoch: tell every node now.
        case finishedImport(newEpoch: Bool)
    }

    /// `CLUSTER SETSLOT slot MIGRATING|IMPORTING|STABLE|NODE [node]`.
    ///
    /// - Parameter keysInSlot: how many keys this node holds in `slot`.
    public mutating func setSlot(
        _ slot: Int, action: String, node name: String?, keysInSlot: Int
    ) -> Result<SetSlotEffect, ClusterError> {
        if me.isReplica { return .failure(ClusterError("ERR Please use SETSLOT only with masters.")) }
        switch (action.lowercased(), name) {
        case ("migrating", let name?):
            guard slotOwners[slot] == myself else {
                return .failure(ClusterError("ERR I'm not the owner of hash slot \(slot)"))
            }
            guard let target = lookup(name) else {
                return .failure(ClusterError("ERR I don't know about node \(name)"))
            }
            guard !target.isReplica else { return .failure(ClusterError("ERR Target node is not a master")) }
            migratingTo[slot] = target.name
        case ("importing", let name?):
            guard slotOwners[slot] != myself else {
                return .failure(ClusterError("ERR I'm already the owner of hash slot \(slot)"))
            }
            guard let source = lookup(name) else {
                return .failure(ClusterError("ERR I don't know about node \(name)"))
            }
            guard !source.isReplica else { return .failure(ClusterError("ERR Target node is not a master")) }
            importingFrom[slot] = source.name
        case ("stable", nil):
            importingFrom[slot] = nil
            migratingTo[slot] = nil
        case ("node", let name?):
            guard let target = lookup(name) else { return .failure(ClusterError("ERR Unknown node \(name)")) }
            guard !target.isReplica else { return .failure(ClusterError("ERR Target node is not a master")) }
            if slotOwners[slot] == myself && target.name != myself && keysInSlot != 0 {
                return .failure(
                    ClusterError(
                        "ERR Can't assign hashslot \(slot) to a different node while I still hold keys for this hash slot."
                    ))
            }
            if keysInSlot == 0 { migratingTo[slot] = nil }
            let wasMine = slotOwners[slot] == myself
            assign(slot, to: target.name)
            var effect = SetSlotEffect.none
            if wasMine && target.name != myself && me.slots.isEmpty && settings.allowReplicaMigration {
                becomeReplica(of: target.name)
                effect = .becameReplica(of: target.name)
            }
            if target.name == myself && importingFrom[slot] != nil {
                effect = .finishedImport(newEpoch: bumpConfigEpochWithoutConsensus())
                importingFrom[slot] = nil
            }
            needsSave = true
            return .success(effect)
        default:
            return .failure(ClusterError("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP"))
        }
        needsSave = true
        return .success(.none)
    }

    /// Takes a new config epoch without asking the other primaries, unless this node's is
    /// already the largest and not 0 (Redis's `clusterBumpConfigEpochWithoutConsensus`).
    ///
    /// - Returns: whether the epoch changed.
    @discardableResult
    public mutating func bumpConfigEpochWithoutConsensus() -> Bool {
        let highest = max(maxConfigEpoch, currentEpoch)
        guard me.configEpoch == 0 || me.configEpoch != highest else { return false }
        currentEpoch += 1
        me.configEpoch = currentEpoch
        needsSave = true
        return true
    }

    /// `CLUSTER SET-CONFIG-EPOCH`.
    @discardableResult
    public mutating func setConfigEpoch(_ epoch: Int64) -> ClusterError? {
        if epoch < 0 { return (ClusterError("ERR Invalid config epoch specified: \(epoch)")) }
        if nodes.count > 1 {
            return
                (ClusterError("ERR The user can assign a config epoch only when the node does not know any other node."))
        }
        if me.configEpoch != 0 { return (ClusterError("ERR Node config epoch is already non-zero")) }
        me.configEpoch = UInt64(epoch)
        if currentEpoch < UInt64(epoch) { currentEpoch = UInt64(epoch) }
        needsSave = true
        return nil
    }

    /// `CLUSTER FORGET`: the node is removed and refused by gossip for a minute.
    @discardableResult
    public mutating func forget(_ name: String, now: Int64) -> ClusterError? {
        guard let node = lookup(name) else { return (ClusterError("ERR Unknown node \(name)")) }
        if node.name == myself { return (ClusterError("ERR I tried hard but I can't forget myself...")) }
        if me.isReplica && me.primary == node.name { return (ClusterError("ERR Can't forget my master!")) }
        forgotten[node.name] = now + 60_000
        remove(node.name)
        return nil
    }

    /// Whether gossip must not re-add `name` (forgotten less than a minute ago).
    public mutating func isForgotten(_ name: String, now: Int64) -> Bool {
        forgotten = forgotten.filter { $0.value > now }
        return forgotten[name] != nil
    }

    /// `CLUSTER REPLICATE`: checks, then follows `name`.
    @discardableResult
    public mutating func replicate(_ name: String, keyspaceEmpty: Bool) -> ClusterError? {
        guard let node = lookup(name) else { return (ClusterError("ERR Unknown node \(name)")) }
        if node.name == myself { return (ClusterError("ERR Can't replicate myself")) }
        if node.isReplica { return (ClusterError("ERR I can only replicate a master, not a replica.")) }
        if me.isPrimary && (!me.slots.isEmpty || !keyspaceEmpty) {
            return (ClusterError("ERR To set a master the node must be empty and without assigned slots."))
        }
        becomeReplica(of: node.name)
        return nil
    }

    /// Makes this node a replica of `primary` (open slots of a primary are closed).
    public mutating func becomeReplica(of primary: String) {
        if me.isPrimary {
            me.flags.remove([.primary, .migrateTarget])
            me.flags.insert(.replica)
            migratingTo = [:]
            importingFrom = [:]
        }
        me.primary = primary
        needsSave = true
    }

    /// Makes this node a primary again (a promotion, or `CLUSTER RESET`).
    public mutating func becomePrimary() {
        me.flags.remove(.replica)
        me.flags.insert(.primary)
        me.primary = nil
        needsSave = true
    }

    /// `CLUSTER RESET [HARD|SOFT]`: forget every other node and every slot; a hard reset
    /// also takes a new name and zeroes the epochs.
    public mutating func reset(hard: Bool, now: Int64) {
        if me.isReplica { becomePrimary() }
        migratingTo = [:]
        importingFrom = [:]
        for slot in 0..<HashSlot.count where slotOwners[slot] != nil { assign(slot, to: nil) }
        for name in order where name != myself { remove(name) }
        if hard {
            currentEpoch = 0
            lastVoteEpoch = 0
            me.configEpoch = 0
            let newName = ClusterNodeName.random()
            rename(myself, to: newName)
            myself = newName
            mySlots = SlotBitmap()
        }
        needsSave = true
    }

    /// Closes every open slot (a node that becomes a replica has none).
    public mutating func closeAllSlots() {
        migratingTo = [:]
        importingFrom = [:]
    }
}
