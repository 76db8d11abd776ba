//! Finding the keys of an invocation the way Redis 7.0's `COMMAND GETKEYS` does: the key
//! specs are evaluated first (index or keyword start, range or key-count finder); when a
//! spec cannot be evaluated (unknown, incomplete, a bad key count) or the key flags vary
//! with the arguments, the command's own search decides instead. Clients and cluster
//! routers depend on exactly these answers, including the odd ones (the store key listed
//! last by the fallback, `atoi` key counts), so they are reproduced rather than improved.

/// One key of an invocation: its argument index (the name is 0) and how it is used.
public struct KeyReference: Sendable, Equatable {
    /// Argument index.
    public let position: Int
    /// Use of the key; empty when the command-specific search does not tell it.
    public let flags: KeySpecFlags

    /// A key reference.
    public init(position: Int, flags: KeySpecFlags) {
        self.position = position
        self.flags = flags
    }
}

extension CommandMetadata {
    /// Whether the command can have key arguments at all (`ERR The command has no key
    /// arguments` otherwise).
    public var hasKeys: Bool {
        KeyFallback.byCommand[name] != nil || keySpecs.contains { !$0.flags.contains(.notKey) }
    }

    /// The keys of an invocation (`args` starts with the name) as Redis 7.0 finds them;
    /// empty when none are found.
    public func keyReferences(in args: [Bytes]) -> [KeyReference] {
        let hasKeySpec = keySpecs.contains { !$0.flags.contains(.notKey) }
        let variableFlags = keySpecs.contains { $0.flags.contains(.variableFlags) }
        if hasKeySpec && !variableFlags, let found = keysFromSpecs(args) { return found }
        return KeyFallback.byCommand[name]?.keys(in: args) ?? []
    }

    /// The keys the specs give, or nil when a spec cannot be evaluated for these arguments
    /// (unknown, incomplete, a key count that is not a count or points past the end).
    func keysFromSpecs(_ args: [Bytes]) -> [KeyReference]? {
        var found: [KeyReference] = []
        for spec in keySpecs where !spec.flags.contains(.notKey) {
            guard let start = spec.start(in: args) else { return nil }
            guard let first = start else { continue }  // keyword absent: no keys here
            guard let (from, through, step) = spec.range(from: first, in: args) else { return nil }
            for position in stride(from: from, through: through, by: step) {
                found.append(KeyReference(position: position, flags: spec.flags))
            }
            if spec.flags.contains(.incomplete) { return nil }
        }
        return found
    }
}

extension KeySpec {
    /// Where the keys start: nil when the search is unknown, `.some(nil)` when the keyword
    /// is absent.
    func start(in args: [Bytes]) -> Int?? {
        switch beginSearch {
        case .index(let index):
            return .some(index)
        case .keyword(let keyword, let startFrom):
            let word = Bytes(keyword).lowercased
            let count = args.count
            if startFrom > 0 {
                // Forwards, up to (not including) the last argument.
                var i = startFrom
                while i < count - 1 {
                    if args[i].lowercased == word { return .some(i + 1) }
                    i += 1
                }
            } else {
                var i = count + startFrom
                while i >= 1 {
                    if i < count, args[i].lowercased == word { return .some(i + 1) }
                    i -= 1
                }
            }
            return .some(nil)
        case .unknown:
            return nil
        }
    }

    /// The first and last key positions and the step from `first`, or nil when they fall
    /// outside the arguments or the key count is not a count.
    func range(from first: Int, in args: [Bytes]) -> (Int, Int, Int)? {
        let count = args.count
        var first = first
        let last: Int
        let step: Int
        switch findKeys {
        case .range(let lastKey, let keyStep, let limit):
            step = keyStep
            if lastKey >= 0 {
                last = first + lastKey
            } else if limit <= 0 {
                last = count + lastKey
            } else {
                last = first + ((count - first) / limit + lastKey)
            }
        case .keyNumber(let index, let firstKey, let keyStep):
            step = keyStep
            let at = first + index
            guard index < count, at >= 0, at < count, let number = args[at].strictInteger, number >= 0 else {
                return nil
            }
            first += firstKey
            // Redis keeps the count in an int.
            last = first + Int(Int32(truncatingIfNeeded: number)) - 1
        case .unknown:
            return nil
        }
        guard step > 0, first >= 0, last < count, last >= first, first < count else { return nil }
        return (first, last, step)
    }
}

/// A command's own key search, which Redis uses when the key specs cannot answer.
enum KeyFallback {
    /// A key count at `count`, keys from `first`, and a store key at `store` (0: none)
    /// listed after them.
    case counted(store: Int, count: Int, first: Int)
    /// SORT (the key, and the last STORE target) or SORT_RO (the key only).
    case sort(readOnly: Bool)
    /// MIGRATE: the key argument, or the keys after `KEYS`.
    case migrate
    /// GEORADIUS(BYMEMBER): the key and the last STORE or STOREDIST target.
    case geoRadius
    /// XREAD and XREADGROUP: the first half of what follows `STREAMS`.
    case streams
    /// SET: read and written with `GET`, overwritten without.
    case set
    /// BITFIELD: read-only when it only has GET and OVERFLOW operations.
    case bitfield

    /// The commands of Redis 7.0 that have their own key search.
    static let byCommand: [String: KeyFallback] = [
        "sintercard": .counted(store: 0, count: 1, first: 2),
        "zintercard": .counted(store: 0, count: 1, first: 2),
        "zunion": .counted(store: 0, count: 1, first: 2),
        "zinter": .counted(store: 0, count: 1, first: 2),
        "zdiff": .counted(store: 0, count: 1, first: 2),
        "zunionstore": .counted(store: 1, count: 2, first: 3),
        "zinterstore": .counted(store: 1, count: 2, first: 3),
        "zdiffstore": .counted(store: 1, count: 2, first: 3),
        "eval": .counted(store: 0, count: 2, first: 3),
        "evalsha": .counted(store: 0, count: 2, first: 3),
        "eval_ro": .counted(store: 0, count: 2, first: 3),
        "evalsha_ro": .counted(store: 0, count: 2, first: 3),
        "fcall": .counted(store: 0, count: 2, first: 3),
        "fcall_ro": .counted(store: 0, count: 2, first: 3),
        "lmpop": .counted(store: 0, count: 1, first: 2),
        "blmpop": .counted(store: 0, count: 2, first: 3),
        "zmpop": .counted(store: 0, count: 1, first: 2),
        "bzmpop": .counted(store: 0, count: 2, first: 3),
        "sort": .sort(readOnly: false),
        "sort_ro": .sort(readOnly: true),
        "migrate": .migrate,
        "georadius": .geoRadius,
        "georadiusbymember": .geoRadius,
        "xread": .streams,
        "xreadgroup": .streams,
        "set": .set,
        "bitfield": .bitfield,
    ]

    /// The keys of an invocation.
    func keys(in args: [Bytes]) -> [KeyReference] {
        let count = args.count
        switch self {
        case .counted(let store, let countIndex, let first):
            guard countIndex < count else { return [] }
            let number = KeyFallback.atoi(args[countIndex])
            guard number >= 1, number <= count - first else { return [] }
            var keys = (0..<number).map { KeyReference(position: first + $0, flags: []) }
            if store > 0 { keys.append(KeyReference(position: store, flags: [])) }
            return keys
        case .sort(let readOnly):
            var keys = [KeyReference(position: 1, flags: [.readOnly, .access])]
            if readOnly { return keys }
            var store: Int?
            var i = 2
            while i < count {
                let word = args[i]
                if word.equalsIgnoringCase("limit") {
                    i += 2
                } else if word.equalsIgnoringCase("get") || word.equalsIgnoringCase("by") {
                    i += 1
                } else if word.equalsIgnoringCase("store") && i + 1 < count {
                    store = i + 1
                }
                i += 1
            }
            if let store { keys.append(KeyReference(position: store, flags: [.overwrite, .update])) }
            return keys
        case .migrate:
            return KeyFallback.migrateKeys(args).map {
                KeyReference(position: $0, flags: [.readWrite, .access, .delete])
            }
        case .geoRadius:
            var keys = [KeyReference(position: 1, flags: [])]
            var store: Int?
            var i = 5
            while i < count {
                if (args[i].equalsIgnoringCase("store") || args[i].equalsIgnoringCase("storedist")) && i + 1 < count {
                    store = i + 1
                    i += 1
                }
                i += 1
            }
            if let store { keys.append(KeyReference(position: store, flags: [])) }
            return keys
        case .streams:
            guard let streams = KeyFallback.streamsPosition(args) else { return [] }
            let remaining = count - streams - 1
            guard remaining > 0, remaining % 2 == 0 else { return [] }
            return (0..<remaining / 2).map { KeyReference(position: streams + 1 + $0, flags: []) }
        case .set:
            let get = args.dropFirst(3).contains { $0.equalsIgnoringCase("get") }
            return [KeyReference(position: 1, flags: get ? [.readWrite, .access, .update] : [.overwrite, .update])]
        case .bitfield:
            return [
                KeyReference(
                    position: 1,
                    flags: KeyFallback.bitfieldReadOnly(args) ? [.readOnly, .access] : [.readWrite, .access, .update])
            ]
        }
    }

    /// C's `atoi` as glibc has it: leading spaces, a sign, the digits up to the first
    /// other byte, saturated like `strtol` and cut to an int.
    static func atoi(_ bytes: Bytes) -> Int {
        var i = 0
        let count = bytes.count
        while i < count, isSpaceByte(bytes[i]) { i += 1 }
        var negative = false
        if i < count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        var value: Int64 = 0
        var saturated = false
        while i < count, bytes[i] >= 48, bytes[i] <= 57 {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int64(bytes[i] - 48))
            if o1 || o2 {
                saturated = true
                break
            }
            value = sum
            i += 1
        }
        if saturated { value = negative ? Int64.min : Int64.max } else if negative { value = -value }
        return Int(Int32(truncatingIfNeeded: value))
    }

    /// MIGRATE's key positions: the key argument, or everything after `KEYS` when the key
    /// argument is empty (none when it is not: that is a syntax error).
    static func migrateKeys(_ args: [Bytes]) -> [Int] {
        let count = args.count
        guard count > 3 else { return [] }
        var i = 6
        while i < count {
            let word = args[i]
            if word.equalsIgnoringCase("keys") {
                return args[3].count > 0 ? [] : Array((i + 1)..<count)
            }
            if word.equalsIgnoringCase("auth") {
                i += 1
            } else if word.equalsIgnoringCase("auth2") {
                i += 2
            }
            i += 1
        }
        return [3]
    }

    /// The index of XREAD's `STREAMS` keyword after the options, nil on a syntax error.
    static func streamsPosition(_ args: [Bytes]) -> Int? {
        var i = 1
        while i < args.count {
            let word = args[i]
            if word.equalsIgnoringCase("block") || word.equalsIgnoringCase("count") {
                i += 1
            } else if word.equalsIgnoringCase("group") {
                i += 2
            } else if word.equalsIgnoringCase("streams") {
                return i
            } else if !word.equalsIgnoringCase("noack") {
                return nil
            }
            i += 1
        }
        return nil
    }

    /// Whether BITFIELD's operations only read.
    static func bitfieldReadOnly(_ args: [Bytes]) -> Bool {
        var i = 2
        let count = args.count
        while i < count {
            let remaining = count - i - 1
            let word = args[i]
            if word.equalsIgnoringCase("get") && remaining >= 2 {
                i += 2
            } else if word.equalsIgnoringCase("overflow") && remaining >= 1 {
                i += 1
            } else {
                return false
            }
            i += 1
        }
        return true
    }
}
