//! The frames of a snapshot file: LZ4 frames or gzip members holding chunks of the RDB
//! stream, and the index frame (an LZ4 skippable frame, or an empty gzip member whose
//! comment holds the index). The reader finds each frame's end from its own structure
//! (LZ4 block sizes; the end of the deflate stream), so a damaged frame can be skipped
//! and the next one read. Memory is bounded by one frame.

import CZlib

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How a snapshot file is laid out, from its first bytes.
public enum SnapshotLayout: Equatable, Sendable {
    /// LZ4 frames.
    case lz4
    /// gzip members.
    case gzip
    /// A plain RDB stream (`snapshot-compression none`, or Redis's own `dump.rdb`).
    case plain

    /// The layout a file's first bytes announce (LZ4 frame or gzip magic, or `REDIS`), or
    /// nil when they are none of these.
    public init?<Head: Collection>(head: Head) where Head.Element == UInt8 {
        let bytes = Array(head.prefix(5))
        if bytes.count >= 4, bytes[0...3] == [0x04, 0x22, 0x4D, 0x18] {
            self = .lz4
        } else if bytes.count >= 2, bytes[0] == 0x1F, bytes[1] == 0x8B {
            self = .gzip
        } else if bytes == Array("REDIS".utf8) {
            self = .plain
        } else {
            return nil
        }
    }
}

enum SnapshotFrames {
    static let lz4Magic: UInt32 = 0x184D_2204
    /// The skippable-frame magic Strata uses for its index (one of 0x184D2A50...5F).
    static let indexMagic: UInt32 = 0x184D_2A5E
    /// The gzip extra subfield that marks Strata's index member.
    static let gzipIndexSubfield: [UInt8] = Array("SX".utf8)

    /// An LZ4 skippable frame holding `payload`.
    static func lz4IndexFrame(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: indexMagic.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(payload.count).littleEndian) { out.append(contentsOf: $0) }
        return out + payload
    }

    /// An empty gzip member whose extra field marks it as the index and whose comment
    /// holds `payload` (JSON: never a zero byte).
    static func gzipIndexMember(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0x04 | 0x10, 0, 0, 0, 0, 0, 255]
        out += [4, 0] + gzipIndexSubfield + [0, 0]  // XLEN 4: subfield "SX" of length 0
        out += payload.filter { $0 != 0 } + [0]
        out += [0x03, 0x00]  // deflate of nothing
        out += [0, 0, 0, 0, 0, 0, 0, 0]  // CRC-32 and size of nothing
        return out
    }
}

/// One frame read from a snapshot file.
enum SnapshotFrame {
    /// A chunk of the RDB stream, decompressed.
    case chunk(bytes: [UInt8], fileOffset: Int, fileBytes: Int)
    /// The index.
    case index(SnapshotIndex)
    /// A frame that could not be read, skipped over (salvage mode only).
    case damaged(fileOffset: Int, fileBytes: Int, reason: String)
}

/// Reads a snapshot file frame by frame through a window of the file.
final class SnapshotFrameReader {
    let path: String
    private(set) var layout = SnapshotLayout.plain
    private let file: any ReadableFile
    private var window: [UInt8] = []
    /// File offset of `window[0]`.
    private var windowStart = 0
    private var position = 0
    private var exhausted = false
    /// The file's size when opened: reads never ask for more than is left, so a damaged
    /// length field cannot make the reader allocate beyond the file.
    private let fileSize: Int
    /// The largest frame output accepted (a damaged header cannot make us allocate more).
    private let outputLimit = 1 << 31

    init(path: String, fileSystem: any FileSystem) throws {
        self.path = path
        do {
            file = try fileSystem.openForReading(path)
        } catch {
            throw FileDamageError(path: path, offset: 0, reason: String(cString: strerror(error.code)))
        }
        fileSize = file.size
        // Anything that is not framed is read as plain RDB (whose header check names it).
        layout = SnapshotLayout(head: try peek(5)) ?? .plain
    }

    /// File offset of the next unread byte.
    var offset: Int { windowStart + position }

    // MARK: Buffering

    /// Makes at least `count` unread bytes available, unless the file ends first.
    private func fill(_ count: Int) throws {
        while window.count - position < count && !exhausted {
            if position > 0 {
                window.removeSubrange(0..<position)
                windowStart += position
                position = 0
            }
            let left = fileSize - (windowStart + window.count)
            guard left > 0 else {
                exhausted = true
                break
            }
            let want = Swift.min(left, Swift.max(1 << 20, count - (window.count - position)))
            var block = [UInt8](repeating: 0, count: want)
            let n: Int
            do {
                n = try block.withUnsafeMutableBytes { raw in
                    Result { () throws(DurableFileError) in try file.read(into: raw) }
                }.get()
            } catch {
                throw FileDamageError(path: path, offset: offset, reason: String(cString: strerror(error.code)))
            }
            if n == 0 {
                exhausted = true
            } else {
                window.append(contentsOf: block[0..<n])
            }
        }
    }

    private func peek(_ count: Int) throws -> ArraySlice<UInt8> {
        try fill(count)
        return window[position..<Swift.min(window.count, position + count)]
    }

    private func take(_ count: Int) throws -> [UInt8] {
        try fill(count)
        guard window.count - position >= count else {
            throw FileDamageError(path: path, offset: offset, reason: "file ends inside a frame (truncated)")
        }
        defer { position += count }
        return Array(window[position..<(position + count)])
    }

    private func u32(at index: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(window[position + index + k]) << (8 * UInt32(k)) }
        return v
    }

    /// The next window of a plain file, or nil at its end.
    func nextPlainPiece() throws -> [UInt8]? {
        try fill(1)
        guard position < window.count else { return nil }
        let piece = Array(window[position...])
        position = window.count
        return piece
    }

    // MARK: Frames

    /// The next frame, or nil at the end of the file. With `salvage`, a frame that cannot
    /// be read is returned as `.damaged` and reading goes on at the next frame.
    func nextFrame(salvage: Bool) throws -> SnapshotFrame? {
        try fill(4)
        guard position < window.count else { return nil }
        let start = offset
        do {
            switch layout {
            case .lz4: return try nextLZ4Frame()
            case .gzip: return try nextGzipMember()
            case .plain: throw FileDamageError(path: path, offset: start, reason: "a plain RDB file has no frames")
            }
        } catch let error as FileDamageError {
            guard salvage else { throw error }
            try resynchronize(after: start)
            return .damaged(fileOffset: start, fileBytes: offset - start, reason: error.reason)
        }
    }

    /// Moves to the next frame magic after `start` (or the end of the file).
    private func resynchronize(after start: Int) throws {
        if offset <= start {
            // Start over one byte after the damaged frame's start.
            try fill(1)
            position = Swift.min(window.count, position + Swift.max(1, start + 1 - offset))
        }
        while true {
            try fill(4)
            if window.count - position < 4 {
                position = window.count
                return
            }
            let magic = u32(at: 0)
            if layout == .lz4 && (magic == SnapshotFrames.lz4Magic || magic & 0xFFFF_FFF0 == 0x184D_2A50) { return }
            if layout == .gzip && window[position] == 0x1F && window[position + 1] == 0x8B && window[position + 2] == 8
            {
                return
            }
            position += 1
        }
    }

    private func nextLZ4Frame() throws -> SnapshotFrame {
        let start = offset
        try fill(7)
        guard window.count - position >= 7 else {
            throw FileDamageError(path: path, offset: start, reason: "file ends inside a frame header (truncated)")
        }
        let magic = u32(at: 0)
        if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
            try fill(8)
            guard window.count - position >= 8 else {
                throw FileDamageError(path: path, offset: start, reason: "file ends inside a frame header (truncated)")
            }
            let size = Int(u32(at: 4))
            let isIndex = magic == SnapshotFrames.indexMagic
            _ = try take(8)
            let payload = try take(size)
            if isIndex, let index = SnapshotIndex.decode(payload) { return .index(index) }
            return try nextFrame(salvage: false) ?? .chunk(bytes: [], fileOffset: start, fileBytes: 8 + size)
        }
        guard magic == SnapshotFrames.lz4Magic else {
            throw FileDamageError(path: path, offset: start, reason: "no LZ4 frame here (damaged or not a snapshot)")
        }
        let flags = window[position + 4]
        guard flags >> 6 == 1 else {
            throw FileDamageError(path: path, offset: start, reason: "unsupported LZ4 frame version")
        }
        let blockChecksum = flags & 0x10 != 0
        let contentChecksum = flags & 0x04 != 0
        var length = 7 + (flags & 0x08 != 0 ? 8 : 0) + (flags & 0x01 != 0 ? 4 : 0)
        while true {
            try fill(length + 4)
            guard window.count - position >= length + 4 else {
                throw FileDamageError(path: path, offset: start, reason: "file ends inside an LZ4 frame (truncated)")
            }
            let blockSize = Int(u32(at: length) & 0x7FFF_FFFF)
            length += 4
            if blockSize == 0 { break }
            guard blockSize <= 4 << 20 else {
                throw FileDamageError(path: path, offset: start, reason: "LZ4 block size \(blockSize) is damaged")
            }
            length += blockSize + (blockChecksum ? 4 : 0)
        }
        length += contentChecksum ? 4 : 0
        let frame = try take(length)
        do {
            let bytes = try CompressionCodec.lz4.decompress(frame, limit: outputLimit)
            return .chunk(bytes: bytes, fileOffset: start, fileBytes: length)
        } catch let error as CompressionError {
            throw FileDamageError(path: path, offset: start, reason: "damaged chunk (\(error))")
        }
    }

    private func nextGzipMember() throws -> SnapshotFrame {
        let start = offset
        try fill(10)
        guard window.count - position >= 10, window[position] == 0x1F, window[position + 1] == 0x8B,
            window[position + 2] == 8
        else {
            throw FileDamageError(
                path: path, offset: start, reason: "no gzip member here (damaged or not a snapshot)")
        }
        let flags = window[position + 3]
        var header = 10
        var isIndex = false
        var comment: [UInt8] = []
        func need(_ n: Int) throws {
            try fill(header + n)
            guard window.count - position >= header + n else {
                throw FileDamageError(path: path, offset: start, reason: "file ends inside a gzip header (truncated)")
            }
        }
        if flags & 0x04 != 0 {
            try need(2)
            let extraLength = Int(window[position + header]) | Int(window[position + header + 1]) << 8
            try need(2 + extraLength)
            let extra = Array(window[(position + header + 2)..<(position + header + 2 + extraLength)])
            isIndex = extra.starts(with: SnapshotFrames.gzipIndexSubfield)
            header += 2 + extraLength
        }
        for flag: UInt8 in [0x08, 0x10] where flags & flag != 0 {  // name, then comment
            var text: [UInt8] = []
            while true {
                try need(1)
                let byte = window[position + header]
                header += 1
                if byte == 0 { break }
                text.append(byte)
            }
            if flag == 0x10 { comment = text }
        }
        if flags & 0x02 != 0 { header += 2 }  // header CRC
        try need(0)
        position += header
        let bytes = try inflateRaw(from: start)
        let trailer = try take(8)
        let expectedCRC =
            UInt32(trailer[0]) | UInt32(trailer[1]) << 8 | UInt32(trailer[2]) << 16 | UInt32(trailer[3]) << 24
        let actualCRC = bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        guard expectedCRC == actualCRC else {
            throw FileDamageError(path: path, offset: start, reason: "damaged chunk (gzip CRC mismatch)")
        }
        if isIndex, let index = SnapshotIndex.decode(comment) { return .index(index) }
        return .chunk(bytes: bytes, fileOffset: start, fileBytes: offset - start)
    }

    /// Inflates the raw deflate stream at the current position, consuming exactly it.
    private func inflateRaw(from start: Int) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw FileDamageError(path: path, offset: start, reason: "zlib cannot start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var piece = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            try fill(1)
            let available = window.count - position
            let (status, used, produced) = window.withUnsafeMutableBufferPointer { input in
                piece.withUnsafeMutableBufferPointer { out -> (Int32, Int, Int) in
                    stream.next_in = input.baseAddress.map { $0 + position }
                    stream.avail_in = uInt(available)
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, available - Int(stream.avail_in), out.count - Int(stream.avail_out))
                }
            }
            position += used
            output.append(contentsOf: piece[0..<produced])
            if output.count > outputLimit {
                throw FileDamageError(path: path, offset: start, reason: "chunk larger than \(outputLimit) bytes")
            }
            if status == Z_STREAM_END { return output }
            guard status == Z_OK || (status == Z_BUF_ERROR && available > 0) else {
                throw FileDamageError(path: path, offset: start, reason: "damaged chunk (deflate data)")
            }
            if available == 0 && exhausted {
                throw FileDamageError(path: path, offset: start, reason: "file ends inside a gzip member (truncated)")
            }
        }
    }
}
