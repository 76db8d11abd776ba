//! Background work on the event loop: the active expiry cycle (adaptive: it reschedules
//! itself quickly while it keeps finding stale keys, and at `hz` otherwise, each slice
//! bounded to about a millisecond so client latency stays low), client idle timeouts and
//! statistics sampling.

import NIOCore
import StrataEngine

extension ServerCore {
    /// Longest time one expiry slice may run, in nanoseconds.
    static let expirySliceNanoseconds: UInt64 = 1_000_000
    /// Deadlines examined per engine call inside a slice.
    static let expiryChecksPerCall = 2000

    func startBackgroundTasks() {
        scheduleExpiry(in: .milliseconds(Int64(1000 / max(1, config.hz))))
        eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) {
            [unowned(unsafe) self] _ in
            self.sampleStatistics()
        }
        eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [unowned(unsafe) self] _ in
            self.closeIdleClients()
            self.replicationCron(now: self.clock.wallMilliseconds())
            self.primaryLink?.tick(now: self.clock.wallMilliseconds())
        }
    }

    private func scheduleExpiry(in delay: TimeAmount) {
        eventLoop.scheduleTask(in: delay) { [unowned(unsafe) self] in
            // A replica leaves expiry to its primary, whose DELs it applies (as Redis).
            let fast = self.activeExpireEnabled && self.primaryLink == nil && self.runExpirySlice()
            self.scheduleExpiry(in: fast ? .milliseconds(1) : .milliseconds(Int64(1000 / max(1, self.config.hz))))
        }
    }

    /// Runs expiry for up to one slice; returns whether to come back soon.
    func runExpirySlice() -> Bool {
        // As Redis: while clients are paused the dataset stays as it is.
        if pause.holdsWrites(now: pauseClockMilliseconds) { return false }
        let start = clock.monotonicNanoseconds()
        var total = ExpiryCycleResult()
        // Near the memory limit, loose keyspace tables are rebuilt denser on the way (not
        // while a snapshot or rewrite shares them: that would copy them).
        let compact =
            config.maxMemory > 0 && memoryGauge.estimate > config.maxMemory / 10 * 9 && !engine.holdsAccessTimes
        repeat {
            let result = engine.activeExpireCycle(
                now: clock.wallMilliseconds(), budget: ServerCore.expiryChecksPerCall, compactTables: compact)
            total.checked += result.checked
            total.expired += result.expired
            total.budgetExhausted = result.budgetExhausted
            commitWrites(now: clock.wallMilliseconds())
            if !result.wantsFastFollowUp { break }
        } while clock.monotonicNanoseconds() - start < ServerCore.expirySliceNanoseconds
        let elapsed = clock.monotonicNanoseconds() &- start
        stats.noteExpirySlice(
            checked: total.checked, expired: total.expired, nanoseconds: elapsed,
            cappedByTime: total.wantsFastFollowUp && elapsed >= ServerCore.expirySliceNanoseconds)
        expiredSinceTrim += total.expired
        let again = total.wantsFastFollowUp
        if !again && total.expired == 0 && expiredSinceTrim > 10_000 {
            // A wave of expiry has ended: hand the freed pages back to the system.
            expiredSinceTrim = 0
            ProcessMemory.trimInBackground()
        }
        return again
    }

    private func sampleStatistics() {
        stats.sample(now: clock.wallMilliseconds(), commands: engine.stats.commandsProcessed)
        if config.maxMemory > 0 { memoryGauge.refresh() }
        let idle = engine.stats.commandsProcessed == commandsAtLastSample
        commandsAtLastSample = engine.stats.commandsProcessed
        releaseDirtyPages(idle: idle)
        checkSavePoints()
        appendOnlyTick()
    }

    /// Returns freed pages to the system when the allocator holds many: a keyspace table
    /// that grew leaves its old array behind (a quarter of the keyspace's memory at the
    /// doubling), and jemalloc's decay would keep it resident for seconds.
    private func releaseDirtyPages(idle: Bool) {
        let dirty = ProcessMemory.dirtyBytes()
        let allocated = dirty >= ServerCore.dirtyPagesFloor ? ProcessMemory.allocatedBytes() : 0
        guard ServerCore.shouldReleaseDirtyPages(dirty: dirty, allocated: allocated, idle: idle) else { return }
        ProcessMemory.trimInBackground()
    }

    /// Whether `dirty` bytes of freed pages should go back to the system. While commands
    /// run, up to a sixteenth of the allocated memory (and at least the floor) stays for
    /// reuse, so a steady workload does not fault pages back in: at most that much is
    /// given back and faulted again per 100 ms, a fraction of a percent of a core. Once a
    /// whole sample period passed without a command, everything over the floor goes: an
    /// idle server has nothing to reuse it for, and a burst that follows faults in only
    /// what it needs.
    static func shouldReleaseDirtyPages(dirty: Int, allocated: Int, idle: Bool) -> Bool {
        guard dirty >= dirtyPagesFloor else { return false }
        return idle || dirty >= allocated / 16
    }

    /// The least amount of freed memory ``releaseDirtyPages()`` returns to the system.
    static let dirtyPagesFloor = 1024 * 1024

    func closeIdleClients() {
        guard config.timeout > 0 else { return }
        let now = clock.wallMilliseconds()
        // As Redis: subscribers and clients parked by a blocking command are not idle.
        for client in clients.values
        where now - client.session.lastInteraction > Int64(config.timeout) * 1000
            && !client.session.isSubscriber && client.blocked == nil
        {
            logger.info("Closing idle client id=\(client.session.id)")
            client.terminate()
        }
    }
}
