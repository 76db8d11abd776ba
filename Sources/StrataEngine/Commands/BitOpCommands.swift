//! BITOP AND|OR|XOR|NOT: a bitwise operation over strings stored at the destination, as
//! Redis 7.0's `bitops.c`. Missing sources are empty strings and shorter ones are padded
//! with zero bytes, so the result is as long as the longest source; an empty result
//! deletes the destination. The operation runs byte by byte over each source in turn into
//! one buffer as long as the longest source, the only allocation.

/// The BITOP command.
public enum BitOpCommands {
    /// Its table entry.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "bitop", arity: -4, flags: [.write, .denyOOM], keys: (2, -1, 1), group: "bitmap", since: "2.6.0",
            summary: "Performs bitwise operations on multiple strings, and stores the result.",
            synopsis: "AND|OR|XOR|NOT destkey key [key ...]", categories: ["write", "bitmap", "slow"],
            handler: .engine(bitop))
    ]

    /// A bitwise operation.
    enum Operation { case and, or, xor, not }

    static func operation(_ name: Bytes) -> Operation? {
        if name.equalsIgnoringCase("and") { return .and }
        if name.equalsIgnoringCase("or") { return .or }
        if name.equalsIgnoringCase("xor") { return .xor }
        if name.equalsIgnoringCase("not") { return .not }
        return nil
    }

    static func bitop(_ c: inout CommandContext) -> Reply {
        let args = c.args
        guard let operation = operation(args[1]) else { return Errors.syntax }
        if operation == .not && args.count != 4 {
            return .error("ERR BITOP NOT must be called with a single source key.")
        }
        var sources: [Bytes] = []
        for key in args[3...] {
            guard let value = c.read(key) else {
                sources.append(Bytes())
                continue
            }
            guard let bytes = value.stringBytes else { return Errors.wrongType }
            sources.append(bytes)
        }
        let destination = args[2]
        let result = combine(sources, operation)
        if result.isEmpty {
            if c.delete(destination) {
                c.changed()
                c.notify(.generic, "del", destination)
            }
            return .integer(0)
        }
        c.store(destination, .raw(result))
        c.changed()
        c.notify(.string, "set", destination)
        return .integer(result.count)
    }

    /// The operation over `sources`, each padded with zero bytes to the longest.
    static func combine(_ sources: [Bytes], _ operation: Operation) -> Bytes {
        let length = sources.reduce(0) { Swift.max($0, $1.count) }
        var result = Bytes()
        guard length > 0, let first = sources.first else { return result }
        result.withUnsafeMutableBytes(count: length, preserving: false) { out in
            first.withUnsafeBytes { source in
                for index in 0..<length {
                    let byte = index < source.count ? source[index] : 0
                    out[index] = operation == .not ? ~byte : byte
                }
            }
            for other in sources.dropFirst() {
                other.withUnsafeBytes { source in
                    switch operation {
                    case .and:
                        for index in 0..<length { out[index] &= index < source.count ? source[index] : 0 }
                    case .or:
                        for index in 0..<source.count { out[index] |= source[index] }
                    case .xor:
                        for index in 0..<source.count { out[index] ^= source[index] }
                    case .not:
                        break
                    }
                }
            }
        }
        return result
    }
}
