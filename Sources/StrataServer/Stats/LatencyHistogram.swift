//! A command's latency distribution, kept the way Redis 7.0 keeps it so that `INFO
//! latencystats` and `LATENCY HISTOGRAM` read the same figures for the same durations.
//!
//! Why this layout: Redis records each call's duration (whole microseconds, times 1000, so
//! nanoseconds, clamped to 1 µs…1 s) in an HDR histogram with a lowest discernible value of
//! 1 and two significant figures. Such a histogram has 256 sub-buckets in its first bucket
//! and 128 more in each power of two after it: a value `v` falls in bucket
//! `b = bitWidth(v | 255) - 8` and sub-bucket `v >> b`, so every bucket's resolution is
//! `2^b` — relative error under 1%. Percentiles report the highest value equivalent to the
//! sub-bucket that reaches the requested count, and the histogram view reports the counts
//! up to each power of two from 1024 ns (through the end of its sub-bucket); both are what
//! Redis prints, byte for byte, for the same recorded durations. Recording is a shift and an increment; the counts (3,072 of
//! them) are allocated on a command's first call.

/// Durations in nanoseconds, counted in HDR-style log-linear buckets.
struct LatencyHistogram {
    /// The smallest duration recorded (1 µs); shorter ones count as this.
    static let minimum: UInt64 = 1000
    /// The largest duration recorded (1 s); longer ones count as this.
    static let maximum: UInt64 = 1_000_000_000
    /// log2 of the sub-buckets in the upper half of a bucket.
    private static let halfMagnitude = 7
    private static let halfCount = 1 << halfMagnitude
    /// Count slots: bucket 0 has 256 sub-buckets, buckets 1…22 have 128 each.
    private static let slots = (bucketIndex(maximum) + 2) << halfMagnitude

    private var counts: [UInt64] = []
    /// Durations recorded.
    private(set) var total: UInt64 = 0

    private static func bucketIndex(_ value: UInt64) -> Int {
        (UInt64.bitWidth - (value | 255).leadingZeroBitCount) - (halfMagnitude + 1)
    }

    private static func slot(_ value: UInt64) -> Int {
        let bucket = bucketIndex(value)
        let sub = Int(truncatingIfNeeded: value >> UInt64(bucket))
        return ((bucket + 1) << halfMagnitude) + (sub - halfCount)
    }

    /// The lowest value counted in `slot`, and how many values share it.
    private static func range(ofSlot slot: Int) -> (lowest: UInt64, size: UInt64) {
        var bucket = (slot >> halfMagnitude) - 1
        var sub = (slot & (halfCount - 1)) + halfCount
        if bucket < 0 {
            sub -= halfCount
            bucket = 0
        }
        return (UInt64(sub) << UInt64(bucket), 1 << UInt64(bucket))
    }

    /// Counts one duration of `nanoseconds`, clamped to ``minimum``…``maximum``.
    mutating func record(nanoseconds: UInt64) {
        if counts.isEmpty { counts = Array(repeating: 0, count: Self.slots) }
        let value = min(max(nanoseconds, Self.minimum), Self.maximum)
        counts[Self.slot(value)] &+= 1
        total &+= 1
    }

    /// The highest duration equivalent to the one at `percentile` (0…100) of the recorded
    /// ones (the lowest for the 0th), in nanoseconds; 0 when nothing was recorded.
    func value(atPercentile percentile: Double) -> UInt64 {
        guard total > 0 else { return 0 }
        let wanted = max(1, UInt64((min(max(percentile, 0), 100) / 100 * Double(total) + 0.5).rounded(.down)))
        var seen: UInt64 = 0
        for (slot, count) in counts.enumerated() where count > 0 {
            seen &+= count
            if seen >= wanted {
                // As HdrHistogram: the 0th percentile is the lowest value of its range.
                let range = Self.range(ofSlot: slot)
                return percentile <= 0 ? range.lowest : range.lowest + range.size - 1
            }
        }
        return Self.maximum
    }

    /// The cumulative distribution `LATENCY HISTOGRAM` prints, as HdrHistogram's
    /// logarithmic iterator walks it for Redis: for each power of two from 1024 ns, the
    /// durations recorded up to the end of the sub-bucket that begins at it, listed when
    /// that count grew, up to the one that covers them all. Each bound is the highest value
    /// of that sub-bucket in whole microseconds: 65,536 ns reads 66 (its sub-bucket is 512
    /// ns wide), 8,192 ns reads 8, as Redis prints them.
    func cumulativeBuckets() -> [(microseconds: UInt64, count: UInt64)] {
        guard total > 0 else { return [] }
        var buckets: [(UInt64, UInt64)] = []
        var level: UInt64 = 1024
        var slot = 0
        var counted: UInt64 = 0
        var reported: UInt64 = 0
        while reported < total && level <= Self.maximum << 1 {
            while slot < counts.count && Self.range(ofSlot: slot).lowest <= level {
                counted &+= counts[slot]
                slot += 1
            }
            if counted > reported {
                let width: UInt64 = 1 << UInt64(Self.bucketIndex(level))
                buckets.append(((level + width - 1) / 1000, counted))
                reported = counted
            }
            level <<= 1
        }
        return buckets
    }
}
