//! One ACL selector: which commands (a bitmap over command ordinals, plus allowed first
//! arguments), which keys (glob patterns with read/write flags) and which pub/sub channels
//! a user may touch. A user is a root selector plus any `(...)` selectors; a command is
//! allowed when one selector allows all of it. Rules apply left to right exactly as Redis
//! 7.0's `ACLSetSelector` applies them (the bitmap remembers order effects such as
//! `+@all -get +get`), because `ACL GETUSER`/`LIST` print what the bitmap says, not the
//! rules as typed.

import StrataEngine

/// Why a rule was refused; the text is Redis's.
struct ACLRuleError: Error, Equatable {
    let reason: String

    static let unknownCommand = ACLRuleError(reason: "Unknown command or category name in ACL")
    static let syntax = ACLRuleError(reason: "Syntax error")
    static let keyAfterAllKeys = ACLRuleError(
        reason:
            "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
    )
    static let channelAfterAllChannels = ACLRuleError(
        reason:
            "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
    )
    static let noSuchPassword = ACLRuleError(
        reason: "The password you are trying to remove from the user does not exist")
    static let badHash = ACLRuleError(
        reason:
            "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
    static let duplicateUser = ACLRuleError(
        reason: "Duplicate user found. A user can only be defined once in config files")
    static let subcommandFirstArg = ACLRuleError(reason: "Allowing first-arg of a subcommand is not supported")
}

/// A key pattern and the access it grants.
struct ACLKeyPattern: Equatable {
    var pattern: Bytes
    var read: Bool
    var write: Bool

    /// `~pat`, `%R~pat` or `%W~pat` (bytes: patterns need not be UTF-8).
    var description: [UInt8] {
        Array((read && write ? "~" : read ? "%R~" : "%W~").utf8) + pattern.array
    }
}

/// A set of command ordinals.
struct ACLCommandBits: Equatable {
    private(set) var words: [UInt64]

    init(count: Int, all: Bool) {
        words = [UInt64](repeating: all ? .max : 0, count: (count + 63) / 64)
    }

    @inline(__always)
    func contains(_ ordinal: Int) -> Bool {
        let word = ordinal >> 6
        return word < words.count && words[word] & (1 << UInt64(ordinal & 63)) != 0
    }

    mutating func set(_ ordinal: Int, _ value: Bool) {
        let word = ordinal >> 6
        guard word < words.count else { return }
        if value {
            words[word] |= 1 << UInt64(ordinal & 63)
        } else {
            words[word] &= ~(1 << UInt64(ordinal & 63))
        }
    }
}

/// What a check found wrong, ordered as Redis ranks them when selectors disagree.
enum ACLDenialReason: Int, Comparable {
    case command = 1
    case key = 2
    case channel = 4

    static func < (a: ACLDenialReason, b: ACLDenialReason) -> Bool { a.rawValue < b.rawValue }
}

/// A refused command: why, and the argument index of the key or channel at fault.
struct ACLDenial: Equatable {
    let reason: ACLDenialReason
    let position: Int
}

/// One selector of a user.
struct ACLSelector: Equatable {
    /// Whether it is the user's root selector.
    let isRoot: Bool
    var commands: ACLCommandBits
    /// Every command allowed, present and future (`+@all` not undone by a `-` rule).
    var allCommands = false
    /// Redis's reserved "future commands" bit: set by `+@all`, cleared only by `-@all`; it
    /// decides whether a description starts with `+@all` or `-@all`.
    var futureCommands = false
    /// First arguments allowed for commands whose bit is clear (`+select|0`), by ordinal.
    var firstArgs: [Int: [[UInt8]]] = [:]
    var keys: [ACLKeyPattern] = []
    var allKeys = false
    var channels: [Bytes] = []
    var allChannels: Bool

    /// A selector allowing nothing (channels as `acl-pubsub-default` says).
    init(isRoot: Bool, bitCount: Int, allChannels: Bool) {
        self.isRoot = isRoot
        self.commands = ACLCommandBits(count: bitCount, all: false)
        self.allChannels = allChannels
    }

    /// Whether it allows everything to everyone: no check is needed.
    var isUnrestricted: Bool { allCommands && allKeys && allChannels }

    // MARK: Rules

    /// Applies one selector rule (`~pat`, `&ch`, `+cmd`, `-@cat`, `allkeys`, ...).
    mutating func apply(_ rule: [UInt8], catalog: ACLCommandCatalog) throws(ACLRuleError) {
        let text = String(decoding: rule, as: UTF8.self)
        let lower = text.lowercased()
        switch lower {
        case "allkeys", "~*":
            allKeys = true
            keys.removeAll()
            return
        case "resetkeys":
            allKeys = false
            keys.removeAll()
            return
        case "allchannels", "&*":
            allChannels = true
            channels.removeAll()
            return
        case "resetchannels":
            allChannels = false
            channels.removeAll()
            return
        case "allcommands", "+@all":
            commands = ACLCommandBits(count: catalog.bitCount, all: true)
            allCommands = true
            futureCommands = true
            firstArgs.removeAll()
            return
        case "nocommands", "-@all":
            commands = ACLCommandBits(count: catalog.bitCount, all: false)
            allCommands = false
            futureCommands = false
            firstArgs.removeAll()
            return
        default:
            break
        }
        guard let first = rule.first else { return }
        let second: UInt8? = rule.count > 1 ? rule[1] : nil
        switch first {
        case UInt8(ascii: "~"), UInt8(ascii: "%"):
            try addKeyPattern(rule)
        case UInt8(ascii: "&"):
            if allChannels { throw .channelAfterAllChannels }
            let pattern = Array(rule.dropFirst())
            if ACLSelector.hasSpaces(pattern) { throw .syntax }
            if !channels.contains(Bytes(pattern)) { channels.append(Bytes(pattern)) }
            allChannels = false
        case UInt8(ascii: "+") where second != UInt8(ascii: "@"):
            try allow(Array(rule.dropFirst()), catalog: catalog)
        case UInt8(ascii: "-") where second != UInt8(ascii: "@"):
            guard let spec = catalog.lookup(String(text.dropFirst())) else { throw .unknownCommand }
            change(spec, allowed: false)
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let category = String(lower.dropFirst(2))
            guard
                let members = catalog.members[category] ?? (ACLCommandCatalog.categories.contains(category) ? [] : nil)
            else { throw .unknownCommand }
            for spec in members { change(spec, allowed: first == UInt8(ascii: "+")) }
        default:
            throw .syntax
        }
    }

    /// `~pat`, `%R~pat`, `%W~pat`, `%RW~pat`.
    private mutating func addKeyPattern(_ rule: [UInt8]) throws(ACLRuleError) {
        if allKeys { throw .keyAfterAllKeys }
        var read = true
        var write = true
        var offset = 1
        if rule[0] == UInt8(ascii: "%") {
            read = false
            write = false
            var closed = false
            while offset < rule.count {
                let letter = rule[offset]
                offset += 1
                if (letter | 0x20) == UInt8(ascii: "r") && !read {
                    read = true
                } else if (letter | 0x20) == UInt8(ascii: "w") && !write {
                    write = true
                } else if letter == UInt8(ascii: "~") {
                    closed = true
                    break
                } else {
                    throw .syntax
                }
            }
            // Redis accepts `%R` with no `~` as an empty pattern; a flag is still required.
            _ = closed
            if !read && !write { throw .syntax }
        }
        let pattern = Array(rule[offset...])
        if pattern == [UInt8(ascii: "*")] && read && write {
            allKeys = true
            keys.removeAll()
            return
        }
        if ACLSelector.hasSpaces(pattern) { throw .syntax }
        let bytes = Bytes(pattern)
        if let index = keys.firstIndex(where: { $0.pattern == bytes }) {
            keys[index].read = keys[index].read || read
            keys[index].write = keys[index].write || write
        } else {
            keys.append(ACLKeyPattern(pattern: bytes, read: read, write: write))
        }
        allKeys = false
    }

    /// `+cmd`, `+container|sub`, `+cmd|firstarg`.
    private mutating func allow(_ rule: [UInt8], catalog: ACLCommandCatalog) throws(ACLRuleError) {
        let name = String(decoding: rule, as: UTF8.self)
        guard let bar = rule.lastIndex(of: UInt8(ascii: "|")) else {
            guard let spec = catalog.lookup(name) else { throw .unknownCommand }
            change(spec, allowed: true)
            return
        }
        let base = String(decoding: rule[..<bar], as: UTF8.self)
        let argument = Array(rule[(bar + 1)...])
        guard let command = catalog.lookup(base) else { throw .unknownCommand }
        if ACLCommandCatalog.isSubcommand(command) { throw .subcommandFirstArg }
        if argument.isEmpty { throw .syntax }
        if !command.subcommands.isEmpty {
            guard let sub = catalog.lookup(name) else { throw .unknownCommand }
            change(sub, allowed: true)
        } else {
            var allowed = firstArgs[command.ordinal] ?? []
            if !allowed.contains(where: { ACLSelector.equalIgnoringCase($0, argument) }) { allowed.append(argument) }
            firstArgs[command.ordinal] = allowed
        }
    }

    /// Redis's `ACLChangeSelectorPerm`: the command's bit and its subcommands' bits.
    mutating func change(_ spec: CommandSpec, allowed: Bool) {
        setBit(spec.ordinal, allowed)
        firstArgs[spec.ordinal] = nil
        for sub in spec.subcommands.values { setBit(sub.ordinal, allowed) }
    }

    private mutating func setBit(_ ordinal: Int, _ allowed: Bool) {
        commands.set(ordinal, allowed)
        if !allowed { allCommands = false }
    }

    /// ASCII case-insensitive equality, as `strcasecmp`.
    static func equalIgnoringCase(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy { x, y in x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= 97 && (x | 0x20) <= 122)
            }
    }

    static func hasSpaces(_ bytes: [UInt8]) -> Bool {
        bytes.contains { $0 == 0 || $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == 10 || $0 == 13 }
    }
}
