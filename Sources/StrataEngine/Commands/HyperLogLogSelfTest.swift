//! PFSELFTEST: Redis's self-test of the HyperLogLog code, run inside the server. It checks
//! that packed 6-bit registers keep what is written to them without disturbing their
//! neighbours, then adds ten million distinct elements to a dense and a sparse
//! HyperLogLog side by side, checking at every power of ten that the sparse one stayed
//! sparse while small, that both estimate the same, and that the error stays within six
//! standard errors. The reply texts are Redis's.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One run of the self-test.
struct HyperLogLogSelfTest {
    /// `hll-sparse-max-bytes` for the sparse HyperLogLog.
    let maxSparseBytes: Int
    /// Rounds of the register test (Redis: 1000).
    var registerRounds = 1000
    /// Elements of the estimate test (Redis: ten million).
    var elements = 10_000_000

    /// Runs both tests: `+OK`, or the first failure as Redis words it.
    mutating func run(random: inout FastRandom) -> Reply {
        if let failure = checkRegisters(random: &random) { return failure }
        if let failure = checkEstimates(random: &random) { return failure }
        return .ok
    }

    /// Random values written to every register read back the same.
    func checkRegisters(random: inout FastRandom) -> Reply? {
        var dense = HyperLogLog(unchecked: [UInt8](repeating: 0, count: HyperLogLog.denseSize))
        var expected = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        for _ in 0..<registerRounds {
            for i in 0..<HyperLogLog.registerCount {
                let value = UInt8(truncatingIfNeeded: random.next()) & HyperLogLog.registerMax
                expected[i] = value
                dense.setDenseRegister(i, value)
            }
            for i in 0..<HyperLogLog.registerCount {
                let value = dense.denseRegister(i)
                if value != expected[i] {
                    return .error("TESTFAILED Register \(i) should be \(expected[i]) but is \(value)")
                }
            }
        }
        return nil
    }

    /// Dense and sparse agree, and the error stays small, at 1, 10, 100, ... elements.
    func checkEstimates(random: inout FastRandom) -> Reply? {
        var dense = HyperLogLog(unchecked: Array("HYLL".utf8) + [UInt8](repeating: 0, count: HyperLogLog.denseSize - 4))
        var sparse = HyperLogLog()
        let relativeError = 1.04 / Double(HyperLogLog.registerCount).squareRoot()
        var checkpoint = 1
        let seed = random.next()
        for j in 1...Swift.max(1, elements) {
            var element = (UInt64(j) ^ seed).littleEndian
            withUnsafeBytes(of: &element) { raw in
                let (index, count) = HyperLogLog.pattern(of: raw)
                _ = dense.denseSet(index, to: count)
                _ = sparse.set(index, to: count, maxSparseBytes: maxSparseBytes)
            }
            guard j == checkpoint else { continue }
            if j < maxSparseBytes / 2 && sparse.encoding != .sparse {
                return .error("TESTFAILED sparse encoding not used")
            }
            let denseCount = HyperLogLog.estimate(dense.histogram().counts)
            if denseCount != HyperLogLog.estimate(sparse.histogram().counts) {
                return .error("TESTFAILED dense/sparse disagree")
            }
            let error = (Int64(checkpoint) &- Int64(bitPattern: denseCount)).magnitude
            var maxError = UInt64(ceil(relativeError * 6 * Double(checkpoint)))
            // At ten elements one collision already exceeds the bound: Redis allows one.
            if j == 10 { maxError = 1 }
            if error > maxError {
                return .error("TESTFAILED Too big error. card:\(checkpoint) abserr:\(error)")
            }
            checkpoint *= 10
        }
        return nil
    }
}
