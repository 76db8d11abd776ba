//! The `DEBUG` subcommands Redis 7.0's own tests and client test suites use: RELOAD
//! (save, flush and load the snapshot back, to prove persistence round-trips), OBJECT
//! (Redis's one-line description of a value, from Strata's real encoding and idle time),
//! SET-ACTIVE-EXPIRE, QUICKLIST-PACKED-THRESHOLD, CHANGE-REPL-ID, STRINGMATCH-TEST (a
//! fuzzer of the glob matcher) and PROTOCOL (one reply of each RESP3 type, with Redis's
//! RESP2 fallbacks, for client libraries' tests). Replies and errors are Redis's.

import StrataEngine
import StrataPersistence

extension ServerCore {
    /// `DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]`.
    func debugReload(_ options: ArraySlice<String>) -> Reply {
        var merge = false
        var flush = true
        var save = true
        for option in options {
            switch option.lowercased() {
            case "merge": merge = true
            case "noflush": flush = false
            case "nosave": save = false
            default: return .error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
            }
        }
        if save {
            if let refusal = persistence.saveRefusal(rewriteInProgress: aof.rewriteInProgress) { return refusal }
            guard saveNow() else { return .error("ERR") }
        }
        let loaded: [Database]
        let functions: [Bytes]
        do {
            let now = clock.wallMilliseconds()
            let result = try SnapshotReader.load(
                path: config.dbFilename, fileSystem: persistence.fileSystem, databaseCount: engine.databases.count,
                settings: engine.settings, now: now)
            loaded = result.databases
            functions = result.report.functions
        } catch {
            logger.warning("DEBUG RELOAD: can't load the snapshot: \(error)")
            return .error("ERR Error trying to load the RDB dump, check server logs.")
        }
        let now = clock.wallMilliseconds()
        var merged = flush ? loaded : engine.databases
        if !flush {
            for index in loaded.indices {
                var conflict = false
                loaded[index].forEachLive(now: now) { key, value, deadline in
                    if merged[index].rawEntry(key) != nil {
                        // Redis stops the server on a duplicate without MERGE; Strata refuses.
                        guard merge else {
                            conflict = true
                            return
                        }
                    }
                    merged[index].set(key, value, deadline: deadline, accessClock: Entry.clock(now: now))
                    merged[index].setItemMetadata(loaded[index].itemMetadata(key), for: key)
                }
                if conflict {
                    logger.warning("DEBUG RELOAD: the snapshot has a key already in DB \(index)")
                    return .error("ERR Error trying to load the RDB dump, check server logs.")
                }
            }
        }
        engine.databases = merged
        keyspaceReplaced()
        for index in engine.databases.indices { engine.noteWholeDatabase(index) }
        commitWrites(now: now)
        restoreFunctions(functions.map { [Bytes("FUNCTION"), Bytes("LOAD"), Bytes("REPLACE"), $0] })
        logger.notice("DB reloaded by DEBUG RELOAD")
        return .ok
    }

    /// `DEBUG OBJECT key`: Redis's status line, with the encoding Strata holds, the RDB
    /// length it would write, and the access clock.
    func debugObject(_ key: String, db: Int) -> Reply {
        let name = Bytes(key)
        let now = clock.wallMilliseconds()
        guard let value = engine.lookup(name, db: db, now: now), let entry = engine.databases[db].rawEntry(name) else {
            commitWrites(now: now)
            return .error("ERR no such key")
        }
        let idleMilliseconds =
            Int64(Entry.ticks(from: entry.accessClock, to: Entry.clock(now: now))) * Entry.clockTickMilliseconds
        // Redis's LRU field is its seconds clock (24 bits) at the last access; under an LFU
        // policy the field holds the LFU data instead, as Strata's access clock does.
        let lru =
            engine.settings.evictionPolicy.usesLFU
            ? Int(entry.accessClock) : Int(((now - idleMilliseconds) / 1000) & 0xFF_FFFF)
        var line =
            "Value at:0x\(String(UInt(bitPattern: name.hashValue) & 0xFFFF_FFFF_FFFF, radix: 16)) refcount:1 "
            + "encoding:\(value.encodingName) serializedlength:\(RDBValueLength.of(value)) "
            + "lru:\(lru) lru_seconds_idle:\(idleMilliseconds / 1000)"
        if case .list(let list) = value {
            let layout = QuicklistLayout(list.elements, fill: config.listMaxListpackSize)
            line +=
                " ql_nodes:\(layout.nodes) ql_avg_node:\(String(printf: "%.2f", layout.averageNode))"
                + " ql_listpack_max:\(config.listMaxListpackSize) ql_compressed:\(config.listCompressDepth != 0 ? 1 : 0)"
                + " ql_uncompressed_size:\(layout.bytes)"
        }
        return .status(line)
    }

    /// `DEBUG QUICKLIST-PACKED-THRESHOLD size`: validated as Redis does (a memory value up
    /// to 4 GB minus 1 MB; 0 restores the default). Strata's lists hold every element the
    /// same way, so there is no threshold to move.
    static func debugPackedThreshold(_ text: String) -> Reply {
        let limit = (1 << 32) - (1 << 20)
        guard let size = try? ConfigValueParsing.memory(text, 0...Int.max), size <= limit else {
            return .error("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
        }
        return .ok
    }

    /// `DEBUG CHANGE-REPL-ID`: a new random replication id (`master_replid`), and no
    /// previous one, as Redis does.
    func changeReplicationID() -> Reply {
        replication.replaceID(with: ServerCore.newReplicationID())
        logger.notice("Changed replication ID to \(replication.id)")
        return .ok
    }

    /// `DEBUG STRINGMATCH-TEST`: Redis's fuzzer of its glob matcher — random patterns
    /// against random strings, both of bytes below 128 and shorter than 32 — run against
    /// Strata's. It passes by not crashing or hanging. A fiftieth of Redis's ten million
    /// cycles: the server is stopped meanwhile, and a debug build is slow.
    func stringMatchFuzz(cycles: Int = 200_000) -> Reply {
        var generator = SystemRandomNumberGenerator()
        var matches = 0
        var pattern: [UInt8] = []
        var string: [UInt8] = []
        for _ in 0..<cycles {
            string.removeAll(keepingCapacity: true)
            pattern.removeAll(keepingCapacity: true)
            for _ in 0..<Int.random(in: 0..<32, using: &generator) {
                string.append(UInt8.random(in: 0..<128, using: &generator))
            }
            for _ in 0..<Int.random(in: 0..<32, using: &generator) {
                pattern.append(UInt8.random(in: 0..<128, using: &generator))
            }
            if GlobPattern.matches(Bytes(pattern), Bytes(string)) { matches += 1 }
        }
        logger.info("DEBUG STRINGMATCH-TEST: \(matches) matches in \(cycles) cycles")
        return .status("Apparently Redis did not crash: test passed")
    }

    /// `DEBUG PROTOCOL type`: one test value of each RESP3 type, as Redis sends them.
    static func debugProtocol(_ type: String, resp3: Bool) -> Reply {
        switch type.lowercased() {
        case "string": return .text("Hello World")
        case "integer": return .integer(12345)
        case "double": return .double(3.141)
        case "bignum": return .bigNumber("1234567999999999999999999999999999999")
        case "null": return .null
        case "array": return .array((0..<3).map { .integer($0) })
        case "set": return .set((0..<3).map { .integer($0) })
        case "map": return .map((0..<3).map { (.integer($0), .bool($0 == 1)) })
        case "attrib":
            return .attribute(
                [(.text("key-popularity"), .array([.text("key:123"), .integer(90)]))],
                .text("Some real reply following the attribute"))
        case "push":
            guard resp3 else { return .error("ERR RESP2 is not supported by this command") }
            return .sequence([
                .push([.text("server-cpu-usage"), .integer(42)]), .text("Some real reply following the push reply"),
            ])
        case "verbatim": return .verbatim("This is a verbatim\nstring")
        case "true": return .bool(true)
        case "false": return .bool(false)
        default:
            return .error(
                "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"
            )
        }
    }

    /// The lines of `DEBUG HELP`: Redis's text for the subcommands Strata has, then
    /// Strata's own.
    static let debugHelpLines = [
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANGE-REPL-ID",
        "    Change the replication IDs of the instance.",
        "    Dangerous: should be used only for testing the replication subsystem.",
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "RELOAD [option ...]",
        "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
        "    * MERGE: conflicting keys will be loaded from RDB.",
        "    * NOFLUSH: the existing database will not be removed before load, but",
        "      conflicting keys will generate an exception and kill the server.",
        "    * NOSAVE: the database will be loaded from an existing RDB file.",
        "    Examples:",
        "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
        "      the database.",
        "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
        "      existing RDB file.",
        "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
        "      file to the database.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "QUICKLIST-PACKED-THRESHOLD <size>",
        "    Sets the threshold for elements to be inserted as plain vs packed nodes",
        "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "STRINGMATCH-TEST",
        "    Run a fuzz tester against the stringmatchlen() function.",
        "FAULT SET <open|write|fsync|rename> <ENOSPC|EIO|EROFS|EACCES|EDQUOT|SHORT> [PATH <substring>] [SKIP <n>] [TIMES <n>]",
        "    Make that file operation fail (SHORT: writes of half the bytes) on matching paths,",
        "    after SKIP matching operations passed, TIMES times (default: until cleared).",
        "FAULT CLEAR", "    Remove every armed fault.", "FAULT LIST", "    The armed faults.",
        "HELP",
        "    Prints this help.",
    ]
}

/// How Redis 7.0 would lay a list out in its quicklist, for `DEBUG OBJECT`: elements
/// appended to listpack nodes while a node stays within `list-max-listpack-size` (bytes
/// for negative values, entries for positive ones), and each listpack's size.
struct QuicklistLayout {
    /// Nodes.
    private(set) var nodes = 0
    /// Listpack bytes in all nodes.
    private(set) var bytes = 0
    /// Elements per node.
    private(set) var averageNode = 0.0

    init<C: Collection>(_ elements: C, fill: Int) where C.Element == Bytes {
        let sizeLimits = [4096, 8192, 16384, 32768, 65536]
        let sizeLimit = fill < 0 ? sizeLimits[min(-(fill + 1), sizeLimits.count - 1)] : 8192
        let countLimit = fill < 0 ? Int.max : max(fill, 1)
        var nodeBytes = 0
        var nodeCount = 0
        for element in elements {
            let entry = QuicklistLayout.entrySize(element)
            let fits = nodeCount > 0 && nodeBytes + element.count + 8 <= sizeLimit && nodeCount + 1 <= countLimit
            if !fits {
                if nodeCount > 0 { bytes += nodeBytes }
                nodes += 1
                nodeBytes = 7  // header and end marker
                nodeCount = 0
            }
            nodeBytes += entry
            nodeCount += 1
        }
        if nodeCount > 0 { bytes += nodeBytes }
        averageNode = nodes == 0 ? 0 : Double(elements.count) / Double(nodes)
    }

    /// A listpack entry's bytes: its encoding (an integer when the element reads as one)
    /// and the back-length that follows it.
    static func entrySize(_ element: Bytes) -> Int {
        let encoded: Int
        if element.count <= 20, let n = element.strictInteger {
            switch n {
            case 0...127: encoded = 1
            case -4096...4095: encoded = 2
            case -32768...32767: encoded = 3
            case -8_388_608...8_388_607: encoded = 4
            case Int(Int32.min)...Int(Int32.max): encoded = 5
            default: encoded = 9
            }
        } else if element.count < 64 {
            encoded = 1 + element.count
        } else if element.count < 4096 {
            encoded = 2 + element.count
        } else {
            encoded = 5 + element.count
        }
        let back: Int
        switch encoded {
        case ..<128: back = 1
        case ..<16384: back = 2
        case ..<2_097_152: back = 3
        case ..<268_435_456: back = 4
        default: back = 5
        }
        return encoded + back
    }
}

extension ServerCore {
    /// `DEBUG POPULATE count [prefix] [size]`: string keys `<prefix>:<n>` (prefix `key`)
    /// holding `value:<n>`, cut or padded with zero bytes to `size`; keys already there are
    /// left alone. As in Redis nothing is logged or sent to replicas.
    func debugPopulate(_ args: [Bytes], db: Int, now: Int64) -> Reply {
        let positive = Reply.error("ERR value is out of range, must be positive")
        guard let count = Int(args[2].string), count >= 0 else { return positive }
        var size = 0
        if args.count == 5 {
            guard let parsed = Int(args[4].string), parsed >= 0 else { return positive }
            size = parsed
        }
        // Redis builds both in a 128-byte buffer; a bound also keeps one command from
        // wedging the server for hours.
        guard count <= 1 << 32, size <= config.protoMaxBulkLen else { return .error("ERR OOM in dictTryExpand") }
        let prefix = args.count >= 4 ? args[3].array : Array("key".utf8)
        for n in 0..<count {
            let key = Bytes(Array((prefix + Array(":\(n)".utf8)).prefix(127)))
            if engine.lookup(key, db: db, now: now) != nil { continue }
            var value = Array("value:\(n)".utf8)
            if size > 0 {
                value = Array(value.prefix(size))
                value += [UInt8](repeating: 0, count: size - value.count)
            }
            engine.store(key, .fromString(Bytes(value)), db: db, now: now)
        }
        return .ok
    }
}
