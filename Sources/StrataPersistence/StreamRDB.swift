//! Streams in RDB form (Redis 7.0 `RDB_TYPE_STREAM_LISTPACKS_2`, type 19; types 15 and 21
//! are read too): the entries as listpacks under 16-byte big-endian master ids, in Redis's
//! layout (a master entry with the block's field names, then per entry flags, id deltas,
//! fields or values, and a back-count), then the length, last id, first id, max deleted id
//! and entries added, then the consumer groups (name, last id, entries read, the pending
//! entries with their delivery time and count, the consumers with their seen time and the
//! ids they own).

import StrataEngine

/// Writes listpacks (Redis's `listpack.c` layout): a 6-byte header, entries each followed
/// by their back-length, and 0xFF.
struct ListpackWriter {
    private(set) var body: [UInt8] = []
    private(set) var count = 0

    mutating func append(_ value: Int64) {
        let start = body.count
        switch value {
        case 0...127:
            body.append(UInt8(value))
        case -4096...4095:
            let raw = UInt16(bitPattern: Int16(value)) & 0x1FFF
            body += [0xC0 | UInt8(raw >> 8), UInt8(raw & 0xFF)]
        case Int64(Int16.min)...Int64(Int16.max):
            body.append(0xF1)
            withUnsafeBytes(of: Int16(value).littleEndian) { body += $0 }
        case -8_388_608...8_388_607:
            body.append(0xF2)
            withUnsafeBytes(of: Int32(value).littleEndian) { body += $0.prefix(3) }
        case Int64(Int32.min)...Int64(Int32.max):
            body.append(0xF3)
            withUnsafeBytes(of: Int32(value).littleEndian) { body += $0 }
        default:
            body.append(0xF4)
            withUnsafeBytes(of: value.littleEndian) { body += $0 }
        }
        finish(from: start)
    }

    mutating func append(_ string: Bytes) {
        let start = body.count
        let length = string.count
        if length < 64 {
            body.append(0x80 | UInt8(length))
        } else if length < 4096 {
            body += [0xE0 | UInt8(length >> 8), UInt8(length & 0xFF)]
        } else {
            body.append(0xF0)
            withUnsafeBytes(of: UInt32(length).littleEndian) { body += $0 }
        }
        string.withUnsafeBytes { body += $0 }
        finish(from: start)
    }

    private mutating func finish(from start: Int) {
        let length = body.count - start
        switch length {
        case 0...127: body.append(UInt8(length))
        case 128..<16383: body += [UInt8(length >> 7), UInt8(length & 127) | 128]
        case 16383..<2_097_151:
            body += [UInt8(length >> 14), UInt8((length >> 7) & 127) | 128, UInt8(length & 127) | 128]
        case 2_097_151..<268_435_455:
            body += [
                UInt8(length >> 21), UInt8((length >> 14) & 127) | 128, UInt8((length >> 7) & 127) | 128,
                UInt8(length & 127) | 128,
            ]
        default:
            body += [
                UInt8(length >> 28), UInt8((length >> 21) & 127) | 128, UInt8((length >> 14) & 127) | 128,
                UInt8((length >> 7) & 127) | 128, UInt8(length & 127) | 128,
            ]
        }
        count += 1
    }

    /// The complete listpack.
    var bytes: [UInt8] {
        let total = UInt32(6 + body.count + 1)
        var out: [UInt8] = []
        out.reserveCapacity(Int(total))
        withUnsafeBytes(of: total.littleEndian) { out += $0 }
        withUnsafeBytes(of: UInt16(min(count, 65535)).littleEndian) { out += $0 }
        out += body
        out.append(0xFF)
        return out
    }
}

/// Stream encoding and decoding.
enum StreamRDB {
    static let sameFields: Int64 = 2
    static let deleted: Int64 = 1

    /// The 16-byte big-endian key of a block.
    static func masterKey(_ id: StreamID) -> Bytes {
        var raw: [UInt8] = []
        withUnsafeBytes(of: id.ms.bigEndian) { raw += $0 }
        withUnsafeBytes(of: id.seq.bigEndian) { raw += $0 }
        return Bytes(raw)
    }

    /// The listpacks of a stream: one per run of up to `entriesPerNode` entries.
    static func listpacks(_ stream: StreamValue, entriesPerNode: Int = 100) -> [(StreamID, [UInt8])] {
        let entries = stream.range(from: .zero, to: .max)
        var out: [(StreamID, [UInt8])] = []
        var start = 0
        while start < entries.count {
            let block = entries[start..<min(start + entriesPerNode, entries.count)]
            start += block.count
            guard let first = block.first else { break }
            let master = first.id
            let masterFields = stride(from: 0, to: first.fields.count, by: 2).map { first.fields[$0] }
            var writer = ListpackWriter()
            writer.append(Int64(block.count))
            writer.append(0)
            writer.append(Int64(masterFields.count))
            for field in masterFields { writer.append(field) }
            writer.append(0)
            for entry in block {
                let names = stride(from: 0, to: entry.fields.count, by: 2).map { entry.fields[$0] }
                let same = names == masterFields
                writer.append(same ? sameFields : 0)
                writer.append(Int64(bitPattern: entry.id.ms &- master.ms))
                writer.append(Int64(bitPattern: entry.id.seq &- master.seq))
                if !same { writer.append(Int64(names.count)) }
                for (index, item) in entry.fields.enumerated() where !same || index % 2 == 1 { writer.append(item) }
                writer.append(Int64(names.count + 3 + (same ? 0 : names.count + 1)))
            }
            out.append((master, writer.bytes))
        }
        return out
    }

    /// Decodes one block's listpack into `stream`, checking ids increase.
    static func appendBlock(_ key: Bytes, _ listpack: Bytes, to stream: inout StreamValue) throws {
        let raw = key.array
        guard raw.count == 16 else { throw CompactEncodings.Damaged(reason: "stream node key is not 16 bytes") }
        var ms: UInt64 = 0
        var seq: UInt64 = 0
        for byte in raw[0..<8] { ms = ms << 8 | UInt64(byte) }
        for byte in raw[8..<16] { seq = seq << 8 | UInt64(byte) }
        let items = try listpack.withUnsafeBytes { try CompactEncodings.listpack($0) }
        var position = 0
        func next() throws -> Bytes {
            guard position < items.count else { throw CompactEncodings.Damaged(reason: "stream listpack ends early") }
            defer { position += 1 }
            return items[position]
        }
        func number() throws -> Int64 {
            guard let value = Int64(try next().string) else {
                throw CompactEncodings.Damaged(reason: "stream listpack field is not a number")
            }
            return value
        }
        let live = try number()
        let dead = try number()
        let fieldCount = try number()
        guard live >= 0, dead >= 0, live < 1 << 32, dead < 1 << 32, fieldCount >= 0, fieldCount < 1 << 20 else {
            throw CompactEncodings.Damaged(reason: "bad stream master entry")
        }
        var masterFields: [Bytes] = []
        for _ in 0..<fieldCount { masterFields.append(try next()) }
        _ = try next()  // the master entry's terminator
        for _ in 0..<(live + dead) {
            let flags = try number()
            let id = StreamID(
                ms: ms &+ UInt64(bitPattern: try number()), seq: seq &+ UInt64(bitPattern: try number()))
            var fields: [Bytes] = []
            if flags & sameFields != 0 {
                for name in masterFields {
                    fields.append(name)
                    fields.append(try next())
                }
            } else {
                let count = try number()
                guard count >= 0, count < 1 << 20 else { throw CompactEncodings.Damaged(reason: "bad stream entry") }
                for _ in 0..<(count * 2) { fields.append(try next()) }
            }
            _ = try next()  // lp-count
            if flags & deleted != 0 { continue }
            guard id > stream.lastID, id > .zero else {
                throw CompactEncodings.Damaged(reason: "stream entry ids do not increase")
            }
            stream.append(StreamEntry(id: id, fields: fields))
        }
    }
}

extension RDBEncoder {
    /// A stream value (type 19), without consumer groups.
    mutating func stream(_ stream: StreamValue) {
        let blocks = StreamRDB.listpacks(stream)
        length(blocks.count)
        for (master, listpack) in blocks {
            rawString(StreamRDB.masterKey(master))
            rawString(Bytes(listpack))
        }
        length(stream.length)
        length(unsigned: stream.lastID.ms)
        length(unsigned: stream.lastID.seq)
        let first = stream.firstID ?? .zero
        length(unsigned: first.ms)
        length(unsigned: first.seq)
        length(unsigned: stream.maxDeletedID.ms)
        length(unsigned: stream.maxDeletedID.seq)
        length(unsigned: stream.entriesAdded)
        length(stream.groups.count)
        for name in stream.groupNames {
            guard let group = stream.groups[name] else { continue }
            rawString(name)
            length(unsigned: group.lastID.ms)
            length(unsigned: group.lastID.seq)
            length(unsigned: UInt64(bitPattern: group.entriesRead))
            length(group.pending.count)
            group.pending.forEach { id, entry in
                bytes.append(contentsOf: StreamRDB.masterKey(id).array)
                withUnsafeBytes(of: entry.deliveryTime.littleEndian) { bytes.append(contentsOf: $0) }
                length(unsigned: entry.deliveryCount)
                return true
            }
            length(group.consumers.count)
            for consumerName in group.consumerNames {
                guard let consumer = group.consumers[consumerName] else { continue }
                rawString(consumerName)
                withUnsafeBytes(of: consumer.seenTime.littleEndian) { bytes.append(contentsOf: $0) }
                length(consumer.pending)
                group.pending.forEach { id, entry in
                    if entry.consumer == consumerName { bytes.append(contentsOf: StreamRDB.masterKey(id).array) }
                    return true
                }
            }
        }
    }

    /// An unsigned length (stream ids use all 64 bits).
    mutating func length(unsigned n: UInt64) {
        if n <= UInt64(UInt32.max) {
            length(Int(n))
        } else {
            bytes.append(0x81)
            withUnsafeBytes(of: n.bigEndian) { bytes.append(contentsOf: $0) }
        }
    }

    /// A string written as is (never as an integer).
    mutating func rawString(_ value: Bytes) {
        length(value.count)
        value.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }
}
