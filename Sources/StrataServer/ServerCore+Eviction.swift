//! Enforcing `maxmemory`. Before each command the server compares the memory in use with
//! the limit and, when over, evicts keys by the configured policy until it is under; a
//! command that may grow memory (`denyoom`) is refused with Redis's OOM error when nothing
//! more can be evicted.
//!
//! Memory in use is jemalloc's `stats.allocated` (every thread; refreshing it merges every
//! arena's statistics, several microseconds) taken at most once a millisecond, plus what
//! the event-loop thread has allocated since, from jemalloc's per-thread counters (one
//! memory read). Keys evicted inline are freed on the event loop, so the estimate follows
//! each eviction exactly; what other threads allocate or free shows at the next refresh.

import StrataEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Memory in use, cheap enough to read before every command.
struct MemoryGauge {
    private var baseAllocated = 0
    private var baseThreadNet: UInt64 = 0
    private var refreshedAt: UInt64 = 0

    /// Shortest time between two exact readings taken because memory looked over a limit.
    static let refreshIntervalNanoseconds: UInt64 = 1_000_000

    /// Takes a fresh exact reading; returns it.
    @discardableResult
    mutating func refresh() -> Int {
        baseThreadNet = ProcessMemory.threadNetAllocated()
        baseAllocated = ProcessMemory.allocatedBytes()
        refreshedAt = WallClock.monotonicNanoseconds()
        return baseAllocated
    }

    /// Whether memory in use is over `limit`: the estimate, confirmed by an exact reading
    /// when the last one is older than ``refreshIntervalNanoseconds`` (other threads may
    /// have freed memory since). While eviction keeps memory at the limit, every command
    /// looks over it; an exact reading each time cost more than the command.
    mutating func exceeds(_ limit: Int) -> Bool {
        guard estimate > limit else { return false }
        if WallClock.monotonicNanoseconds() &- refreshedAt < MemoryGauge.refreshIntervalNanoseconds { return true }
        return refresh() > limit
    }

    /// The last exact reading plus the event-loop thread's net allocations since.
    var estimate: Int {
        baseAllocated + Int(Int64(bitPattern: ProcessMemory.threadNetAllocated() &- baseThreadNet))
    }
}

extension ServerCore {
    static let oomError = Reply.error("OOM command not allowed when used memory > 'maxmemory'.")

    /// Longest one command evicts before running anyway, from `maxmemory-eviction-tenacity`
    /// as Redis computes it: 50 µs per step up to 10 (500 µs by default), then 15% more
    /// per step, unlimited at 100. Eviction left over continues in the background.
    var evictionTimeLimitNanoseconds: UInt64 {
        let tenacity = config.maxMemoryEvictionTenacity
        if tenacity <= 10 { return UInt64(50_000 * tenacity) }
        if tenacity < 100 { return UInt64(500_000 * pow(1.15, Double(tenacity - 10))) }
        return .max
    }

    /// Evicts keys until memory is under `maxmemory`.
    ///
    /// - Returns: false when memory stays over the limit because nothing can be evicted.
    func performEvictions(now: Int64) -> Bool {
        guard memoryGauge.exceeds(config.maxMemory) else { return true }
        // As Redis: nothing is evicted while clients are paused.
        if pause.isPausing && pause.holdsWrites(now: pauseClockMilliseconds) { return true }
        let start = clock.monotonicNanoseconds()
        var evicted = 0
        var underLimit = false
        while !underLimit {
            guard let victim = engine.evictOne(now: now) else { break }
            evicted += 1
            underLimit = memoryGauge.estimate <= config.maxMemory
            if evicted % 16 == 0 && clock.monotonicNanoseconds() - start > evictionTimeLimitNanoseconds {
                // Time is up: the command runs, and eviction goes on between passes.
                scheduleBackgroundEviction()
                underLimit = true
            }
        }
        if evicted > 0 { commitWrites(now: now) }
        return underLimit
    }
}

extension ServerCore {
    /// Continues evicting on the event loop, a time slice per task, until memory is under
    /// `maxmemory` (Redis's eviction timer): a command that ran out of eviction time does
    /// not wait for the rest.
    func scheduleBackgroundEviction() {
        guard !backgroundEvictionScheduled else { return }
        backgroundEvictionScheduled = true
        eventLoop.execute { [unowned(unsafe) self] in
            self.backgroundEvictionScheduled = false
            guard self.config.maxMemory > 0 else { return }
            _ = self.performEvictions(now: clock.wallMilliseconds())
        }
    }
}
