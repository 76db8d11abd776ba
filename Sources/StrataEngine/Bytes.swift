//! `Bytes` is the one byte-string type of the engine: keys, string values, members and
//! fields. It is binary safe (never `Swift.String`), hashes its bytes in one call, compares
//! with `memcmp`, and keeps up to 22 bytes inline so that typical keys (`user:1000`,
//! `key:000000012345`) cost no heap allocation. Longer strings live in a `[UInt8]`, so
//! copies share storage and mutation copies on write, as every engine value must.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A binary-safe, copy-on-write byte string with small-string optimisation.
public struct Bytes: Sendable {
    @usableFromInline
    enum Storage: Sendable {
        /// Up to ``Bytes/inlineCapacity`` bytes packed into words; `count` is the length.
        case small(UInt64, UInt64, UInt32, UInt16, count: UInt8)
        case large([UInt8])
    }

    @usableFromInline var storage: Storage

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
            withUnsafeMutableBytes(of: &words) { dst in
                if raw.count > 0, let base = raw.baseAddress, let d = dst.baseAddress {
                    d.copyMemory(from: base, byteCount: raw.count)
                }
            }
            storage = .small(words.0, words.1, words.2, words.3, count: UInt8(raw.count))
        } else {
            storage = .large(Array(raw.bindMemory(to: UInt8.self)))
        }
    }

    /// Takes ownership of an array of bytes.
    @inlinable
    public init(_ array: [UInt8]) {
        if array.count <= Bytes.inlineCapacity {
            self = array.withUnsafeBytes { Bytes($0) }
        } else {
            storage = .large(array)
        }
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
        let length = withUnsafeMutableBytes(of: &buffer) { raw -> Int in
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
        case .large(let array): return array.count
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
                try body(UnsafeRawBufferPointer(rebasing: raw[0..<Int(count)]))
            }
        case .large(let array):
            return try array.withUnsafeBytes(body)
        }
    }

    /// The bytes as a new array.
    @inlinable
    public var array: [UInt8] {
        switch storage {
        case .small: return withUnsafeBytes { Array($0) }
        case .large(let array): return array
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
        case (.large(let a), .large(let b)):
            guard a.count == b.count else { return false }
            return a.withUnsafeBytes { pa in
                b.withUnsafeBytes { pb in
                    guard let x = pa.baseAddress, let y = pb.baseAddress else { return true }
                    return memcmp(x, y, pa.count) == 0
                }
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
        case .large(let array):
            array.withUnsafeBytes { hasher.combine(bytes: $0) }
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
    /// Appends bytes, reallocating into large storage when needed.
    public mutating func append(_ other: Bytes) {
        guard !other.isEmpty else { return }
        if case .large(var array) = storage {
            storage = .small(0, 0, 0, 0, count: 0)  // release our reference so `array` is unique
            other.withUnsafeBytes { array.append(contentsOf: $0) }
            storage = .large(array)
            return
        }
        var array = self.array
        other.withUnsafeBytes { array.append(contentsOf: $0) }
        self = Bytes(array)
    }

    /// Runs `body` on a mutable array of the bytes and stores the result back.
    public mutating func mutate(_ body: (inout [UInt8]) -> Void) {
        var array: [UInt8]
        if case .large(let existing) = storage {
            array = existing
            storage = .small(0, 0, 0, 0, count: 0)
        } else {
            array = self.array
        }
        body(&array)
        self = Bytes(array)
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
