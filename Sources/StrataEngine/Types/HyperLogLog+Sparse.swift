//! The sparse encoding of a HyperLogLog: Redis's run-length opcodes ZERO (`00xxxxxx`, 1 to
//! 64 zero registers), XZERO (`01xxxxxx yyyyyyyy`, 1 to 16384 zero registers) and VAL
//! (`1vvvvvxx`, 1 to 4 registers holding 1 to 32). Small sets take a few hundred bytes
//! instead of 12 KiB. Updates follow Redis's steps exactly (split the covering opcode,
//! merge equal neighbouring VALs, promote to dense past `hll-sparse-max-bytes` or above
//! 32) so that the bytes match Redis's after the same PFADDs. The runs come from the
//! client in the end, so each step checks them against the string and the 16384
//! registers instead of trusting them.

extension HyperLogLog {
    /// Longest run of one ZERO opcode.
    static let maxShortZeroRun = 64
    /// Longest run of one XZERO opcode.
    static let maxZeroRun = 16384
    /// Largest value a VAL opcode holds.
    static let maxSparseValue: UInt8 = 32
    /// Longest run of one VAL opcode.
    static let maxValueRun = 4

    /// One decoded opcode: registers covered, bytes taken, and the value (0 for zero runs).
    struct Opcode {
        var span: Int
        var length: Int
        var value: UInt8
    }

    /// The byte at `index`, or 0 past the end (Redis reads the string's terminating zero
    /// when an XZERO is cut short).
    func byte(at index: Int) -> UInt8 {
        index < bytes.count ? bytes[index] : 0
    }

    /// The opcode starting at `p` (which must be inside the string).
    func sparseOpcode(at p: Int) -> Opcode {
        let op = bytes[p]
        if op & 0x80 != 0 {
            return Opcode(span: Int(op & 0x3) + 1, length: 1, value: ((op >> 2) & 0x1f) + 1)
        }
        if op & 0x40 != 0 {
            return Opcode(span: (Int(op & 0x3f) << 8 | Int(byte(at: p + 1))) + 1, length: 2, value: 0)
        }
        return Opcode(span: Int(op & 0x3f) + 1, length: 1, value: 0)
    }

    /// A VAL opcode: `run` (1–4) registers holding `value` (1–32).
    static func valueOpcode(_ value: UInt8, _ run: Int) -> UInt8 {
        0x80 | ((value &- 1) << 2) | (UInt8(truncatingIfNeeded: run - 1) & 0x3)
    }

    /// An XZERO opcode for `run` (1–16384) zero registers.
    static func longZeroOpcode(_ run: Int) -> [UInt8] {
        let stored = run - 1
        return [0x40 | (UInt8(truncatingIfNeeded: stored >> 8) & 0x3f), UInt8(truncatingIfNeeded: stored)]
    }

    /// The shortest opcode for `run` zero registers.
    static func zeroOpcodes(_ run: Int) -> [UInt8] {
        run > maxShortZeroRun ? longZeroOpcode(run) : [UInt8(truncatingIfNeeded: run - 1)]
    }

    /// Raises sparse register `index` to `count`, promoting to dense when needed.
    mutating func sparseSet(_ index: Int, to count: UInt8, maxSparseBytes: Int) -> Update {
        if count > Self.maxSparseValue { return promote(settingRegister: index, to: count) }
        // Find the opcode covering `index`.
        var p = Self.headerSize
        var first = 0
        var previous: Int?
        var span = 0
        while p < bytes.count {
            let op = sparseOpcode(at: p)
            span = op.span
            if index <= first + span - 1 { break }
            previous = p
            p += op.length
            first += span
        }
        guard span > 0, p < bytes.count else { return .corrupted }
        let op = sparseOpcode(at: p)
        let isValue = op.value > 0
        if isValue {
            if op.value >= count { return .unchanged }
            if op.span == 1 {
                bytes[p] = Self.valueOpcode(count, 1)
                return mergeValues(from: previous)
            }
        } else if op.length == 1 && op.span == 1 {
            bytes[p] = Self.valueOpcode(count, 1)
            return mergeValues(from: previous)
        }
        // Split the opcode into what precedes the register, the register, and what follows.
        let last = first + span - 1
        var replacement: [UInt8] = []
        if isValue {
            if index != first { replacement.append(Self.valueOpcode(op.value, index - first)) }
            replacement.append(Self.valueOpcode(count, 1))
            if index != last { replacement.append(Self.valueOpcode(op.value, last - index)) }
        } else {
            if index != first { replacement += Self.zeroOpcodes(index - first) }
            replacement.append(Self.valueOpcode(count, 1))
            if index != last { replacement += Self.zeroOpcodes(last - index) }
        }
        let growth = replacement.count - op.length
        if growth > 0 && bytes.count + growth > maxSparseBytes {
            return promote(settingRegister: index, to: count)
        }
        let newLength = bytes.count + growth
        let next = p + op.length
        var updated = Array(bytes[..<p])
        updated += replacement
        if next < bytes.count { updated += bytes[next...] }
        // An XZERO cut short by the end of the string counted its missing byte: Redis's
        // length arithmetic then drops the replacement's last byte.
        if updated.count > newLength { updated.removeLast(updated.count - newLength) }
        bytes = updated
        return mergeValues(from: previous)
    }

    /// Merges neighbouring VAL opcodes of equal value, scanning up to five opcodes from
    /// the one before the change, then marks the cache stale.
    private mutating func mergeValues(from previous: Int?) -> Update {
        var p = previous ?? Self.headerSize
        var scans = 5
        while p < bytes.count && scans > 0 {
            scans -= 1
            let op = bytes[p]
            if op & 0xc0 == 0x40 {
                p += 2
                continue
            }
            if op & 0xc0 == 0 {
                p += 1
                continue
            }
            if p + 1 < bytes.count && bytes[p + 1] & 0x80 != 0 {
                let a = sparseOpcode(at: p)
                let b = sparseOpcode(at: p + 1)
                if a.value == b.value && a.span + b.span <= Self.maxValueRun {
                    bytes[p + 1] = Self.valueOpcode(a.value, a.span + b.span)
                    bytes.remove(at: p)
                    continue  // the merged opcode may merge with the next one too
                }
            }
            p += 1
        }
        invalidateCache()
        return .updated
    }

    /// Converts to dense, then sets the register (which then always grows).
    private mutating func promote(settingRegister index: Int, to count: UInt8) -> Update {
        guard toDense() else { return .corrupted }
        _ = denseSet(index, to: count)
        return .updated
    }

    /// Converts a sparse HyperLogLog to dense, keeping the header (cached cardinality
    /// included); false, leaving it unchanged, when the runs do not cover exactly 16384
    /// registers.
    public mutating func toDense() -> Bool {
        guard encoding == .sparse else { return true }
        var dense = HyperLogLog(unchecked: [UInt8](repeating: 0, count: Self.denseSize))
        dense.bytes.replaceSubrange(0..<Self.headerSize, with: bytes[0..<Self.headerSize])
        dense.bytes[4] = Encoding.dense.rawValue
        var index = 0
        var p = Self.headerSize
        while p < bytes.count {
            let op = sparseOpcode(at: p)
            guard index + op.span <= Self.registerCount else { return false }
            if op.value > 0 {
                for i in index..<(index + op.span) { dense.setDenseRegister(i, op.value) }
            }
            index += op.span
            p += op.length
        }
        guard index == Self.registerCount else { return false }
        self = dense
        return true
    }

    /// The opcodes as `PFDEBUG DECODE` prints them: `z:run`, `Z:run`, `v:value,run`.
    public func decodedOpcodes() -> String {
        var words: [String] = []
        var p = Self.headerSize
        while p < bytes.count {
            let op = sparseOpcode(at: p)
            if op.value > 0 {
                words.append("v:\(op.value),\(op.span)")
            } else {
                words.append(op.length == 2 ? "Z:\(op.span)" : "z:\(op.span)")
            }
            p += op.length
        }
        return words.joined(separator: " ")
    }
}
