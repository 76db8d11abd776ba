//! The replication backlog: the last `size` bytes of the replication stream, kept so that a
//! replica whose link dropped can continue from its offset (`+CONTINUE`) instead of loading
//! a whole new snapshot. A ring of bytes: appending past its size overwrites the oldest.
//! Offsets are Redis's: `masterOffset` counts every byte of the stream ever produced
//! (`master_repl_offset`), and a replica asks for the byte after the last one it has.

/// The newest bytes of the replication stream.
struct ReplicationBacklog {
    /// The ring's bytes (grown to `size` as the stream fills it).
    private var ring: [UInt8] = []
    /// Where the next byte goes in `ring`.
    private var writeIndex = 0
    /// How many bytes the ring holds (`repl_backlog_histlen`).
    private(set) var count = 0
    /// The most bytes it keeps (`repl-backlog-size`).
    private(set) var size: Int
    /// Bytes of the stream produced, ever (`master_repl_offset`).
    private(set) var masterOffset: Int64

    /// The offsets a stream may start from. Offsets read from a primary or a file are checked
    /// against it: counting bytes on from near 2^63 would overflow.
    static let validOffsets: ClosedRange<Int64> = 0...(1 << 62)

    /// An empty backlog of `size` bytes whose stream continues after `offset`.
    init(size: Int, offset: Int64) {
        self.size = Swift.max(1, size)
        self.masterOffset = offset
    }

    /// The offset of the oldest byte held (`repl_backlog_first_byte_offset`): the stream's
    /// byte numbers start at 1.
    var firstByteOffset: Int64 { masterOffset - Int64(count) + 1 }

    /// Adds bytes at the end of the stream.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        masterOffset += Int64(bytes.count)
        guard bytes.count > 0 else { return }
        // The ring grows with the stream up to `size` (not allocated whole at once: the
        // setting goes up to 2^63 - 1, as Redis's, whose backlog also grows as it fills).
        // Only the last `size` bytes can be kept.
        let kept = bytes.count > size ? UnsafeRawBufferPointer(rebasing: bytes.suffix(size)) : bytes
        var source = 0
        while source < kept.count {
            if writeIndex == ring.count && ring.count < size {
                // Still growing: append what fits before the ring is full.
                let take = Swift.min(kept.count - source, size - ring.count)
                ring.append(contentsOf: UnsafeRawBufferPointer(rebasing: kept[source..<(source + take)]))
                source += take
                writeIndex = ring.count == size ? 0 : ring.count
            } else {
                let take = Swift.min(kept.count - source, ring.count - writeIndex)
                ring.withUnsafeMutableBytes { target in
                    UnsafeMutableRawBufferPointer(rebasing: target[writeIndex..<(writeIndex + take)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: kept[source..<(source + take)]))
                }
                source += take
                writeIndex += take
                if writeIndex == ring.count { writeIndex = 0 }
            }
        }
        count = Swift.min(size, count + kept.count)
    }

    /// Whether the stream from byte `offset` on (a replica's `PSYNC` offset: the byte after
    /// the last it has) is all here.
    func holds(from offset: Int64) -> Bool {
        offset >= firstByteOffset && offset <= masterOffset + 1
    }

    /// The stream's bytes from byte `offset` to its end, or nil when some are gone.
    func bytes(from offset: Int64) -> [UInt8]? {
        guard holds(from: offset) else { return nil }
        let wanted = Int(masterOffset + 1 - offset)
        guard wanted > 0 else { return [] }
        // The oldest held byte sits at `writeIndex` once the ring is full, else at 0.
        let oldest = ring.count == size ? writeIndex : 0
        let skip = count - wanted
        var result: [UInt8] = []
        result.reserveCapacity(wanted)
        var index = (oldest + skip) % ring.count
        var remaining = wanted
        while remaining > 0 {
            let take = Swift.min(remaining, ring.count - index)
            result.append(contentsOf: ring[index..<(index + take)])
            remaining -= take
            index = (index + take) % ring.count
        }
        return result
    }

    /// Changes the size (`CONFIG SET repl-backlog-size`), keeping the newest bytes that fit.
    mutating func resize(to newSize: Int) {
        let newSize = Swift.max(1, newSize)
        guard newSize != size else { return }
        let kept = Swift.min(count, newSize)
        let newest = bytes(from: masterOffset + 1 - Int64(kept)) ?? []
        let offset = masterOffset - Int64(newest.count)
        self = ReplicationBacklog(size: newSize, offset: offset)
        newest.withUnsafeBytes { append($0) }
    }
}
