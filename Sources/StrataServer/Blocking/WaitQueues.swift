//! The queues of clients parked by blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK, ...):
//! per key, the waiters in the order they blocked, and the keys a write made ready since
//! the last serving. It is generic over the waiter so it is tested without connections;
//! the server decides what serving a waiter means (running its command again).

import StrataEngine

/// Waiters parked on keys, first come first served per key.
struct WaitQueues<Waiter: AnyObject> {
    private var waiting: [KeyRef: [Waiter]] = [:]
    /// Keys a write touched that someone waits on, in the order they became ready.
    private(set) var ready: [KeyRef] = []

    /// Whether nobody waits.
    var isEmpty: Bool { waiting.isEmpty }

    /// Parks `waiter` on `keys` (behind those already waiting).
    mutating func park(_ waiter: Waiter, on keys: [KeyRef]) {
        for key in keys { waiting[key, default: []].append(waiter) }
    }

    /// Removes `waiter` from the queues of `keys` (served, timed out, disconnected).
    mutating func release(_ waiter: Waiter, from keys: [KeyRef]) {
        for key in keys {
            waiting[key]?.removeAll { $0 === waiter }
            if waiting[key]?.isEmpty == true { waiting.removeValue(forKey: key) }
        }
    }

    /// The waiters on `key`, oldest first.
    func waiters(on key: KeyRef) -> [Waiter] { waiting[key] ?? [] }

    /// Notes the keys of `record` that someone waits on as ready: written keys, keys whose
    /// stream group state changed, and every waited key of a database changed as a whole.
    mutating func noteReady(_ record: WriteRecord) {
        for key in record.writtenKeys { noteReady(key) }
        for key in record.stateOnlyKeys { noteReady(key) }
        if !record.wholeDatabases.isEmpty {
            for key in waiting.keys where record.wholeDatabases.contains(key.db) { noteReady(key) }
        }
    }

    private mutating func noteReady(_ key: KeyRef) {
        if waiting[key] != nil && !ready.contains(key) { ready.append(key) }
    }

    /// Takes the oldest ready key.
    mutating func nextReady() -> KeyRef? {
        ready.isEmpty ? nil : ready.removeFirst()
    }
}
