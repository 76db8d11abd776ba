import NIOCore
import RESP
import StrataEngine
import StrataPersistence

/// The RESP request parser, fed the input whole and again in pieces (sizes taken from the
/// input's first byte): the pieces must give the same commands, so that resume state
/// across reads is exercised. Small limits on a third pass reach the limit errors.
enum RESPFuzzing {
    static func run(_ data: UnsafeRawBufferPointer) {
        guard let first = data.first else { return }
        let whole = parse(data, pieceSize: data.count, limits: RESPParserLimits())
        let pieceSize = Int(first % 17) + 1
        let pieces = parse(data, pieceSize: pieceSize, limits: RESPParserLimits())
        // A limit error can come earlier when less input is buffered (as in Redis), so only
        // the commands both passes produced must agree, and all of them when neither failed.
        let common = min(whole.commands.count, pieces.commands.count)
        precondition(
            whole.commands.prefix(common) == pieces.commands.prefix(common),
            "commands differ when the input arrives in pieces of \(pieceSize)")
        if !whole.failed && !pieces.failed {
            precondition(whole.commands == pieces.commands, "piecewise parse lost commands")
        }
        var small = RESPParserLimits()
        small.maxBulkLength = 64
        small.maxMultibulkLength = 8
        small.maxInlineLength = 32
        small.maxUnauthenticatedBulkLength = 16
        small.maxUnauthenticatedMultibulkLength = 2
        _ = parse(data, pieceSize: pieceSize, limits: small, authenticated: first & 1 == 0)
    }

    /// Parses `data` delivered `pieceSize` bytes at a time into one accumulating buffer, as
    /// the server's read handler does, until the parser throws or the input ends.
    static func parse(
        _ data: UnsafeRawBufferPointer, pieceSize: Int, limits: RESPParserLimits, authenticated: Bool = true
    ) -> (commands: [[Bytes]], failed: Bool) {
        var parser = RESPRequestParser<Bytes>(limits: limits, authenticated: authenticated)
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        var commands: [[Bytes]] = []
        var offset = 0
        while offset < data.count {
            let end = min(data.count, offset + pieceSize)
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: data[offset..<end]))
            offset = end
            do {
                while let command = try parser.next(&buffer) {
                    precondition(!command.isEmpty, "the parser produced an empty command")
                    commands.append(command)
                }
            } catch {
                precondition(error is RESPProtocolError, "unexpected error \(error)")
                return (commands, true)
            }
            buffer.discardReadBytes()
        }
        return (commands, false)
    }
}
