//! A block of consecutive stream entries packed into one byte array, as Redis packs them
//! into a listpack under its radix tree: each entry stores its id as a delta from the
//! block's first id (two varints) and, when its field names equal the block's first
//! entry's, only the values. A deleted entry keeps a tombstone flag until the block is
//! rewritten. About 6 bytes of overhead per entry plus the values: the memory bar of
//! streams (≤ 1.5× Redis per entry) depends on this.

/// How large a stream block grows (`stream-node-max-entries`, `stream-node-max-bytes`;
/// 0 is no limit).
public struct StreamLimits: Sendable, Equatable {
    /// Most entries in a block (default 100).
    public var maxEntries = 100
    /// Most bytes of a block (default 4096).
    public var maxBytes = 4096

    /// Limits of blocks.
    public init(maxEntries: Int = 100, maxBytes: Int = 4096) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }
}

/// One entry of a stream.
public struct StreamEntry: Sendable, Equatable {
    /// Its id.
    public var id: StreamID
    /// Field, value, field, value, ...
    public var fields: [Bytes]

    /// An entry.
    public init(id: StreamID, fields: [Bytes]) {
        self.id = id
        self.fields = fields
    }
}

/// A packed block of entries; shared between copies of a stream until one writes.
public final class StreamNode: @unchecked Sendable {

    /// The id deltas are taken from.
    public let base: StreamID
    /// The first entry's field names (values dropped), which later entries may share.
    let masterFields: [Bytes]
    /// The packed entries.
    var bytes: [UInt8] = []
    /// Entries stored, deleted ones included.
    public internal(set) var stored = 0
    /// Entries live.
    public internal(set) var live = 0
    /// The last id stored.
    public internal(set) var lastID: StreamID

    private static let deletedFlag: UInt8 = 1
    private static let sameFieldsFlag: UInt8 = 2

    init(first entry: StreamEntry) {
        base = entry.id
        lastID = entry.id
        masterFields = stride(from: 0, to: entry.fields.count, by: 2).map { entry.fields[$0] }
        append(entry)
    }

    /// A copy, for copy-on-write.
    func copy() -> StreamNode {
        let node = StreamNode(base: base, masterFields: masterFields, lastID: lastID)
        node.bytes = bytes
        node.stored = stored
        node.live = live
        return node
    }

    private init(base: StreamID, masterFields: [Bytes], lastID: StreamID) {
        self.base = base
        self.masterFields = masterFields
        self.lastID = lastID
    }

    /// Whether another entry fits under `limits`.
    func isFull(_ limits: StreamLimits) -> Bool {
        (limits.maxEntries > 0 && stored >= limits.maxEntries)
            || (limits.maxBytes > 0 && bytes.count >= limits.maxBytes)
    }

    /// Appends an entry whose id is greater than every id stored.
    func append(_ entry: StreamEntry) {
        let pairs = entry.fields.count / 2
        var same = pairs == masterFields.count
        if same {
            for index in 0..<pairs where entry.fields[index * 2] != masterFields[index] {
                same = false
                break
            }
        }
        bytes.append(same ? StreamNode.sameFieldsFlag : 0)
        let msDelta = entry.id.ms - base.ms
        StreamNode.writeVarint(msDelta, to: &bytes)
        StreamNode.writeVarint(msDelta == 0 ? entry.id.seq - base.seq : entry.id.seq, to: &bytes)
        StreamNode.writeVarint(UInt64(pairs), to: &bytes)
        for (index, field) in entry.fields.enumerated() where !same || index % 2 == 1 {
            StreamNode.writeVarint(UInt64(field.count), to: &bytes)
            field.withUnsafeBytes { bytes.append(contentsOf: $0) }
        }
        stored += 1
        live += 1
        lastID = entry.id
    }

    /// Calls `body` with the offset and entry of every live entry, in id order, until it
    /// returns false.
    func forEach(_ body: (Int, StreamEntry) -> Bool) {
        var offset = 0
        while offset < bytes.count {
            let start = offset
            let (entry, deleted, next) = decode(at: offset)
            offset = next
            if !deleted && !body(start, entry) { return }
        }
    }

    /// Calls `body` with the offset and id of every live entry, in id order, until it
    /// returns false; fields are skipped, not decoded.
    func forEachID(_ body: (Int, StreamID) -> Bool) {
        var offset = 0
        while offset < bytes.count {
            let start = offset
            let flags = bytes[offset]
            offset += 1
            let msDelta = readVarint(&offset)
            let seqPart = readVarint(&offset)
            let pairs = Int(readVarint(&offset))
            let stored = flags & StreamNode.sameFieldsFlag != 0 ? pairs : pairs * 2
            for _ in 0..<stored { offset += Int(readVarint(&offset)) }
            if flags & StreamNode.deletedFlag != 0 { continue }
            let id = StreamID(ms: base.ms + msDelta, seq: msDelta == 0 ? base.seq + seqPart : seqPart)
            if !body(start, id) { return }
        }
    }

    /// The entry stored at `offset` (from ``forEachID(_:)``).
    func entry(at offset: Int) -> StreamEntry { decode(at: offset).0 }

    /// The first live id.
    var firstLiveID: StreamID? {
        var first: StreamID?
        forEachID { _, id in
            first = id
            return false
        }
        return first
    }

    /// The last live id.
    var lastLiveID: StreamID? {
        var last: StreamID?
        forEachID { _, id in
            last = id
            return true
        }
        return last
    }

    /// Gives the byte array back its spare capacity (a full block never grows again).
    func shrink() {
        if bytes.capacity > bytes.count + 16 { bytes = bytes.withUnsafeBufferPointer { Array($0) } }
    }

    /// The live entries, in id order.
    var entries: [StreamEntry] {
        var all: [StreamEntry] = []
        all.reserveCapacity(live)
        forEach { _, entry in
            all.append(entry)
            return true
        }
        return all
    }

    /// Marks the entry at `offset` deleted.
    func markDeleted(at offset: Int) {
        bytes[offset] |= StreamNode.deletedFlag
        live -= 1
    }

    private func decode(at start: Int) -> (StreamEntry, Bool, Int) {
        var offset = start
        let flags = bytes[offset]
        offset += 1
        let msDelta = readVarint(&offset)
        let seqPart = readVarint(&offset)
        let id = StreamID(ms: base.ms + msDelta, seq: msDelta == 0 ? base.seq + seqPart : seqPart)
        let pairs = Int(readVarint(&offset))
        let same = flags & StreamNode.sameFieldsFlag != 0
        var fields: [Bytes] = []
        fields.reserveCapacity(pairs * 2)
        for index in 0..<(pairs * 2) {
            if same && index % 2 == 0 {
                fields.append(masterFields[index / 2])
                continue
            }
            let length = Int(readVarint(&offset))
            fields.append(
                bytes.withUnsafeBytes { Bytes(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + length)])) })
            offset += length
        }
        return (StreamEntry(id: id, fields: fields), flags & StreamNode.deletedFlag != 0, offset)
    }

    private func readVarint(_ offset: inout Int) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    static func writeVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Bytes held, for MEMORY USAGE and eviction.
    var footprint: Int { bytes.capacity + 64 + masterFields.reduce(0) { $0 + $1.count + 16 } }
}
