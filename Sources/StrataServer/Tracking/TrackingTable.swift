//! Client-side caching state (CLIENT TRACKING), as Redis keeps it: in the default mode a
//! table from key names to the ids of clients that read them (keys are not per database,
//! as in Redis), emptied for a key when it is invalidated; in BCAST mode a table from
//! prefixes to their clients and the keys written under them since the last broadcast.
//! The table owns no connections: its methods return the invalidations to send and the
//! server delivers them (`ServerCore+Tracking.swift`). Its size is bounded by
//! `tracking-table-max-keys`: past it, keys are dropped with an invalidation, so a client
//! never keeps a value the server no longer watches for it.

import StrataEngine

/// Keys read by tracking clients, prefixes of broadcasting ones, and each client's mode.
struct TrackingTable {
    /// The options of CLIENT TRACKING ON.
    struct Options: OptionSet, Equatable {
        let rawValue: UInt8
        /// Invalidate by prefix instead of by keys read.
        static let broadcast = Options(rawValue: 1 << 0)
        /// Track only after CLIENT CACHING YES.
        static let optIn = Options(rawValue: 1 << 1)
        /// Track unless after CLIENT CACHING NO.
        static let optOut = Options(rawValue: 1 << 2)
        /// No invalidations for the client's own writes.
        static let noLoop = Options(rawValue: 1 << 3)
    }

    /// One tracking client's mode.
    struct ClientState: Equatable {
        /// The client invalidations go to instead (0: the client itself).
        var redirect: UInt64 = 0
        /// Its options.
        var options: Options = []
        /// Set by CLIENT CACHING for the next command.
        var caching = false
        /// Set when the redirect client was found gone.
        var brokenRedirect = false
        /// Its BCAST prefixes, sorted.
        var prefixes: [Bytes] = []
    }

    /// An invalidation message for a tracking client: `keys` nil means every key (a flush).
    struct Invalidation: Equatable {
        /// The tracking client (the message may go to its redirect client).
        let client: UInt64
        /// The keys, or nil for all.
        let keys: [Bytes]?
    }

    private struct PrefixState {
        var clients: Set<UInt64> = []
        /// Keys written under the prefix since the last broadcast, with their last writer.
        var pending: [Bytes: UInt64] = [:]
    }

    /// Tracking clients by id.
    private(set) var clients: [UInt64: ClientState] = [:]
    private var keys: [Bytes: Set<UInt64>] = [:]
    private var prefixes: [Bytes: PrefixState] = [:]
    /// Client ids stored across all keys (`tracking_total_items`).
    private(set) var totalItems = 0
    /// Most keys remembered (`tracking-table-max-keys`); 0 for no limit.
    var maxKeys = 1_000_000

    /// Whether no client tracks.
    var isEmpty: Bool { clients.isEmpty }
    /// Keys remembered (`tracking_total_keys`).
    var keyCount: Int { keys.count }
    /// Prefixes registered (`tracking_total_prefixes`).
    var prefixCount: Int { prefixes.count }
    /// Whether written keys wait for the next broadcast.
    private(set) var hasPendingBroadcasts = false

    /// The state of client `id`, nil when it does not track.
    subscript(id: UInt64) -> ClientState? { clients[id] }

    /// CLIENT TRACKING ON for client `id`: checks the options against each other and the
    /// client's current mode in Redis's order, then enables tracking.
    ///
    /// - Returns: Redis's error text (without `ERR `), or nil when enabled.
    mutating func enable(_ id: UInt64, redirect: UInt64, options: Options, prefixes new: [Bytes]) -> String? {
        let broadcast = options.contains(.broadcast)
        if !broadcast && !new.isEmpty { return "PREFIX option requires BCAST mode to be enabled" }
        let current = clients[id]
        if let current, current.options.contains(.broadcast) != broadcast {
            return
                "You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
        }
        if broadcast && !options.isDisjoint(with: [.optIn, .optOut]) {
            return "OPTIN and OPTOUT are not compatible with BCAST"
        }
        if options.isSuperset(of: [.optIn, .optOut]) { return "You can't specify both OPTIN mode and OPTOUT mode" }
        if let current,
            (options.contains(.optIn) && current.options.contains(.optOut))
                || (options.contains(.optOut) && current.options.contains(.optIn))
        {
            return
                "You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
        }
        if broadcast, let collision = TrackingTable.collision(new, existing: current?.prefixes ?? []) {
            return collision
        }
        var state = current ?? ClientState()
        state.redirect = redirect
        state.options = options
        state.brokenRedirect = false
        if broadcast {
            for prefix in new.isEmpty ? [Bytes()] : new where !state.prefixes.contains(prefix) {
                state.prefixes.append(prefix)
                self.prefixes[prefix, default: PrefixState()].clients.insert(id)
            }
            state.prefixes.sort()
        }
        clients[id] = state
        return nil
    }

    /// The error for prefixes that overlap (one starts with the other) an existing prefix
    /// of the client or another given prefix, as Redis words it.
    static func collision(_ new: [Bytes], existing: [Bytes]) -> String? {
        func overlap(_ a: Bytes, _ b: Bytes) -> Bool {
            let (x, y) = (a.array, b.array)
            let length = Swift.min(x.count, y.count)
            return x[0..<length] == y[0..<length]
        }
        for (i, prefix) in new.enumerated() {
            if let old = existing.first(where: { overlap($0, prefix) }) {
                return
                    "Prefix '\(prefix.string)' overlaps with an existing prefix '\(old.string)'. Prefixes for a single client must not overlap."
            }
            if let other = new[(i + 1)...].first(where: { overlap(prefix, $0) }) {
                return
                    "Prefix '\(prefix.string)' overlaps with another provided prefix '\(other.string)'. Prefixes for a single client must not overlap."
            }
        }
        return nil
    }

    /// CLIENT TRACKING OFF, RESET or a closed connection: forgets the client's mode and
    /// prefixes. Its ids in the key table go lazily, when those keys are invalidated.
    mutating func disable(_ id: UInt64) {
        guard let state = clients.removeValue(forKey: id) else { return }
        for prefix in state.prefixes {
            prefixes[prefix]?.clients.remove(id)
            if prefixes[prefix]?.clients.isEmpty == true { prefixes.removeValue(forKey: prefix) }
        }
    }

    /// CLIENT CACHING YES|NO.
    ///
    /// - Returns: Redis's error text (without `ERR `), or nil.
    mutating func setCaching(_ id: UInt64, yes: Bool) -> String? {
        guard var state = clients[id] else {
            return
                "CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
        }
        if yes && !state.options.contains(.optIn) {
            return "CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
        }
        if !yes && !state.options.contains(.optOut) {
            return "CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
        }
        state.caching = true
        clients[id] = state
        return nil
    }

    /// Ends the effect of CLIENT CACHING (after a command other than CLIENT, outside MULTI).
    mutating func clearCaching(_ id: UInt64) {
        if clients[id]?.caching == true { clients[id]?.caching = false }
    }

    /// Notes that client `id` read `read` (the keys of a read-only command), unless it
    /// broadcasts or its OPTIN/OPTOUT mode says not to; then keeps the table within
    /// ``maxKeys``.
    ///
    /// - Returns: the invalidations for keys dropped to stay within the limit.
    mutating func remember(_ read: [Bytes], for id: UInt64) -> [Invalidation] {
        guard let state = clients[id], !state.options.contains(.broadcast) else { return [] }
        if state.options.contains(.optIn) && !state.caching { return [] }
        if state.options.contains(.optOut) && state.caching { return [] }
        for key in read where keys[key, default: []].insert(id).inserted {
            totalItems += 1
        }
        return trimmed()
    }

    /// Drops keys past ``maxKeys``, invalidating them for their clients.
    mutating func trimmed() -> [Invalidation] {
        guard maxKeys > 0 else { return [] }
        var sent: [Invalidation] = []
        while keys.count > maxKeys, let key = keys.keys.first {
            sent += invalidate(key, writer: 0, broadcast: false)
        }
        return sent
    }

    /// A written or removed key: one invalidation per client that read it (not to
    /// `writer` when it asked for NOLOOP; writer 0 is no client, as for expiry); the key is
    /// forgotten. With `broadcast`, also noted for the prefixes it falls under.
    mutating func invalidate(_ key: Bytes, writer: UInt64, broadcast: Bool = true) -> [Invalidation] {
        if broadcast && !prefixes.isEmpty { noteForBroadcast(key, writer: writer) }
        guard let ids = keys.removeValue(forKey: key) else { return [] }
        totalItems -= ids.count
        var sent: [Invalidation] = []
        for id in ids.sorted() {
            guard let state = clients[id], !state.options.contains(.broadcast) else { continue }
            if id == writer && state.options.contains(.noLoop) { continue }
            sent.append(Invalidation(client: id, keys: [key]))
        }
        return sent
    }

    private mutating func noteForBroadcast(_ key: Bytes, writer: UInt64) {
        let bytes = key.array
        for prefix in prefixes.keys {
            let p = prefix.array
            guard p.count <= bytes.count, bytes[0..<p.count].elementsEqual(p) else { continue }
            prefixes[prefix]?.pending[key] = writer
            hasPendingBroadcasts = true
        }
    }

    /// FLUSHDB/FLUSHALL: every tracking client is told all its keys are invalid, and the
    /// key table is emptied.
    mutating func invalidateAll() -> [Invalidation] {
        keys.removeAll()
        totalItems = 0
        return clients.keys.sorted().map { Invalidation(client: $0, keys: nil) }
    }

    /// The broadcasts due at the end of an event-loop pass: per prefix in order, the keys
    /// written under it (sorted) to each of its clients, without a NOLOOP client's own
    /// last writes; the pending keys are cleared.
    mutating func takeBroadcasts() -> [Invalidation] {
        guard hasPendingBroadcasts else { return [] }
        hasPendingBroadcasts = false
        var sent: [Invalidation] = []
        for prefix in prefixes.keys.sorted() {
            guard let state = prefixes[prefix], !state.pending.isEmpty else { continue }
            prefixes[prefix]?.pending = [:]
            let written = state.pending.keys.sorted()
            for id in state.clients.sorted() {
                var keys = written
                if clients[id]?.options.contains(.noLoop) == true {
                    keys = written.filter { state.pending[$0] != id }
                    if keys.isEmpty { continue }
                }
                sent.append(Invalidation(client: id, keys: keys))
            }
        }
        return sent
    }

    /// Notes that client `id`'s redirect client is gone (TRACKINGINFO's `broken_redirect`).
    mutating func markBrokenRedirect(_ id: UInt64) {
        clients[id]?.brokenRedirect = true
    }
}
