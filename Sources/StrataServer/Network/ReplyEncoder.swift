import NIOCore
import RESP
import StrataEngine

/// Encodes engine replies as RESP2 or RESP3 into an outgoing buffer.
enum ReplyEncoder {
    /// Appends `reply` to `buffer` in the client's protocol version.
    static func write(_ reply: Reply, into buffer: inout ByteBuffer, version: RESPVersion) {
        switch reply {
        case .ok:
            buffer.writeStaticString("+OK\r\n")
        case .status(let text):
            buffer.writeRESPSimpleString(text)
        case .error(let message):
            buffer.writeRESPError(message)
        case .integer(let n):
            buffer.writeRESPInteger(n)
        case .bulk(let bytes):
            bytes.withUnsafeBytes { buffer.writeRESPBulk($0) }
        case .null:
            buffer.writeRESPNull(version)
        case .nullArray:
            buffer.writeRESPNullArray(version)
        case .array(let items):
            buffer.writeRESPHeader(UInt8(ascii: "*"), count: items.count)
            for item in items { write(item, into: &buffer, version: version) }
        case .blockedOn:
            // Never sent: the server parks the client instead. Defensive: a timeout reply.
            buffer.writeRESPNullArray(version)
        case .push(let items):
            buffer.writeRESPHeader(version == .resp3 ? UInt8(ascii: ">") : UInt8(ascii: "*"), count: items.count)
            for item in items { write(item, into: &buffer, version: version) }
        case .sequence(let replies):
            for reply in replies { write(reply, into: &buffer, version: version) }
        case .set(let items):
            buffer.writeRESPHeader(version == .resp3 ? UInt8(ascii: "~") : UInt8(ascii: "*"), count: items.count)
            for item in items { write(item, into: &buffer, version: version) }
        case .map(let pairs):
            if version == .resp3 {
                buffer.writeRESPHeader(UInt8(ascii: "%"), count: pairs.count)
            } else {
                buffer.writeRESPHeader(UInt8(ascii: "*"), count: pairs.count * 2)
            }
            for (key, value) in pairs {
                write(key, into: &buffer, version: version)
                write(value, into: &buffer, version: version)
            }
        case .members(let members, let withScores):
            writeMembers(members, withScores: withScores, into: &buffer, version: version)
        case .pairs(let pairs):
            if version == .resp3 {
                buffer.writeRESPHeader(UInt8(ascii: "*"), count: pairs.count)
                for (first, second) in pairs {
                    buffer.writeRESPHeader(UInt8(ascii: "*"), count: 2)
                    write(first, into: &buffer, version: version)
                    write(second, into: &buffer, version: version)
                }
            } else {
                buffer.writeRESPHeader(UInt8(ascii: "*"), count: pairs.count * 2)
                for (first, second) in pairs {
                    write(first, into: &buffer, version: version)
                    write(second, into: &buffer, version: version)
                }
            }
        case .keyed(let pairs):
            if version == .resp3 {
                write(.map(pairs), into: &buffer, version: version)
            } else {
                buffer.writeRESPHeader(UInt8(ascii: "*"), count: pairs.count)
                for (key, value) in pairs {
                    buffer.writeRESPHeader(UInt8(ascii: "*"), count: 2)
                    write(key, into: &buffer, version: version)
                    write(value, into: &buffer, version: version)
                }
            }
        case .double(let value):
            if let integral = NumberFormat.integral(value) {
                buffer.writeRESPDouble(integral: integral, version)  // no formatting, no allocation
            } else {
                buffer.writeRESPDouble(formatted: NumberFormat.double(value), version)
            }
        case .formattedDouble(let text):
            buffer.writeRESPDouble(formatted: text, version)
        case .bool(let value):
            buffer.writeRESPBool(value, version)
        case .verbatim(let text):
            buffer.writeRESPVerbatim(text, version)
        case .bigNumber(let digits):
            if version == .resp3 {
                buffer.writeInteger(UInt8(ascii: "("))
                buffer.writeString(digits)
                buffer.writeStaticString("\r\n")
            } else {
                write(.bulk(Bytes(digits)), into: &buffer, version: version)
            }
        case .attribute(let attributes, let reply):
            if version == .resp3 {
                buffer.writeRESPHeader(UInt8(ascii: "|"), count: attributes.count)
                for (key, value) in attributes {
                    write(key, into: &buffer, version: version)
                    write(value, into: &buffer, version: version)
                }
            }
            write(reply, into: &buffer, version: version)
        }
    }

    /// Writes sorted-set members as ``Reply/expanded`` would encode them. Without scores
    /// the bulk strings go into one reservation of the buffer, written in place; members are
    /// read where they are stored, not copied out.
    private static func writeMembers(
        _ members: [ScoredMember], withScores: Bool, into buffer: inout ByteBuffer, version: RESPVersion
    ) {
        let nested = withScores && version == .resp3
        buffer.writeRESPHeader(UInt8(ascii: "*"), count: withScores && !nested ? members.count * 2 : members.count)
        members.withUnsafeBufferPointer { items in
            if withScores {
                for index in items.indices {
                    if nested { buffer.writeStaticString("*2\r\n") }
                    items[index].member.withUnsafeBytes { buffer.writeRESPBulk($0) }
                    write(.double(items[index].score), into: &buffer, version: version)
                }
                return
            }
            var room = 0
            for index in items.indices { room &+= RESPDigits.bulkRoom(items[index].member.count) }
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { out in
                guard let base = out.baseAddress else { return 0 }
                var written = 0
                for index in items.indices {
                    written &+= items[index].member.withUnsafeBytes { RESPDigits.writeBulk($0, to: base + written) }
                }
                return written
            }
        }
    }
}
