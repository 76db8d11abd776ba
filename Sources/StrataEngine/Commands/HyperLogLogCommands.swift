//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE and the debugging PFDEBUG and PFSELFTEST,
//! with Redis 7.0's replies, errors and side effects (`hyperloglog.c`). The values are
//! plain strings in Redis's `HYLL` layout (`Types/HyperLogLog.swift`); PFCOUNT of one key
//! stores the cardinality it computed in the value's header, so, although read-only, it
//! writes the key and is logged, as Redis propagates it.

/// The HyperLogLog commands.
public enum HyperLogLogCommands {
    /// Their table entries.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "pfadd", arity: -2, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: "hyperloglog",
            since: "2.8.9", summary: "Adds the specified elements to the specified HyperLogLog.",
            synopsis: "key [element [element ...]]", categories: ["write", "hyperloglog", "fast"],
            handler: .engine(pfadd)),
        CommandSpec(
            "pfcount", arity: -2, flags: [.readonly, .mayReplicate], keys: (1, -1, 1), group: "hyperloglog",
            since: "2.8.9",
            summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
            synopsis: "key [key ...]", categories: ["read", "hyperloglog", "slow"], handler: .engine(pfcount)),
        CommandSpec(
            "pfmerge", arity: -2, flags: [.write, .denyOOM], keys: (1, -1, 1), group: "hyperloglog",
            since: "2.8.9", summary: "Merge N different HyperLogLogs into a single one.",
            synopsis: "destkey [sourcekey [sourcekey ...]]", categories: ["write", "hyperloglog", "slow"],
            handler: .engine(pfmerge)),
        CommandSpec(
            "pfdebug", arity: 3, flags: [.write, .denyOOM, .admin], keys: (2, 2, 1), group: "hyperloglog",
            since: "2.8.9", summary: "Internal commands for debugging HyperLogLog values",
            synopsis: "subcommand key", categories: ["write", "hyperloglog", "admin", "slow", "dangerous"],
            handler: .engine(pfdebug)),
        CommandSpec(
            "pfselftest", arity: 1, flags: [.admin], group: "hyperloglog", since: "2.8.9",
            summary: "An internal command for testing HyperLogLog values",
            categories: ["hyperloglog", "admin", "slow", "dangerous"], handler: .engine(pfselftest)),
    ]

    /// A string that is not a HyperLogLog.
    static let notHyperLogLog = Reply.error("WRONGTYPE Key is not a valid HyperLogLog string value.")
    /// A HyperLogLog whose sparse runs do not cover its registers.
    static let corrupted = Reply.error("INVALIDOBJ Corrupted HLL object detected")

    /// The HyperLogLog a value holds, or Redis's error: WRONGTYPE for another type or a
    /// string that is not one.
    static func hyperLogLog(_ value: Value) -> Result<HyperLogLog, Reply> {
        guard let bytes = value.stringBytes else { return .failure(Errors.wrongType) }
        guard let hll = HyperLogLog(validating: bytes) else { return .failure(notHyperLogLog) }
        return .success(hll)
    }

    static func pfadd(_ c: inout CommandContext) -> Reply {
        let key = c.args[1]
        if let updated = addToDenseInPlace(&c, key) {
            guard updated > 0 else { return .integer(0) }
            c.noteWritten(key)
            c.changed(updated)
            c.notify(.string, "pfadd", key)
            return .integer(1)
        }
        let maxSparseBytes = c.engine.settings.hllSparseMaxBytes
        let existing = c.lookup(key)
        var hll: HyperLogLog
        var updated = 0
        if let existing {
            switch hyperLogLog(existing) {
            case .success(let found): hll = found
            case .failure(let error): return error
            }
        } else {
            hll = HyperLogLog()
            updated = 1
        }
        let createdOnly = updated
        for element in c.args.dropFirst(2) {
            switch element.withUnsafeBytes({ hll.add($0, maxSparseBytes: maxSparseBytes) }) {
            case .updated: updated += 1
            case .unchanged: break
            case .corrupted:
                // As in Redis, registers raised before the corruption showed stay raised,
                // without counting a change or an event.
                if existing == nil {
                    c.store(key, hll.value)
                } else if updated > createdOnly {
                    c.engine.update(key, db: c.db) { $0 = hll.value }
                }
                return corrupted
            }
        }
        guard updated > 0 else { return .integer(0) }
        hll.invalidateCache()
        if existing == nil {
            c.store(key, hll.value)
        } else {
            c.engine.update(key, db: c.db) { $0 = hll.value }
        }
        c.changed(updated)
        c.notify(.string, "pfadd", key)
        return .integer(1)
    }

    /// PFADD into an existing dense HyperLogLog, raising its registers where they are
    /// stored (a dense value is 12 KB: copying it out and back was most of the command's
    /// time). Returns the registers raised, with the cache marked stale when any was; nil,
    /// touching nothing, when the key is missing or holds anything but a dense HyperLogLog.
    private static func addToDenseInPlace(_ c: inout CommandContext, _ key: Bytes) -> Int? {
        // `c` is inout so that the closures capture it by address (capturing a copy cost
        // a retain and a release of each of its references), and the elements are read by
        // index (a slice of the arguments is one more reference).
        // The engine is called directly: a method of `c` called while a closure holds `c`'s
        // address is passed a copy of it (three references retained and released).
        let (engine, db, now) = (c.engineReference, c.db, c.now)
        let updated = engine._withUnsafeGuaranteedRef { engine in
            engine.modifyUnrecorded(key, db: db, now: now) { value -> Int? in
                value.withMutableStringBytes(if: { HyperLogLog.encoding(of: $0) == .dense }) { string, _ in
                    var updated = 0
                    for index in 2..<c.args.count {
                        let (register, count) = c.args[index].withUnsafeBytes { HyperLogLog.pattern(of: $0) }
                        if HyperLogLog.raiseDenseRegister(register, to: count, in: string) { updated += 1 }
                    }
                    if updated > 0 { string[15] |= 0x80 }
                    return updated
                }
            }
        }
        return updated ?? nil
    }

    static func pfcount(_ c: inout CommandContext) -> Reply {
        if c.args.count > 2 {
            // The union, merged on the fly: nothing is written.
            var registers = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
            for key in c.args.dropFirst() {
                guard let value = c.read(key) else { continue }
                switch hyperLogLog(value) {
                case .success(let hll): guard hll.merge(into: &registers) else { return corrupted }
                case .failure(let error): return error
                }
            }
            let card = HyperLogLog.estimate(HyperLogLog.histogram(ofRegisters: registers))
            return .integer(Int(truncatingIfNeeded: card))
        }
        let key = c.args[1]
        guard let value = c.read(key) else { return .integer(0) }
        // The header checked and the cached cardinality read in place.
        guard let isHyperLogLog = value.withStringBytes({ HyperLogLog.encoding(of: $0) != nil }) else {
            return Errors.wrongType
        }
        guard isHyperLogLog else { return notHyperLogLog }
        if let cached = value.withStringBytes(HyperLogLog.cachedCardinality(in:)) ?? nil {
            return .integer(Int(truncatingIfNeeded: cached))
        }
        guard case .success(let hll) = hyperLogLog(value), let card = hll.estimatedCardinality() else {
            return corrupted
        }
        // Cached in the stored header, in place.
        c.modifyUnrecorded(key) { stored in
            _ = stored.withMutableStringBytes { string, _ in HyperLogLog.cacheCardinality(card, in: string) }
        }
        c.noteWritten(key)
        c.changed()
        return .integer(Int(truncatingIfNeeded: card))
    }

    static func pfmerge(_ c: inout CommandContext) -> Reply {
        var registers = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        var useDense = false
        // The destination is the first source.
        for key in c.args.dropFirst() {
            guard let value = c.read(key) else { continue }
            switch hyperLogLog(value) {
            case .success(let hll):
                if hll.encoding == .dense { useDense = true }
                guard hll.merge(into: &registers) else { return corrupted }
            case .failure(let error): return error
            }
        }
        let key = c.args[1]
        let existing = c.lookup(key)
        var target = HyperLogLog()
        if let existing {
            switch hyperLogLog(existing) {
            case .success(let found): target = found
            case .failure(let error): return error
            }
        }
        if useDense && !target.toDense() { return corrupted }
        let maxSparseBytes = c.engine.settings.hllSparseMaxBytes
        for (index, register) in registers.enumerated() where register != 0 {
            _ = target.set(index, to: register, maxSparseBytes: maxSparseBytes)
        }
        target.invalidateCache()
        if existing == nil {
            c.store(key, target.value)
        } else {
            c.engine.update(key, db: c.db) { $0 = target.value }
        }
        c.changed()
        // PFMERGE announces itself as a PFADD, as Redis does.
        c.notify(.string, "pfadd", key)
        return .ok
    }

    static func pfdebug(_ c: inout CommandContext) -> Reply {
        let subcommand = c.args[1]
        let key = c.args[2]
        guard let value = c.lookup(key) else { return .error("ERR The specified key does not exist") }
        var hll: HyperLogLog
        switch hyperLogLog(value) {
        case .success(let found): hll = found
        case .failure(let error): return error
        }
        if subcommand.equalsIgnoringCase("getreg") {
            if hll.encoding == .sparse {
                guard hll.toDense() else { return corrupted }
                storeConversion(&c, key, hll)
            }
            return .array(hll.denseRegisters().map { .integer(Int($0)) })
        }
        if subcommand.equalsIgnoringCase("decode") {
            guard hll.encoding == .sparse else { return .error("ERR HLL encoding is not sparse") }
            return .bulk(Bytes(hll.decodedOpcodes()))
        }
        if subcommand.equalsIgnoringCase("encoding") {
            return .status(hll.encoding.name)
        }
        if subcommand.equalsIgnoringCase("todense") {
            guard hll.encoding == .sparse else { return .integer(0) }
            guard hll.toDense() else { return corrupted }
            storeConversion(&c, key, hll)
            return .integer(1)
        }
        return .error("ERR Unknown PFDEBUG subcommand '\(subcommand.string)'")
    }

    /// Stores a value PFDEBUG converted to dense. Redis counts the change (so it is logged)
    /// but does not signal the key: a WATCH on it stays valid.
    private static func storeConversion(_ c: inout CommandContext, _ key: Bytes, _ hll: HyperLogLog) {
        c.engine.update(key, db: c.db) { $0 = hll.value }
        c.changed()
        c.leavesWatchesAlone = true
    }

    static func pfselftest(_ c: inout CommandContext) -> Reply {
        var test = HyperLogLogSelfTest(maxSparseBytes: c.engine.settings.hllSparseMaxBytes)
        return test.run(random: &c.engine.random)
    }
}
