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
        var operations = Operations()
        var highestWrittenBit: Int?
    }

    /// The operations in order. Most calls have one or two, kept inline: an array of them
    /// was an allocation per call. Any further ones go to an array.
    struct Operations: RandomAccessCollection {
        private var first: Operation?
        private var second: Operation?
        private var rest: [Operation] = []
        private(set) var count = 0

        var startIndex: Int { 0 }
        var endIndex: Int { count }

        subscript(index: Int) -> Operation {
            let inline = index == 0 ? first : index == 1 ? second : nil
            if let inline { return inline }
            return rest[index - 2]
        }

        mutating func append(_ operation: Operation) {
            switch count {
            case 0: first = operation
            case 1: second = operation
            default: rest.append(operation)
            }
            count += 1
        }
    }

    /// Parses a bit offset: an integer, or `#n` for n times the type's width, whose byte
    /// is within `proto-max-bulk-len`.
    static func parseOffset(_ argument: Bytes, bits: Int, maxLength: Int) -> Int? {
        // Read in place: slicing the digits out was a copy per operation.
        let parsed = argument.withUnsafeBytes { raw -> (offset: Int, scaled: Bool)? in
            let scaled = raw.first == UInt8(ascii: "#")
            let digits = scaled ? UnsafeRawBufferPointer(rebasing: raw.dropFirst()) : raw
            return Bytes.strictInteger(digits).map { ($0, scaled) }
        }
        guard let parsed else { return nil }
        var offset = parsed.offset
        // As Redis, the product wraps in 64 bits (`#2305843009213693953` for u8 is bit 8);
        // whatever it wraps to, the range check below still holds.
        if parsed.scaled { offset = offset &* bits }
        guard offset >= 0, offset >> 3 < maxLength else { return nil }
        return offset
    }

    /// Parses every operation, with Redis's errors in Redis's order.
    static func plan(_ c: CommandContext) -> Result<Plan, Reply> {
        let args = c.args
        let maxLength = c.engine.settings.maxStringLength
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
            guard let offset = parseOffset(args[i + 2], bits: type.bits, maxLength: maxLength) else {
                return .failure(Errors.bitOffset)
            }
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
            let readAll = { (string: UnsafeRawBufferPointer) -> Reply in
                .array(plan.operations.map { operation in read(operation, string) })
            }
            guard let value = c.read(key) else { return readAll(UnsafeRawBufferPointer(start: nil, count: 0)) }
            return value.withStringBytes(readAll) ?? Errors.wrongType
        }
        if readOnly { return .error("ERR BITFIELD_RO only supports the GET subcommand") }
        // As SETBIT: the string grows to hold the farthest bit written, and a write counts
        // as a change when it grew the string or changed the value. The operations run in
        // place, in order, each seeing the writes before it.
        let length = (highestBit >> 3) + 1
        let found = c.modifyUnrecorded(key) { value in
            value.withMutableStringBytes(minimumCount: length) { string, grown in
                apply(plan, to: string, grown: grown)
            }
        }
        let outcome: Outcome
        switch found {
        case .some(nil):
            return Errors.wrongType
        case .some(.some(let done)):
            // Nothing changed in a string that did not grow: as in Redis, nothing is written
            // (the string only took the raw encoding).
            guard done.changes > 0 || done.grown else { return .array(done.replies) }
            c.noteWritten(key)
            outcome = done
        case nil:
            let created = Value.newRawString(zeroes: length) { string in apply(plan, to: string, grown: true) }
            c.store(key, created.value)
            outcome = created.result
        }
        let (replies, changes) = (outcome.replies, outcome.changes)
        // A string grown by writes that all failed gets no event, as in Redis; Redis counts
        // no change for it either, but the keyspace did change, so it counts one here (for
        // save points, as every change of the keyspace does).
        c.changed(Swift.max(changes, 1))
        if changes > 0 { c.notify(.string, "setbit", key) }
        return .array(replies)
    }

    /// What the operations of a write did.
    struct Outcome {
        var replies: [Reply]
        /// Operations that count as a change.
        var changes: Int
        /// Whether the string was created or grew.
        var grown: Bool
    }

    /// Runs every operation, in order, on `string` (grown to hold every bit written).
    static func apply(_ plan: Plan, to string: UnsafeMutableRawBufferPointer, grown: Bool) -> Outcome {
        var outcome = Outcome(replies: [], changes: 0, grown: grown)
        outcome.replies.reserveCapacity(plan.operations.count)
        for operation in plan.operations {
            let (reply, changed) = run(operation, writing: string, grown: grown)
            outcome.replies.append(reply)
            if changed { outcome.changes += 1 }
        }
        return outcome
    }

    /// One operation on `string`, which holds every bit a write reaches. Returns its reply
    /// and whether it counts as a change (it wrote, and either `grown` or the value
    /// differs).
    static func run(
        _ operation: Operation, writing string: UnsafeMutableRawBufferPointer, grown: Bool
    ) -> (reply: Reply, changed: Bool) {
        if operation.kind == .get { return (read(operation, UnsafeRawBufferPointer(string)), false) }
        return write(operation, string, grown: grown)
    }

    /// A GET on `raw` (bits past its end read as zeros).
    static func read(_ operation: Operation, _ raw: UnsafeRawBufferPointer) -> Reply {
        let (offset, bits) = (operation.offset, operation.type.bits)
        if operation.type.signed {
            return .integer(Int(BitFieldArithmetic.signedValue(raw, offset: offset, bits: bits)))
        }
        return .integer(Int(BitFieldArithmetic.unsignedValue(raw, offset: offset, bits: bits)))
    }

    /// A SET or INCRBY on `raw`, which holds every bit it writes: its reply (the old value
    /// for SET, the new one for INCRBY, nil when FAIL refuses an overflow), writing unless
    /// refused, and whether it counts as a change.
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
