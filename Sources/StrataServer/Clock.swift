#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The wall clock, read in one place; the engine never reads it itself.
enum WallClock {
    /// Unix time in milliseconds.
    @inline(__always)
    static func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Unix time in microseconds.
    static func nowMicroseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// Monotonic time in nanoseconds, for budgets.
    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// The server's source of time, injected so that timeouts, output-buffer soft limits and
/// eviction's time budget are tested by advancing a fake clock instead of sleeping.
struct ServerClock {
    /// Unix time in microseconds.
    var wallMicroseconds: () -> Int64
    /// Monotonic nanoseconds, for budgets and durations.
    var monotonicNanoseconds: () -> UInt64
    /// Nanoseconds for timing commands: only differences between two readings mean
    /// anything (see `CycleClock`).
    var commandNanoseconds: () -> UInt64

    /// Clocks from these sources; commands are timed with the monotonic clock unless
    /// `commandNanoseconds` is given.
    init(
        wallMicroseconds: @escaping () -> Int64, monotonicNanoseconds: @escaping () -> UInt64,
        commandNanoseconds: (() -> UInt64)? = nil
    ) {
        self.wallMicroseconds = wallMicroseconds
        self.monotonicNanoseconds = monotonicNanoseconds
        self.commandNanoseconds = commandNanoseconds ?? monotonicNanoseconds
    }

    /// The system clocks.
    static let system = ServerClock(
        wallMicroseconds: WallClock.nowMicroseconds, monotonicNanoseconds: WallClock.monotonicNanoseconds,
        commandNanoseconds: CycleClock.commandTimer)

    /// Unix time in milliseconds.
    @inline(__always)
    func wallMilliseconds() -> Int64 { wallMicroseconds() / 1000 }
}
