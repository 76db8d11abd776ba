//! Reads an RDB record stream (Redis 2.6 through 7.2's encodings of strings, lists, sets,
//! hashes and sorted sets, including LZF strings, ziplists, listpacks, intsets, zipmaps
//! and quicklists) into engine values, one record at a time. Streams and modules are
//! refused with an error naming the type.

import StrataEngine

/// One record of an RDB stream.
public enum RDBRecord: Equatable {
    /// An auxiliary field (`redis-ver`, `ctime`, ...).
    case aux(key: Bytes, value: Bytes)
    /// Following keys belong to this database.
    case selectDB(Int)
    /// The database's key and deadline counts, as a sizing hint.
    case resizeDB(keys: Int, expires: Int)
    /// A key, its value and its deadline (Unix ms).
    case entry(key: Bytes, value: Value, deadline: Int64?)
    /// A function library (Redis 7 functions): its code.
    case function(code: Bytes)
    /// The end; `checksumMatches` is nil when the file carries no checksum.
    case end(checksumMatches: Bool?)
}

/// Parses the records of an RDB stream.
final class RDBDecoder {
    private let stream: RDBStream
    private let settings: EngineSettings
    /// The RDB version from the header.
    private(set) var version = 0
    /// The memcached metadata of the entry `next()` returned last (from the
    /// `strata-item` AUX field written before it).
    private(set) var entryMetadata: ItemMetadata?
    /// Metadata read for the next entry.
    private var pendingMetadata: ItemMetadata?

    init(stream: RDBStream, settings: EngineSettings) {
        self.stream = stream
        self.settings = settings
    }

    /// Offset of the next byte in the RDB stream.
    var offset: Int { stream.offset }

    /// Reads and checks the `REDIS0010` header.
    func header() throws {
        let magic = try stream.withBytes(9) { Array($0) }
        guard magic.starts(with: Array("REDIS".utf8)), let v = Int(String(decoding: magic[5...], as: UTF8.self)) else {
            throw RDBError(offset: 0, reason: "not an RDB file (no REDIS header)")
        }
        guard v >= 1 && v <= RDB.newestReadableVersion else {
            throw RDBError(offset: 5, reason: "RDB version \(v) is not supported (newest readable: 11)")
        }
        version = v
    }

    /// The next record.
    func next() throws -> RDBRecord {
        var deadline: Int64?
        while true {
            let start = stream.offset
            let type = try stream.byte()
            switch type {
            case RDB.opAux:
                let key = try string()
                let value = try string()
                guard key.string == ItemMetadata.snapshotAuxField else {
                    pendingMetadata = nil
                    return .aux(key: key, value: value)
                }
                // One this reader cannot read (a later writer's) leaves the key without it.
                pendingMetadata = ItemMetadata(auxText: value)
            case RDB.opSelectDB:
                pendingMetadata = nil
                return .selectDB(try length())
            case RDB.opResizeDB:
                return .resizeDB(keys: try length(), expires: try length())
            case RDB.opExpireTimeMs:
                deadline = try stream.littleEndian(Int64.self)
            case RDB.opExpireTime:
                deadline = Int64(try stream.littleEndian(Int32.self)) * 1000
            case RDB.opFreq:
                _ = try stream.byte()
            case RDB.opIdle:
                _ = try length()
            case RDB.opFunction2:
                pendingMetadata = nil
                return .function(code: try string())
            case RDB.opEOF:
                guard version >= 5 else { return .end(checksumMatches: nil) }
                let computed = stream.checksumOfConsumed()
                let stored = try stream.littleEndian(UInt64.self)
                return .end(checksumMatches: stored == 0 ? nil : stored == computed)
            case RDB.opModuleAux, RDB.opFunctionPreGA:
                throw RDBError(offset: start, reason: "module data (opcode \(type)) is not supported")
            case RDB.typeStreamListpacks, RDB.typeStreamListpacks2, RDB.typeStreamListpacks3:
                let key = try string()
                let stream = try streamValue(type: type, at: start)
                (entryMetadata, pendingMetadata) = (nil, nil)
                return .entry(key: key, value: .stream(StreamStorage(stream)), deadline: deadline)
            default:
                let key = try string()
                let value = try self.value(type: type, at: start)
                (entryMetadata, pendingMetadata) = (pendingMetadata, nil)
                return .entry(key: key, value: value, deadline: deadline)
            }
        }
    }

    /// One value as a `DUMP` payload holds it: its type byte then its encoding (no key).
    func dumpValue() throws -> Value {
        let start = stream.offset
        let type = try stream.byte()
        switch type {
        case RDB.typeStreamListpacks, RDB.typeStreamListpacks2, RDB.typeStreamListpacks3:
            return .stream(StreamStorage(try streamValue(type: type, at: start)))
        default:
            return try value(type: type, at: start)
        }
    }

    // MARK: Primitives

    /// A length that may use all 64 bits (stream ids).
    private func unsignedLength() throws -> UInt64 {
        let first = try stream.byte()
        if first == 0x81 { return try stream.bigEndian(UInt64.self) }
        guard first >> 6 != 3 else { throw stream.error("a string encoding where a length was expected") }
        switch first >> 6 {
        case 0: return UInt64(first & 0x3F)
        case 1: return (UInt64(first & 0x3F) << 8) | UInt64(try stream.byte())
        default:
            guard first == 0x80 else { throw stream.error("bad length byte 0x\(String(first, radix: 16))") }
            return UInt64(try stream.bigEndian(UInt32.self))
        }
    }

    /// A stream value (types 15, 19, 21); consumer groups are refused for now.
    private func streamValue(type: UInt8, at start: Int) throws -> StreamValue {
        var value = StreamValue()
        let blocks = try length()
        for _ in 0..<blocks {
            let key = try string()
            let listpack = try string()
            do {
                try StreamRDB.appendBlock(key, listpack, to: &value)
            } catch let damage as CompactEncodings.Damaged {
                throw RDBError(offset: start, reason: "stream: \(damage.reason)")
            }
        }
        let length = try self.length()
        guard length == value.length else {
            throw RDBError(offset: start, reason: "stream length does not match its entries")
        }
        let last = StreamID(ms: try unsignedLength(), seq: try unsignedLength())
        guard value.length == 0 || last >= value.lastID else {
            throw RDBError(offset: start, reason: "stream last id is below its entries")
        }
        value.lastID = last
        if type != RDB.typeStreamListpacks {
            _ = StreamID(ms: try unsignedLength(), seq: try unsignedLength())  // first id: derived from the entries
            value.maxDeletedID = StreamID(ms: try unsignedLength(), seq: try unsignedLength())
            value.entriesAdded = try unsignedLength()
        } else {
            value.entriesAdded = UInt64(value.length)
        }
        let groups = try self.length()
        for _ in 0..<groups {
            let name = try string()
            let (group, orphans) = try streamGroup(type: type, in: value)
            guard orphans == 0 else {
                throw RDBError(offset: start, reason: "stream group '\(name)' has pending entries without a consumer")
            }
            guard value.groups.updateValue(group, forKey: name) == nil else {
                throw RDBError(offset: start, reason: "stream group '\(name)' appears twice")
            }
        }
        return value
    }

    /// A 16-byte big-endian stream id.
    private func rawStreamID() throws -> StreamID {
        try stream.withBytes(16) { raw in
            var ms: UInt64 = 0
            var seq: UInt64 = 0
            for byte in raw[0..<8] { ms = ms << 8 | UInt64(byte) }
            for byte in raw[8..<16] { seq = seq << 8 | UInt64(byte) }
            return StreamID(ms: ms, seq: seq)
        }
    }

    /// One consumer group after its name; also how many pending entries no consumer owns.
    private func streamGroup(type: UInt8, in value: StreamValue) throws -> (StreamGroup, Int) {
        let lastID = StreamID(ms: try unsignedLength(), seq: try unsignedLength())
        let entriesRead =
            type == RDB.typeStreamListpacks
            ? value.estimatedEntriesRead(upTo: lastID) : Int64(bitPattern: try unsignedLength())
        var group = StreamGroup(lastID: lastID, entriesRead: entriesRead)
        var unowned: [StreamID: (time: Int64, count: UInt64)] = [:]
        for _ in 0..<(try length()) {
            let id = try rawStreamID()
            unowned[id] = (try stream.littleEndian(Int64.self), try unsignedLength())
        }
        for _ in 0..<(try length()) {
            let name = try string()
            let seen = try stream.littleEndian(Int64.self)
            if type == RDB.typeStreamListpacks3 { _ = try stream.littleEndian(Int64.self) }  // active time
            group.consumers[name] = StreamConsumer(seenTime: seen)
            for _ in 0..<(try length()) {
                let id = try rawStreamID()
                guard let pending = unowned.removeValue(forKey: id) else {
                    throw stream.error("stream consumer entry \(id) is not in its group's pending list")
                }
                group.deliver(id, to: name, time: pending.time, count: pending.count)
            }
            group.consumers[name]?.seenTime = seen
        }
        return (group, unowned.count)
    }

    /// A length; `encoded` is set for the special string encodings (0b11 prefix).
    private func lengthOrEncoding() throws -> (value: Int, encoded: Bool) {
        let first = try stream.byte()
        switch first >> 6 {
        case 0: return (Int(first & 0x3F), false)
        case 1: return ((Int(first & 0x3F) << 8) | Int(try stream.byte()), false)
        case 3: return (Int(first & 0x3F), true)
        default:
            if first == 0x80 { return (Int(try stream.bigEndian(UInt32.self)), false) }
            if first == 0x81 {
                let n = try stream.bigEndian(UInt64.self)
                guard n <= UInt64(Int.max) else { throw stream.error("length overflows") }
                return (Int(n), false)
            }
            throw stream.error("bad length byte 0x\(String(first, radix: 16))")
        }
    }

    func length() throws -> Int {
        let (n, encoded) = try lengthOrEncoding()
        guard !encoded else { throw stream.error("a string encoding where a length was expected") }
        return n
    }

    /// A string in any of its encodings.
    func string() throws -> Bytes {
        let (n, encoded) = try lengthOrEncoding()
        if !encoded { return try stream.withBytes(n) { Bytes($0) } }
        switch UInt8(n) {
        case RDB.encodingInt8: return Bytes(Int(Int8(bitPattern: try stream.byte())))
        case RDB.encodingInt16: return Bytes(Int(try stream.littleEndian(Int16.self)))
        case RDB.encodingInt32: return Bytes(Int(try stream.littleEndian(Int32.self)))
        case RDB.encodingLZF:
            let compressed = try length()
            let expected = try length()
            // A back reference of at most 264 bytes takes 3 bytes: nothing expands further.
            guard expected <= 1 << 32, expected / 88 <= compressed else {
                throw stream.error("LZF string of \(expected) bytes")
            }
            return try stream.withBytes(compressed) { raw in
                guard let bytes = LZF.decompress(raw, expected: expected) else {
                    throw stream.error("damaged LZF-compressed string")
                }
                return Bytes(bytes)
            }
        default:
            throw stream.error("unknown string encoding \(n)")
        }
    }

    /// A string-encoded double (`ZSET` version 1 scores).
    private func textDouble() throws -> Double {
        let n = try stream.byte()
        switch n {
        case 253: return .nan
        case 254: return .infinity
        case 255: return -.infinity
        default:
            let text = try stream.withBytes(Int(n)) { String(decoding: $0, as: UTF8.self) }
            guard let value = Double(text) else { throw stream.error("bad score \(text)") }
            return value
        }
    }

    /// Decodes a compact blob (read as a string), reporting damage at `offset`.
    private func blob(_ decode: (UnsafeRawBufferPointer) throws -> [Bytes]) throws -> [Bytes] {
        let at = stream.offset
        let bytes = try string()
        do {
            return try bytes.withUnsafeBytes(decode)
        } catch let damage as CompactEncodings.Damaged {
            throw RDBError(offset: at, reason: damage.reason)
        }
    }

    // MARK: Values

    private func value(type: UInt8, at start: Int) throws -> Value {
        switch type {
        case RDB.typeString:
            return .fromString(try string())
        case RDB.typeList:
            let n = try length()
            var elements: [Bytes] = []
            elements.reserveCapacity(Swift.min(n, 1 << 20))
            for _ in 0..<n { elements.append(try string()) }
            return .list(ListValue(elements))
        case RDB.typeListZiplist:
            return .list(ListValue(try blob(CompactEncodings.ziplist)))
        case RDB.typeListQuicklist, RDB.typeListQuicklist2:
            let nodes = try length()
            var elements: [Bytes] = []
            for _ in 0..<nodes {
                if type == RDB.typeListQuicklist {
                    elements += try blob(CompactEncodings.ziplist)
                } else {
                    let container = try length()
                    if container == 1 {
                        elements.append(try string())  // a plain node: one large element
                    } else {
                        elements += try blob(CompactEncodings.listpack)
                    }
                }
            }
            return .list(ListValue(elements))
        case RDB.typeSet:
            let n = try length()
            var set = SetValue()
            // As Redis 7.0, a repeated member is damage (in an intset too).
            for _ in 0..<n {
                guard set.insert(try string(), limits: settings.setLimits) else {
                    throw RDBError(offset: start, reason: "duplicate set members")
                }
            }
            return .set(set)
        case RDB.typeSetIntset:
            return .set(SetValue(try blob(CompactEncodings.intset), limits: settings.setLimits))
        case RDB.typeSetListpack:
            return .set(SetValue(try blob(CompactEncodings.listpack), limits: settings.setLimits))
        case RDB.typeHash:
            let n = try length()
            var hash = HashValue()
            // As Redis 7.0: a repeated field is damage once the hash is a hash table (from the
            // start when it is large, or from a long field or value on); before that, repeats
            // are merged (Redis keeps both in its listpack and fails when converting it).
            let limits = settings.hashLimits
            var compact = n <= limits.maxListpackEntries
            var repeated = false
            for _ in 0..<n {
                let (field, value) = (try string(), try string())
                compact = compact && field.count <= limits.maxListpackValue && value.count <= limits.maxListpackValue
                let isNew = hash.set(field, value, limits: limits)
                repeated = repeated || !isNew
                if !compact && repeated { throw RDBError(offset: start, reason: "duplicate hash fields") }
            }
            return .hash(hash)
        case RDB.typeHashZiplist, RDB.typeHashListpack, RDB.typeHashZipmap:
            let decode =
                [RDB.typeHashZiplist: CompactEncodings.ziplist, RDB.typeHashListpack: CompactEncodings.listpack][
                    type] ?? CompactEncodings.zipmap
            let flat = try blob(decode)
            guard flat.count % 2 == 0 else {
                throw RDBError(offset: start, reason: "hash blob with an odd entry count")
            }
            var hash = HashValue()
            for i in stride(from: 0, to: flat.count, by: 2) {
                hash.set(flat[i], flat[i + 1], limits: settings.hashLimits)
            }
            return .hash(hash)
        case RDB.typeZSet, RDB.typeZSet2:
            let n = try length()
            var members: [ScoredMember] = []
            members.reserveCapacity(Swift.min(n, 1 << 20))
            for _ in 0..<n {
                let member = try string()
                let score =
                    type == RDB.typeZSet2 ? Double(bitPattern: try stream.littleEndian(UInt64.self)) : try textDouble()
                guard !score.isNaN else { throw RDBError(offset: start, reason: "sorted set score is NaN") }
                members.append(ScoredMember(score: score, member: member))
            }
            let zset = SortedSetValue(deduplicating: members, limits: settings.sortedSetLimits)
            guard zset.count == n else { throw RDBError(offset: start, reason: "duplicate sorted set members") }
            return .sortedSet(zset)
        case RDB.typeZSetZiplist, RDB.typeZSetListpack:
            let flat = try blob(type == RDB.typeZSetZiplist ? CompactEncodings.ziplist : CompactEncodings.listpack)
            guard flat.count % 2 == 0 else {
                throw RDBError(offset: start, reason: "zset blob with an odd entry count")
            }
            var members: [ScoredMember] = []
            for i in stride(from: 0, to: flat.count, by: 2) {
                guard let score = flat[i + 1].strictDouble ?? Double(flat[i + 1].string) else {
                    throw RDBError(offset: start, reason: "bad score in a zset blob")
                }
                members.append(ScoredMember(score: score, member: flat[i]))
            }
            return .sortedSet(SortedSetValue(deduplicating: members, limits: settings.sortedSetLimits))
        case RDB.typeStreamListpacks, RDB.typeStreamListpacks2, RDB.typeStreamListpacks3:
            throw RDBError(offset: start, reason: "streams (RDB type \(type)) are not supported yet")
        case RDB.typeModule, RDB.typeModule2:
            throw RDBError(offset: start, reason: "module values (RDB type \(type)) are not supported")
        default:
            throw RDBError(offset: start, reason: "unknown RDB type \(type)")
        }
    }
}
