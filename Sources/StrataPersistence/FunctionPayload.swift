//! Function libraries in RDB form: `FUNCTION DUMP`'s payload (Redis's DUMP layout: the
//! records, then the RDB version as 2 bytes and a CRC-64 as 8 bytes, little-endian) and
//! the `FUNCTION2` records (opcode 0xF5, the library's code as a string) that snapshots
//! carry before the first database.

import StrataEngine

/// Encoding and decoding of function library payloads.
public enum FunctionPayload {
    /// `FUNCTION DUMP`'s payload for libraries with `codes`.
    public static func encode(_ codes: [Bytes]) -> Bytes {
        var encoder = RDBEncoder()
        for code in codes { encoder.function(code) }
        let version = UInt16(RDB.writtenVersion)
        encoder.bytes += [UInt8(version & 0xFF), UInt8(version >> 8)]
        var checksum = CRC64()
        checksum.update(encoder.bytes)
        withUnsafeBytes(of: checksum.value.littleEndian) { encoder.bytes += $0 }
        return Bytes(encoder.bytes)
    }

    /// The library codes of a `FUNCTION RESTORE` payload; throws Redis's error text.
    public static func decode(_ payload: Bytes) throws(PayloadError) -> [Bytes] {
        let bytes = payload.array
        guard bytes.count >= 10 else { throw PayloadError("ERR DUMP payload version or checksum are wrong") }
        let version = Int(bytes[bytes.count - 10]) | Int(bytes[bytes.count - 9]) << 8
        var checksum = CRC64()
        bytes.withUnsafeBytes { checksum.update(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 8)])) }
        var stored: UInt64 = 0
        for (shift, byte) in bytes.suffix(8).enumerated() { stored |= UInt64(byte) << (8 * UInt64(shift)) }
        guard version <= RDB.newestReadableVersion, stored == checksum.value else {
            throw PayloadError("ERR DUMP payload version or checksum are wrong")
        }
        var delivered = false
        let body = Array(bytes[0..<(bytes.count - 10)])
        let stream = RDBStream {
            defer { delivered = true }
            return delivered ? nil : body
        }
        let decoder = RDBDecoder(stream: stream, settings: EngineSettings())
        var codes: [Bytes] = []
        do {
            while try !stream.atEnd() {
                guard try stream.byte() == RDB.opFunction2 else {
                    throw PayloadError("ERR given type is not a function")
                }
                codes.append(try decoder.string())
            }
        } catch let error as PayloadError {
            throw error
        } catch {
            throw PayloadError("ERR payload is damaged: \(error)")
        }
        return codes
    }
}

/// A payload that cannot be restored; `message` is the error reply.
public struct PayloadError: Error, Equatable {
    /// The error reply's text.
    public var message: String

    /// An error with `message`.
    public init(_ message: String) { self.message = message }
}

extension RDBEncoder {
    /// A `FUNCTION2` record.
    mutating func function(_ code: Bytes) {
        byte(RDB.opFunction2)
        length(code.count)
        code.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }
}
