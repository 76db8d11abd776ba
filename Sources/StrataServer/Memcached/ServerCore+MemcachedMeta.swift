//! memcached's meta commands (`mg`, `ms`, `md`, `ma`) on the keyspace, answered as
//! memcached 1.6.18 answers them: a status (`VA`, `HD`, `EN`, `NS`, `EX`, `NF`), then the
//! return flags in the order the client sent them; `q` hides the status a pipeline does
//! not need (`EN` for `mg`, `HD` for the others). Writes go through the same engine
//! commands as the classic ones.

import StrataEngine
import StrataMemcached

extension ServerCore {
    /// `mg`: `VA <size> <flags>` and the value with `v`, else `HD <flags>`; the return
    /// flags in the order asked, `T` applied where it stands; `EN` (with O and k) on a
    /// miss, nothing under `q`.
    func metaGet(
        _ raw: [UInt8], flags: [MemcachedMetaFlag], _ memcached: MemcachedRuntime, now: Int64
    ) -> [UInt8] {
        let key = Bytes(raw)
        let wants = { (letter: Character) in flags.contains { $0.letter == letter.asciiValue } }
        memcached.stats.cmdGet &+= 1
        guard let value = liveString(key, now: now) else {
            memcached.stats.getMisses &+= 1
            if wants("q") { return [] }
            var line = Array("EN".utf8)
            for flag in flags {
                if flag.letter == UInt8(ascii: "O") { line += [0x20, flag.letter] + flag.token }
                if flag.letter == UInt8(ascii: "k") { line += Array(" k".utf8) + raw }
            }
            return line + [13, 10]
        }
        memcached.stats.getHits &+= 1
        let data = value.array
        var line = Array((wants("v") ? "VA \(data.count)" : "HD").utf8)
        for flag in flags {
            switch flag.letter {
            case UInt8(ascii: "T"):
                memcached.stats.cmdTouch &+= 1
                memcached.stats.touchHits &+= 1
                touch(key, exptime: flag.number ?? 0, now: now)
            case UInt8(ascii: "s"): line += Array(" s\(data.count)".utf8)
            case UInt8(ascii: "t"):
                let deadline = engine.databases[config.memcachedDatabase].deadline(key)
                // Seconds left, rounded up as memcached's second-grained clock counts them.
                let left = deadline.map { max(0, ($0 - now + 999) / 1000) } ?? -1
                line += Array(" t\(left)".utf8)
            case UInt8(ascii: "c"): line += Array(" c\(itemCASUnique(key, now: now))".utf8)
            case UInt8(ascii: "f"): line += Array(" f\(itemFlags(key))".utf8)
            case UInt8(ascii: "k"): line += Array(" k".utf8) + raw
            case UInt8(ascii: "O"): line += [0x20, flag.letter] + flag.token
            default: break
            }
        }
        line += [13, 10]
        if wants("v") { line += data + [13, 10] }
        return line
    }

    /// The return flags every meta command echoes: `k` the key, `O` the opaque token.
    private func echoed(_ flags: [MemcachedMetaFlag], key raw: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for flag in flags {
            if flag.letter == UInt8(ascii: "O") { out += [0x20, flag.letter] + flag.token }
            if flag.letter == UInt8(ascii: "k") { out += Array(" k".utf8) + raw }
        }
        return out
    }

    private func status(_ code: String, _ flags: [MemcachedMetaFlag], key raw: [UInt8]) -> MemcachedOutcome {
        MemcachedOutcome(reply: Array(code.utf8) + echoed(flags, key: raw) + [13, 10])
    }

    /// `ms`: stores as its mode says (`S` set, `E` add, `A` append, `P` prepend, `R`
    /// replace), `C` compares the CAS unique, `F` flags, `T` the exptime; `HD` with `k`,
    /// `O` and `c` (the new CAS unique) echoed.
    func metaSet(
        _ raw: [UInt8], flags: [MemcachedMetaFlag], data: [UInt8], _ memcached: MemcachedRuntime, now: Int64
    ) -> MemcachedOutcome {
        memcached.stats.cmdSet &+= 1
        let key = Bytes(raw)
        let current = liveString(key, now: now)
        let mode = flags.flag("M").map { Character(UnicodeScalar($0.token[0])).uppercased() } ?? "S"
        if let compare = flags.flag("C")?.unsigned {
            guard current != nil else {
                memcached.stats.casMisses &+= 1
                return status("NF", flags, key: raw)
            }
            guard itemCASMatches(key, compare) else {
                memcached.stats.casBadval &+= 1
                return status("EX", flags, key: raw)
            }
            memcached.stats.casHits &+= 1
        }
        if (mode == "E" && current != nil) || (["A", "P", "R"].contains(mode) && current == nil) {
            return status("NS", flags, key: raw)
        }
        if let refusal = memcachedWriteRefusal(now: now) { return answer(refusal, quiet: false) }
        var storedFlags = flags.flag("F")?.clientFlags ?? 0
        if mode == "A" || mode == "P" {
            storedFlags = itemFlags(key)
            let total = (current?.count ?? 0) + data.count + 2
            guard
                memcached.parser.limits.fits(keyLength: raw.count, flags: storedFlags, dataLengthWithTerminator: total)
            else { return status("NS", flags, key: raw) }
            let old = current?.array ?? []
            memcachedWrite(
                [EngineName.set, key, Bytes(mode == "A" ? old + data : data + old), EngineName.keepTTL], now: now)
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
        itemStored(key, flags: storedFlags, now: now)
        memcached.stats.totalItems &+= 1
        if flags.has("q") { return MemcachedOutcome() }
        var line = Array("HD".utf8)
        for flag in flags {
            switch flag.letter {
            case UInt8(ascii: "O"): line += [0x20, flag.letter] + flag.token
            case UInt8(ascii: "k"): line += Array(" k".utf8) + raw
            case UInt8(ascii: "c"): line += Array(" c\(itemCASUnique(key, now: now))".utf8)
            default: break
            }
        }
        return MemcachedOutcome(reply: line + [13, 10])
    }

    /// `md`: `HD` (hidden by `q`), `NF`, or `EX` when `C` names another version.
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
        memcachedWrite([EngineName.delete, key], now: now)
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
        if let current = liveString(key, now: now) {
            if let compare = flags.flag("C")?.unsigned, !itemCASMatches(key, compare) {
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
            var digits = Array(String(result).utf8)
            if digits.count < bytes.count { digits += [UInt8](repeating: 0x20, count: bytes.count - digits.count) }
            let storedFlags = itemFlags(key)
            memcachedWrite([EngineName.set, key, Bytes(digits), EngineName.keepTTL], now: now)
            itemStored(key, flags: storedFlags, now: now)
            if let exptime = flags.flag("T")?.number { touch(key, exptime: exptime, now: now) }
        } else {
            if increment { memcached.stats.incrMisses &+= 1 } else { memcached.stats.decrMisses &+= 1 }
            guard let vivify = flags.flag("N")?.number else { return status("NF", flags, key: raw) }
            if let refusal = memcachedWriteRefusal(now: now) { return answer(refusal, quiet: false) }
            result = flags.flag("J")?.unsigned ?? 0
            let value = Bytes(String(result))
            switch MemcachedExpiry(exptime: vivify, now: now) {
            case .never: memcachedWrite([EngineName.set, key, value], now: now)
            case .at(let deadline):
                memcachedWrite([EngineName.set, key, value, EngineName.pxat, Bytes(String(deadline))], now: now)
            case .expired: break
            }
            itemStored(key, flags: 0, now: now)
        }
        let number = String(result)
        let withValue = flags.has("v")
        if flags.has("q") && !withValue { return MemcachedOutcome() }
        var line = Array((withValue ? "VA \(number.utf8.count)" : "HD").utf8)
        for flag in flags {
            switch flag.letter {
            case UInt8(ascii: "t"):
                let deadline = engine.databases[config.memcachedDatabase].deadline(key)
                line += Array(" t\(deadline.map { max(0, ($0 - now + 999) / 1000) } ?? -1)".utf8)
            case UInt8(ascii: "c"):
                // An item born expired has no version to name (and must leave no entry).
                let live = liveString(key, now: now) != nil
                line += Array(" c\(live ? itemCASUnique(key, now: now) : 0)".utf8)
            case UInt8(ascii: "k"): line += Array(" k".utf8) + raw
            case UInt8(ascii: "O"): line += [0x20, flag.letter] + flag.token
            default: break
            }
        }
        line += [13, 10]
        if withValue { line += Array(number.utf8) + [13, 10] }
        return MemcachedOutcome(reply: line)
    }
}
