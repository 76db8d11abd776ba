//! Pub/Sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, the sharded
//! SSUBSCRIBE, SUNSUBSCRIBE and SPUBLISH (a namespace of their own; on a single node every
//! shard channel is local), and PUBSUB introspection. Messages are written straight into each subscriber's outgoing buffer and
//! flushed with the poll batch. RESP2 subscribers are in "subscribed mode" (only the
//! subscription commands, PING, QUIT and RESET); RESP3 subscribers get push frames and
//! may run anything. A subscriber that stops reading is disconnected past Redis's
//! `client-output-buffer-limit pubsub 32mb 8mb 60` (see `ConnectionHandler.deliver`).

import StrataEngine

extension ServerCore {
    func pubsubCommand(_ command: ServerCommand, args: [Bytes], session: ClientSession) -> Reply {
        switch command {
        case .subscribe, .patternSubscribe:
            let pattern = command == .patternSubscribe
            var replies: [Reply] = []
            for target in args.dropFirst() {
                if pattern {
                    if session.patterns.insert(target).inserted { pubsub.subscribe(session.id, to: target, .pattern) }
                } else if session.channels.insert(target).inserted {
                    pubsub.subscribe(session.id, to: target, .channel)
                }
                replies.append(.push([.text(command.rawValue), .bulk(target), .integer(session.subscriptionCount)]))
            }
            return .sequence(replies)
        case .unsubscribe, .patternUnsubscribe:
            return .sequence(
                unsubscribe(session, patterns: command == .patternUnsubscribe, from: Array(args.dropFirst())))
        case .publish:
            if cluster != nil { propagatePublish(channel: args[1], message: args[2], shard: false) }
            return .integer(publish(channel: args[1], message: args[2]))
        case .shardSubscribe:
            // As Redis: unlike SUBSCRIBE, not even inside MULTI.
            if executingTransaction { return .error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client") }
            var replies: [Reply] = []
            for target in args.dropFirst() {
                if session.shardChannels.insert(target).inserted { pubsub.subscribe(session.id, to: target, .shard) }
                replies.append(.push([.text("ssubscribe"), .bulk(target), .integer(session.shardChannels.count)]))
            }
            return .sequence(replies)
        case .shardUnsubscribe:
            return .sequence(shardUnsubscribe(session, from: Array(args.dropFirst())))
        case .shardPublish:
            if cluster != nil { propagatePublish(channel: args[1], message: args[2], shard: true) }
            var receivers = 0
            pubsub.forEachShardDelivery(channel: args[1], message: args[2]) { id, frame in
                guard let client = clients[id] else { return }
                client.deliver(frame)
                receivers += 1
            }
            return .integer(receivers)
        case .pubsubShardChannels:
            guard args.count <= 3 else {
                return .error(
                    "ERR unknown subcommand or wrong number of arguments for '\(args[1].string)'. Try PUBSUB HELP.")
            }
            return .array(pubsub.channelNames(matching: args.count > 2 ? args[2] : nil, shard: true).map { .bulk($0) })
        case .pubsubShardNumSub:
            return .array(
                args.dropFirst(2).flatMap { [.bulk($0), .integer(pubsub.subscriberCount(of: $0, shard: true))] })
        case .pubsubChannels:
            guard args.count <= 3 else {
                return .error(
                    "ERR unknown subcommand or wrong number of arguments for '\(args[1].string)'. Try PUBSUB HELP.")
            }
            let pattern = args.count > 2 ? args[2] : nil
            return .array(pubsub.channelNames(matching: pattern).map { .bulk($0) })
        case .pubsubNumSub:
            return .array(args.dropFirst(2).flatMap { [.bulk($0), .integer(pubsub.subscriberCount(of: $0))] })
        case .pubsubNumPat:
            return .integer(pubsub.patterns.count)
        default:
            return .array(
                [
                    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "CHANNELS [<pattern>]",
                    "    Return the currently active channels matching a <pattern> (default: '*').",
                    "NUMPAT", "    Return number of subscriptions to patterns.",
                    "NUMSUB [<channel> ...]",
                    "    Return the number of subscribers for the specified channels, excluding",
                    "    pattern subscriptions(default: no channels).",
                    "SHARDCHANNELS [<pattern>]",
                    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
                    "SHARDNUMSUB [<shardchannel> ...]",
                    "    Return the number of subscribers for the specified shard level channel(s)",
                    "HELP", "    Prints this help.",
                ].map { .status($0) })
        }
    }

    /// Removes subscriptions (all of them when `targets` is empty) and returns the
    /// confirmations Redis sends, one per channel or pattern.
    func unsubscribe(_ session: ClientSession, patterns: Bool, from targets: [Bytes]) -> [Reply] {
        let kind = patterns ? "punsubscribe" : "unsubscribe"
        let current = patterns ? session.patterns : session.channels
        let chosen = targets.isEmpty ? current.sorted() : targets
        if chosen.isEmpty { return [.push([.text(kind), .null, .integer(session.subscriptionCount)])] }
        var replies: [Reply] = []
        for target in chosen {
            if patterns {
                if session.patterns.remove(target) != nil { pubsub.unsubscribe(session.id, from: target, .pattern) }
            } else if session.channels.remove(target) != nil {
                pubsub.unsubscribe(session.id, from: target, .channel)
            }
            replies.append(.push([.text(kind), .bulk(target), .integer(session.subscriptionCount)]))
        }
        return replies
    }

    /// SUNSUBSCRIBE: removes shard subscriptions (all when `targets` is empty); one
    /// confirmation per name, as Redis sends them (a name not subscribed is confirmed too).
    func shardUnsubscribe(_ session: ClientSession, from targets: [Bytes]) -> [Reply] {
        let chosen = targets.isEmpty ? session.shardChannels.sorted() : targets
        if chosen.isEmpty { return [.push([.text("sunsubscribe"), .null, .integer(0)])] }
        return chosen.map { target in
            if session.shardChannels.remove(target) != nil { pubsub.unsubscribe(session.id, from: target, .shard) }
            return .push([.text("sunsubscribe"), .bulk(target), .integer(session.shardChannels.count)])
        }
    }

    /// Drops every subscription of a client that is closing or resetting.
    func unsubscribeAll(_ session: ClientSession) {
        _ = unsubscribe(session, patterns: false, from: [])
        _ = unsubscribe(session, patterns: true, from: [])
        _ = shardUnsubscribe(session, from: [])
    }

    /// Delivers `message` to the channel's and matching patterns' subscribers.
    ///
    /// - Returns: the number of deliveries, as PUBLISH replies.
    @discardableResult
    func publish(channel: Bytes, message: Bytes) -> Int {
        var receivers = 0
        pubsub.forEachDelivery(channel: channel, message: message) { id, frame in
            guard let client = clients[id] else { return }
            client.deliver(frame)
            receivers += 1
        }
        return receivers
    }

    /// Publishes the keyspace events the engine recorded: `__keyspace@<db>__:<key>` with
    /// the event name (K) and `__keyevent@<db>__:<event>` with the key (E).
    func publishKeyspaceEvents(_ events: [KeyspaceEvent]) {
        let types = engine.keyspaceEvents
        for event in events {
            if types.contains(.keyspace) {
                publish(
                    channel: Bytes(Array("__keyspace@\(event.db)__:".utf8) + event.key.array),
                    message: Bytes(event.name))
            }
            if types.contains(.keyevent) {
                publish(channel: Bytes("__keyevent@\(event.db)__:\(event.name)"), message: event.key)
            }
        }
    }
}
