import StrataMemcached

/// The memcached text parser: the input is parsed as a connection reads it, request after
/// request, both whole and fed a byte at a time. Every result must take at least one byte
/// and no more than it was given, a whole storage command's data must be the bytes it
/// announced, and feeding the same bytes in pieces must give the same requests (the
/// parser never decides on a prefix what the rest would change) up to where the pieces
/// close the connection: like memcached, a long line closes it only when its end has not
/// arrived yet, so bytes fed one by one may close it where the whole input goes on.
enum MemcachedFuzzing {
    static func run(_ data: UnsafeRawBufferPointer) {
        var limits = MemcachedLimits()
        limits.itemSizeMax = 4096
        limits.maximumGetLine = 4096
        let parser = MemcachedTextParser(limits: limits)
        let bytes = Array(data)
        let whole = requests(parser, bytes, step: bytes.count)
        let pieces = requests(parser, bytes, step: 1)
        if pieces.last == .close {
            let before = pieces.count - 1
            precondition(
                Array(whole.prefix(before)) == Array(pieces.prefix(before)),
                "the requests depend on how the bytes arrived")
        } else {
            precondition(whole == pieces, "the requests depend on how the bytes arrived")
        }
    }

    /// The results of parsing `bytes` when they arrive `step` bytes at a time.
    private static func requests(_ parser: MemcachedTextParser, _ bytes: [UInt8], step: Int) -> [MemcachedParseResult] {
        var results: [MemcachedParseResult] = []
        var buffer: [UInt8] = []
        var offset = 0
        var skipping = 0
        var arrived = 0
        while arrived < bytes.count || offset < buffer.count {
            if arrived < bytes.count {
                let next = min(bytes.count, arrived + max(step, 1))
                var chunk = bytes[arrived..<next]
                arrived = next
                let skipped = min(skipping, chunk.count)
                chunk = chunk.dropFirst(skipped)
                skipping -= skipped
                buffer += chunk
            }
            parsing: while offset < buffer.count && skipping == 0 {
                let result = parser.parse(buffer[offset...])
                switch result {
                case .needMore:
                    break parsing
                case .close:
                    results.append(result)
                    return results
                case .command(let command, let consumed):
                    precondition(
                        consumed > 0 && consumed <= buffer.count - offset, "a request took no bytes or too many")
                    if case .store(let store) = command {
                        precondition(store.data.count + 2 <= consumed, "the data block is not what was announced")
                    }
                    offset += consumed
                    results.append(result)
                case .reply(_, let consumed):
                    precondition(
                        consumed > 0 && consumed <= buffer.count - offset, "an error took no bytes or too many")
                    offset += consumed
                    results.append(result)
                case .skip(_, let consumed, let skip, _):
                    precondition(consumed > 0 && skip >= 2, "a refused block took nothing")
                    offset += consumed
                    let available = min(skip, buffer.count - offset)
                    offset += available
                    skipping = skip - available
                    results.append(result)
                }
            }
            // Nothing more will come: what is left is an unfinished request.
            if arrived >= bytes.count { break }
        }
        return results
    }
}
