//! memcached's commands on Strata's keyspace. Items are Strata strings in `memcached-db`;
//! every write runs as the engine command that has its effect (`SET ... PXAT`, `APPEND`,
//! `DEL`, `PEXPIREAT`, `FLUSHDB`), so the write record carries it to the AOF, replicas,
//! keyspace notifications, WATCH and client tracking like any Redis client's write, and a
//! key set over RESP reads back here with flags 0. Flags and CAS uniques sit beside the
//! items in the engine (`ItemMetadata`), forgotten whenever a write names their key.

import NIOCore
import StrataEngine
import StrataMemcached

#if canImport(Glibc)
    import Glibc
#endif

/// The memcached listener's state.
final class MemcachedRuntime {
    var stats = MemcachedStats()
    var parser: MemcachedTextParser
    /// Open memcached connections.
    var connections = 0
    /// Unix ms when the listener started.
    let startedAt: Int64
    /// The pending `flush_all <delay>` (a later one replaces it, as memcached keeps one).
    var scheduledFlush: Scheduled<Void>?
    /// Whether reads mark items fetched: from the first `mg h` or `me` on (see
    /// `ServerCore.itemFetched`).
    var tracksFetches = false

    /// `memcached-db` (fixed at start; the configuration's text is not parsed per request).
    let database: Int
    /// The engine's `SET`, resolved once.
    let setHandler: (inout CommandContext) -> Reply

    init(limits: MemcachedLimits, database: Int, now: Int64) {
        parser = MemcachedTextParser(limits: limits)
        startedAt = now
        self.database = database
        guard let set = CommandTable.standard.spec(named: EngineName.set), case .engine(let handler) = set.handler
        else {
            preconditionFailure("the command table has no engine SET")
        }
        setHandler = handler
    }
}

/// What a memcached request answers.
struct MemcachedOutcome {
    var reply: [UInt8] = []
    var close = false
}

/// The engine commands memcached's writes run as.
enum EngineName {
    static let set = Bytes("SET")
    static let delete = Bytes("DEL")
    static let persist = Bytes("PERSIST")
    static let expireAt = Bytes("PEXPIREAT")
    static let flush = Bytes("FLUSHDB")
    static let keepTTL = Bytes("KEEPTTL")
    static let pxat = Bytes("PXAT")
}

extension ServerCore {
    /// The largest answer to one retrieval, bytes.
    static let memcachedReplyLimit = 64 << 20

    /// The version memcached clients are told (the protocol Strata answers as).
    static let memcachedVersion = "1.6.18"

    /// Starts the memcached state (the listener itself is bound by the server).
    func startMemcached() {
        var limits = MemcachedLimits()
        limits.itemSizeMax = config.memcachedMaxItemSize
        let now = clock.wallMilliseconds()
        memcached = MemcachedRuntime(limits: limits, database: config.memcachedDatabase, now: now)
        // CAS uniques start past those of an earlier process (microseconds since 1970), and
        // past every unique the data holds (see `Engine.nextCASUnique`).
        engine.lastCASUnique = max(engine.lastCASUnique, UInt64(max(now, 0)) &* 1000)
    }

    /// Runs one memcached request.
    func memcachedExecute(_ command: MemcachedCommand, now: Int64) -> MemcachedOutcome {
        guard let memcached else { return MemcachedOutcome(close: true) }
        if persistence.loading {
            switch command {
            case .version, .verbosity, .stats, .quit, .metaNoop: break
            default: return answer("SERVER_ERROR loading the dataset in memory", quiet: false)
            }
        }
        switch command {
        case .metaGet, .metaSet, .metaDelete, .metaArithmetic, .metaDebug:
            // A client of the meta protocol may ask whether items were read (mg h, me): from
            // then on reads mark them (an entry per item read; classic clients never pay).
            memcached.tracksFetches = true
        default:
            break
        }
        switch command {
        case .get(let keys, let withCAS):
            return MemcachedOutcome(reply: retrieve(keys, withCAS: withCAS, touch: nil, memcached, now: now))
        case .getAndTouch(let exptime, let keys, let withCAS):
            memcached.stats.cmdTouch &+= keys.count
            return MemcachedOutcome(reply: retrieve(keys, withCAS: withCAS, touch: exptime, memcached, now: now))
        case .store(let store):
            return answer(storeItem(store, memcached, now: now), quiet: store.noreply)
        case .arithmetic(let key, let increment, let delta, let noreply):
            return answer(
                arithmetic(Bytes(key), increment: increment, delta: delta, memcached, now: now), quiet: noreply)
        case .delete(let key, let noreply):
            let deleted =
                liveString(Bytes(key), now: now) != nil && memcachedWrite([EngineName.delete, Bytes(key)], now: now)
            if deleted { memcached.stats.deleteHits &+= 1 } else { memcached.stats.deleteMisses &+= 1 }
            return answer(deleted ? "DELETED" : "NOT_FOUND", quiet: noreply)
        case .touch(let key, let exptime, let noreply):
            if let refusal = memcachedWriteRefusal(now: now) { return answer(refusal, quiet: false) }
            memcached.stats.cmdTouch &+= 1
            let found = liveString(Bytes(key), now: now) != nil
            if found {
                memcached.stats.touchHits &+= 1
                touch(Bytes(key), exptime: exptime, now: now)
            } else {
                memcached.stats.touchMisses &+= 1
            }
            return answer(found ? "TOUCHED" : "NOT_FOUND", quiet: noreply)
        case .flushAll(let delay, let noreply):
            if let refusal = memcachedWriteRefusal(now: now) { return answer(refusal, quiet: false) }
            memcached.stats.cmdFlush &+= 1
            flushMemcached(after: delay, now: now)
            return answer("OK", quiet: noreply)
        case .version:
            return answer("VERSION \(ServerCore.memcachedVersion)", quiet: false)
        case .verbosity(let noreply):
            return answer("OK", quiet: noreply)
        case .stats(let arguments):
            return MemcachedOutcome(reply: Array(memcachedStats(arguments, memcached, now: now).utf8))
        case .quit:
            return MemcachedOutcome(close: true)
        case .metaNoop:
            return answer("MN", quiet: false)
        case .metaGet(let key, let flags):
            return MemcachedOutcome(reply: metaGet(key, flags: flags, memcached, now: now))
        case .metaSet(let key, let flags, let data):
            return metaSet(key, flags: flags, data: data, memcached, now: now)
        case .metaDelete(let key, let flags):
            return metaDelete(key, flags: flags, memcached, now: now)
        case .metaArithmetic(let key, let flags):
            return metaArithmetic(key, flags: flags, memcached, now: now)
        case .metaDebug(let key, let base64):
            return MemcachedOutcome(reply: metaDebug(key, base64: base64, now: now))
        }
    }

    /// A `set` refused as too large removes the key's old item, as memcached does.
    func memcachedRemoveAfterRefusedSet(_ key: [UInt8], now: Int64) {
        if memcachedWriteRefusal(now: now) != nil { return }
        if liveString(Bytes(key), now: now) != nil { memcachedWrite([EngineName.delete, Bytes(key)], now: now) }
    }

    func answer(_ line: String, quiet: Bool) -> MemcachedOutcome {
        if quiet { return MemcachedOutcome() }
        // The answers of nearly every request, built once.
        switch line {
        case "STORED": return MemcachedOutcome(reply: ServerCore.storedLine)
        case "DELETED": return MemcachedOutcome(reply: ServerCore.deletedLine)
        case "NOT_FOUND": return MemcachedOutcome(reply: ServerCore.notFoundLine)
        default: return MemcachedOutcome(reply: Array((line + "\r\n").utf8))
        }
    }

    private static let storedLine = Array("STORED\r\n".utf8)
    private static let deletedLine = Array("DELETED\r\n".utf8)
    private static let notFoundLine = Array("NOT_FOUND\r\n".utf8)

    /// A live string item's bytes, nil when absent (or not a string).
    func liveString(_ key: Bytes, now: Int64) -> Bytes? {
        engine.read(key, db: memcachedDB, now: now)?.stringBytes
    }

    /// The database memcached clients use.
    var memcachedDB: Int { memcached?.database ?? config.memcachedDatabase }

    /// Runs a write as its engine command and commits it; false when refused.
    @discardableResult
    func memcachedWrite(_ args: [Bytes], now: Int64) -> Bool {
        var db = memcachedDB
        let reply: Reply
        if let memcached, args[0] == EngineName.set {
            reply = engine.run(memcached.setHandler, args: args, db: &db, now: now)
        } else {
            reply = engine.execute(args, db: &db, now: now)
        }
        commitWrites(now: now)
        if case .error = reply { return false }
        return true
    }

    /// The refusal of a write, when writes cannot be taken now (memory, a replica, a disk).
    func memcachedWriteRefusal(now: Int64) -> String? {
        if primaryLink != nil && refusesWrites {
            return "SERVER_ERROR READONLY You can't write against a read only replica."
        }
        switch writeRefusal(writes: true, refusedOnDiskError: true, deniedOnOOM: true, now: now) {
        case .diskError: return "SERVER_ERROR MISCONF disk errors stop writes"
        case .noReplicas: return "SERVER_ERROR NOREPLICAS Not enough good replicas to write."
        case .outOfMemory: return "SERVER_ERROR out of memory storing object"
        case nil: return nil
        }
    }

    private func retrieve(
        _ keys: [[UInt8]], withCAS: Bool, touch exptime: Int64?, _ memcached: MemcachedRuntime, now: Int64
    ) -> [UInt8] {
        var out: [UInt8] = []
        for raw in keys {
            let key = Bytes(raw)
            memcached.stats.cmdGet &+= 1
            guard let value = liveString(key, now: now) else {
                memcached.stats.getMisses &+= 1
                if exptime != nil { memcached.stats.touchMisses &+= 1 }
                continue
            }
            memcached.stats.getHits &+= 1
            itemFetched(key, memcached)
            if let exptime {
                memcached.stats.touchHits &+= 1
                touch(key, exptime: exptime, now: now)
            }
            let data = value.array
            // One reply is built whole: a multiget naming large items many times must not
            // build gigabytes (memcached streams it; this answers memcached's error).
            if out.count + data.count > ServerCore.memcachedReplyLimit {
                return Array("SERVER_ERROR out of memory writing get response\r\n".utf8)
            }
            // The key as sent: it need not be UTF-8.
            var header = " \(itemFlags(key)) \(data.count)"
            if withCAS { header += " \(itemCASUnique(key, now: now))" }
            out += Array("VALUE ".utf8) + raw + Array(header.utf8)
            out += [13, 10]
            out += data
            out += [13, 10]
        }
        out += Array("END\r\n".utf8)
        return out
    }

    /// Sets a live item's deadline as `exptime` says.
    func touch(_ key: Bytes, exptime: Int64, now: Int64) {
        // A read that also touches (gat, mg T) reads on where writes are refused.
        if memcachedWriteRefusal(now: now) != nil { return }
        keepingItemMetadata(of: key, now: now) {
            switch MemcachedExpiry(exptime: exptime, now: now) {
            case .never: memcachedWrite([EngineName.persist, key], now: now)
            case .expired: memcachedWrite([EngineName.delete, key], now: now)
            case .at(let deadline): memcachedWrite([EngineName.expireAt, key, Bytes(String(deadline))], now: now)
            }
        }
    }

    private func storeItem(_ store: MemcachedStore, _ memcached: MemcachedRuntime, now: Int64) -> String {
        memcached.stats.cmdSet &+= 1
        let key = Bytes(store.key)
        // A plain set needs the current item only when it stores one already expired.
        let needsCurrent = store.mode != .set || MemcachedExpiry(exptime: store.exptime, now: now) == .expired
        let current = needsCurrent ? liveString(key, now: now) : nil
        // A key of another type is there too: add stores nothing over it.
        let occupied =
            store.mode == .add && current == nil && engine.lookup(key, db: memcachedDB, now: now) != nil
        switch store.mode {
        case .add where current != nil || occupied, .replace where current == nil, .append where current == nil,
            .prepend where current == nil:
            return "NOT_STORED"
        case .cas where current == nil:
            memcached.stats.casMisses &+= 1
            return "NOT_FOUND"
        case .cas where !itemCASMatches(key, store.casUnique):
            memcached.stats.casBadval &+= 1
            return "EXISTS"
        default:
            break
        }
        if let refusal = memcachedWriteRefusal(now: now) {
            memcached.stats.storeNoMemory &+= 1
            return refusal
        }
        if store.mode == .cas { memcached.stats.casHits &+= 1 }
        let data = Bytes(store.data)
        var flags = store.flags
        switch store.mode {
        case .append, .prepend:
            flags = itemFlags(key)
            let total = (current?.count ?? 0) + store.data.count + 2
            guard
                memcached.parser.limits.fits(keyLength: store.key.count, flags: flags, dataLengthWithTerminator: total)
            else {
                // memcached answers a join past the largest item as not stored.
                return "NOT_STORED"
            }
            let joined =
                store.mode == .append ? (current?.array ?? []) + store.data : store.data + (current?.array ?? [])
            memcachedWrite([EngineName.set, key, Bytes(joined), EngineName.keepTTL], now: now)
        default:
            switch MemcachedExpiry(exptime: store.exptime, now: now) {
            case .never: memcachedWrite([EngineName.set, key, data], now: now)
            case .at(let deadline):
                memcachedWrite([EngineName.set, key, data, EngineName.pxat, Bytes(String(deadline))], now: now)
            case .expired:
                // Stored already expired: the old item goes, nothing can read the new one.
                if current != nil { memcachedWrite([EngineName.delete, key], now: now) }
                memcached.stats.totalItems &+= 1
                return "STORED"
            }
        }
        itemStored(key, flags: flags, now: now)
        memcached.stats.totalItems &+= 1
        return "STORED"
    }

    private func arithmetic(
        _ key: Bytes, increment: Bool, delta: UInt64, _ memcached: MemcachedRuntime, now: Int64
    ) -> String {
        guard let current = liveString(key, now: now) else {
            if increment { memcached.stats.incrMisses &+= 1 } else { memcached.stats.decrMisses &+= 1 }
            return "NOT_FOUND"
        }
        let bytes = current.array
        guard !bytes.isEmpty, let value = MemcachedNumbers.counter(bytes) else {
            return "CLIENT_ERROR cannot increment or decrement non-numeric value"
        }
        if let refusal = memcachedWriteRefusal(now: now) { return refusal }
        if increment { memcached.stats.incrHits &+= 1 } else { memcached.stats.decrHits &+= 1 }
        let result = increment ? value &+ delta : (delta > value ? 0 : value - delta)
        storeCounter(key, result: result, old: bytes, now: now)
        return String(result)
    }

    /// `flush_all [delay]`: now, or by a timer at the delay's time.
    private func flushMemcached(after delay: Int64, now: Int64) {
        switch MemcachedExpiry(exptime: delay, now: now) {
        case .never, .expired:
            memcached?.scheduledFlush?.cancel()
            memcached?.scheduledFlush = nil
            memcachedWrite([EngineName.flush], now: now)
        case .at(let deadline):
            memcached?.scheduledFlush?.cancel()
            memcached?.scheduledFlush = eventLoop.scheduleTask(in: .milliseconds(max(deadline - now, 0))) {
                [unowned(unsafe) self] in
                self.memcached?.scheduledFlush = nil
                if self.memcachedWriteRefusal(now: self.clock.wallMilliseconds()) == nil {
                    self.memcachedWrite([EngineName.flush], now: self.clock.wallMilliseconds())
                }
            }
        }
    }

    private func memcachedStats(_ arguments: [[UInt8]], _ memcached: MemcachedRuntime, now: Int64) -> String {
        if let group = arguments.first.map({ String(decoding: $0, as: UTF8.self) }) {
            if group == "reset" {
                let total = memcached.stats.totalConnections
                memcached.stats = MemcachedStats()
                memcached.stats.totalConnections = total
                return "RESET\r\n"
            }
            return group == "settings" || group == "items" || group == "slabs" || group == "sizes"
                || group == "conns" ? "END\r\n" : "ERROR\r\n"
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let db = memcachedDB
        let gauges = MemcachedStats.Gauges(
            pid: getpid(), uptime: max(0, (now - memcached.startedAt) / 1000), time: now / 1000,
            version: ServerCore.memcachedVersion, currentConnections: memcached.connections,
            maxConnections: config.maxClients,
            currentItems: db < engine.databases.count ? engine.databases[db].count : 0,
            bytes: ProcessMemory.allocatedBytes(),
            limitMaxBytes: config.maxMemory > 0 ? config.maxMemory : Int(ProcessMemory.totalSystemBytes()),
            evictions: Int(clamping: engine.stats.evictedKeys), expiredUnfetched: 0,
            userSeconds: Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
            systemSeconds: Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6)
        return memcached.stats.reply(gauges)
    }
}
