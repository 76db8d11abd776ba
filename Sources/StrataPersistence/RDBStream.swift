//! The byte stream an RDB parser reads: pieces supplied one at a time (a decompressed
//! snapshot chunk, or a window of a plain `dump.rdb`), consumed without copying where a
//! read falls inside one piece, and checksummed with Redis's CRC-64 as it goes.

import StrataEngine

/// A malformed or unreadable RDB stream: where (offset in the RDB stream) and why.
public struct RDBError: Error, Equatable, CustomStringConvertible {
    /// Offset in the (decompressed) RDB stream where the problem was found.
    public let offset: Int
    /// What is wrong.
    public let reason: String

    public var description: String { "RDB offset \(offset): \(reason)" }
}

/// Pieces of an RDB stream, read front to back.
final class RDBStream {
    /// Supplies the next piece, or nil at the end of the data.
    private let nextPiece: () throws -> [UInt8]?
    private var piece: [UInt8] = []
    private var position = 0
    /// Stream offset of `piece[0]`.
    private var pieceStart = 0
    /// CRC of every byte before `piece[checksummedUpTo]`.
    private var checksum = CRC64()
    private var checksummedUpTo = 0

    init(_ nextPiece: @escaping () throws -> [UInt8]?) {
        self.nextPiece = nextPiece
    }

    /// Offset of the next byte in the stream.
    var offset: Int { pieceStart + position }

    /// The CRC-64 of every byte consumed so far.
    func checksumOfConsumed() -> UInt64 {
        piece.withUnsafeBytes { raw in
            checksum.update(UnsafeRawBufferPointer(rebasing: raw[checksummedUpTo..<position]))
        }
        checksummedUpTo = position
        return checksum.value
    }

    /// Moves to the next piece once this one is used up; false at the end of the data.
    private func advance() throws -> Bool {
        while position >= piece.count {
            _ = checksumOfConsumed()
            guard let next = try nextPiece() else { return false }
            pieceStart += piece.count
            piece = next
            position = 0
            checksummedUpTo = 0
        }
        return true
    }

    func error(_ reason: String) -> RDBError {
        RDBError(offset: offset, reason: reason)
    }

    /// One byte.
    func byte() throws -> UInt8 {
        if position >= piece.count, try !advance() { throw error("unexpected end of data") }
        let value = piece[position]
        position += 1
        return value
    }

    /// Whether the data ends here (without consuming anything).
    func atEnd() throws -> Bool {
        try !advance()
    }

    /// `count` bytes handed to `body` without copying when they lie in one piece.
    func withBytes<R>(_ count: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard count >= 0 else { throw error("negative length") }
        if count <= piece.count - position {
            defer { position += count }
            return try piece.withUnsafeBytes {
                try body(UnsafeRawBufferPointer(rebasing: $0[position..<(position + count)]))
            }
        }
        var gathered: [UInt8] = []
        gathered.reserveCapacity(Swift.min(count, 1 << 20))
        while gathered.count < count {
            if position >= piece.count, try !advance() { throw error("unexpected end of data (wanted \(count) bytes)") }
            let take = Swift.min(count - gathered.count, piece.count - position)
            gathered.append(contentsOf: piece[position..<(position + take)])
            position += take
        }
        return try gathered.withUnsafeBytes(body)
    }

    /// A little-endian fixed-width integer.
    func littleEndian<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        try withBytes(MemoryLayout<T>.size) { T(littleEndian: $0.loadUnaligned(as: T.self)) }
    }

    /// A big-endian fixed-width integer.
    func bigEndian<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        try withBytes(MemoryLayout<T>.size) { T(bigEndian: $0.loadUnaligned(as: T.self)) }
    }
}
