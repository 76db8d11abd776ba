//! Bit commands on strings: SETBIT, GETBIT, BITCOUNT, BITPOS (Redis 7.0 `bitops.c`
//! semantics, including BYTE/BIT ranges and BITPOS's "clear bit past the end" rule).

/// The bit commands.
public enum BitCommands {
    /// Their table entries.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "setbit", arity: 4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "bitmap", since: "2.2.0",
            summary: "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.",
            synopsis: "key offset value", categories: ["write", "bitmap", "slow"], handler: .engine(setbit)),
        CommandSpec(
            "getbit", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "bitmap", since: "2.2.0",
            summary: "Returns a bit value by offset.", synopsis: "key offset",
            categories: ["read", "bitmap", "fast"], handler: .engine(getbit)),
        CommandSpec(
            "bitcount", arity: -2, flags: [.readonly], keys: (1, 1, 1), group: "bitmap", since: "2.6.0",
            summary: "Counts the number of set bits (population counting) in a string.",
            synopsis: "key [start end [BYTE|BIT]]", categories: ["read", "bitmap", "slow"],
            handler: .engine(bitcount)),
        CommandSpec(
            "bitpos", arity: -3, flags: [.readonly], keys: (1, 1, 1), group: "bitmap", since: "2.8.7",
            summary: "Finds the first set (1) or clear (0) bit in a string.",
            synopsis: "key bit [start [end [BYTE|BIT]]]", categories: ["read", "bitmap", "slow"],
            handler: .engine(bitpos)),
    ]

    /// Parses a bit offset: a non-negative integer within `proto-max-bulk-len` bytes.
    static func bitOffset(_ c: CommandContext, _ index: Int) -> Int? {
        guard let offset = c.integer(index), offset >= 0, offset >> 3 < c.engine.settings.maxStringLength else {
            return nil
        }
        return offset
    }

    static func setbit(_ c: inout CommandContext) -> Reply {
        guard let offset = bitOffset(c, 2) else { return Errors.bitOffset }
        guard let bit = c.integer(3), bit == 0 || bit == 1 else { return Errors.bitValue }
        let key = c.args[1]
        let byteIndex = offset >> 3
        let mask = UInt8(0x80) >> UInt8(offset & 7)
        /// Sets the bit; returns the old one and whether that counts as a write.
        func flip(_ raw: UnsafeMutableRawBufferPointer, grown: Bool) -> (old: Int, wrote: Bool) {
            let old = raw[byteIndex] & mask != 0 ? 1 : 0
            if bit == 1 { raw[byteIndex] |= mask } else { raw[byteIndex] &= ~mask }
            return (old, grown || old != bit)
        }
        // In place; as Redis 7.0, a bit already at the value in a string long enough is no
        // write, though the string still takes the raw encoding (Redis unshares it first).
        let old: Int
        switch c.modifyUnrecorded(key, { value in value.withMutableStringBytes(minimumCount: byteIndex + 1, flip) }) {
        case .some(nil):
            return Errors.wrongType
        case .some(.some(let outcome)):
            guard outcome.wrote else { return .integer(outcome.old) }
            c.noteWritten(key)
            old = outcome.old
        case nil:
            c.store(key, Value.newRawString(zeroes: byteIndex + 1) { _ = flip($0, grown: true) }.value)
            old = 0
        }
        c.changed()
        c.notify(.string, "setbit", key)
        return .integer(old)
    }

    static func getbit(_ c: inout CommandContext) -> Reply {
        guard let offset = bitOffset(c, 2) else { return Errors.bitOffset }
        guard let value = c.read(c.args[1]) else { return .integer(0) }
        guard let bytes = value.stringBytes else { return Errors.wrongType }
        let byteIndex = offset >> 3
        guard byteIndex < bytes.count else { return .integer(0) }
        return .integer(bytes[byteIndex] & (UInt8(0x80) >> UInt8(offset & 7)) != 0 ? 1 : 0)
    }

    /// Resolves a [start, end] range (bytes or bits) against `length` bytes, Redis style.
    /// Returns nil for an empty range.
    static func resolveRange(start s: Int, end e: Int, length: Int, bits: Bool) -> (Int, Int)? {
        let total = bits ? length * 8 : length
        var start = s
        var end = e
        if start < 0 { start = total + start }
        if end < 0 { end = total + end }
        if start < 0 { start = 0 }
        if end < 0 { end = 0 }
        if end >= total { end = total - 1 }
        if start > end || total == 0 { return nil }
        return (start, end)
    }

    static func bitcount(_ c: inout CommandContext) -> Reply {
        let args = c.args
        // As Redis: the key first (a missing key counts 0 whatever the arguments), then the range.
        guard let value = c.read(args[1]) else { return .integer(0) }
        guard let bytes = value.stringBytes else { return Errors.wrongType }
        var range: (Int, Int, Bool)?
        if args.count == 4 || args.count == 5 {
            guard let s = c.integer(2), let e = c.integer(3) else { return Errors.notInteger }
            // Redis 7.0 counts nothing for two negative indexes in the wrong order, before
            // clamping and before the unit is even read (`-1 -2 FOO` answers 0).
            if s < 0 && e < 0 && s > e { return .integer(0) }
            var bits = false
            if args.count == 5 {
                if args[4].equalsIgnoringCase("bit") {
                    bits = true
                } else if !args[4].equalsIgnoringCase("byte") {
                    return Errors.syntax
                }
            }
            range = (s, e, bits)
        } else if args.count != 2 {
            return Errors.syntax
        }
        return bytes.withUnsafeBytes { raw -> Reply in
            var first = 0
            var last = raw.count * 8 - 1
            if let (s, e, bits) = range {
                guard let (a, b) = resolveRange(start: s, end: e, length: raw.count, bits: bits) else {
                    return .integer(0)
                }
                (first, last) = bits ? (a, b) : (a * 8, b * 8 + 7)
            }
            if raw.isEmpty { return .integer(0) }
            var total = 0
            var bit = first
            while bit <= last && bit & 7 != 0 {
                if raw[bit >> 3] & (UInt8(0x80) >> UInt8(bit & 7)) != 0 { total += 1 }
                bit += 1
            }
            while bit + 7 <= last {
                total += raw[bit >> 3].nonzeroBitCount
                bit += 8
            }
            while bit <= last {
                if raw[bit >> 3] & (UInt8(0x80) >> UInt8(bit & 7)) != 0 { total += 1 }
                bit += 1
            }
            return .integer(total)
        }
    }

    static func bitpos(_ c: inout CommandContext) -> Reply {
        let args = c.args
        guard let target = c.integer(2) else { return Errors.notInteger }
        guard target == 0 || target == 1 else { return .error("ERR The bit argument must be 1 or 0.") }
        // As Redis: a missing key is all clear bits whatever the range arguments.
        guard let value = c.read(args[1]) else { return .integer(target == 1 ? -1 : 0) }
        guard let bytes = value.stringBytes else { return Errors.wrongType }
        var start = 0
        var end = -1
        var endGiven = false
        var bits = false
        guard args.count <= 6 else { return Errors.syntax }
        if args.count >= 4 {
            guard let s = c.integer(3) else { return Errors.notInteger }
            start = s
        }
        if args.count == 6 {  // checked before the end, as Redis does
            if args[5].equalsIgnoringCase("bit") {
                bits = true
            } else if !args[5].equalsIgnoringCase("byte") {
                return Errors.syntax
            }
        }
        if args.count >= 5 {
            guard let e = c.integer(4) else { return Errors.notInteger }
            end = e
            endGiven = true
        }
        return bytes.withUnsafeBytes { raw -> Reply in
            guard let (a, b) = resolveRange(start: start, end: end, length: raw.count, bits: bits) else {
                return .integer(-1)
            }
            let (first, last) = bits ? (a, b) : (a * 8, b * 8 + 7)
            var bit = first
            while bit <= last {
                let set = raw[bit >> 3] & (UInt8(0x80) >> UInt8(bit & 7)) != 0
                if set == (target == 1) { return .integer(bit) }
                if bit & 7 == 0 && bit + 7 <= last {
                    let byte = raw[bit >> 3]
                    if (target == 1 && byte == 0) || (target == 0 && byte == 0xFF) {
                        bit += 8
                        continue
                    }
                }
                bit += 1
            }
            // Looking for a clear bit with no explicit end: the string is padded with zeros.
            if target == 0 && !endGiven { return .integer(last + 1) }
            return .integer(-1)
        }
    }
}
