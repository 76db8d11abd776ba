//! memcached's text protocol, cut from a byte stream as memcached 1.6 cuts it
//! (`try_read_command_ascii`, `tokenize_command`, `process_command_ascii`): a line ends at
//! `\n` (a `\r` before it is dropped), tokens are split on spaces, and each command checks
//! its token count, key length and numbers, answering with memcached's own error lines.
//! A storage command waits for its whole data block; a block that does not end in `\r\n`
//! is refused (`CLIENT_ERROR bad data chunk`), one that is too large is skipped as it
//! arrives. A line over 2,048 bytes without its end closes the connection unless it is a
//! `get`/`gets` (multigets may be long; Strata still bounds them, `maximumGetLine`).

/// What the bytes at the start of the buffer are.
public enum MemcachedParseResult: Sendable, Equatable {
    /// Not a whole request yet.
    case needMore
    /// A request, taking `consumed` bytes.
    case command(MemcachedCommand, consumed: Int)
    /// An error line to answer (nil: nothing, under `noreply`), taking `consumed` bytes.
    case reply(String?, consumed: Int)
    /// A storage command refused before its data: answer `reply` (nil: nothing), take
    /// `consumed` bytes, then skip the next `skip` bytes as they arrive. A refused `set`
    /// also removes the key's old item (`removing`), so that stale data does not outlive
    /// the write that failed, as memcached does.
    case skip(reply: String?, consumed: Int, skip: Int, removing: [UInt8]?)
    /// The connection closes (memcached closes it here).
    case close
}

/// memcached's limits that the parser applies.
public struct MemcachedLimits: Sendable, Equatable {
    /// `-I`: the largest item, header and key included.
    public var itemSizeMax = 1 << 20
    /// A key's longest length (`KEY_MAX_LENGTH`).
    public static let keyMaxLength = 250
    /// A line without its end longer than this closes the connection (unless a get).
    public static let lineLimit = 2048
    /// The longest multiget line Strata buffers (memcached has no bound): 2 MB holds
    /// 8,000 keys of the longest length.
    public var maximumGetLine = 2 << 20

    public init() {}

    /// The slab class memcached's default layout (`-n 48 -f 1.25`: chunks of 96, 120,
    /// 152, ... bytes, each a quarter larger, rounded up to 8) puts an item of `size` bytes
    /// in, counted from 1 (`me`'s `cls`).
    public static func slabClass(forItemSize size: Int) -> Int {
        var chunk = 96
        var index = 1
        while chunk < size && index < 63 {
            chunk = (chunk * 5 / 4 + 7) / 8 * 8
            index += 1
        }
        return index
    }

    /// Whether an item of this key, flags and data (with its `\r\n`) fits memcached's
    /// largest item (`item_make_header`: the 48-byte item, 8 bytes of CAS, the key and
    /// its NUL, 4 bytes of flags when they are not 0).
    public func fits(keyLength: Int, flags: UInt32, dataLengthWithTerminator: Int) -> Bool {
        let total = 48 + 8 + keyLength + 1 + (flags == 0 ? 0 : 4) + dataLengthWithTerminator
        return total <= itemSizeMax
    }
}

/// Cuts requests from the bytes a client sent.
public struct MemcachedTextParser: Sendable {
    public var limits: MemcachedLimits

    public init(limits: MemcachedLimits = MemcachedLimits()) {
        self.limits = limits
    }

    static let badFormat = "CLIENT_ERROR bad command line format"
    static let maxTokens = 24

    /// The first request in `buffer`.
    public func parse(_ buffer: ArraySlice<UInt8>) -> MemcachedParseResult {
        guard !buffer.isEmpty else { return .needMore }
        guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else {
            return buffer.count > MemcachedLimits.lineLimit && !mayBeLongGet(buffer) ? .close : .needMore
        }
        var lineEnd = newline
        if lineEnd - buffer.startIndex > 1 && buffer[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
        // C reads the line as a string: it ends at a NUL byte.
        let line = buffer[buffer.startIndex..<lineEnd]
        let text = line.firstIndex(of: 0).map { line[line.startIndex..<$0] } ?? line
        let consumed = newline - buffer.startIndex + 1
        return command(Self.tokens(text), consumed: consumed, rest: buffer[(newline + 1)...])
    }

    /// What a buffer known to hold no line end yet means: wait for more, or close (the
    /// connection keeps this answer while bytes trickle in, instead of scanning again).
    public func withoutLineEnd(_ buffer: ArraySlice<UInt8>) -> MemcachedParseResult {
        buffer.count > MemcachedLimits.lineLimit && !mayBeLongGet(buffer) ? .close : .needMore
    }

    /// A line that may still become a long multiget: `get ` or `gets ` after at most 100
    /// spaces, and under Strata's bound.
    private func mayBeLongGet(_ buffer: ArraySlice<UInt8>) -> Bool {
        guard buffer.count <= limits.maximumGetLine else { return false }
        let start = buffer.firstIndex { $0 != UInt8(ascii: " ") } ?? buffer.endIndex
        guard start - buffer.startIndex <= 100 else { return false }
        let head = Array(buffer[start..<min(start + 5, buffer.endIndex)])
        return head.starts(with: Array("get ".utf8)) || head.starts(with: Array("gets ".utf8))
    }

    /// The line's tokens, split on runs of spaces.
    static func tokens(_ line: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        // A loop rather than `split`: one allocation sized for a storage command's line.
        var tokens: [ArraySlice<UInt8>] = []
        tokens.reserveCapacity(8)
        let end = line.endIndex
        var index = line.startIndex
        while index < end {
            while index < end && line[index] == UInt8(ascii: " ") { index += 1 }
            guard index < end else { break }
            let start = index
            while index < end && line[index] != UInt8(ascii: " ") { index += 1 }
            tokens.append(line[start..<index])
        }
        return tokens
    }

    private func command(
        _ tokens: [ArraySlice<UInt8>], consumed: Int, rest: ArraySlice<UInt8>
    ) -> MemcachedParseResult {
        // memcached counts a terminal empty token: `ntokens` is one more than the words.
        let count = tokens.count + 1
        guard count >= 2, let name = tokens.first, name.count >= 2 else { return .reply("ERROR", consumed: consumed) }
        let noreply = tokens.last?.elementsEqual("noreply".utf8) ?? false
        // Names are short: comparing them as text costs one small string per request.
        switch name.count <= 9 ? String(decoding: name, as: UTF8.self) : "" {
        case "get", "bget": return retrieval(tokens, count, consumed, withCAS: false, touch: false)
        case "gets": return retrieval(tokens, count, consumed, withCAS: true, touch: false)
        case "gat": return retrieval(tokens, count, consumed, withCAS: false, touch: true)
        case "gats": return retrieval(tokens, count, consumed, withCAS: true, touch: true)
        case "set", "add", "replace", "append", "prepend":
            guard count == 6 || count == 7 else { return .reply("ERROR", consumed: consumed) }
            let mode = MemcachedStoreMode(rawValue: String(decoding: name, as: UTF8.self)) ?? .set
            return storage(mode, tokens, noreply: noreply && count == 7, consumed: consumed, rest: rest)
        case "cas":
            guard count == 7 || count == 8 else { return .reply("ERROR", consumed: consumed) }
            return storage(.cas, tokens, noreply: noreply && count == 8, consumed: consumed, rest: rest)
        case "incr", "decr":
            guard count == 4 || count == 5 else { return .reply("ERROR", consumed: consumed) }
            let quiet = noreply && count == 5
            switch keyAndNumber(
                tokens, consumed, quiet: quiet, MemcachedNumbers.unsigned64,
                "CLIENT_ERROR invalid numeric delta argument")
            {
            case .failure(let refusal): return refusal.result
            case .success(let (key, delta)):
                let increment = name.first == UInt8(ascii: "i")
                return .command(
                    .arithmetic(key: key, increment: increment, delta: delta, noreply: quiet), consumed: consumed)
            }
        case "delete":
            return delete(tokens, count, consumed)
        case "touch":
            guard count == 4 || count == 5 else { return .reply("ERROR", consumed: consumed) }
            let quiet = noreply && count == 5
            switch keyAndNumber(
                tokens, consumed, quiet: quiet, MemcachedNumbers.signed, "CLIENT_ERROR invalid exptime argument")
            {
            case .failure(let refusal): return refusal.result
            case .success(let (key, exptime)):
                return .command(.touch(key: key, exptime: exptime, noreply: quiet), consumed: consumed)
            }
        case "flush_all":
            guard (2...4).contains(count) else { return .reply("ERROR", consumed: consumed) }
            let quiet = noreply
            let numbers = count - 2 - (quiet ? 1 : 0)
            var delay: Int64 = 0
            if numbers == 1 {
                guard let value = MemcachedNumbers.signed(tokens[1]) else {
                    return .reply(quiet ? nil : "CLIENT_ERROR invalid exptime argument", consumed: consumed)
                }
                delay = value
            } else if numbers > 1 {
                return .reply("ERROR", consumed: consumed)
            }
            return .command(.flushAll(delay: delay, noreply: quiet), consumed: consumed)
        case "version":
            return .command(.version, consumed: consumed)
        case "verbosity":
            guard count == 3 || count == 4 else { return .reply("ERROR", consumed: consumed) }
            return .command(.verbosity(noreply: noreply), consumed: consumed)
        case "stats":
            return .command(.stats(arguments: tokens.dropFirst().map { Array($0) }), consumed: consumed)
        case "quit":
            return .command(.quit, consumed: consumed)
        case "shutdown":
            return .reply("ERROR: shutdown not enabled", consumed: consumed)
        case "mn":
            return .command(.metaNoop, consumed: consumed)
        case "mg":
            return metaGet(tokens, consumed)
        case "ms":
            return metaSet(tokens, consumed, rest: rest)
        case "md", "ma":
            return metaKeyed(tokens, consumed, arithmetic: name.last == UInt8(ascii: "a"))
        case "me":
            return metaDebug(tokens, consumed)
        default:
            if let last = tokens.last, last.starts(with: Array("HTTP/".utf8)) { return .close }
            return .reply("ERROR", consumed: consumed)
        }
    }

    /// A refused request, carried through `Result`.
    struct Refusal: Error {
        let result: MemcachedParseResult
    }

    /// A key then one number (`incr`, `decr`, `touch`): the key's length checked, the
    /// number read by `read`, each refusal worded as memcached words it.
    private func keyAndNumber<Number>(
        _ tokens: [ArraySlice<UInt8>], _ consumed: Int, quiet: Bool, _ read: (ArraySlice<UInt8>) -> Number?,
        _ numberError: String
    ) -> Result<([UInt8], Number), Refusal> {
        guard tokens[1].count <= MemcachedLimits.keyMaxLength else {
            return .failure(Refusal(result: error(Self.badFormat, consumed, quiet: quiet)))
        }
        guard let number = read(tokens[2]) else {
            return .failure(Refusal(result: error(numberError, consumed, quiet: quiet)))
        }
        return .success((Array(tokens[1]), number))
    }

    /// An error line; under `noreply` a classic command's errors are silent too (they go
    /// through memcached's `out_string`).
    private func error(_ line: String, _ consumed: Int, quiet: Bool = false) -> MemcachedParseResult {
        .reply(quiet ? nil : line, consumed: consumed)
    }

    private func retrieval(
        _ tokens: [ArraySlice<UInt8>], _ count: Int, _ consumed: Int, withCAS: Bool, touch: Bool
    ) -> MemcachedParseResult {
        guard count >= 3 else { return .reply("ERROR", consumed: consumed) }
        var keys = tokens.dropFirst()
        var exptime: Int64 = 0
        if touch {
            guard count >= 4 else { return .reply("ERROR", consumed: consumed) }
            guard let value = MemcachedNumbers.signed(tokens[1]) else {
                return .reply("CLIENT_ERROR invalid exptime argument", consumed: consumed)
            }
            exptime = value
            keys = keys.dropFirst()
        }
        guard keys.allSatisfy({ $0.count <= MemcachedLimits.keyMaxLength }) else {
            return .reply(Self.badFormat, consumed: consumed)
        }
        let list = keys.map { Array($0) }
        if touch { return .command(.getAndTouch(exptime: exptime, keys: list, withCAS: withCAS), consumed: consumed) }
        return .command(.get(keys: list, withCAS: withCAS), consumed: consumed)
    }

    private func storage(
        _ mode: MemcachedStoreMode, _ tokens: [ArraySlice<UInt8>], noreply: Bool, consumed: Int,
        rest: ArraySlice<UInt8>
    ) -> MemcachedParseResult {
        let key = tokens[1]
        guard key.count <= MemcachedLimits.keyMaxLength else { return error(Self.badFormat, consumed, quiet: noreply) }
        guard let flags = MemcachedNumbers.flags(tokens[2]), let exptime = MemcachedNumbers.signed(tokens[3]),
            let length = MemcachedNumbers.signed(tokens[4])
        else { return error(Self.badFormat, consumed, quiet: noreply) }
        var casUnique: UInt64 = 0
        if mode == .cas {
            guard let value = MemcachedNumbers.unsigned64(tokens[5]) else {
                return error(Self.badFormat, consumed, quiet: noreply)
            }
            casUnique = value
        }
        guard length >= 0 && length <= Int64(Int32.max) - 2 else {
            return error(Self.badFormat, consumed, quiet: noreply)
        }
        let block = Int(length) + 2
        guard limits.fits(keyLength: key.count, flags: flags, dataLengthWithTerminator: block) else {
            return .skip(
                reply: noreply ? nil : "SERVER_ERROR object too large for cache", consumed: consumed, skip: block,
                removing: mode == .set ? Array(key) : nil)
        }
        guard rest.count >= block else { return .needMore }
        let dataEnd = rest.startIndex + Int(length)
        guard rest[dataEnd] == UInt8(ascii: "\r") && rest[dataEnd + 1] == UInt8(ascii: "\n") else {
            return .reply(noreply ? nil : "CLIENT_ERROR bad data chunk", consumed: consumed + block)
        }
        let store = MemcachedStore(
            mode: mode, key: Array(key), flags: flags, exptime: exptime, data: Array(rest[rest.startIndex..<dataEnd]),
            casUnique: casUnique, noreply: noreply)
        return .command(.store(store), consumed: consumed + block)
    }

    /// The flag letters every meta command accepts (memcached checks one set for all and
    /// ignores those a command has no use for); P and L are the proxy's.
    static let metaFlagLetters = Set("bNTRlOPLkstcfvhuqFCMJDI".utf8)

    /// The most flags after the key (memcached refuses a line of more than 20 tokens,
    /// counting the command, the key, `ms`'s length and a final empty token).
    static let metaFlagLimit = 17

    /// The flags of a meta command and its key (decoded when `b` asks), or the refusal.
    enum MetaPreparse {
        case parsed(key: [UInt8], flags: [MemcachedMetaFlag])
        /// Refused with memcached's text (which `md` and `ma` replace by their own).
        case refused(line: String)
    }

    /// memcached's `_meta_flag_preparse`: a duplicate or unknown flag stops at once; a bad
    /// number or key encoding is noted and the walk goes on (the last such note is the
    /// error), so a later duplicate still wins.
    func metaPreparse(_ tokens: [ArraySlice<UInt8>], from start: Int) -> MetaPreparse {
        var seen = Set<UInt8>()
        var flags: [MemcachedMetaFlag] = []
        var key = Array(tokens[1])
        var problem: String?
        for token in tokens.dropFirst(start) {
            guard let letter = token.first, letter < 127, seen.insert(letter).inserted else {
                return .refused(line: "CLIENT_ERROR duplicate flag")
            }
            guard Self.metaFlagLetters.contains(letter) else { return .refused(line: "CLIENT_ERROR invalid flag") }
            let flag = MemcachedMetaFlag(letter: letter, token: Array(token.dropFirst()))
            switch letter {
            case UInt8(ascii: "b"):
                if let decoded = MemcachedBase64.decode(tokens[1]) {
                    key = decoded
                } else {
                    problem = "CLIENT_ERROR error decoding key"
                }
            case UInt8(ascii: "N"), UInt8(ascii: "T"), UInt8(ascii: "R"):
                if flag.number == nil { problem = "CLIENT_ERROR bad token in command line format" }
            case UInt8(ascii: "C"):
                if flag.unsigned == nil { problem = "CLIENT_ERROR bad token in command line format" }
            case UInt8(ascii: "F"):
                if flag.clientFlags == nil { problem = problem ?? Self.badFormat }
            case UInt8(ascii: "M"):
                if flag.token.count != 1 { problem = "CLIENT_ERROR incorrect length for M token" }
            case UInt8(ascii: "J"):
                if flag.unsigned == nil { problem = "CLIENT_ERROR invalid numeric initial value" }
            case UInt8(ascii: "D"):
                if flag.unsigned == nil { problem = "CLIENT_ERROR invalid numeric delta value" }
            default:
                break
            }
            flags.append(flag)
        }
        if let problem { return .refused(line: problem) }
        if let opaque = flags.flag("O"), opaque.token.count + 1 > 32 {
            return .refused(line: "CLIENT_ERROR opaque token too long")
        }
        return .parsed(key: key, flags: flags)
    }

    private func metaGet(_ tokens: [ArraySlice<UInt8>], _ consumed: Int) -> MemcachedParseResult {
        guard tokens.count >= 2 else { return .reply("ERROR", consumed: consumed) }
        guard tokens[1].count <= MemcachedLimits.keyMaxLength else { return error(Self.badFormat, consumed) }
        guard tokens.count - 2 <= Self.metaFlagLimit else {
            return error("CLIENT_ERROR options flags are too long", consumed)
        }
        switch metaPreparse(tokens, from: 2) {
        case .refused(let line): return error(line, consumed)
        case .parsed(let key, let flags): return .command(.metaGet(key: key, flags: flags), consumed: consumed)
        }
    }

    /// `me <key> [b]`: the key decoded only when the second token is exactly `b`.
    private func metaDebug(_ tokens: [ArraySlice<UInt8>], _ consumed: Int) -> MemcachedParseResult {
        guard tokens.count >= 2, tokens[1].count <= MemcachedLimits.keyMaxLength else {
            return error(Self.badFormat, consumed)
        }
        guard tokens.count >= 3, tokens[2].elementsEqual([UInt8(ascii: "b")]) else {
            return .command(.metaDebug(key: Array(tokens[1]), base64: false), consumed: consumed)
        }
        guard let key = MemcachedBase64.decode(tokens[1]) else { return error(Self.badFormat, consumed) }
        return .command(.metaDebug(key: key, base64: true), consumed: consumed)
    }

    private func metaSet(_ tokens: [ArraySlice<UInt8>], _ consumed: Int, rest: ArraySlice<UInt8>)
        -> MemcachedParseResult
    {
        guard tokens.count >= 2 else { return .reply("ERROR", consumed: consumed) }
        guard tokens.count >= 3, tokens[1].count <= MemcachedLimits.keyMaxLength,
            let length = MemcachedNumbers.signed(tokens[2]), length >= 0, length <= Int64(Int32.max) - 2
        else { return error(Self.badFormat, consumed) }
        guard tokens.count - 3 <= Self.metaFlagLimit - 1 else {
            return error("CLIENT_ERROR options flags too long", consumed)
        }
        let block = Int(length) + 2
        let key: [UInt8]
        let flags: [MemcachedMetaFlag]
        switch metaPreparse(tokens, from: 3) {
        case .refused(let line):
            // The data block that follows is skipped, as memcached skips it.
            return .skip(reply: line, consumed: consumed, skip: block, removing: nil)
        case .parsed(let parsedKey, let parsed):
            (key, flags) = (parsedKey, parsed)
        }
        if let mode = flags.flag("M"), !"EeAaPpRrSs".utf8.contains(mode.token[0]) {
            return .skip(
                reply: "CLIENT_ERROR invalid mode for ms M token", consumed: consumed, skip: block, removing: nil)
        }
        let clientFlags = flags.flag("F")?.clientFlags ?? 0
        guard limits.fits(keyLength: key.count, flags: clientFlags, dataLengthWithTerminator: block) else {
            let mode = flags.flag("M")?.token.first.map { Character(UnicodeScalar($0)) }
            let isSet = mode == nil || mode == "S" || mode == "s"
            return .skip(
                reply: "SERVER_ERROR object too large for cache", consumed: consumed, skip: block,
                removing: isSet ? key : nil)
        }
        guard rest.count >= block else { return .needMore }
        let dataEnd = rest.startIndex + Int(length)
        guard rest[dataEnd] == UInt8(ascii: "\r") && rest[dataEnd + 1] == UInt8(ascii: "\n") else {
            return .reply("CLIENT_ERROR bad data chunk", consumed: consumed + block)
        }
        let data = Array(rest[rest.startIndex..<dataEnd])
        return .command(.metaSet(key: key, flags: flags, data: data), consumed: consumed + block)
    }

    private func metaKeyed(_ tokens: [ArraySlice<UInt8>], _ consumed: Int, arithmetic: Bool)
        -> MemcachedParseResult
    {
        guard tokens.count >= 2 else { return .reply("ERROR", consumed: consumed) }
        guard tokens[1].count <= MemcachedLimits.keyMaxLength else { return error(Self.badFormat, consumed) }
        guard tokens.count - 2 <= Self.metaFlagLimit else {
            return error("CLIENT_ERROR options flags too long", consumed)
        }
        switch metaPreparse(tokens, from: 2) {
        case .refused(let line):
            if !arithmetic && line == "CLIENT_ERROR opaque token too long" { return error(line, consumed) }
            // memcached's md and ma word every other refusal alike.
            return error("CLIENT_ERROR invalid or duplicate flag", consumed)
        case .parsed(let key, let flags):
            if arithmetic, let mode = flags.flag("M"), !"IiDd+-".utf8.contains(mode.token[0]) {
                return error("CLIENT_ERROR invalid mode for ma M token", consumed)
            }
            if arithmetic { return .command(.metaArithmetic(key: key, flags: flags), consumed: consumed) }
            return .command(.metaDelete(key: key, flags: flags), consumed: consumed)
        }
    }

    private func delete(_ tokens: [ArraySlice<UInt8>], _ count: Int, _ consumed: Int) -> MemcachedParseResult {
        guard (3...5).contains(count) else { return .reply("ERROR", consumed: consumed) }
        let noreply = count > 3 && tokens[count - 2].elementsEqual("noreply".utf8)
        guard tokens[1].count <= MemcachedLimits.keyMaxLength else {
            return error(Self.badFormat, consumed, quiet: noreply)
        }
        if count > 3 {
            let holdIsZero = Array(tokens[2]) == [UInt8(ascii: "0")]
            let valid = (count == 4 && (holdIsZero || noreply)) || (count == 5 && holdIsZero && noreply)
            guard valid else {
                return error(
                    "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]", consumed, quiet: noreply)
            }
        }
        return .command(.delete(key: Array(tokens[1]), noreply: noreply), consumed: consumed)
    }
}
