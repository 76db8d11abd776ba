//! BITFIELD and BITFIELD_RO: integers of any width at any bit offset of a string, as
//! Redis 7.0's `bitops.c` runs them. Every operation is parsed before the key is touched
//! (so a bad argument leaves the keyspace alone). The operations then run in order, each
//! GET seeing the writes before it, over the stored string and the bytes written so far;
//! only then is the string written, in place, if a SET or INCRBY changed a value or the
//! string must grow to the farthest bit written (as SETBIT grows it). Redis 7.0 counts a
//! change, and announces `setbit`, only for such writes.

/// The BITFIELD commands.
public enum BitFieldCommands {
    /// Their table entries.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "bitfield", arity: -2, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "bitmap", since: "3.2.0",
            summary: "Performs arbitrary bitfield integer operations on strings.",
            synopsis:
                "key [GET encoding offset|[OVERFLOW WRAP|SAT|FAIL] SET encoding offset value|INCRBY encoding offset increment [GET encoding offset|[OVERFLOW WRAP|SAT|FAIL] SET encoding offset value|INCRBY encoding offset increment ...]]",
            categories: ["write", "bitmap", "slow"], handler: .engine { bitfield(&$0, readOnly: false) }),
        CommandSpec(
            "bitfield_ro", arity: -2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "bitmap", since: "6.0.0",
            summary: "Performs arbitrary read-only bitfield integer operations on strings.",
            synopsis: "key [GET encoding offset [GET encoding offset ...]]",
            categories: ["read", "bitmap", "fast"], handler: .engine { bitfield(&$0, readOnly: true) }),
    ]

    static let invalidType = Reply.error(
        "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")

    /// One parsed operation.
    struct Operation {
        enum Kind { case get, set, incrby }
        var kind: Kind
        var type: BitFieldType
        var offset: Int
        /// The SET value or INCRBY increment.
        var value: Int64
        var overflow: BitFieldOverflow
    }

    /// The operations of an invocation, and the farthest bit a SET or INCRBY writes (nil
    /// when there is none).
    struct Plan {
        var operations: [Operation] = []
        var highestWrittenBit: Int?
    }

    /// Parses a bit offset: an integer, or `#n` for n times the type's width, whose byte
    /// is within `proto-max-bulk-len`.
    static func parseOffset(_ argument: Bytes, bits: Int, maxLength: Int) -> Int? {
        let scaled = argument.withUnsafeBytes { $0.first == UInt8(ascii: "#") }
        let digits = scaled ? argument.slice(1..<argument.count) : argument
        guard var offset = digits.strictInteger else { return nil }
        // As Redis, the product wraps in 64 bits (`#2305843009213693953` for u8 is bit 8);
        // whatever it wraps to, the range check below still holds.
        if scaled { offset = offset &* bits }
        guard offset >= 0, offset >> 3 < maxLength else { return nil }
        return offset
    }

    /// Parses every operation, with Redis's errors in Redis's order.
    static func plan(_ c: CommandContext) -> Result<Plan, Reply> {
        let args = c.args
        var plan = Plan()
        var overflow = BitFieldOverflow.wrap
        var i = 2
        while i < args.count {
            let remaining = args.count - i - 1
            let name = args[i]
            let kind: Operation.Kind
            if name.equalsIgnoringCase("get") && remaining >= 2 {
                kind = .get
            } else if name.equalsIgnoringCase("set") && remaining >= 3 {
                kind = .set
            } else if name.equalsIgnoringCase("incrby") && remaining >= 3 {
                kind = .incrby
            } else if name.equalsIgnoringCase("overflow") && remaining >= 1 {
                let mode = args[i + 1]
                if mode.equalsIgnoringCase("wrap") {
                    overflow = .wrap
                } else if mode.equalsIgnoringCase("sat") {
                    overflow = .saturate
                } else if mode.equalsIgnoringCase("fail") {
                    overflow = .fail
                } else {
                    return .failure(.error("ERR Invalid OVERFLOW type specified"))
                }
                i += 2
                continue
            } else {
                return .failure(Errors.syntax)
            }
            guard let type = BitFieldType(parsing: args[i + 1]) else { return .failure(invalidType) }
            guard let offset = parseOffset(args[i + 2], bits: type.bits, maxLength: c.engine.settings.maxStringLength)
            else { return .failure(Errors.bitOffset) }
            var value: Int64 = 0
            if kind != .get {
                let (last, overflowed) = offset.addingReportingOverflow(type.bits - 1)
                guard !overflowed else { return .failure(Errors.bitOffset) }
                plan.highestWrittenBit = Swift.max(plan.highestWrittenBit ?? 0, last)
                guard let n = c.integer(i + 3) else { return .failure(Errors.notInteger) }
                value = Int64(n)
            }
            plan.operations.append(
                Operation(kind: kind, type: type, offset: offset, value: value, overflow: overflow))
            i += kind == .get ? 3 : 4
        }
        return .success(plan)
    }

    static func bitfield(_ c: inout CommandContext, readOnly: Bool) -> Reply {
        let plan: Plan
        switch self.plan(c) {
        case .success(let p): plan = p
        case .failure(let error): return error
        }
        let key = c.args[1]
        guard let highestBit = plan.highestWrittenBit else {
            // Only GETs: a read, with a missing key reading as zeros.
            var bytes = Bytes()
            if let value = c.read(key) {
                guard let b = value.stringBytes else { return Errors.wrongType }
                bytes = b
            }
            var overlay = Overlay(base: bytes)
            return .array(plan.operations.map { overlay.run($0, grown: false).reply })
        }
        if readOnly { return .error("ERR BITFIELD_RO only supports the GET subcommand") }
        let existing = c.lookup(key)
        var bytes = Bytes()
        if let existing {
            guard let b = existing.stringBytes else { return Errors.wrongType }
            bytes = b
        }
        // As SETBIT: the string grows to hold the farthest bit written, and a write counts
        // as a change when it grew the string or changed the value.
        let length = Swift.max(bytes.count, (highestBit >> 3) + 1)
        let grown = existing == nil || length > bytes.count
        var overlay = Overlay(base: bytes)
        var replies: [Reply] = []
        var changes = 0
        for operation in plan.operations {
            let (reply, changed) = overlay.run(operation, grown: grown)
            replies.append(reply)
            if changed { changes += 1 }
        }
        // Nothing changed in a string that did not grow: as in Redis, nothing is written.
        guard changes > 0 || grown else {
            if let existing { BitCommands.makeRaw(c, key, existing, bytes) }
            return .array(replies)
        }
        if existing != nil {
            c.engine.update(key, db: c.db) { $0 = .integer(0) }  // release for in-place mutation
        }
        bytes.withUnsafeMutableBytes(count: length) { raw in
            for (index, byte) in overlay.written where index < raw.count { raw[index] = byte }
        }
        if existing != nil {
            c.engine.update(key, db: c.db) { $0 = .raw(bytes) }
        } else {
            c.store(key, .raw(bytes))
        }
        // A string grown by writes that all failed gets no event, as in Redis; Redis counts
        // no change for it either, but the keyspace did change, so it counts one here (for
        // save points, as every change of the keyspace does).
        c.changed(Swift.max(changes, 1))
        if changes > 0 { c.notify(.string, "setbit", key) }
        return .array(replies)
    }

    /// The string as the operations see it: the stored bytes (zeros past their end) under
    /// the bytes written so far. The operations run here first, so that an invocation that
    /// changes nothing writes nothing, and then only the written bytes are copied into the
    /// string, in place.
    struct Overlay {
        let base: Bytes
        /// The bytes written, by index.
        var written: [Int: UInt8] = [:]

        func byte(_ index: Int) -> UInt8 {
            if let byte = written[index] { return byte }
            return index < base.count ? base[index] : 0
        }

        /// Runs one operation on the nine bytes that hold any field at its offset (64 bits
        /// from any bit of the first byte). Returns its reply and whether it counts as a
        /// change (it wrote, and either `grown` or the value differs).
        mutating func run(_ operation: Operation, grown: Bool) -> (reply: Reply, changed: Bool) {
            let first = operation.offset >> 3
            let shift = operation.offset & 7
            let bits = operation.type.bits
            var window = [UInt8](repeating: 0, count: 9)
            for index in 0..<window.count { window[index] = byte(first + index) }
            let outcome = window.withUnsafeMutableBytes { raw -> (Reply, Bool) in
                let field = Operation(
                    kind: operation.kind, type: operation.type, offset: shift, value: operation.value,
                    overflow: operation.overflow)
                if operation.kind == .get { return (read(field, UnsafeRawBufferPointer(raw)), false) }
                return write(field, raw, grown: grown)
            }
            if operation.kind != .get {
                for index in 0..<((shift + bits + 7) >> 3) { written[first + index] = window[index] }
            }
            return outcome
        }
    }

    /// A GET.
    static func read(_ operation: Operation, _ raw: UnsafeRawBufferPointer) -> Reply {
        let (offset, bits) = (operation.offset, operation.type.bits)
        if operation.type.signed {
            return .integer(Int(BitFieldArithmetic.signedValue(raw, offset: offset, bits: bits)))
        }
        return .integer(Int(BitFieldArithmetic.unsignedValue(raw, offset: offset, bits: bits)))
    }

    /// A SET or INCRBY: its reply (the old value for SET, the new one for INCRBY, nil when
    /// FAIL refuses an overflow), writing unless refused, and whether it counts as a change.
    static func write(_ operation: Operation, _ raw: UnsafeMutableRawBufferPointer, grown: Bool) -> (Reply, Bool) {
        let (offset, bits, mode) = (operation.offset, operation.type.bits, operation.overflow)
        let readable = UnsafeRawBufferPointer(raw)
        let isSet = operation.kind == .set
        if operation.type.signed {
            let old = BitFieldArithmetic.signedValue(readable, offset: offset, bits: bits)
            let base = isSet ? operation.value : old
            let increment = isSet ? 0 : operation.value
            let limited = BitFieldArithmetic.signedOverflow(base, increment, bits: bits, mode)
            if limited != nil && mode == .fail { return (.null, false) }
            let new = limited ?? (base &+ increment)
            BitFieldArithmetic.store(UInt64(bitPattern: new), into: raw, offset: offset, bits: bits)
            return (.integer(Int(isSet ? old : new)), grown || old != new)
        }
        let old = BitFieldArithmetic.unsignedValue(readable, offset: offset, bits: bits)
        let base = isSet ? UInt64(bitPattern: operation.value) : old
        let increment = isSet ? 0 : operation.value
        let limited = BitFieldArithmetic.unsignedOverflow(base, increment, bits: bits, mode)
        if limited != nil && mode == .fail { return (.null, false) }
        let new = limited ?? (base &+ UInt64(bitPattern: increment))
        BitFieldArithmetic.store(new, into: raw, offset: offset, bits: bits)
        // At most 63 bits wide: the value fits an Int.
        return (.integer(Int(truncatingIfNeeded: isSet ? old : new)), grown || old != new)
    }
}
