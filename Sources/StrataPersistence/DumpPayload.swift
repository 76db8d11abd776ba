//! The payload of `DUMP` and `RESTORE` (and what `MIGRATE` sends): one value in RDB form
//! (its type byte and encoding), then the RDB version as two little-endian bytes, then the
//! CRC-64 of everything before it, little-endian. Values are written in the encodings Redis
//! 7.0 itself chooses (quicklist of listpacks for lists, intset for small integer sets,
//! listpacks for small hashes and sorted sets), so that small values dump to the same bytes
//! as in Redis; the reader is the snapshot loader's, so it takes every encoding Redis 6.2
//! to 7.0 writes and refuses damage with an error.

import StrataEngine

/// Encodes and decodes `DUMP` payloads.
public enum DumpPayload {
    /// Why a payload was refused, as `RESTORE` tells the two cases apart.
    public enum Failure: Error, Equatable {
        /// Shorter than its footer, from a newer RDB version, or the checksum does not match.
        case versionOrChecksum
        /// The value inside cannot be decoded (damaged, empty, or of an unknown type).
        case badFormat
    }

    /// The RDB version written into payloads, and the newest accepted (Redis 7.0's).
    public static let version = RDB.writtenVersion

    /// The payload of `value`.
    public static func encode(_ value: Value) -> Bytes {
        var encoder = RDBEncoder()
        encoder.dumpValue(value)
        withUnsafeBytes(of: UInt16(version).littleEndian) { encoder.bytes.append(contentsOf: $0) }
        var checksum = CRC64()
        checksum.update(encoder.bytes)
        withUnsafeBytes(of: checksum.value.littleEndian) { encoder.bytes.append(contentsOf: $0) }
        return Bytes(encoder.bytes)
    }

    /// Checks the footer of `payload` (version, then checksum) and decodes its value.
    ///
    /// - Throws: ``Failure``.
    public static func decode(_ payload: Bytes, settings: EngineSettings) throws -> Value {
        let raw = payload.array
        guard raw.count >= 10 else { throw Failure.versionOrChecksum }
        let footer = raw.count - 10
        let payloadVersion = Int(raw[footer]) | Int(raw[footer + 1]) << 8
        guard payloadVersion <= version else { throw Failure.versionOrChecksum }
        var checksum = CRC64()
        raw.withUnsafeBytes { checksum.update(UnsafeRawBufferPointer(rebasing: $0[0..<(footer + 2)])) }
        var stored: UInt64 = 0
        for k in 0..<8 { stored |= UInt64(raw[footer + 2 + k]) << (8 * UInt64(k)) }
        guard stored == checksum.value else { throw Failure.versionOrChecksum }
        // As Redis, the value is read from the whole payload: a value that runs into the
        // footer reads the footer's bytes rather than failing.
        var body: [UInt8]? = raw
        let decoder = RDBDecoder(
            stream: RDBStream {
                defer { body = nil }
                return body
            }, settings: settings)
        let value: Value
        do {
            value = try decoder.dumpValue()
        } catch {
            throw Failure.badFormat
        }
        guard !value.isEmptyCollection else { throw Failure.badFormat }
        return value
    }
}

extension Value {
    /// A list, set, hash or sorted set without elements, which Redis refuses to load (an
    /// empty stream is a valid value).
    var isEmptyCollection: Bool {
        switch self {
        case .list(let list): return list.count == 0
        case .set(let set): return set.count == 0
        case .hash(let hash): return hash.count == 0
        case .sortedSet(let zset): return zset.count == 0
        case .shortString, .longString, .rawString, .integer, .stream: return false
        }
    }
}
