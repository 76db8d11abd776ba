//! WATCH's reverse index: which clients watch which keys. The server asks it which clients
//! a write record invalidates and marks their transactions dirty; the registry holds ids,
//! not connections.

import StrataEngine

/// Watched keys → ids of the clients watching them.
struct WatchRegistry {
    private var watchers: [KeyRef: Set<UInt64>] = [:]

    /// Whether nobody watches anything (the common case: nothing to check after a write).
    var isEmpty: Bool { watchers.isEmpty }

    /// Client `id` watches `key`.
    mutating func watch(_ key: KeyRef, by id: UInt64) {
        watchers[key, default: []].insert(id)
    }

    /// Client `id` stops watching `keys`.
    mutating func unwatch<Keys: Sequence>(_ keys: Keys, by id: UInt64) where Keys.Element == KeyRef {
        for key in keys {
            watchers[key]?.remove(id)
            if watchers[key]?.isEmpty == true { watchers.removeValue(forKey: key) }
        }
    }

    /// The clients whose watch `record` invalidates: a written key, a key evicted, or any
    /// key of a database changed as a whole. (An expired key is found gone by EXEC itself,
    /// and stream group state leaves watches alone, as in Redis 7.0.)
    func clientsInvalidated(by record: WriteRecord) -> Set<UInt64> {
        var ids: Set<UInt64> = []
        for key in record.writtenKeys {
            if let watching = watchers[key] { ids.formUnion(watching) }
        }
        for removed in record.removedKeys where removed.reason == .evicted {
            if let watching = watchers[removed.key] { ids.formUnion(watching) }
        }
        if !record.wholeDatabases.isEmpty {
            for (key, watching) in watchers where record.wholeDatabases.contains(key.db) { ids.formUnion(watching) }
        }
        return ids
    }
}
