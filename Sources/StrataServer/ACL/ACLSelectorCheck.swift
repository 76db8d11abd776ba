//! The form of a selector that every command is checked against: the same permissions as
//! an ``ACLSelector``, held by constants of a class so that the check on every command
//! reads them in place (a selector struct read out of a user's array is copied, its
//! bitmap and pattern lists retained and released, on each command). Rebuilt whenever a
//! user changes; Redis's `ACLSelectorCheckCmd` and key/channel matching.

import StrataEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A selector's permissions, as checked.
final class ACLSelectorCheck {
    let commands: ACLCommandBits
    let allCommands: Bool
    let firstArgs: [Int: [[UInt8]]]
    let keys: ContiguousArray<ACLKeyPattern>
    /// Per key pattern, its literal prefix when the pattern is `prefix*` with no other
    /// special character (the common `app:*`): matched by comparing bytes.
    let keyPrefixes: ContiguousArray<[UInt8]?>
    let allKeys: Bool
    let channels: [Bytes]
    let allChannels: Bool

    /// The check of `selector`.
    init(_ selector: ACLSelector) {
        commands = selector.commands
        allCommands = selector.allCommands
        firstArgs = selector.firstArgs
        keys = ContiguousArray(selector.keys)
        keyPrefixes = ContiguousArray(selector.keys.map { ACLSelectorCheck.literalPrefix(of: $0.pattern.array) })
        allKeys = selector.allKeys
        channels = selector.channels
        allChannels = selector.allChannels
    }

    /// A check allowing exactly the channels `channels` (and nothing else).
    init(channels: [Bytes]) {
        commands = ACLCommandBits(count: 0, all: false)
        allCommands = false
        firstArgs = [:]
        keys = []
        keyPrefixes = []
        allKeys = false
        self.channels = channels
        allChannels = false
    }

    /// Whether the command itself (not its keys) is allowed.
    @inline(__always)
    func allowsCommand(_ spec: CommandSpec, _ args: [Bytes]) -> Bool {
        if allCommands || commands.contains(spec.ordinal) || spec.flags.contains(.noAuth) { return true }
        guard let allowed = firstArgs[spec.ordinal] else { return false }
        let index = ACLCommandCatalog.isSubcommand(spec) ? 2 : 1
        guard index < args.count else { return false }
        let given = args[index].array
        return allowed.contains { ACLSelector.equalIgnoringCase($0, given) }
    }

    /// Redis's `ACLSelectorCheckCmd`: nil when allowed.
    func check(_ spec: CommandSpec, _ args: [Bytes], catalog: ACLCommandCatalog) -> ACLDenial? {
        if !allowsCommand(spec, args) { return ACLDenial(reason: .command, position: 0) }
        if !allKeys && catalog.hasKeys(spec) {
            if spec.ordinal < catalog.simpleKeys.count, let plan = catalog.simpleKeys[spec.ordinal],
                let result = simpleKeyDenial(plan, args)
            {
                if let denial = result { return denial }
            } else {
                for key in catalog.keyReferences(spec, args) where key.position < args.count {
                    if !allowsKey(args[key.position], flags: key.flags) {
                        return ACLDenial(reason: .key, position: key.position)
                    }
                }
            }
        }
        if !allChannels, spec.ordinal < catalog.channelUse.count, let use = catalog.channelUse[spec.ordinal] {
            switch use {
            case .publishFirst:
                if args.count > 1 && !allowsChannel(args[1], literally: false) {
                    return ACLDenial(reason: .channel, position: 1)
                }
            case .subscribeAll, .subscribePatterns:
                for position in 1..<max(args.count, 1)
                where !allowsChannel(args[position], literally: use == .subscribePatterns) {
                    return ACLDenial(reason: .channel, position: position)
                }
            }
        }
        return nil
    }

    /// The first key of a plain-range command this selector refuses: `.some(nil)` when all
    /// are allowed, nil when a range does not fit the arguments (the general search then
    /// decides, as Redis falls back to the command's own search).
    private func simpleKeyDenial(_ plan: [SimpleKeyRange], _ args: [Bytes]) -> ACLDenial?? {
        let count = args.count
        for range in plan {
            let last = range.lastKey >= 0 ? range.begin + range.lastKey : count + range.lastKey
            guard range.begin < count, last < count, last >= range.begin else { return nil }
        }
        for range in plan {
            let last = range.lastKey >= 0 ? range.begin + range.lastKey : count + range.lastKey
            var position = range.begin
            let flags = range.flags(for: args)
            while position <= last {
                if !allowsKey(args[position], flags: flags) {
                    return .some(ACLDenial(reason: .key, position: position))
                }
                position += range.step
            }
        }
        return .some(nil)
    }

    /// Whether a key may be used the way `flags` say (read for `access`, write for
    /// `insert`/`delete`/`update`; any matching pattern when they say neither).
    func allowsKey(_ key: Bytes, flags: KeySpecFlags) -> Bool {
        if allKeys { return true }
        let needsRead = flags.contains(.access)
        let needsWrite = !flags.isDisjoint(with: [.insert, .delete, .update])
        // Through the buffer: iterating the array would copy (and retain) each pattern.
        return keys.withUnsafeBufferPointer { patterns in
            for index in patterns.indices
            where (!needsRead || patterns[index].read) && (!needsWrite || patterns[index].write) {
                if let prefix = keyPrefixes[index] {
                    if ACLSelectorCheck.hasPrefix(key, prefix) { return true }
                } else if GlobPattern.matches(patterns[index].pattern, key) {
                    return true
                }
            }
            return false
        }
    }

    /// The literal part of a `literal*` pattern, or nil for any other pattern.
    static func literalPrefix(of pattern: [UInt8]) -> [UInt8]? {
        guard pattern.last == UInt8(ascii: "*") else { return nil }
        let literal = pattern.dropLast()
        let special: Set<UInt8> = [UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "["), UInt8(ascii: "\\")]
        return literal.contains(where: special.contains) ? nil : Array(literal)
    }

    /// Whether `key` starts with `prefix`.
    @inline(__always)
    static func hasPrefix(_ key: Bytes, _ prefix: [UInt8]) -> Bool {
        if prefix.isEmpty { return true }
        return key.withUnsafeBytes { bytes in
            guard bytes.count >= prefix.count, let start = bytes.baseAddress else { return false }
            return prefix.withUnsafeBytes { literal in
                guard let expected = literal.baseAddress else { return false }
                return memcmp(start, expected, prefix.count) == 0
            }
        }
    }

    /// Whether every key matching `*` may be read (SORT BY/GET need it).
    var readsAllKeys: Bool {
        allKeys || keys.contains { $0.read && $0.pattern == Bytes("*") }
    }

    /// Whether a channel (or, `literally`, a subscription pattern) is allowed.
    func allowsChannel(_ channel: Bytes, literally: Bool) -> Bool {
        if allChannels { return true }
        for pattern in channels {
            if literally ? pattern == channel : GlobPattern.matches(pattern, channel) { return true }
        }
        return false
    }
}
