//! The users of the server and what changes them: `ACL SETUSER` (atomic: every rule is
//! applied to a copy before the user changes), `ACL DELUSER`, the `user` directives of the
//! config file and the ACL file (`ACL LOAD`/`ACL SAVE`), and `requirepass`, which is the
//! default user's password. The server owns one instance; it holds no connection state.

import RESP
import StrataEngine

/// The ACL users.
final class AccessControl {
    let catalog: ACLCommandCatalog
    /// Users by name.
    private(set) var users: [String: ACLUser] = [:]
    /// The `default` user, which always exists.
    private(set) var defaultUser: ACLUser
    /// `acl-pubsub-default allchannels`: new users and selectors get `&*`.
    var allChannelsByDefault = false
    /// The log of denials.
    var log = ACLLog()

    /// A registry holding only `default` (`on nopass ~* &* +@all`).
    init(catalog: ACLCommandCatalog) {
        self.catalog = catalog
        defaultUser = ACLUser(name: "default", state: AccessControl.defaultState(catalog))
        users["default"] = defaultUser
    }

    /// `on nopass ~* &* +@all`.
    static func defaultState(_ catalog: ACLCommandCatalog) -> ACLUserState {
        var state = ACLUserState(bitCount: catalog.bitCount, allChannels: true)
        for rule in ["on", "nopass", "~*", "&*", "+@all"] {
            try? state.apply(Array(rule.utf8), catalog: catalog, allChannelsByDefault: true)
        }
        return state
    }

    /// Whether a new connection must authenticate (the default user has a password or is
    /// off).
    var authenticationRequired: Bool {
        !defaultUser.state.noPassword || !defaultUser.state.enabled
    }

    /// The user named `name`.
    func user(named name: String) -> ACLUser? { users[name] }

    /// Names, sorted as Redis's radix tree lists them (bytewise).
    var sortedNames: [String] {
        users.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// The user `name` authenticates as with `password`, or nil (unknown, off, wrong
    /// password).
    func authenticate(_ name: String, password: Bytes) -> ACLUser? {
        guard let user = users[name], user.state.enabled, user.accepts(password: password) else { return nil }
        return user
    }

    // MARK: Changes

    /// An error of `ACL SETUSER`, with Redis's text.
    enum SetUserError: Error, Equatable {
        case badName
        case unmatchedParenthesis(String)
        case rule(String, ACLRuleError)

        var message: String {
            switch self {
            case .badName: return "ERR Usernames can't contain spaces or null characters"
            case .unmatchedParenthesis(let start):
                return "ERR Unmatched parenthesis in acl selector starting at '\(start)'."
            case .rule(let rule, let error): return "ERR Error in ACL SETUSER modifier '\(rule)': \(error.reason)"
            }
        }
    }

    /// The state `rules` would give `name` (created off and empty when new), without
    /// changing anything.
    func stagedState(for name: String, rules: [[UInt8]]) throws(SetUserError) -> ACLUserState {
        if ACLSelector.hasSpaces(Array(name.utf8)) { throw .badName }
        var state =
            users[name]?.state ?? ACLUserState(bitCount: catalog.bitCount, allChannels: allChannelsByDefault)
        let merged = try AccessControl.mergeSelectors(rules)
        for rule in merged {
            do {
                try state.apply(rule, catalog: catalog, allChannelsByDefault: allChannelsByDefault)
            } catch {
                throw .rule(String(decoding: rule, as: UTF8.self), error)
            }
        }
        return state
    }

    /// Creates or replaces the user `name` with `state`; returns the user and its state
    /// before (nil when new).
    @discardableResult
    func store(_ name: String, state: ACLUserState) -> (user: ACLUser, previous: ACLUserState?) {
        if let existing = users[name] {
            let previous = existing.state
            existing.replace(with: state)
            return (existing, previous)
        }
        let user = ACLUser(name: name, state: state)
        users[name] = user
        return (user, nil)
    }

    /// Removes a user (never `default`); returns it when it existed.
    func remove(_ name: String) -> ACLUser? {
        guard name != "default" else { return nil }
        return users.removeValue(forKey: name)
    }

    /// `requirepass`: the default user's only password, or nopass when empty.
    func setDefaultPassword(_ password: String) {
        var state = defaultUser.state
        state.passwords.removeAll()
        if password.isEmpty {
            state.noPassword = true
        } else {
            state.noPassword = false
            state.passwords = [SHA256.hex(Array(password.utf8))]
        }
        defaultUser.replace(with: state)
    }

    /// Joins `(` ... `)` words split by spaces into one selector rule, as Redis's
    /// `ACLMergeSelectorArguments` does.
    static func mergeSelectors(_ rules: [[UInt8]]) throws(SetUserError) -> [[UInt8]] {
        var merged: [[UInt8]] = []
        var open: [UInt8]?
        var start: [UInt8] = []
        for rule in rules {
            if var selector = open {
                selector.append(UInt8(ascii: " "))
                selector.append(contentsOf: rule)
                if rule.last == UInt8(ascii: ")") {
                    merged.append(selector)
                    open = nil
                } else {
                    open = selector
                }
                continue
            }
            if rule.first == UInt8(ascii: "(") && rule.last != UInt8(ascii: ")") {
                open = rule
                start = rule
                continue
            }
            merged.append(rule)
        }
        if open != nil { throw .unmatchedParenthesis(String(decoding: start, as: UTF8.self)) }
        return merged
    }

    // MARK: ACL files

    /// Parses ACL file text into users, collecting every error as Redis reports them
    /// (`file:line: ...`); the current users are not changed.
    func parseFile(_ text: String, path: String) -> Result<[(String, ACLUserState)], ACLFileError> {
        var errors: [String] = []
        var parsed: [(String, ACLUserState)] = []
        var seen = Set<String>()
        var lineNumber = 0
        for rawLine in Array(text.utf8).split(separator: 10, omittingEmptySubsequences: false) {
            lineNumber += 1
            // As Redis's sdstrim(" \t\r\n"): surrounding blanks and a CR are dropped.
            let blank: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 13 || $0 == 10 }
            guard let first = rawLine.firstIndex(where: { !blank($0) }),
                let last = rawLine.lastIndex(where: { !blank($0) })
            else { continue }
            var lineBytes = Array(rawLine[first...last])
            let split = try? lineBytes.withUnsafeMutableBytes { raw in
                try RESPInlineSplitter.split(UnsafeRawBufferPointer(raw))
            }
            guard let words = split else {
                errors.append("\(path):\(lineNumber): Unbalanced quotes in configuration line. ")
                continue
            }
            if words.isEmpty { continue }
            guard String(decoding: words[0], as: UTF8.self) == "user", words.count >= 2 else {
                errors.append("\(path):\(lineNumber) should start with user keyword followed by the username. ")
                continue
            }
            let name = String(decoding: words[1], as: UTF8.self)
            if ACLSelector.hasSpaces(words[1]) {
                errors.append("'\(path):\(lineNumber): username '\(name)' contains invalid characters. ")
                continue
            }
            if seen.contains(name) {
                errors.append("WARNING: Duplicate user '\(name)' found on line \(lineNumber). ")
                continue
            }
            seen.insert(name)
            var state = ACLUserState(bitCount: catalog.bitCount, allChannels: allChannelsByDefault)
            let rules: [[UInt8]]
            do {
                rules = try AccessControl.mergeSelectors(Array(words.dropFirst(2)))
            } catch {
                errors.append("\(path):\(lineNumber): Unmatched parenthesis in selector definition. ")
                continue
            }
            // As Redis: every rule is tried; unknown names are reported with the rule, any
            // other error (which could reveal a password) once per line by its reason only.
            var failed = false
            var reportedOther = false
            for rule in rules {
                do {
                    try state.apply(rule, catalog: catalog, allChannelsByDefault: allChannelsByDefault)
                } catch {
                    if error == .unknownCommand {
                        errors.append(
                            "\(path):\(lineNumber): Error in applying operation '\(String(decoding: rule, as: UTF8.self))': \(error.reason). "
                        )
                    } else if !reportedOther {
                        errors.append("\(path):\(lineNumber): \(error.reason). ")
                        reportedOther = true
                    }
                    failed = true
                }
            }
            if !failed { parsed.append((name, state)) }
        }
        if !errors.isEmpty {
            return .failure(
                ACLFileError(
                    message: errors.joined()
                        + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"))
        }
        return .success(parsed)
    }

    /// Replaces every user with `loaded` (the default user is reset to its initial state
    /// when the file does not define it); returns the users that were replaced or removed
    /// (their clients must be disconnected), never the default user.
    func install(_ loaded: [(String, ACLUserState)]) -> [ACLUser] {
        let replaced = users.values.filter { $0 !== defaultUser }
        var fresh: [String: ACLUser] = ["default": defaultUser]
        defaultUser.replace(with: AccessControl.defaultState(catalog))
        for (name, state) in loaded {
            if name == "default" {
                defaultUser.replace(with: state)
            } else {
                fresh[name] = ACLUser(name: name, state: state)
            }
        }
        users = fresh
        return replaced
    }

    /// The ACL file text `ACL SAVE` writes: the `ACL LIST` lines.
    var fileText: [UInt8] {
        sortedNames.compactMap { users[$0]?.listLine(catalog: catalog) }.flatMap { $0 + [10] }
    }
}

/// An ACL file that could not be loaded; `message` is Redis's text.
struct ACLFileError: Error {
    let message: String
}
