//! An ACL user: enabled or not, its passwords (SHA-256 hex, as Redis stores them), its
//! flags and selectors. Connections hold the user object itself, so `ACL SETUSER` changes
//! the permissions of connected clients at once (Redis mutates the user in place too); the
//! rules are applied to a copy of the state first, so a failing rule changes nothing.

import RESP
import StrataEngine

/// The settable state of a user.
struct ACLUserState: Equatable {
    /// Whether sanitize-payload or skip-sanitize-payload was set (neither for a new user).
    enum Sanitizing: Equatable {
        case unset, sanitize, skip
    }

    var enabled = false
    var noPassword = false
    var sanitizing = Sanitizing.unset
    /// SHA-256 hex of each password, in the order added.
    var passwords: [String] = []
    /// The root selector first, then `(...)` selectors in the order added.
    var selectors: [ACLSelector]

    /// A new user: off, no passwords, no permissions.
    init(bitCount: Int, allChannels: Bool) {
        selectors = [ACLSelector(isRoot: true, bitCount: bitCount, allChannels: allChannels)]
    }

    /// The flags `ACL GETUSER` and `ACL LIST` print, in Redis's order.
    var flagNames: [String] {
        var names = [enabled ? "on" : "off"]
        if noPassword { names.append("nopass") }
        switch sanitizing {
        case .unset: break
        case .skip: names.append("skip-sanitize-payload")
        case .sanitize: names.append("sanitize-payload")
        }
        return names
    }

    /// Applies one rule (Redis's `ACLSetUser`); `allChannelsByDefault` is
    /// `acl-pubsub-default allchannels`.
    mutating func apply(_ rule: [UInt8], catalog: ACLCommandCatalog, allChannelsByDefault: Bool) throws(ACLRuleError) {
        guard !rule.isEmpty else { return }
        switch String(decoding: rule, as: UTF8.self).lowercased() {
        case "on": enabled = true
        case "off": enabled = false
        case "skip-sanitize-payload": sanitizing = .skip
        case "sanitize-payload": sanitizing = .sanitize
        case "nopass":
            noPassword = true
            passwords.removeAll()
        case "resetpass":
            noPassword = false
            passwords.removeAll()
        case "clearselectors":
            selectors.removeAll { !$0.isRoot }
        case "reset":
            noPassword = false
            passwords.removeAll()
            try selectors[0].apply(Array("resetkeys".utf8), catalog: catalog)
            try selectors[0].apply(Array("resetchannels".utf8), catalog: catalog)
            if allChannelsByDefault { try selectors[0].apply(Array("allchannels".utf8), catalog: catalog) }
            enabled = false
            sanitizing = .sanitize
            selectors.removeAll { !$0.isRoot }
            try selectors[0].apply(Array("-@all".utf8), catalog: catalog)
        default:
            try applyPasswordOrSelector(rule, catalog: catalog, allChannelsByDefault: allChannelsByDefault)
        }
    }

    private mutating func applyPasswordOrSelector(
        _ rule: [UInt8], catalog: ACLCommandCatalog, allChannelsByDefault: Bool
    ) throws(ACLRuleError) {
        let body = Array(rule.dropFirst())
        switch rule[0] {
        case UInt8(ascii: ">"), UInt8(ascii: "#"):
            let hash: String
            if rule[0] == UInt8(ascii: ">") {
                hash = SHA256.hex(body)
            } else {
                guard ACLUserState.isHash(body) else { throw .badHash }
                hash = String(decoding: body, as: UTF8.self)
            }
            if !passwords.contains(hash) { passwords.append(hash) }
            noPassword = false
        case UInt8(ascii: "<"), UInt8(ascii: "!"):
            let hash: String
            if rule[0] == UInt8(ascii: "<") {
                hash = SHA256.hex(body)
            } else {
                guard ACLUserState.isHash(body) else { throw .badHash }
                hash = String(decoding: body, as: UTF8.self)
            }
            guard let index = passwords.firstIndex(of: hash) else { throw .noSuchPassword }
            passwords.remove(at: index)
        case UInt8(ascii: "(") where rule.last == UInt8(ascii: ")"):
            var selector = ACLSelector(isRoot: false, bitCount: catalog.bitCount, allChannels: allChannelsByDefault)
            guard let words = ACLUserState.splitSelector(Array(rule.dropFirst().dropLast())) else { throw .syntax }
            for word in words { try selector.apply(word, catalog: catalog) }
            selectors.append(selector)
        default:
            try selectors[0].apply(rule, catalog: catalog)
        }
    }

    /// Whether `bytes` is 64 lowercase hex digits.
    static func isHash(_ bytes: [UInt8]) -> Bool {
        bytes.count == 64
            && bytes.allSatisfy {
                ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                    || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
            }
    }

    /// The words of a selector's body, split as Redis's `sdssplitargs` splits them; nil for
    /// unbalanced quotes.
    static func splitSelector(_ body: [UInt8]) -> [[UInt8]]? {
        var copy = body
        return try? copy.withUnsafeMutableBytes { raw in
            try RESPInlineSplitter.split(UnsafeRawBufferPointer(raw)).map { Array($0) }
        }
    }
}

/// A user, shared by the registry and the connections authenticated as it.
final class ACLUser {
    /// The name (case-sensitive).
    let name: String
    /// Its flags, passwords and selectors.
    private(set) var state: ACLUserState
    /// Whether it may run everything on every key and channel: checks are skipped.
    private(set) var isUnrestricted: Bool
    /// The state's selectors in the form checked on every command.
    private var selectors: [ACLSelectorCheck]

    init(name: String, state: ACLUserState) {
        self.name = name
        self.state = state
        self.isUnrestricted = state.selectors.contains { $0.isUnrestricted }
        self.selectors = state.selectors.map(ACLSelectorCheck.init)
    }

    /// Replaces the state (after every rule of an `ACL SETUSER` applied).
    func replace(with newState: ACLUserState) {
        state = newState
        isUnrestricted = newState.selectors.contains { $0.isUnrestricted }
        selectors = newState.selectors.map(ACLSelectorCheck.init)
    }

    /// Whether `password` is one of its passwords (or it has nopass); compared in time
    /// independent of where the hashes differ.
    func accepts(password: Bytes) -> Bool {
        if state.noPassword { return true }
        let hash = Array(SHA256.hex(password.array).utf8)
        var matched = false
        for stored in state.passwords {
            var difference: UInt8 = 0
            for (a, b) in zip(Array(stored.utf8), hash) { difference |= a ^ b }
            if difference == 0 { matched = true }
        }
        return matched
    }

    /// Redis's `ACLCheckAllUserCommandPerm`: nil when some selector allows the command;
    /// otherwise the denial to report (a command denial only when no selector got past the
    /// command; else the highest reason, the later argument among equals).
    func check(_ spec: CommandSpec, _ args: [Bytes], catalog: ACLCommandCatalog) -> ACLDenial? {
        if selectors.count == 1 { return selectors[0].check(spec, args, catalog: catalog) }
        var worst = ACLDenial(reason: .command, position: 0)
        for selector in selectors {
            guard let denial = selector.check(spec, args, catalog: catalog) else { return nil }
            if denial.reason > worst.reason || (denial.reason == worst.reason && denial.position > worst.position) {
                worst = denial
            }
        }
        return worst
    }

    /// Whether it may read every key (SORT's BY and GET patterns need it).
    var readsAllKeys: Bool { selectors.contains { $0.readsAllKeys } }
}
