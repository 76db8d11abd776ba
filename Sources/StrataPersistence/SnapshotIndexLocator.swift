//! Finds a snapshot's index without reading its body: the index frame is the last thing in
//! a compressed snapshot (an LZ4 skippable frame, or an empty gzip member carrying it in its
//! comment), so it is found by reading the file's tail and checking that the candidate frame
//! ends exactly at the end of the file. `strata-dump inspect` answers from it at once
//! whatever the size of the file.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a snapshot file is, from its first bytes and its index.
public struct SnapshotHead: Sendable {
    /// The layout its first bytes announce.
    public var layout: SnapshotLayout
    /// Its size in bytes.
    public var fileBytes: Int
    /// The index, when the file is a compressed Strata snapshot whose index frame is intact.
    public var index: SnapshotIndex?
}

/// Reads a snapshot's head and, for compressed layouts, its index from the tail.
public enum SnapshotIndexLocator {
    /// How much of the tail is read at most while looking for the index (an index lists
    /// one entry of about 90 bytes per chunk of ~1 MB of records: 16 MiB covers far more
    /// than any file seen).
    static let maximumTail = 16 << 20

    /// Reads the head and the index of the file at `path` on `fileSystem`.
    ///
    /// - Throws: `FileDamageError` when the file cannot be read or its first bytes are not
    ///   a snapshot's.
    public static func head(path: String, fileSystem: any FileSystem = POSIXFileSystem.shared) throws -> SnapshotHead {
        let file: any ReadableFile
        let first: [UInt8]
        do {
            file = try fileSystem.openForReading(path)
            first = try file.read(upTo: 5)
        } catch {
            throw FileDamageError(
                path: path, offset: 0, reason: "cannot open: \(String(cString: strerror(error.code)))")
        }
        let size = file.size
        guard let layout = SnapshotLayout(head: first) else {
            throw FileDamageError(
                path: path, offset: 0, reason: "not a snapshot (neither an LZ4 frame, a gzip member nor REDIS)")
        }
        var head = SnapshotHead(layout: layout, fileBytes: size, index: nil)
        guard layout != .plain else { return head }
        var tailBytes = min(size, 64 << 10)
        while true {
            let tail: [UInt8]
            do {
                try file.seek(to: size - tailBytes)
                tail = try file.read(upTo: tailBytes)
            } catch {
                return head
            }
            if let index = findIndex(in: tail, layout: layout) {
                head.index = index
                return head
            }
            if tailBytes >= min(size, maximumTail) { return head }
            tailBytes = min(size, maximumTail, tailBytes * 8)
        }
    }

    /// The index whose frame ends exactly at the end of `tail`, if any.
    static func findIndex(in tail: [UInt8], layout: SnapshotLayout) -> SnapshotIndex? {
        switch layout {
        case .lz4: return findLZ4Index(in: tail)
        case .gzip: return findGzipIndex(in: tail)
        case .plain: return nil
        }
    }

    private static func findLZ4Index(in tail: [UInt8]) -> SnapshotIndex? {
        let magic: [UInt8] = [0x5E, 0x2A, 0x4D, 0x18]
        var start = tail.count - 8
        while start >= 0 {
            if tail[start] == magic[0], tail[start + 1] == magic[1], tail[start + 2] == magic[2],
                tail[start + 3] == magic[3]
            {
                let length =
                    Int(tail[start + 4]) | Int(tail[start + 5]) << 8 | Int(tail[start + 6]) << 16
                    | Int(tail[start + 7]) << 24
                if start + 8 + length == tail.count,
                    let index = SnapshotIndex.decode(Array(tail[(start + 8)...]))
                {
                    return index
                }
            }
            start -= 1
        }
        return nil
    }

    private static func findGzipIndex(in tail: [UInt8]) -> SnapshotIndex? {
        // Header (10) + XLEN and the "SX" subfield (6), comment, its zero, the empty
        // deflate stream (2) and CRC-32 + size (8).
        let header: [UInt8] =
            [0x1F, 0x8B, 8, 0x14, 0, 0, 0, 0, 0, 255, 4, 0] + SnapshotFrames.gzipIndexSubfield + [0, 0]
        let trailer: [UInt8] = [0, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
        guard tail.count >= header.count + trailer.count, Array(tail.suffix(trailer.count)) == trailer else {
            return nil
        }
        let commentEnd = tail.count - trailer.count
        var start = commentEnd - header.count
        while start >= 0 {
            if tail[start] == 0x1F, tail[start + 1] == 0x8B, Array(tail[start..<(start + header.count)]) == header {
                let comment = tail[(start + header.count)..<commentEnd]
                if !comment.contains(0), let index = SnapshotIndex.decode(Array(comment)) { return index }
            }
            start -= 1
        }
        return nil
    }
}
