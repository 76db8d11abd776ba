//! Memory the process really uses. `used_memory` is what the allocator has handed out
//! (jemalloc's `stats.allocated`, covering every thread); `used_memory_rss` is the
//! resident set from `/proc/self/statm`.

import CMallocInfo
import Dispatch
import NIOConcurrencyHelpers

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads process memory figures.
public enum ProcessMemory {
    /// Bytes allocated through malloc and not yet freed.
    public static func allocatedBytes() -> Int {
        let bytes = Int(strata_malloc_allocated_bytes())
        return bytes > 0 ? bytes : residentBytes()
    }

    /// Bytes the calling thread has allocated minus what it freed (wraps; use differences).
    public static func threadNetAllocated() -> UInt64 {
        strata_thread_net_allocated()
    }

    /// Resident set size in bytes.
    public static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Total physical memory in bytes.
    public static func totalSystemBytes() -> Int {
        Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Returns freed heap pages to the system (after mass deletion), on a background
    /// thread: the purge unmaps pages, and with the process's threads on several cores each
    /// unmap waits for the other cores to drop their stale translations, 10–15 ms for a
    /// few megabytes, which on the event loop every client waited for. A purge asked for
    /// while one is queued or running is covered by it.
    public static func trimInBackground() {
        let queued = trimState.withLockedValue { state -> Bool in
            guard !state.pending else { return false }
            state.pending = true
            return true
        }
        guard queued else { return }
        trimQueue.async {
            trimState.withLockedValue { $0.pending = false }
            strata_malloc_trim()
            trimState.withLockedValue { $0.completed &+= 1 }
        }
    }

    /// Whether a purge is queued, and how many ran.
    struct TrimState {
        var pending = false
        var completed: UInt64 = 0
    }

    static let trimState = NIOLockedValueBox(TrimState())
    static let trimQueue = DispatchQueue(label: "strata.memory-trim", qos: .utility)

    /// Bytes of freed pages the allocator keeps resident for reuse.
    public static func dirtyBytes() -> Int {
        Int(strata_malloc_dirty_bytes())
    }

    /// Starts jemalloc's background purging thread (as Redis's `jemalloc-bg-thread yes`):
    /// pages freed by evictions and expiry go back to the system as they age instead of
    /// lingering in RSS.
    public static func enableBackgroundPurging() {
        _ = strata_malloc_enable_background_thread()
    }

    /// Redis's human-readable byte counts (`1.50M`).
    public static func human(_ bytes: Int) -> String {
        let value = Double(bytes)
        if value < 1024 { return "\(bytes)B" }
        let units: [(Double, String)] = [
            (1024, "K"), (1024 * 1024, "M"), (1024 * 1024 * 1024, "G"), (1024.0 * 1024 * 1024 * 1024, "T"),
        ]
        var chosen = units[0]
        for unit in units where value >= unit.0 { chosen = unit }
        return String(printf: "%.2f", value / chosen.0) + chosen.1
    }
}
