//! `Bytes` is the one byte-string type of the engine: keys, string values, members and
//! fields. It is binary safe (never `Swift.String`), hashes its bytes in one call, compares
//! with `memcmp`, and keeps up to 22 bytes inline so that typical keys (`user:1000`,
//! `key:000000012345`) cost no heap allocation. Longer strings live in one tail-allocated
//! heap block (`ByteStorage`: object header, then the bytes), so copies share storage and
//! mutation copies on write, as every engine value must. The length is kept beside the
//! reference, not in the block: a 32-byte value then takes a 48-byte allocation instead
//! of a 64-byte one (16 bytes of object header, no 8-byte length pushing it over).

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A binary-safe, copy-on-write byte string with small-string optimisation.
/// Sendable: heap storage is shared read-only; a writer copies it unless it holds the only
/// reference (copy on write), so no two threads ever mutate the same block.
public struct Bytes: @unchecked Sendable {
    @usableFromInline
    enum Storage: @unchecked Sendable {
        /// Up to ``Bytes/inlineCapacity`` bytes packed into words; `count` is the length.
        case small(UInt64, UInt64, UInt32, UInt16, count: UInt8)
        /// More than ``Bytes/inlineCapacity`` bytes: the first `count` bytes of the block.
        case large(ByteStorage, count: Int)
    }

    @usableFromInline var storage: Storage

    /// Wraps a storage value (which must be canonical: small iff at most 22 bytes).
    @usableFromInline
    init(storage: Storage) {
        self.storage = storage
    }

    /// The most bytes kept without a heap allocation.
    public static let inlineCapacity = 22

    /// The empty byte string.
    @inlinable
    public init() {
        storage = .small(0, 0, 0, 0, count: 0)
    }

    /// Copies bytes from a raw buffer.
    @inlinable
    public init(_ raw: UnsafeRawBufferPointer) {
        if raw.count <= Bytes.inlineCapacity {
            var words: (UInt64, UInt64, UInt32, UInt16) = (0, 0, 0, 0)
            Swift.withUnsafeMutableBytes(of: &words) { dst in
                if raw.count > 0, let base = raw.baseAddress, let d = dst.baseAddress {
                    d.copyMemory(from: base, byteCount: raw.count)
                }
            }
            storage = .small(words.0, words.1, words.2, words.3, count: UInt8(raw.count))
        } else {
            storage = .large(ByteStorage.make(copying: raw, capacity: raw.count), count: raw.count)
        }
    }

    /// Takes ownership of an array of bytes.
    @inlinable
    public init(_ array: [UInt8]) {
        self = array.withUnsafeBytes { Bytes($0) }
    }

    /// Copies a sequence of bytes.
    @inlinable
    public init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
        self.init(Array(sequence))
    }

    /// The UTF-8 bytes of a string.
    @inlinable
    public init(_ string: String) {
        var s = string
        self = s.withUTF8 { Bytes(UnsafeRawBufferPointer($0)) }
    }

    /// The decimal representation of an integer, as Redis prints it.
    @inlinable
    public init(_ value: Int) {
        var buffer: (UInt64, UInt64, UInt32, UInt16) = (0, 0, 0, 0)
        let length = Swift.withUnsafeMutableBytes(of: &buffer) { raw -> Int in
            var magnitude = value.magnitude
            var digits = 0
            repeat {
                raw[21 - digits] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 48
                magnitude /= 10
                digits += 1
            } while magnitude > 0
            if value < 0 {
                raw[21 - digits] = UInt8(ascii: "-")
                digits += 1
            }
            let start = 22 - digits
            for i in 0..<digits { raw[i] = raw[start + i] }
            for i in digits..<22 { raw[i] = 0 }
            return digits
        }
        storage = .small(buffer.0, buffer.1, buffer.2, buffer.3, count: UInt8(length))
    }

    /// Number of bytes.
    @inlinable
    public var count: Int {
        switch storage {
        case .small(_, _, _, _, let count): return Int(count)
        case .large(_, let count): return count
        }
    }

    /// True when there are no bytes.
    @inlinable
    public var isEmpty: Bool { count == 0 }

    /// Calls `body` with a pointer to the bytes, valid only during the call.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .small(let a, let b, let c, let d, let count):
            var words = (a, b, c, d)
            return try Swift.withUnsafeBytes(of: &words) { raw in
                try body(UnsafeRawBufferPointer(start: raw.baseAddress, count: Int(count)))
            }
        case .large(let storage, let count):
            return try storage.withUnsafeMutablePointerToElements { pointer in
                try body(UnsafeRawBufferPointer(start: pointer, count: count))
            }
        }
    }

    /// The bytes as a new array.
    @inlinable
    public var array: [UInt8] {
        switch storage {
        case .small, .large: return withUnsafeBytes { Array($0) }
        }
    }

    /// The byte at `index`; traps when out of range (an internal invariant, not input).
    @inlinable
    public subscript(index: Int) -> UInt8 {
        withUnsafeBytes { $0[index] }
    }

    /// A copy of `range`'s bytes.
    @inlinable
    public func slice(_ range: Range<Int>) -> Bytes {
        withUnsafeBytes { Bytes(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// The bytes decoded as UTF-8 (invalid sequences repaired); for human text only.
    public var string: String {
        withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }
}

extension Bytes: Hashable {
    @inlinable
    public static func == (lhs: Bytes, rhs: Bytes) -> Bool {
        switch (lhs.storage, rhs.storage) {
        case (.small(let a0, let a1, let a2, let a3, let ac), .small(let b0, let b1, let b2, let b3, let bc)):
            return ac == bc && a0 == b0 && a1 == b1 && a2 == b2 && a3 == b3
        case (.large(let a, let aCount), .large(let b, let bCount)):
            guard aCount == bCount else { return false }
            if a === b { return true }
            return a.withUnsafeMutablePointerToElements { x in
                b.withUnsafeMutablePointerToElements { y in memcmp(x, y, aCount) == 0 }
            }
        default:
            // Canonical representation: a given length is always small or always large.
            return false
        }
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        switch storage {
        case .small(let a, let b, let c, let d, let count):
            hasher.combine(a)
            hasher.combine(b)
            hasher.combine(UInt64(c) | UInt64(d) << 32 | UInt64(count) << 48)
        case .large:
            withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }
}

extension Bytes: Comparable {
    /// Byte-wise lexicographic order, as Redis's `memcmp`-based comparisons.
    @inlinable
    public static func < (lhs: Bytes, rhs: Bytes) -> Bool {
        lhs.compare(rhs) < 0
    }

    /// Three-way byte-wise comparison: negative, zero or positive.
    @inlinable
    public func compare(_ other: Bytes) -> Int {
        withUnsafeBytes { a in
            other.withUnsafeBytes { b in
                let common = Swift.min(a.count, b.count)
                if common > 0, let x = a.baseAddress, let y = b.baseAddress {
                    let c = memcmp(x, y, common)
                    if c != 0 { return Int(c) }
                }
                return a.count - b.count
            }
        }
    }
}

extension Bytes: ExpressibleByStringLiteral {
    /// A byte string from a literal's UTF-8.
    public init(stringLiteral value: String) {
        self.init(value)
    }
}

extension Bytes: CustomStringConvertible {
    /// The bytes as text, for logs and test failures.
    public var description: String { string }
}

extension Bytes {
    /// Appends bytes; in place when the storage is unique and has room, else with
    /// amortised growth.
    public mutating func append(_ other: Bytes) {
        guard !other.isEmpty else { return }
        other.withUnsafeBytes { raw in
            withUnsafeMutableBytes(count: count + raw.count, preserving: true) { destination in
                let start = destination.count - raw.count
                if let base = raw.baseAddress, let target = destination.baseAddress {
                    (target + start).copyMemory(from: base, byteCount: raw.count)
                }
            }
        }
    }

    /// Resizes to `newCount` bytes (zero-filling growth) and lets `body` modify them in
    /// place. Storage is copied only when shared or too small (growth is amortised).
    ///
    /// - Parameters:
    ///   - newCount: the length after the call.
    ///   - preserving: keep the existing bytes (false leaves them unspecified).
    public mutating func withUnsafeMutableBytes<R>(
        count newCount: Int, preserving: Bool = true, _ body: (UnsafeMutableRawBufferPointer) -> R
    ) -> R {
        if newCount <= Bytes.inlineCapacity, case .small = storage {
            var words: (UInt64, UInt64, UInt32, UInt16) = (0, 0, 0, 0)
            withUnsafeBytes { old in
                Swift.withUnsafeMutableBytes(of: &words) { w in
                    let kept = Swift.min(old.count, newCount)
                    if preserving, kept > 0, let from = old.baseAddress, let to = w.baseAddress {
                        to.copyMemory(from: from, byteCount: kept)
                    }
                }
            }
            let result = Swift.withUnsafeMutableBytes(of: &words) { w in
                body(UnsafeMutableRawBufferPointer(rebasing: w[0..<newCount]))
            }
            // Bytes past the length must stay zero for equality and hashing.
            Swift.withUnsafeMutableBytes(of: &words) { w in
                for i in newCount..<Bytes.inlineCapacity { w[i] = 0 }
            }
            storage = .small(words.0, words.1, words.2, words.3, count: UInt8(newCount))
            return result
        }
        var target: ByteStorage
        // The bytes of `target` that hold the string so far (the rest is uninitialized).
        var oldCount: Int
        if case .large(let existing, let existingCount) = storage, existing.capacity >= newCount {
            target = existing
            oldCount = existingCount
            storage = .small(0, 0, 0, 0, count: 0)
            if !isKnownUniquelyReferenced(&target) {
                target = existing.withBytes(count: preserving ? existingCount : 0) {
                    ByteStorage.make(copying: $0, capacity: newCount)
                }
                if !preserving { oldCount = 0 }
            }
        } else {
            let capacity = ByteStorage.capacity(growing: count, to: newCount)
            oldCount = preserving ? count : 0
            target = withUnsafeBytes { old in
                ByteStorage.make(
                    copying: preserving ? old : UnsafeRawBufferPointer(start: nil, count: 0), capacity: capacity)
            }
        }
        let result = target.withUnsafeMutablePointerToElements { pointer -> R in
            if newCount > oldCount { (pointer + oldCount).initialize(repeating: 0, count: newCount - oldCount) }
            return body(UnsafeMutableRawBufferPointer(start: pointer, count: newCount))
        }
        if newCount <= Bytes.inlineCapacity {
            self = target.withUnsafeMutablePointerToElements {
                Bytes(UnsafeRawBufferPointer(start: $0, count: newCount))
            }
        } else {
            storage = .large(target, count: newCount)
        }
        return result
    }

    /// The bytes with ASCII letters lowered; used for command names and options.
    public var lowercased: Bytes {
        withUnsafeBytes { raw in
            var needs = false
            for b in raw where b >= 65 && b <= 90 {
                needs = true
                break
            }
            if !needs { return self }
            return Bytes(raw.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 })
        }
    }

    /// True when the bytes equal `literal` ignoring ASCII case; `literal` must be lowercase.
    @inlinable
    public func equalsIgnoringCase(_ literal: StaticString) -> Bool {
        withUnsafeBytes { raw in
            guard raw.count == literal.utf8CodeUnitCount else { return false }
            let lit = literal.utf8Start
            for i in 0..<raw.count {
                var c = raw[i]
                if c >= 65 && c <= 90 { c |= 0x20 }
                if c != lit[i] { return false }
            }
            return true
        }
    }
}

/// Heap storage of a long byte string: the bytes in the tail, after the object header and
/// nothing else. Whoever holds the block keeps the string's length (``Bytes``, ``Value``).
public final class ByteStorage: ManagedBuffer<Void, UInt8> {
    /// The capacity to allocate when a string of `count` bytes must hold `newCount`: exact
    /// for small strings, else at least half as much again, so that a string grown a few
    /// bytes at a time (APPEND, SETBIT, BITFIELD at rising offsets) is copied a logarithmic
    /// number of times, not once per write.
    @inlinable @usableFromInline
    static func capacity(growing count: Int, to newCount: Int) -> Int {
        newCount <= 64 ? newCount : Swift.max(newCount, count + count / 2)
    }

    /// Calls `body` with the first `count` stored bytes.
    @inlinable
    func withBytes<R>(count: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeMutablePointerToElements { body(UnsafeRawBufferPointer(start: $0, count: count)) }
    }

    /// A new block holding `bytes`, with room for `capacity` bytes.
    @usableFromInline
    static func make(copying bytes: UnsafeRawBufferPointer, capacity: Int) -> ByteStorage {
        let buffer = ByteStorage.create(minimumCapacity: Swift.max(capacity, bytes.count)) { _ in () }
        let storage = unsafeDowncast(buffer, to: ByteStorage.self)
        storage.withUnsafeMutablePointerToElements { pointer in
            if let base = bytes.baseAddress, bytes.count > 0 {
                UnsafeMutableRawPointer(pointer).copyMemory(from: base, byteCount: bytes.count)
            }
        }
        return storage
    }
}

extension Bytes {
    /// A process-seeded 64-bit hash of the bytes: it places keys in shards and in the
    /// keyspace tables (``KeyTable``) and orders SCAN, so it must resist hash flooding —
    /// clients choose keys. Keys of up to 22 bytes are mixed a word at a time with a
    /// multiply on each side of an xor-shift, so no difference between two keys cancels
    /// out without knowing the seed (a plain multiply carries a top-bit difference through
    /// unchanged, which the next word could then cancel); longer keys go through SipHash
    /// (the standard library's `Hasher`, randomly seeded per process).
    @inlinable
    public var placementSeed: UInt64 {
        switch storage {
        case .small(let a, let b, let c, let d, let count):
            var h = Bytes.seed
            h = Bytes.absorb(h, a)
            h = Bytes.absorb(h, b)
            h = Bytes.absorb(h, UInt64(c) | UInt64(d) << 32 | UInt64(count) << 48)
            return h ^ (h >> 32)
        case .large:
            return withUnsafeBytes { raw -> UInt64 in
                var hasher = Hasher()
                hasher.combine(bytes: raw)
                return UInt64(UInt(bitPattern: hasher.finalize()))
            }
        }
    }

    /// One word into the running hash: xor, multiply, xor-shift, multiply.
    @inlinable
    static func absorb(_ h: UInt64, _ word: UInt64) -> UInt64 {
        var x = (h ^ word) &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        return x &* 0xBF58_476D_1CE4_E5B9
    }

    /// Per-process random seed of ``placementSeed``.
    @usableFromInline
    static let seed: UInt64 = UInt64.random(in: 0...UInt64.max)
}
