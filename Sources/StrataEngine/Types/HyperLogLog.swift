//! A HyperLogLog kept as a string value in Redis's own `HYLL` layout, so that a value
//! written by Redis counts the same here and the other way round, and PFADD on the same
//! inputs gives the same bytes. The layout is a 16-byte header ("HYLL", the encoding, three
//! unused bytes, the cached cardinality as 8 little-endian bytes whose top bit marks the
//! cache stale) followed by 16384 registers: packed 6 bits each (dense), or run-length
//! coded (sparse, `HyperLogLog+Sparse.swift`). Elements are hashed with MurmurHash64A and
//! the cardinality is Ertl's improved estimator, both as Redis 7.0 computes them
//! (`HyperLogLog+Estimator.swift`). Every read of the registers is bounded by the string,
//! since a client may SET any bytes that pass the header checks.

/// A HyperLogLog in Redis's string representation.
public struct HyperLogLog: Equatable, Sendable {
    /// Bits of the hash that choose a register.
    public static let precision = 14
    /// Registers: 2^14.
    public static let registerCount = 1 << precision
    /// Hash bits left for the run of zeros (Redis's `HLL_Q`).
    static let runBits = 64 - precision
    /// Bits per register in the dense encoding.
    static let registerBits = 6
    /// The largest value a dense register holds.
    static let registerMax: UInt8 = 63
    /// Bytes of the header.
    public static let headerSize = 16
    /// Bytes of a dense HyperLogLog, header included.
    public static let denseSize = headerSize + (registerCount * registerBits + 7) / 8
    /// The seed Redis hashes elements with.
    static let hashSeed: UInt64 = 0xadc8_3b19

    /// How the registers are stored (the header's fifth byte).
    public enum Encoding: UInt8, Sendable {
        case dense = 0
        case sparse = 1

        /// The name `PFDEBUG ENCODING` prints.
        public var name: String { self == .dense ? "dense" : "sparse" }
    }

    /// What setting a register did.
    public enum Update: Equatable, Sendable {
        /// The register already held the value or more.
        case unchanged
        /// The register grew.
        case updated
        /// The sparse runs do not describe 16384 registers.
        case corrupted
    }

    /// The whole string: header, then the registers.
    public internal(set) var bytes: [UInt8]

    /// An empty HyperLogLog: sparse, one run of 16384 zero registers, cache stale.
    public init() {
        var bytes = [UInt8](repeating: 0, count: Self.headerSize)
        bytes[0] = UInt8(ascii: "H")
        bytes[1] = UInt8(ascii: "Y")
        bytes[2] = UInt8(ascii: "L")
        bytes[3] = UInt8(ascii: "L")
        bytes[4] = Encoding.sparse.rawValue
        var left = Self.registerCount
        while left > 0 {
            let run = Swift.min(left, Self.maxZeroRun)
            bytes += Self.longZeroOpcode(run)
            left -= run
        }
        self.bytes = bytes
        invalidateCache()
    }

    /// The HyperLogLog a string holds, or nil when it is not one: shorter than the header,
    /// without the magic, with an unknown encoding, or dense with the wrong length (Redis's
    /// checks; sparse runs are checked when they are read).
    public init?(validating value: Bytes) {
        guard value.withUnsafeBytes({ Self.encoding(of: $0) }) != nil else { return nil }
        self.bytes = value.array
    }

    /// Wraps bytes already known to be a HyperLogLog (tests, the self-test).
    init(unchecked bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The encoding of the registers.
    public var encoding: Encoding { bytes[4] == Encoding.dense.rawValue ? .dense : .sparse }

    /// The string value to store.
    public var value: Value { .raw(Bytes(bytes)) }

    // MARK: Cached cardinality

    /// The cardinality cached in the header, nil when marked stale.
    public var cachedCardinality: UInt64? {
        bytes.withUnsafeBytes { Self.cachedCardinality(in: $0) }
    }

    /// Caches `card` in the header (a value with the top bit set reads back as stale, as in
    /// Redis).
    public mutating func cacheCardinality(_ card: UInt64) {
        bytes.withUnsafeMutableBytes { Self.cacheCardinality(card, in: $0) }
    }

    /// Marks the cached cardinality stale.
    public mutating func invalidateCache() {
        bytes[15] |= 0x80
    }

    // MARK: Hashing

    /// MurmurHash64A (Austin Appleby's 64-bit MurmurHash2) reading little-endian words, as
    /// Redis's endian-neutral variant does.
    public static func murmurHash64A(_ data: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let m: UInt64 = 0xc6a4_a793_5bd1_e995
        let r: UInt64 = 47
        var h = seed ^ (UInt64(data.count) &* m)
        let words = data.count / 8
        for i in 0..<words {
            var k = UInt64(littleEndian: data.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
            k &*= m
            k ^= k >> r
            k &*= m
            h ^= k
            h &*= m
        }
        let tail = words * 8
        let remaining = data.count - tail
        if remaining > 0 {
            for i in stride(from: remaining - 1, through: 0, by: -1) {
                h ^= UInt64(data[tail + i]) << UInt64(8 * i)
            }
            h &*= m
        }
        h ^= h >> r
        h &*= m
        h ^= h >> r
        return h
    }

    /// The register an element falls in and the length of the `0...01` pattern of the rest
    /// of its hash (1 to 51).
    public static func pattern(of element: UnsafeRawBufferPointer) -> (index: Int, count: UInt8) {
        let hash = murmurHash64A(element, seed: hashSeed)
        let index = Int(hash & UInt64(registerCount - 1))
        // A bit above the 50 used ones ends the run, so the count is at most 51.
        let rest = (hash >> UInt64(precision)) | (1 << UInt64(runBits))
        return (index, UInt8(rest.trailingZeroBitCount + 1))
    }

    // MARK: Adding

    /// Adds an element: raises its register when the element's pattern is longer,
    /// switching to the dense encoding when the sparse one would pass `maxSparseBytes` or
    /// cannot hold the value.
    public mutating func add(_ element: UnsafeRawBufferPointer, maxSparseBytes: Int) -> Update {
        let (index, count) = Self.pattern(of: element)
        return set(index, to: count, maxSparseBytes: maxSparseBytes)
    }

    /// Raises register `index` to `count` if it is lower.
    public mutating func set(_ index: Int, to count: UInt8, maxSparseBytes: Int) -> Update {
        switch encoding {
        case .dense: return denseSet(index, to: count) ? .updated : .unchanged
        case .sparse: return sparseSet(index, to: count, maxSparseBytes: maxSparseBytes)
        }
    }

    // MARK: Dense registers

    /// Register `index` of a dense HyperLogLog. Registers are packed from the least
    /// significant bit of each byte up, a register crossing into the next byte.
    func denseRegister(_ index: Int) -> UInt8 {
        bytes.withUnsafeBytes { Self.denseRegister(index, in: $0) }
    }

    /// Stores `value` (at most 63) in register `index` of a dense HyperLogLog.
    mutating func setDenseRegister(_ index: Int, _ value: UInt8) {
        bytes.withUnsafeMutableBytes { Self.setDenseRegister(index, value, in: $0) }
    }

    /// Raises dense register `index` to `count`; returns whether it changed.
    mutating func denseSet(_ index: Int, to count: UInt8) -> Bool {
        bytes.withUnsafeMutableBytes { Self.raiseDenseRegister(index, to: count, in: $0) }
    }

    /// Register `index` of the dense HyperLogLog `string` (header included).
    static func denseRegister(_ index: Int, in string: UnsafeRawBufferPointer) -> UInt8 {
        let bit = index * registerBits
        let byte = headerSize + bit >> 3
        let shift = bit & 7
        var word = Int(string[byte]) >> shift
        if byte + 1 < string.count { word |= Int(string[byte + 1]) << (8 - shift) }
        return UInt8(word & Int(registerMax))
    }

    /// Stores `value` (at most 63) in register `index` of the dense HyperLogLog `string`.
    static func setDenseRegister(_ index: Int, _ value: UInt8, in string: UnsafeMutableRawBufferPointer) {
        let bit = index * registerBits
        let byte = headerSize + bit >> 3
        let shift = bit & 7
        let mask = Int(registerMax)
        let v = Int(value) & mask
        string[byte] =
            (string[byte] & ~UInt8(truncatingIfNeeded: mask << shift)) | UInt8(truncatingIfNeeded: v << shift)
        if byte + 1 < string.count {
            let rest = 8 - shift
            string[byte + 1] = (string[byte + 1] & ~UInt8(mask >> rest)) | UInt8(v >> rest)
        }
    }

    /// Raises register `index` of the dense HyperLogLog `string` to `count`; returns
    /// whether it changed.
    static func raiseDenseRegister(_ index: Int, to count: UInt8, in string: UnsafeMutableRawBufferPointer) -> Bool {
        guard count > denseRegister(index, in: UnsafeRawBufferPointer(string)) else { return false }
        setDenseRegister(index, count, in: string)
        return true
    }

    /// The encoding of `string` when it is a HyperLogLog (Redis's header checks, as
    /// ``init(validating:)``), else nil.
    public static func encoding(of string: UnsafeRawBufferPointer) -> Encoding? {
        guard string.count >= headerSize, string[0] == UInt8(ascii: "H"), string[1] == UInt8(ascii: "Y"),
            string[2] == UInt8(ascii: "L"), string[3] == UInt8(ascii: "L"),
            let encoding = Encoding(rawValue: string[4])
        else { return nil }
        if encoding == .dense && string.count != denseSize { return nil }
        return encoding
    }

    /// The cardinality cached in the header of the HyperLogLog `string`, nil when stale.
    public static func cachedCardinality(in string: UnsafeRawBufferPointer) -> UInt64? {
        guard string[15] & 0x80 == 0 else { return nil }
        var card: UInt64 = 0
        for i in 0..<8 { card |= UInt64(string[8 + i]) << (8 * i) }
        return card
    }

    /// Caches `card` in the header of the HyperLogLog `string`.
    public static func cacheCardinality(_ card: UInt64, in string: UnsafeMutableRawBufferPointer) {
        for i in 0..<8 { string[8 + i] = UInt8(truncatingIfNeeded: card >> (8 * i)) }
    }

    /// Every register of a dense HyperLogLog, one byte each.
    func denseRegisters() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.registerCount)
        var byte = Self.headerSize
        // Four registers in every three bytes.
        for group in 0..<(Self.registerCount / 4) {
            let b0 = bytes[byte]
            let b1 = bytes[byte + 1]
            let b2 = bytes[byte + 2]
            let r = group * 4
            out[r] = b0 & 63
            out[r + 1] = (b0 >> 6 | b1 << 2) & 63
            out[r + 2] = (b1 >> 4 | b2 << 4) & 63
            out[r + 3] = b2 >> 2
            byte += 3
        }
        return out
    }

    // MARK: Merging

    /// Raises each of `registers` (16384 bytes) to this HyperLogLog's register; false when
    /// the sparse runs are corrupted.
    public func merge(into registers: inout [UInt8]) -> Bool {
        if encoding == .dense {
            let mine = denseRegisters()
            for i in 0..<Self.registerCount where mine[i] > registers[i] { registers[i] = mine[i] }
            return true
        }
        var index = 0
        var p = Self.headerSize
        while p < bytes.count {
            let op = sparseOpcode(at: p)
            // Any run past the last register makes the value corrupted (as in Redis since
            // its fix for out-of-bounds writes, which Debian's 7.0.15 carries).
            guard index + op.span <= Self.registerCount else { return false }
            if op.value > 0 {
                for i in index..<(index + op.span) where op.value > registers[i] { registers[i] = op.value }
            }
            index += op.span
            p += op.length
        }
        return index == Self.registerCount
    }
}
