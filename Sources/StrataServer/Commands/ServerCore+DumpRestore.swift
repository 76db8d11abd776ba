//! DUMP and RESTORE (Redis 7.0 `cluster.c`): DUMP serializes a value with
//! ``DumpPayload``; RESTORE checks its options, the key, the TTL and the payload in Redis's
//! order (so the same bad request gets the same error) and then writes through the engine,
//! logging the key's rebuilding commands rather than the payload, so the append-only file
//! replays it with ordinary engine commands.

import StrataEngine
import StrataPersistence

extension ServerCore {
    /// `DUMP key`: the payload, or null when the key does not exist.
    func dumpCommand(_ args: [Bytes], session: ClientSession, now: Int64) -> Reply {
        guard let value = engine.read(args[1], db: session.db, now: now) else { return .null }
        return .bulk(DumpPayload.encode(value))
    }

    /// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]`.
    func restoreCommand(_ args: [Bytes], db: Int, now: Int64) -> Reply {
        var options = RestoreOptions()
        var index = 4
        while index < args.count {
            let option = args[index]
            let more = args.count - index - 1
            if option.equalsIgnoringCase("replace") {
                options.replace = true
            } else if option.equalsIgnoringCase("absttl") {
                options.absoluteTTL = true
            } else if option.equalsIgnoringCase("idletime"), more >= 1, options.frequency == nil {
                guard let idle = args[index + 1].strictInteger else { return Errors.notInteger }
                guard idle >= 0 else { return .error("ERR Invalid IDLETIME value, must be >= 0") }
                options.idleSeconds = idle
                index += 1
            } else if option.equalsIgnoringCase("freq"), more >= 1, options.idleSeconds == nil {
                guard let frequency = args[index + 1].strictInteger else { return Errors.notInteger }
                guard frequency >= 0 && frequency <= 255 else {
                    return .error("ERR Invalid FREQ value, must be >= 0 and <= 255")
                }
                options.frequency = frequency
                index += 1
            } else {
                return Errors.syntax
            }
            index += 1
        }
        let key = args[1]
        if !options.replace, engine.lookup(key, db: db, now: now) != nil {
            return .error("BUSYKEY Target key name already exists.")
        }
        guard let ttl = args[2].strictInteger else { return Errors.notInteger }
        guard ttl >= 0 else { return .error("ERR Invalid TTL value, must be >= 0") }
        let value: Value
        do {
            value = try DumpPayload.decode(args[3], settings: engine.settings)
        } catch DumpPayload.Failure.versionOrChecksum {
            return .error("ERR DUMP payload version or checksum are wrong")
        } catch {
            return .error("ERR Bad data format")
        }
        // Redis adds the relative TTL to the time in 64-bit arithmetic that wraps.
        let deadline: Int64? = ttl == 0 ? nil : options.absoluteTTL ? Int64(ttl) : Int64(ttl) &+ now
        return engine.runServerWrite(args: args, db: db, now: now) { c in
            ServerCore.restore(&c, key: key, value: value, deadline: deadline, options: options)
        }
    }

    /// RESTORE's write: replaces the key when asked; a deadline already past leaves no key
    /// (deleting the old one under REPLACE).
    static func restore(
        _ c: inout CommandContext, key: Bytes, value: Value, deadline: Int64?, options: RestoreOptions
    ) -> Reply {
        let deleted = options.replace && c.delete(key)
        if let deadline, c.hasPassed(deadline) {
            if deleted {
                c.notify(.generic, "del", key)
                c.changed()
                c.propagate([Bytes("DEL"), key])
            }
            return .ok
        }
        c.store(key, value)
        if let deadline { c.engine.setDeadline(key, deadline, db: c.db) }
        if let bits = options.accessBits(engine: c.engine, now: c.now) {
            c.engine.databases[c.db].set(key, value, deadline: deadline, accessClock: bits)
        }
        c.notify(.generic, "restore", key)
        c.changed()
        if deleted { c.propagate([Bytes("DEL"), key]) }
        for command in AOFBaseWriter.commandArguments(rebuilding: key, value, deadline: deadline) {
            c.propagate(command)
        }
        return .ok
    }
}

/// RESTORE's options.
struct RestoreOptions {
    var replace = false
    var absoluteTTL = false
    /// `IDLETIME`: seconds since the last access, applied under an LRU policy.
    var idleSeconds: Int?
    /// `FREQ`: the LFU counter, applied under an LFU policy.
    var frequency: Int?

    /// The access bits the options give the key under the engine's policy, or nil to keep
    /// those of a new key (as Redis, IDLETIME means nothing under LFU and FREQ under LRU).
    func accessBits(engine: Engine, now: Int64) -> UInt32? {
        if engine.settings.evictionPolicy.usesLFU {
            guard let frequency else { return nil }
            return (LFU.initialBits(now: now) & ~0xFF) | UInt32(frequency)
        }
        guard let idleSeconds else { return nil }
        // Clamped to a century so the subtraction cannot overflow.
        let idleMilliseconds = Int64(min(idleSeconds, 100 * 366 * 86_400)) * 1000
        return Entry.clock(now: now - idleMilliseconds)
    }
}
