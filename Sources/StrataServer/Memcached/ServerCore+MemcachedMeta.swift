//! memcached's meta commands (`mg`, `ms`, `md`, `ma`, `me`) on the keyspace, answered as
//! memcached 1.6.18 answers them: a status (`VA`, `HD`, `EN`, `NS`, `EX`, `NF`), then the
//! return flags in the order the client sent them; `q` hides the status a pipeline does
//! not need (`EN` for `mg`, `HD` for the others). Writes go through the same engine
//! commands as the classic ones.
//!
//! The stale-while-revalidate protocol: `md I` marks an item stale (with a new CAS unique)
//! instead of deleting it; the first reader of a stale item gets `X W` (it won the right
//! to recompute it), later readers `Z X`. `mg N` creates a missing item (empty) and hands
//! its creator `W`; `mg R<secs>` hands `W` to one reader once the item has less than that
//! left to live. `ms I C<older cas>` stores a late writer's value, but as stale.

import StrataEngine
import StrataMemcached

extension ServerCore {
    /// `mg`: `VA <size> <flags>` and the value with `v`, else `HD <flags>`; the return
    /// flags in the order asked (`T` and `N` applied where they stand), then `Z`, `X`, `W`;
    /// `EN` (with O and k) on a miss, nothing under `q`.
    func metaGet(
        _ raw: [UInt8], flags: [MemcachedMetaFlag], _ memcached: MemcachedRuntime, now: Int64
    ) -> [UInt8] {
        let key = Bytes(raw)
        let db = memcachedDB
        let wants = { (letter: Character) in flags.contains { $0.letter == letter.asciiValue } }
        memcached.stats.cmdGet &+= 1
        // What h and l report is the item as it was before this request.
        let lastAccess = engine.databases[db].rawEntry(key)?.accessClock
        let noBump = wants("u")
        var current = noBump ? engine.lookup(key, db: db, now: now)?.stringBytes : liveString(key, now: now)
        var created = false
        // A key of another Strata type is no item, and N does not replace it.
        if current == nil, flags.has("N"), engine.lookup(key, db: db, now: now) == nil,
            memcachedWriteRefusal(now: now) == nil
        {
            // Created even when N's exptime has passed: this reply still sees it.
            memcachedWrite([EngineName.set, key, Bytes()], now: now)
            current = Bytes()
            created = true
        }
        guard let value = current else {
            memcached.stats.getMisses &+= 1
            if wants("q") { return [] }
            return Array("EN".utf8) + echoed(flags, key: raw, binary: wants("b")) + [13, 10]
        }
        memcached.stats.getHits &+= 1
        let before = itemMetadata(key) ?? ItemMetadata(flags: 0)
        let data = value.array
        var line = Array((wants("v") ? "VA \(data.count)" : "HD").utf8)
        var won = false
        // An exptime in the past removes the item; this reply still describes it, its
        // time left wrapped as memcached's unsigned arithmetic wraps it.
        var expiredHere = false
        for flag in flags {
            switch flag.letter {
            case UInt8(ascii: "T"):
                memcached.stats.cmdTouch &+= 1
                memcached.stats.touchHits &+= 1
                touch(key, exptime: flag.number ?? 0, now: now)
                expiredHere = MemcachedExpiry(exptime: flag.number ?? 0, now: now) == .expired
            case UInt8(ascii: "N") where created:
                touch(key, exptime: flag.number ?? 0, now: now)
                expiredHere = MemcachedExpiry(exptime: flag.number ?? 0, now: now) == .expired
                won = true
            case UInt8(ascii: "R"):
                won = won || recacheWins(key, before: before, created: created, token: flag.number ?? 0, now: now)
            case UInt8(ascii: "s"): line += Array(" s\(data.count)".utf8)
            case UInt8(ascii: "t"):
                line += Array(" t\(expiredHere ? Int64(UInt32.max) : secondsLeft(key, now: now))".utf8)
            case UInt8(ascii: "c"): line += Array(" c\(itemCASUnique(key, now: now))".utf8)
            case UInt8(ascii: "f"): line += Array(" f\(itemFlags(key))".utf8)
            case UInt8(ascii: "l"): line += Array(" l\(secondsSince(lastAccess, now: now))".utf8)
            case UInt8(ascii: "h"): line += Array(" h\(before.state.contains(.fetched) ? 1 : 0)".utf8)
            case UInt8(ascii: "k"): line += keyEcho(raw, binary: before.state.contains(.binaryKey))
            case UInt8(ascii: "O"): line += [0x20, flag.letter] + flag.token
            default: break
            }
        }
        let tokenSent = before.state.contains(.winTokenSent)
        if tokenSent { line += Array(" Z".utf8) }
        if before.state.contains(.stale) {
            line += Array(" X".utf8)
            if !tokenSent { won = true }
        }
        if won {
            line += Array(" W".utf8)
            updateItemMetadata(key, now: now) { $0.state.insert(.winTokenSent) }
        }
        if !noBump { itemFetched(key, memcached) }
        line += [13, 10]
        if wants("v") { line += data + [13, 10] }
        return line
    }

    /// `mg R<token>`: whether this reader wins the right to recache `key`: its token was not
    /// handed out, it was not just created, and it has less than `token` seconds to live.
    private func recacheWins(_ key: Bytes, before: ItemMetadata, created: Bool, token: Int64, now: Int64) -> Bool {
        guard !before.state.contains(.winTokenSent), !created,
            engine.databases[memcachedDB].deadline(key) != nil,
            case .at(let recache) = MemcachedExpiry(exptime: token, now: now)
        else { return false }
        return secondsLeft(key, now: now) < (recache - now + 999) / 1000
    }

    /// Seconds `key` has left to live, rounded up as memcached's second-grained clock counts
    /// them; -1 without a deadline.
    private func secondsLeft(_ key: Bytes, now: Int64) -> Int64 {
        guard let deadline = engine.databases[memcachedDB].deadline(key) else { return -1 }
        return max(0, (deadline - now + 999) / 1000)
    }

    /// Seconds since the access clock `clock` (0 under an LFU policy, whose counters take
    /// its place).
    private func secondsSince(_ clock: UInt32?, now: Int64) -> Int64 {
        guard let clock, !engine.settings.evictionPolicy.usesLFU else { return 0 }
        return Int64(Entry.ticks(from: clock, to: Entry.clock(now: now))) * Entry.clockTickMilliseconds / 1000
    }

    /// ` k<key>`, or ` k<base64> b` for a key that came in base64.
    private func keyEcho(_ raw: [UInt8], binary: Bool) -> [UInt8] {
        binary ? Array(" k".utf8) + MemcachedBase64.encode(raw) + Array(" b".utf8) : Array(" k".utf8) + raw
    }

    /// The return flags every meta command echoes: `k` the key, `O` the opaque token (and
    /// `c0` for a store that failed, when `withCAS`).
    private func echoed(_ flags: [MemcachedMetaFlag], key raw: [UInt8], binary: Bool, withCAS: Bool = false)
        -> [UInt8]
    {
        var out: [UInt8] = []
        for flag in flags {
            if flag.letter == UInt8(ascii: "O") { out += [0x20, flag.letter] + flag.token }
            if flag.letter == UInt8(ascii: "k") { out += keyEcho(raw, binary: binary) }
            if withCAS && flag.letter == UInt8(ascii: "c") { out += Array(" c0".utf8) }
        }
        return out
    }

    private func status(_ code: String, _ flags: [MemcachedMetaFlag], key raw: [UInt8], withCAS: Bool = false)
        -> MemcachedOutcome
    {
        MemcachedOutcome(
            reply: Array(code.utf8) + echoed(flags, key: raw, binary: flags.has("b"), withCAS: withCAS) + [13, 10])
    }

    /// `ms`: stores as its mode says (`S` set, `E` add, `A` append, `P` prepend, `R`
    /// replace), `C` compares the CAS unique (with `I`, an older one stores the value as
    /// stale), `F` flags, `T` the exptime; `HD` with `k`, `O` and `c` (the new CAS unique)
    /// echoed, `c0` when nothing was stored.
    func metaSet(
        _ raw: [UInt8], flags: [MemcachedMetaFlag], data: [UInt8], _ memcached: MemcachedRuntime, now: Int64
    ) -> MemcachedOutcome {
        memcached.stats.cmdSet &+= 1
        let key = Bytes(raw)
        let current = liveString(key, now: now)
        let mode = flags.flag("M").map { Character(UnicodeScalar($0.token[0])).uppercased() } ?? "S"
        var storesStale = false
        switch (mode, flags.flag("C")?.unsigned) {
        case ("E", _):
            // An add ignores C: only whether the key is there counts (a key of another
            // Strata type included: add stores nothing over it).
            if current != nil || engine.lookup(key, db: memcachedDB, now: now) != nil {
                return status("NS", flags, key: raw, withCAS: true)
            }
        case ("A", let compare), ("P", let compare):
            guard current != nil else { return status("NS", flags, key: raw, withCAS: true) }
            // C0 is no CAS at all, as memcached reads it.
            if let compare, compare != 0, !itemCASMatches(key, compare) {
                memcached.stats.casBadval &+= 1
                return status("EX", flags, key: raw, withCAS: true)
            }
        case (_, let compare?):
            guard current != nil else {
                memcached.stats.casMisses &+= 1
                return status("NF", flags, key: raw, withCAS: true)
            }
            if !itemCASMatches(key, compare) {
                // An invalidating set with an older unique stores, but as stale.
                guard flags.has("I") && compare != 0 && compare < itemCASUnique(key, now: now) else {
                    memcached.stats.casBadval &+= 1
                    return status("EX", flags, key: raw, withCAS: true)
                }
                storesStale = true
            }
            memcached.stats.casHits &+= 1
        case ("R", nil):
            if current == nil { return status("NS", flags, key: raw, withCAS: true) }
        default:
            break
        }
        if let refusal = memcachedWriteRefusal(now: now) { return answer(refusal, quiet: false) }
        var storedFlags = flags.flag("F")?.clientFlags ?? 0
        let old = itemMetadata(key)
        if mode == "A" || mode == "P" {
            storedFlags = itemFlags(key)
            let total = (current?.count ?? 0) + data.count + 2
            guard
                memcached.parser.limits.fits(keyLength: raw.count, flags: storedFlags, dataLengthWithTerminator: total)
            else { return status("NS", flags, key: raw, withCAS: true) }
            let joined = current?.array ?? []
            memcachedWrite(
                [EngineName.set, key, Bytes(mode == "A" ? joined + data : data + joined), EngineName.keepTTL], now: now)
        } else if storesStale {
            // The old item's deadline stays (the request's T is not applied).
            memcachedWrite([EngineName.set, key, Bytes(data), EngineName.keepTTL], now: now)
        } else {
            switch MemcachedExpiry(exptime: flags.flag("T")?.number ?? 0, now: now) {
            case .never: memcachedWrite([EngineName.set, key, Bytes(data)], now: now)
            case .at(let deadline):
                memcachedWrite([EngineName.set, key, Bytes(data), EngineName.pxat, Bytes(String(deadline))], now: now)
            case .expired:
                if current != nil { memcachedWrite([EngineName.delete, key], now: now) }
                memcached.stats.totalItems &+= 1
                return flags.has("q") ? MemcachedOutcome() : status("HD", flags, key: raw)
            }
        }
        itemStored(key, flags: storedFlags, binaryKey: flags.has("b"), now: now)
        if storesStale {
            let tokenSent = old?.state.contains(.winTokenSent) ?? false
            updateItemMetadata(key, now: now) {
                $0.state.insert(.stale)
                if tokenSent { $0.state.insert(.winTokenSent) }
            }
        }
        memcached.stats.totalItems &+= 1
        if flags.has("q") { return MemcachedOutcome() }
        var line = Array("HD".utf8)
        for flag in flags {
            switch flag.letter {
            case UInt8(ascii: "O"): line += [0x20, flag.letter] + flag.token
            case UInt8(ascii: "k"): line += keyEcho(raw, binary: flags.has("b"))
            case UInt8(ascii: "c"): line += Array(" c\(itemCASUnique(key, now: now))".utf8)
            default: break
            }
        }
        return MemcachedOutcome(reply: line + [13, 10])
    }

    /// `md`: `HD` (hidden by `q`), `NF`, or `EX` when `C` names another version; with `I`
    /// the item stays, marked stale with a new CAS unique (and `T` its new exptime).
    func metaDelete(_ raw: [UInt8], flags: [MemcachedMetaFlag], _ memcached: MemcachedRuntime, now: Int64)
        -> MemcachedOutcome
    {
        let key = Bytes(raw)
        guard liveString(key, now: now) != nil else {
            memcached.stats.deleteMisses &+= 1
            return status("NF", flags, key: raw)
        }
        if let compare = flags.flag("C")?.unsigned, !itemCASMatches(key, compare) {
            return status("EX", flags, key: raw)
        }
        if let refusal = memcachedWriteRefusal(now: now) { return answer(refusal, quiet: false) }
        if flags.has("I") {
            if let exptime = flags.flag("T")?.number { touch(key, exptime: exptime, now: now) }
            if liveString(key, now: now) != nil {
                let unique = engine.nextCASUnique()
                updateItemMetadata(key, now: now) {
                    $0.casUnique = unique
                    $0.state.insert(.stale)
                    $0.state.remove(.winTokenSent)
                }
            }
        } else {
            memcachedWrite([EngineName.delete, key], now: now)
        }
        memcached.stats.deleteHits &+= 1
        return flags.has("q") ? MemcachedOutcome() : status("HD", flags, key: raw)
    }

    /// `ma`: increments (`MI`, the default) or decrements (`MD`) by `D` (1), creating a
    /// missing item at `J` (0) when `N` gives its exptime; `VA` with the number under `v`,
    /// else `HD`, with `t`, `c`, `k`, `O` echoed in order.
    func metaArithmetic(_ raw: [UInt8], flags: [MemcachedMetaFlag], _ memcached: MemcachedRuntime, now: Int64)
        -> MemcachedOutcome
    {
        let key = Bytes(raw)
        let increment = flags.flag("M").map { "Ii+".utf8.contains($0.token[0]) } ?? true
        var result: UInt64
        var created = false
        if let current = liveString(key, now: now) {
            // C0 is no CAS at all, as memcached reads it.
            if let compare = flags.flag("C")?.unsigned, compare != 0, !itemCASMatches(key, compare) {
                return status("EX", flags, key: raw)
            }
            let bytes = current.array
            guard !bytes.isEmpty, let value = MemcachedNumbers.counter(bytes) else {
                return answer("CLIENT_ERROR cannot increment or decrement non-numeric value", quiet: false)
            }
            if let refusal = memcachedWriteRefusal(now: now) { return answer(refusal, quiet: false) }
            let delta = flags.flag("D")?.unsigned ?? 1
            result = increment ? value &+ delta : (delta > value ? 0 : value - delta)
            if increment { memcached.stats.incrHits &+= 1 } else { memcached.stats.decrHits &+= 1 }
            storeCounter(key, result: result, old: bytes, now: now)
        } else {
            if increment { memcached.stats.incrMisses &+= 1 } else { memcached.stats.decrMisses &+= 1 }
            // A key of another Strata type is no item, and N does not replace it.
            guard flags.has("N"), engine.lookup(key, db: memcachedDB, now: now) == nil else {
                return status("NF", flags, key: raw)
            }
            if let refusal = memcachedWriteRefusal(now: now) { return answer(refusal, quiet: false) }
            result = flags.flag("J")?.unsigned ?? 0
            memcachedWrite([EngineName.set, key, Bytes(String(result))], now: now)
            created = true
        }
        // q hides a counted item's answer, not a created one's (as memcached).
        if flags.has("q") && !created { return MemcachedOutcome() }
        let number = String(result)
        let withValue = flags.has("v")
        var line = Array((withValue ? "VA \(number.utf8.count)" : "HD").utf8)
        // In the order sent: T (and N for a created item) set the exptime where they stand.
        for flag in flags {
            switch flag.letter {
            case UInt8(ascii: "T"): touch(key, exptime: flag.number ?? 0, now: now)
            case UInt8(ascii: "N") where created: touch(key, exptime: flag.number ?? 0, now: now)
            case UInt8(ascii: "t"): line += Array(" t\(secondsLeft(key, now: now))".utf8)
            case UInt8(ascii: "c"):
                // An item born expired has no version to name (and must leave no entry).
                let live = liveString(key, now: now) != nil
                line += Array(" c\(live ? itemCASUnique(key, now: now) : 0)".utf8)
            case UInt8(ascii: "k"): line += keyEcho(raw, binary: flags.has("b"))
            case UInt8(ascii: "O"): line += [0x20, flag.letter] + flag.token
            default: break
            }
        }
        line += [13, 10]
        if withValue { line += Array(number.utf8) + [13, 10] }
        return MemcachedOutcome(reply: line)
    }

    /// `me`: `ME <key> exp= la= cas= fetch= cls= size=` as memcached 1.6.18 prints it (`exp`
    /// the negated seconds left, `size` and `cls` the item's size and slab class in
    /// memcached's default layout); `EN` on a miss. Not an access.
    func metaDebug(_ raw: [UInt8], base64: Bool, now: Int64) -> [UInt8] {
        let key = Bytes(raw)
        let db = memcachedDB
        let lastAccess = engine.databases[db].rawEntry(key)?.accessClock
        guard let value = engine.lookup(key, db: db, now: now)?.stringBytes else { return Array("EN\r\n".utf8) }
        let metadata = itemMetadata(key) ?? ItemMetadata(flags: 0)
        let left = secondsLeft(key, now: now)
        let size = 48 + raw.count + 1 + (metadata.flags == 0 ? 0 : 4) + value.count + 2 + 8
        let shown = metadata.state.contains(.binaryKey) ? MemcachedBase64.encode(raw) : raw
        let fields =
            " exp=\(left < 0 ? -1 : -left) la=\(secondsSince(lastAccess, now: now))"
            + " cas=\(itemCASUnique(key, now: now)) fetch=\(metadata.state.contains(.fetched) ? "yes" : "no")"
            + " cls=\(MemcachedLimits.slabClass(forItemSize: size)) size=\(size)\r\n"
        return Array("ME ".utf8) + shown + Array(fields.utf8)
    }
}
