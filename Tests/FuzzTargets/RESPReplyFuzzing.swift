import NIOCore
import RESP

/// The RESP reply parser (strata-dump's client reads servers' replies with it), fed the
/// input whole and again in pieces (sizes taken from the input's first byte): both must give
/// the same replies and fail alike, since a reply is parsed again from its start once more
/// bytes arrive. Small limits on a third pass reach the limit errors.
enum RESPReplyFuzzing {
    static func run(_ data: UnsafeRawBufferPointer) {
        guard let first = data.first else { return }
        let whole = parse(data, pieceSize: data.count, limits: RESPReplyLimits())
        let pieceSize = Int(first % 17) + 1
        let pieces = parse(data, pieceSize: pieceSize, limits: RESPReplyLimits())
        // Compared as text: a NaN double is not equal to itself.
        precondition(
            whole.replies == pieces.replies && whole.failed == pieces.failed,
            "replies differ when the input arrives in pieces of \(pieceSize)")
        let small = RESPReplyLimits(maxBulkLength: 64, maxAggregateCount: 8, maxLineLength: 32, maxDepth: 3)
        _ = parse(data, pieceSize: pieceSize, limits: small)
    }

    /// Parses `data` delivered `pieceSize` bytes at a time into one accumulating buffer,
    /// until the parser throws or the input ends.
    static func parse(
        _ data: UnsafeRawBufferPointer, pieceSize: Int, limits: RESPReplyLimits
    ) -> (replies: [String], failed: Bool) {
        let parser = RESPReplyParser(limits: limits)
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        var replies: [String] = []
        var offset = 0
        while offset < data.count {
            let end = min(data.count, offset + pieceSize)
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: data[offset..<end]))
            offset = end
            do {
                while let reply = try parser.next(&buffer) { replies.append(String(describing: reply)) }
            } catch {
                precondition(error is RESPReplyError, "unexpected error \(error)")
                return (replies, true)
            }
            buffer.discardReadBytes()
        }
        return (replies, false)
    }
}
