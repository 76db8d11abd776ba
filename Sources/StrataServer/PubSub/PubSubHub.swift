//! The pub/sub registry: which client ids listen to which channels and patterns. It owns
//! no connections; `deliveries` says which client gets which frame, and the server sends
//! them. Per-client subscription sets stay in the client's session (its count decides
//! RESP2 subscribed mode); this is the reverse index PUBLISH and PUBSUB read.

import StrataEngine

/// Subscriptions by channel and by pattern.
struct PubSubHub {
    /// What a subscription names.
    enum Kind {
        /// An exact channel name (SUBSCRIBE).
        case channel
        /// A glob pattern (PSUBSCRIBE).
        case pattern
    }

    /// Channel → ids of its subscribers.
    private(set) var channels: [Bytes: Set<UInt64>] = [:]
    /// Pattern → ids of its subscribers.
    private(set) var patterns: [Bytes: Set<UInt64>] = [:]

    /// Subscribes client `id` to `target`.
    mutating func subscribe(_ id: UInt64, to target: Bytes, _ kind: Kind) {
        switch kind {
        case .channel: channels[target, default: []].insert(id)
        case .pattern: patterns[target, default: []].insert(id)
        }
    }

    /// Unsubscribes client `id` from `target`; a name nobody listens to any more is dropped.
    mutating func unsubscribe(_ id: UInt64, from target: Bytes, _ kind: Kind) {
        switch kind {
        case .channel: PubSubHub.remove(id, target, from: &channels)
        case .pattern: PubSubHub.remove(id, target, from: &patterns)
        }
    }

    private static func remove(_ id: UInt64, _ target: Bytes, from table: inout [Bytes: Set<UInt64>]) {
        table[target]?.remove(id)
        if table[target]?.isEmpty == true { table.removeValue(forKey: target) }
    }

    /// Calls `deliver` with each frame PUBLISH sends: `message` to each subscriber of
    /// `channel`, then `pmessage` to each subscriber of a matching pattern (a client
    /// subscribed both ways gets both). A callback, not an array: PUBLISH and every keyspace
    /// event go through here.
    func forEachDelivery(channel: Bytes, message: Bytes, _ deliver: (_ client: UInt64, _ frame: Reply) -> Void) {
        if let ids = channels[channel] {
            let frame = Reply.push([.text("message"), .bulk(channel), .bulk(message)])
            for id in ids { deliver(id, frame) }
        }
        guard !patterns.isEmpty else { return }
        for (pattern, ids) in patterns where GlobPattern.matches(pattern, channel) {
            let frame = Reply.push([.text("pmessage"), .bulk(pattern), .bulk(channel), .bulk(message)])
            for id in ids { deliver(id, frame) }
        }
    }

    /// Channels with subscribers, matching `pattern` when given, sorted (PUBSUB CHANNELS).
    func channelNames(matching pattern: Bytes?) -> [Bytes] {
        channels.keys.filter { name in pattern.map { GlobPattern.matches($0, name) } ?? true }.sorted()
    }

    /// Subscribers of `channel`, patterns excluded (PUBSUB NUMSUB).
    func subscriberCount(of channel: Bytes) -> Int { channels[channel]?.count ?? 0 }
}
