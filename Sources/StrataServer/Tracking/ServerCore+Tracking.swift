//! Client-side caching on the server: the CLIENT TRACKING family, the keys a tracking
//! client read (after each read-only command), the invalidations a write record causes
//! (one more consumer in `commitWrites`), and their delivery as Redis sends them: a RESP3
//! `invalidate` push to the client, or to its REDIRECT client (a push in RESP3, a
//! `__redis__:invalidate` message to a subscribed RESP2 client), `tracking-redir-broken`
//! when the redirect client is gone. Invalidations of the running client's own writes
//! follow its reply, BCAST ones go out once per event-loop pass.

import StrataEngine

extension ServerCore {
    /// CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO.
    func trackingCommand(_ command: ServerCommand, args: [Bytes], session: ClientSession) -> Reply {
        switch command {
        case .clientTracking:
            return clientTracking(args, session: session)
        case .clientCaching:
            let yes = args[2].equalsIgnoringCase("yes")
            if tracking[session.id] != nil && !yes && !args[2].equalsIgnoringCase("no") { return Errors.syntax }
            if let error = tracking.setCaching(session.id, yes: yes) { return .error("ERR " + error) }
            return .ok
        case .clientGetRedir:
            return .integer(tracking[session.id].map { Int(clamping: $0.redirect) } ?? -1)
        default:
            return trackingInfo(session)
        }
    }

    private func clientTracking(_ args: [Bytes], session: ClientSession) -> Reply {
        var redirect: UInt64 = 0
        var options: TrackingTable.Options = []
        var prefixes: [Bytes] = []
        var index = 3
        while index < args.count {
            let option = args[index]
            let hasValue = index + 1 < args.count
            if option.equalsIgnoringCase("redirect") && hasValue {
                index += 1
                if redirect != 0 { return .error("ERR A client can only redirect to a single other client") }
                guard let id = args[index].strictInteger else { return Errors.notInteger }
                guard id > 0, clients[UInt64(id)] != nil else {
                    return .error("ERR The client ID you want redirect to does not exist")
                }
                redirect = UInt64(id)
            } else if option.equalsIgnoringCase("bcast") {
                options.insert(.broadcast)
            } else if option.equalsIgnoringCase("optin") {
                options.insert(.optIn)
            } else if option.equalsIgnoringCase("optout") {
                options.insert(.optOut)
            } else if option.equalsIgnoringCase("noloop") {
                options.insert(.noLoop)
            } else if option.equalsIgnoringCase("prefix") && hasValue {
                index += 1
                prefixes.append(args[index])
            } else {
                return Errors.syntax
            }
            index += 1
        }
        if args[2].equalsIgnoringCase("on") {
            if let error = tracking.enable(session.id, redirect: redirect, options: options, prefixes: prefixes) {
                return .error("ERR " + error)
            }
        } else if args[2].equalsIgnoringCase("off") {
            tracking.disable(session.id)
        } else {
            return Errors.syntax
        }
        return .ok
    }

    private func trackingInfo(_ session: ClientSession) -> Reply {
        let state = tracking[session.id]
        var flags: [Reply] = [.text(state == nil ? "off" : "on")]
        if let state {
            if state.options.contains(.broadcast) { flags.append(.text("bcast")) }
            if state.options.contains(.optIn) {
                flags.append(.text("optin"))
                if state.caching { flags.append(.text("caching-yes")) }
            }
            if state.options.contains(.optOut) {
                flags.append(.text("optout"))
                if state.caching { flags.append(.text("caching-no")) }
            }
            if state.options.contains(.noLoop) { flags.append(.text("noloop")) }
            if state.brokenRedirect { flags.append(.text("broken_redirect")) }
        }
        return .map([
            (.text("flags"), .set(flags)),
            (.text("redirect"), .integer(state.map { Int(clamping: $0.redirect) } ?? -1)),
            (.text("prefixes"), .array((state?.prefixes ?? []).map { .bulk($0) })),
        ])
    }

    /// After a read-only command: remembers the keys it read for `reader` when it tracks.
    func rememberTrackedKeys(_ spec: CommandSpec, args: [Bytes], reader: UInt64) {
        guard tracking[reader] != nil, !spec.flags.contains(.pubsub), let keys = spec.keys(in: args),
            !keys.isEmpty
        else { return }
        send(tracking.remember(keys, for: reader))
    }

    /// The tracking step of `commitWrites`: invalidations for the keys the record wrote or
    /// removed, or for everything after a flush.
    func invalidateTrackedKeys() {
        let writer = currentClientID
        var sent: [TrackingTable.Invalidation] = []
        if engine.record.flushed { sent += tracking.invalidateAll() }
        for written in engine.record.writtenKeys { sent += tracking.invalidate(written.key, writer: writer) }
        for removed in engine.record.removedKeys { sent += tracking.invalidate(removed.key.key, writer: 0) }
        if tracking.hasPendingBroadcasts { ensurePassEndTask() }
        send(sent)
    }

    /// Sends invalidations; those for the running client wait until its reply is queued.
    private func send(_ invalidations: [TrackingTable.Invalidation]) {
        for invalidation in invalidations {
            if currentClientID != 0 && invalidation.client == currentClientID {
                pendingSelfInvalidations.append(invalidation)
            } else {
                deliver(invalidation)
            }
        }
    }

    /// Sends the invalidations that waited for the running client's reply.
    func deliverSelfInvalidations() {
        let pending = pendingSelfInvalidations
        pendingSelfInvalidations.removeAll()
        for invalidation in pending { deliver(invalidation) }
    }

    /// Sends the BCAST invalidations gathered during the pass (and any that waited).
    func deliverTrackingBroadcasts() {
        if hasPendingSelfInvalidations { deliverSelfInvalidations() }
        for invalidation in tracking.takeBroadcasts() { deliver(invalidation) }
    }

    /// Delivers one invalidation as Redis does.
    private func deliver(_ invalidation: TrackingTable.Invalidation) {
        guard let state = tracking[invalidation.client], let client = clients[invalidation.client] else { return }
        let payload: Reply = invalidation.keys.map { .array($0.map { .bulk($0) }) } ?? .null
        guard state.redirect != 0 else {
            if client.session.resp == .resp3 { client.deliver(.push([.text("invalidate"), payload])) }
            return
        }
        guard let target = clients[state.redirect] else {
            tracking.markBrokenRedirect(invalidation.client)
            if client.session.resp == .resp3 {
                client.deliver(.push([.text("tracking-redir-broken"), .integer(Int(clamping: state.redirect))]))
            }
            return
        }
        if target.session.resp == .resp3 {
            target.deliver(.push([.text("invalidate"), payload]))
        } else if target.session.subscriptionCount > 0 {
            target.deliver(.push([.text("message"), .text("__redis__:invalidate"), payload]))
        }
    }
}
