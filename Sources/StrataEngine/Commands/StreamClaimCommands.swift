//! XCLAIM and XAUTOCLAIM (Redis 7.0 semantics): move pending entries to another consumer.
//! Both are logged as Redis logs them, one `XCLAIM key group consumer 0 id TIME t
//! RETRYCOUNT n FORCE JUSTID LASTID id` per entry whose owner, time or count changed, so
//! replay sets the same values; a pending entry whose stream entry was deleted is dropped
//! from the group (and logged the same way: replaying the XCLAIM drops it too).

/// The claiming commands.
public enum StreamClaimCommands {
    /// The `XCLAIM` that reproduces a pending entry's state (Redis's `streamPropagateXCLAIM`);
    /// AOF rewrites use it too.
    public static func claimEffect(
        _ key: Bytes, group: Bytes, id: StreamID, _ entry: StreamPendingEntry, lastID: StreamID
    ) -> [Bytes] {
        [
            Bytes("XCLAIM"), key, group, entry.consumer, Bytes("0"), id.bytes, Bytes("TIME"),
            Bytes(String(entry.deliveryTime)), Bytes("RETRYCOUNT"), Bytes(String(entry.deliveryCount)), Bytes("FORCE"),
            Bytes("JUSTID"), Bytes("LASTID"), lastID.bytes,
        ]
    }

    /// The `XGROUP SETID ... ENTRIESREAD` that reproduces a group's position (Redis's
    /// `streamPropagateGroupID`).
    static func positionEffect(_ key: Bytes, group name: Bytes, _ group: StreamGroup) -> [Bytes] {
        [
            Bytes("XGROUP"), Bytes("SETID"), key, name, group.lastID.bytes, Bytes("ENTRIESREAD"),
            Bytes(String(group.entriesRead)),
        ]
    }

    /// What happens to one id.
    enum Claim {
        /// Gives it to the consumer.
        case take(StreamID)
        /// Its entry was deleted: drop it from the pending list.
        case drop(StreamID)
    }

    /// Applies `claims` to the group `name` of the stream at `key` for `consumer`; returns
    /// the replies of taken entries (ids with `justID`) and logs each change.
    static func apply(
        _ c: inout CommandContext, _ key: Bytes, group name: Bytes, consumer: Bytes, claims: [Claim],
        deliveryTime: Int64, retryCount: Int?, justID: Bool, newLastID: StreamID?
    ) -> [Reply] {
        var effects: [[Bytes]] = []
        var replies: [Reply] = []
        var movedLastID = false
        var createdConsumer = false
        let now = c.now
        _ = StreamCommands.modify(&c, key, create: false) { stream in
            var taken: [StreamID: StreamEntry] = [:]
            if !justID {
                for case .take(let id) in claims {
                    if let entry = stream.range(from: id, to: id, count: 1).first { taken[id] = entry }
                }
            }
            stream.withGroup(name) { group in
                if let newLastID, newLastID > group.lastID {
                    group.lastID = newLastID
                    movedLastID = true
                }
                for claim in claims {
                    switch claim {
                    case .drop(let id):
                        guard let pending = group.pending[id] else { continue }
                        effects.append(claimEffect(key, group: name, id: id, pending, lastID: group.lastID))
                        group.acknowledge(id)
                    case .take(let id):
                        if group.consumers[consumer] == nil { createdConsumer = true }
                        let previous = group.pending[id]
                        var count = previous?.deliveryCount ?? 1
                        if let retryCount {
                            count = UInt64(retryCount)
                        } else if !justID {
                            count &+= 1
                        }
                        group.deliver(id, to: consumer, time: deliveryTime, count: count)
                        group.consumers[consumer]?.seenTime = now
                        if let pending = group.pending[id] {
                            effects.append(claimEffect(key, group: name, id: id, pending, lastID: group.lastID))
                        }
                        if justID {
                            replies.append(.bulk(id.bytes))
                        } else if let entry = taken[id] {
                            replies.append(StreamCommands.entryReply(entry))
                        }
                    }
                }
                if effects.isEmpty && movedLastID {
                    effects.append(positionEffect(key, group: name, group))
                }
            }
        }
        if createdConsumer { c.notify(.stream, "xgroup-createconsumer", key) }
        c.changed(effects.count)
        for effect in effects { c.propagate(effect) }
        if effects.isEmpty { c.propagateNothing() }
        return replies
    }

    /// NOGROUP unless the stream at `args[1]` has the group `args[2]` (WRONGTYPE for
    /// another type).
    static func checkGroup(_ c: CommandContext) -> Reply? {
        let (key, name) = (c.args[1], c.args[2])
        switch StreamCommands.read(c, key) {
        case .failure(let error): return error
        case .success(let stream):
            return stream?.groups[name] == nil ? StreamGroupCommands.noGroup(key, name) : nil
        }
    }

    /// Decides what each id becomes; reads the stream here so that no copy of it is
    /// alive while `apply` changes it (a second reference would make it copy the group).
    static func plan(
        _ c: CommandContext, walk: (StreamValue, StreamGroup, (Claim) -> Void) -> Void
    ) -> [Claim] {
        var claims: [Claim] = []
        guard case .success(let stream?) = StreamCommands.read(c, c.args[1]), let group = stream.groups[c.args[2]]
        else { return claims }
        walk(stream, group) { claims.append($0) }
        return claims
    }

    static func xclaim(_ c: inout CommandContext) -> Reply {
        c.leavesWatchesAlone = true  // group state only (Redis signals no key)
        let args = c.args
        if let error = checkGroup(c) { return error }
        guard let minIdleGiven = args[4].strictInteger else {
            return .error("ERR Invalid min-idle-time argument for XCLAIM")
        }
        let minIdle = Int64(max(0, minIdleGiven))
        var ids: [StreamID] = []
        var index = 5
        while index < args.count, let id = StreamID.parse(args[index]) {
            ids.append(id)
            index += 1
        }
        let now = c.now
        var deliveryTime: Int64?
        var retryCount: Int?
        var force = false
        var justID = false
        var lastID: StreamID?
        while index < args.count {
            let option = args[index]
            let more = index + 1 < args.count
            if option.equalsIgnoringCase("force") {
                force = true
            } else if option.equalsIgnoringCase("justid") {
                justID = true
            } else if option.equalsIgnoringCase("idle") && more {
                index += 1
                guard let idle = args[index].strictInteger else {
                    return .error("ERR Invalid IDLE option argument for XCLAIM")
                }
                let (time, overflow) = now.subtractingReportingOverflow(Int64(idle))
                deliveryTime = overflow ? now : time  // bogus: treated as now, as out-of-range times are
            } else if option.equalsIgnoringCase("time") && more {
                index += 1
                guard let time = args[index].strictInteger else {
                    return .error("ERR Invalid TIME option argument for XCLAIM")
                }
                deliveryTime = Int64(time)
            } else if option.equalsIgnoringCase("retrycount") && more {
                index += 1
                guard let count = args[index].strictInteger else {
                    return .error("ERR Invalid RETRYCOUNT option argument for XCLAIM")
                }
                retryCount = count
            } else if option.equalsIgnoringCase("lastid") && more {
                index += 1
                guard let id = StreamID.parse(args[index]) else { return StreamID.invalidError }
                lastID = id
            } else {
                return .error("ERR Unrecognized XCLAIM option '\(option.string)'")
            }
            index += 1
        }
        if let given = deliveryTime, given < 0 || given > now { deliveryTime = now }
        let claims = plan(c) { stream, group, add in
            for id in ids {
                let pending = group.pending[id]
                guard stream.contains(id) else {
                    if pending != nil { add(.drop(id)) }
                    continue
                }
                if let pending {
                    if minIdle > 0 && elapsed(from: pending.deliveryTime, to: now) < minIdle { continue }
                } else if !force {
                    continue
                }
                add(.take(id))
            }
        }
        let replies = apply(
            &c, args[1], group: args[2], consumer: args[3], claims: claims, deliveryTime: deliveryTime ?? now,
            retryCount: retryCount.flatMap { $0 >= 0 ? $0 : nil }, justID: justID, newLastID: lastID)
        return .array(replies)
    }

    static func xautoclaim(_ c: inout CommandContext) -> Reply {
        c.leavesWatchesAlone = true  // group state only (Redis signals no key)
        let args = c.args
        guard let minIdleGiven = args[4].strictInteger else {
            return .error("ERR Invalid min-idle-time argument for XAUTOCLAIM")
        }
        let minIdle = Int64(max(0, minIdleGiven))
        guard let startBound = StreamID.bound(args[5], isStart: true) else { return StreamID.invalidError }
        guard case .success(let start) = startBound else {
            if case .failure(let error) = startBound { return error }
            return StreamID.invalidError
        }
        var count = 100
        var justID = false
        var index = 6
        while index < args.count {
            if args[index].equalsIgnoringCase("count") && index + 1 < args.count {
                guard let given = args[index + 1].strictInteger, given >= 1, given <= Int.max / 16 else {
                    return .error("ERR COUNT must be > 0")
                }
                count = given
                index += 2
            } else if args[index].equalsIgnoringCase("justid") {
                justID = true
                index += 1
            } else {
                return Errors.syntax
            }
        }
        if let error = checkGroup(c) { return error }
        let now = c.now
        var attempts = count * 10
        var remaining = count
        var deleted: [Reply] = []
        var cursor = StreamID.zero
        let claims = plan(c) { stream, group, add in
            group.pending.forEach(from: start) { id, pending in
                if attempts == 0 || remaining == 0 {
                    cursor = id
                    return false
                }
                attempts -= 1
                if !stream.contains(id) {
                    add(.drop(id))
                    deleted.append(.bulk(id.bytes))
                    remaining -= 1
                    return true
                }
                if minIdle > 0 && elapsed(from: pending.deliveryTime, to: now) < minIdle { return true }
                add(.take(id))
                remaining -= 1
                return true
            }
        }
        let replies = apply(
            &c, args[1], group: args[2], consumer: args[3], claims: claims, deliveryTime: now, retryCount: nil,
            justID: justID, newLastID: nil)
        return .array([.bulk(cursor.bytes), .array(replies), .array(deleted)])
    }
}
