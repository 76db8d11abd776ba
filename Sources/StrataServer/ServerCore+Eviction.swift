//! Enforcing `maxmemory`. Before each command the server compares the memory in use with
//! the limit and, when over, evicts keys by the configured policy until it is under; a
//! command that may grow memory (`denyoom`) is refused with Redis's OOM error when nothing
//! more can be evicted.
//!
//! Memory in use is jemalloc's `stats.allocated` (every thread; refreshing it costs a few
//! microseconds) taken every `hz` tick, plus what the event-loop thread has allocated
//! since, from jemalloc's per-thread counters (one memory read). Keys evicted inline are
//! freed on the event loop, so the estimate follows each eviction exactly.

import StrataEngine

/// Memory in use, cheap enough to read before every command.
struct MemoryGauge {
    private var baseAllocated = 0
    private var baseThreadNet: UInt64 = 0

    /// Takes a fresh exact reading; returns it.
    @discardableResult
    mutating func refresh() -> Int {
        baseThreadNet = ProcessMemory.threadNetAllocated()
        baseAllocated = ProcessMemory.allocatedBytes()
        return baseAllocated
    }

    /// The last exact reading plus the event-loop thread's net allocations since.
    var estimate: Int {
        baseAllocated + Int(Int64(bitPattern: ProcessMemory.threadNetAllocated() &- baseThreadNet))
    }
}

extension ServerCore {
    static let oomError = Reply.error("OOM command not allowed when used memory > 'maxmemory'.")
    /// Longest one command waits for eviction before running anyway (Redis's
    /// eviction time limit); the next command continues.
    static let evictionSliceNanoseconds: UInt64 = 2_000_000

    /// Evicts keys until memory is under `maxmemory`.
    ///
    /// - Returns: false when memory stays over the limit because nothing can be evicted.
    func performEvictions(now: Int64) -> Bool {
        guard memoryGauge.estimate > config.maxMemory, memoryGauge.refresh() > config.maxMemory else { return true }
        let start = WallClock.monotonicNanoseconds()
        var evicted: [WatchedKey] = []
        var underLimit = false
        while !underLimit {
            guard let victim = engine.evictOne(now: now) else { break }
            evicted.append(WatchedKey(db: victim.db, key: victim.key))
            underLimit = memoryGauge.estimate <= config.maxMemory
            if evicted.count % 16 == 0 && WallClock.monotonicNanoseconds() - start > ServerCore.evictionSliceNanoseconds
            {
                underLimit = true  // time is up: let the command run, carry on next time
            }
        }
        if !evicted.isEmpty {
            engine.stats.dirty += evicted.count
            if !watchers.isEmpty { touchWatchedKeys(.keys(evicted)) }
        }
        if !engine.pendingEvents.isEmpty { publishKeyspaceEvents() }
        return underLimit
    }
}
