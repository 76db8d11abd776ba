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
        /// A shard channel (SSUBSCRIBE): its own namespace, reached only by SPUBLISH.
        case shard
    }

    /// Channel → ids of its subscribers.
    private(set) var channels: [Bytes: Set<UInt64>] = [:]
    /// Pattern → ids of its subscribers.
    private(set) var patterns: [Bytes: Set<UInt64>] = [:]
    /// Shard channel → ids of its subscribers.
    private(set) var shardChannels: [Bytes: Set<UInt64>] = [:]

    /// Subscribes client `id` to `target`.
    mutating func subscribe(_ id: UInt64, to target: Bytes, _ kind: Kind) {
        switch kind {
        case .channel: channels[target, default: []].insert(id)
        case .pattern: patterns[target, default: []].insert(id)
        case .shard: shardChannels[target, default: []].insert(id)
        }
    }

    /// Unsubscribes client `id` from `target`; a name nobody listens to any more is dropped.
    mutating func unsubscribe(_ id: UInt64, from target: Bytes, _ kind: Kind) {
        switch kind {
        case .channel: PubSubHub.remove(id, target, from: &channels)
        case .pattern: PubSubHub.remove(id, target, from: &patterns)
        case .shard: PubSubHub.remove(id, target, from: &shardChannels)
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

    /// Calls `deliver` with the `smessage` frame for each subscriber of shard channel
    /// `channel` (SPUBLISH; patterns never match shard channels).
    func forEachShardDelivery(channel: Bytes, message: Bytes, _ deliver: (_ client: UInt64, _ frame: Reply) -> Void) {
        guard let ids = shardChannels[channel] else { return }
        let frame = Reply.push([.text("smessage"), .bulk(channel), .bulk(message)])
        for id in ids { deliver(id, frame) }
    }

    /// Channels (or shard channels) with subscribers, matching `pattern` when given,
    /// sorted (PUBSUB CHANNELS, SHARDCHANNELS).
    func channelNames(matching pattern: Bytes?, shard: Bool = false) -> [Bytes] {
        (shard ? shardChannels : channels).keys.filter { name in
            pattern.map { GlobPattern.matches($0, name) } ?? true
        }.sorted()
    }

    /// Subscribers of `channel` (or of shard channel `channel`), patterns excluded (PUBSUB
    /// NUMSUB, SHARDNUMSUB).
    func subscriberCount(of channel: Bytes, shard: Bool = false) -> Int {
        (shard ? shardChannels : channels)[channel]?.count ?? 0
    }
}
