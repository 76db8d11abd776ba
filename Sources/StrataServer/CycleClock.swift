//! A clock for timing commands, read from the processor's cycle counter. Every command is
//! timed (command statistics, latency tracking, the slow log), and reading the monotonic
//! clock through the vDSO cost about 20 ns each time, 3–4% of a pipelined command; the
//! counter is read with one instruction. Its rate is measured once against the monotonic
//! clock (a 2 ms spin, at the first use) and kept as 32.32 fixed-point nanoseconds per
//! tick. It is only used where the counter ticks at a constant rate whatever the
//! processor's frequency and sleep state (x86's `constant_tsc` and `nonstop_tsc`, always on
//! 64-bit ARM); elsewhere commands are timed with the monotonic clock, as before. Readings
//! are for durations only: they start near the monotonic clock but are not kept in step
//! with it.

import CCycleCounter

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

struct CycleClock {
    /// The counter when the rate was measured.
    let baseTicks: UInt64
    /// The monotonic clock then.
    let baseNanoseconds: UInt64
    /// Nanoseconds per tick, times 2^32.
    let scale: UInt64

    /// Nanoseconds since an arbitrary start, advancing with the monotonic clock.
    @inline(__always)
    func nanoseconds() -> UInt64 {
        let ticks = strata_cycle_counter() &- baseTicks
        let product = ticks.multipliedFullWidth(by: scale)
        return baseNanoseconds &+ (product.high << 32 | product.low >> 32)
    }

    /// The counter with its rate measured over `spin` nanoseconds of the monotonic clock;
    /// nil when there is no constant-rate counter.
    static func calibrated(spin: UInt64 = 2_000_000) -> CycleClock? {
        guard strata_cycle_counter_available() != 0, tickRateIsConstant() else { return nil }
        let startNanoseconds = WallClock.monotonicNanoseconds()
        let startTicks = strata_cycle_counter()
        var nanoseconds = startNanoseconds
        var ticks = startTicks
        repeat {
            nanoseconds = WallClock.monotonicNanoseconds()
            ticks = strata_cycle_counter()
        } while nanoseconds &- startNanoseconds < spin
        guard ticks > startTicks else { return nil }
        let scale = ((nanoseconds - startNanoseconds) << 32) / (ticks - startTicks)
        guard scale > 0 else { return nil }
        return CycleClock(baseTicks: startTicks, baseNanoseconds: startNanoseconds, scale: scale)
    }

    /// Whether the counter's rate is constant: the CPU flags say so on x86 Linux.
    private static func tickRateIsConstant() -> Bool {
        #if arch(x86_64)
            guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
                let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
            else { return false }
            let names = Set(flags.split(separator: " ").map(String.init))
            return names.contains("constant_tsc") && names.contains("nonstop_tsc")
        #else
            return true
        #endif
    }

    /// The clock commands are timed with in this process: the cycle counter where it can
    /// be used, else the monotonic clock.
    static let commandTimer: () -> UInt64 = {
        guard let clock = CycleClock.calibrated() else { return WallClock.monotonicNanoseconds }
        return clock.nanoseconds
    }()
}
