//! The requests of memcached's text protocol, as the parser hands them to the server.
//! Keys and data are the bytes the client sent; numbers are already checked the way
//! memcached 1.6 checks them (`safe_strtoul` and friends), so the server only applies them.

/// How a storage command stores.
public enum MemcachedStoreMode: String, Sendable, Equatable {
    /// `set`: always.
    case set
    /// `add`: only when the key is absent.
    case add
    /// `replace`: only when the key is present.
    case replace
    /// `append`: after the present value (flags and exptime ignored).
    case append
    /// `prepend`: before the present value (flags and exptime ignored).
    case prepend
    /// `cas`: only when the item's CAS unique is still the one given.
    case cas
}

/// One request of the text protocol.
public enum MemcachedCommand: Sendable, Equatable {
    /// `get`/`gets`/`bget` (`withCAS` for `gets`): the keys, in order.
    case get(keys: [[UInt8]], withCAS: Bool)
    /// `gat`/`gats`: a new exptime, then the keys.
    case getAndTouch(exptime: Int64, keys: [[UInt8]], withCAS: Bool)
    /// `set`, `add`, `replace`, `append`, `prepend`, `cas`.
    case store(MemcachedStore)
    /// `incr`/`decr`.
    case arithmetic(key: [UInt8], increment: Bool, delta: UInt64, noreply: Bool)
    /// `delete`.
    case delete(key: [UInt8], noreply: Bool)
    /// `touch`.
    case touch(key: [UInt8], exptime: Int64, noreply: Bool)
    /// `flush_all [delay]`.
    case flushAll(delay: Int64, noreply: Bool)
    /// `version`.
    case version
    /// `verbosity`.
    case verbosity(noreply: Bool)
    /// `stats [group]`.
    case stats(arguments: [[UInt8]])
    /// `quit`: the connection closes.
    case quit
    /// `mn`: answers `MN` (the end of a pipeline of quiet meta commands).
    case metaNoop
    /// `mg <key> <flags>*`: a meta get; the flags in the order sent. The keys of the meta
    /// commands are decoded when the `b` flag was sent.
    case metaGet(key: [UInt8], flags: [MemcachedMetaFlag])
    /// `ms <key> <datalen> <flags>*` and its data block.
    case metaSet(key: [UInt8], flags: [MemcachedMetaFlag], data: [UInt8])
    /// `md <key> <flags>*`.
    case metaDelete(key: [UInt8], flags: [MemcachedMetaFlag])
    /// `ma <key> <flags>*`.
    case metaArithmetic(key: [UInt8], flags: [MemcachedMetaFlag])
    /// `me <key> [b]`: what memcached knows of an item (`base64`: the key was sent so).
    case metaDebug(key: [UInt8], base64: Bool)
}

extension Array where Element == MemcachedMetaFlag {
    /// The flag with this letter, if sent.
    public func flag(_ letter: Character) -> MemcachedMetaFlag? { first { $0.letter == letter.asciiValue } }

    /// Whether the flag with this letter was sent.
    public func has(_ letter: Character) -> Bool { flag(letter) != nil }
}

/// One flag of a meta command: its letter and the token after it (`T30`: T, "30").
public struct MemcachedMetaFlag: Sendable, Equatable {
    public var letter: UInt8
    public var token: [UInt8]

    public init(letter: UInt8, token: [UInt8]) {
        (self.letter, self.token) = (letter, token)
    }

    /// The flag's number (T, N, R), as memcached reads it.
    public var number: Int64? { MemcachedNumbers.signed(token[...]) }

    /// The flag's unsigned 64-bit number (C, D, J).
    public var unsigned: UInt64? { MemcachedNumbers.unsigned64(token[...]) }

    /// The flag's 32-bit client flags (F).
    public var clientFlags: UInt32? { MemcachedNumbers.flags(token[...]) }
}

/// A storage command with its data block.
public struct MemcachedStore: Sendable, Equatable {
    public var mode: MemcachedStoreMode
    public var key: [UInt8]
    /// The client's 32-bit flags, kept with the item.
    public var flags: UInt32
    /// The exptime as sent (see `MemcachedExpiry`).
    public var exptime: Int64
    /// The data block, without its `\r\n`.
    public var data: [UInt8]
    /// `cas`: the CAS unique the item must still have.
    public var casUnique: UInt64
    public var noreply: Bool

    public init(
        mode: MemcachedStoreMode, key: [UInt8], flags: UInt32, exptime: Int64, data: [UInt8], casUnique: UInt64 = 0,
        noreply: Bool = false
    ) {
        (self.mode, self.key, self.flags, self.exptime) = (mode, key, flags, exptime)
        (self.data, self.casUnique, self.noreply) = (data, casUnique, noreply)
    }
}
