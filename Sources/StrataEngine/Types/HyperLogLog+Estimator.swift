//! The cardinality estimate of a HyperLogLog: the estimator of Otmar Ertl's "New
//! cardinality estimation algorithms for HyperLogLog sketches" that Redis 7.0 uses (no
//! bias tables or linear-counting switch: the sigma and tau series correct for empty and
//! saturated registers). It works on the histogram of register values, and performs the
//! same floating-point operations in the same order as Redis, so both print the same
//! count for the same registers, including Redis's result for registers no hash can
//! produce.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension HyperLogLog {
    /// 0.5 / ln(2), the estimator's constant for many registers.
    static let alphaInfinity = 0.721347520444481703680
    /// Bound on the series' iterations; they converge in a few dozen steps, the bound only
    /// keeps a NaN from looping.
    static let seriesLimit = 10_000

    /// How many registers hold each value 0–63, and whether the runs of a sparse
    /// HyperLogLog covered exactly 16384 registers (the counts of a corrupted one are
    /// not used).
    public func histogram() -> (counts: [Int], valid: Bool) {
        if encoding == .dense { return (Self.histogram(ofRegisters: denseRegisters()), true) }
        var counts = [Int](repeating: 0, count: 64)
        var index = 0
        var p = Self.headerSize
        while p < bytes.count {
            let op = sparseOpcode(at: p)
            counts[Int(op.value)] += op.span
            index += op.span
            p += op.length
        }
        return (counts, index == Self.registerCount)
    }

    /// How many of `registers` (one byte each, at most 63) hold each value.
    public static func histogram(ofRegisters registers: [UInt8]) -> [Int] {
        var counts = [Int](repeating: 0, count: 64)
        for register in registers { counts[Int(register & 63)] += 1 }
        return counts
    }

    /// The estimated cardinality for a register histogram, as Redis's `hllCount` returns
    /// it: a count past 2^63 (only from registers no element hash sets) comes out as 2^63.
    public static func estimate(_ histogram: [Int]) -> UInt64 {
        let m = Double(registerCount)
        var z = m * tau((m - Double(histogram[runBits + 1])) / m)
        for j in stride(from: runBits, through: 1, by: -1) {
            z += Double(histogram[j])
            z *= 0.5
        }
        z += m * sigma(Double(histogram[0]) / m)
        let estimate = (alphaInfinity * m * m / z).rounded(.toNearestOrAwayFromZero)
        // Redis rounds with llroundl, which gives LLONG_MIN for what does not fit.
        guard estimate.isFinite, estimate < 9_223_372_036_854_775_808.0, estimate > -9_223_372_036_854_775_808.0
        else { return 1 << 63 }
        return UInt64(bitPattern: Int64(estimate))
    }

    /// The estimated cardinality of this HyperLogLog, nil when its sparse runs are
    /// corrupted.
    public func estimatedCardinality() -> UInt64? {
        let (counts, valid) = histogram()
        guard valid else { return nil }
        return Self.estimate(counts)
    }

    /// Ertl's sigma: x + sum over k of x^(2^k) 2^(k-1), infinite at 1.
    static func sigma(_ value: Double) -> Double {
        if value == 1 { return .infinity }
        var x = value
        var y = 1.0
        var z = x
        for _ in 0..<seriesLimit {
            x *= x
            let previous = z
            z += x * y
            y += y
            if previous == z { break }
        }
        return z
    }

    /// Ertl's tau: (1 - x - sum over k of (1 - x^(2^-k))^2 2^-k) / 3, zero at 0 and 1.
    static func tau(_ value: Double) -> Double {
        if value == 0 || value == 1 { return 0 }
        var x = value
        var y = 1.0
        var z = 1 - x
        for _ in 0..<seriesLimit {
            x = sqrt(x)
            let previous = z
            y *= 0.5
            let d = 1 - x
            z -= d * d * y
            if previous == z { break }
        }
        return z / 3
    }
}
