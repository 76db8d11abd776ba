import Foundation
import Testing

@testable import StrataServer

/// The cycle counter clock that times commands agrees with the monotonic clock.
struct CycleClockTests {
    @Test func measuresTheSameIntervalAsTheMonotonicClock() throws {
        // Only where the counter is used; elsewhere commands are timed with the monotonic
        // clock itself.
        guard let clock = CycleClock.calibrated() else { return }
        let monotonicStart = WallClock.monotonicNanoseconds()
        let cycleStart = clock.nanoseconds()
        var monotonicEnd = monotonicStart
        while monotonicEnd - monotonicStart < 50_000_000 { monotonicEnd = WallClock.monotonicNanoseconds() }
        let cycleEnd = clock.nanoseconds()
        let monotonic = Double(monotonicEnd - monotonicStart)
        #expect(cycleEnd > cycleStart)
        let cycle = Double(cycleEnd &- cycleStart)
        // The two readings of each clock are taken next to each other: they differ by
        // the rate's error over 50 ms, far under 5%.
        #expect(abs(cycle - monotonic) < monotonic * 0.05, "cycle clock \(cycle) ns, monotonic \(monotonic) ns")
    }

    @Test func isUsedWhereTheProcessorSaysItsCounterIsConstant() throws {
        #if arch(x86_64) && os(Linux)
            let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
            guard let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
            let names = Set(flags.split(separator: " "))
            let constant = names.contains("constant_tsc") && names.contains("nonstop_tsc")
            #expect((CycleClock.calibrated() != nil) == constant)
        #endif
    }

    @Test func startsNearTheMonotonicClock() throws {
        guard let clock = CycleClock.calibrated(spin: 1_000_000) else { return }
        let before = WallClock.monotonicNanoseconds()
        let reading = clock.nanoseconds()
        let after = WallClock.monotonicNanoseconds()
        // Within a millisecond of the monotonic clock read around it (the rate measured
        // over 1 ms is off by far less than that since).
        #expect(reading + 1_000_000 > before && reading < after + 1_000_000)
    }

    @Test func systemClockTimesCommandsWithAnAdvancingClock() {
        let first = ServerClock.system.commandNanoseconds()
        var second = first
        let deadline = WallClock.monotonicNanoseconds() + 1_000_000_000
        while second == first && WallClock.monotonicNanoseconds() < deadline {
            second = ServerClock.system.commandNanoseconds()
        }
        #expect(second > first)
    }
}
