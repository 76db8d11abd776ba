//! The fuzz target of ACL rules: arbitrary bytes, split into words as `ACL SETUSER`
//! arguments, are applied to a new user. Any error must be a rule error (never a trap),
//! and a user that was accepted must survive the round trip that `ACL SAVE` + `ACL LOAD`
//! and `CONFIG REWRITE` make: its `ACL LIST` description, applied as rules to a new user,
//! gives the same permissions and the same description.

import StrataEngine

/// Runs the ACL rule parser on fuzzed input (for `Tools/fuzz` and the corpus replay).
public enum ACLRuleFuzzing {
    private static let control = AccessControl(catalog: ACLCommandCatalog.standard)

    /// Runs one input; traps when a property breaks.
    public static func run(_ data: UnsafeRawBufferPointer) {
        let words = Array(data).split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true).map(Array.init)
        guard words.count <= 64 else { return }
        guard let state = try? control.stagedState(for: "fuzz", rules: words) else { return }
        let user = ACLUser(name: "fuzz", state: state)
        let description = user.rulesDescription(catalog: control.catalog)
        // Patterns holding the characters that delimit selectors or quote words cannot be
        // read back (as in Redis); the round trip is checked for the others.
        let delimiters = Set("()\"'\\".utf8)
        let awkward = state.selectors.contains { selector in
            selector.keys.contains { $0.pattern.array.contains(where: delimiters.contains) }
                || selector.channels.contains { $0.array.contains(where: delimiters.contains) }
                || selector.firstArgs.values.contains { $0.contains { $0.contains(where: delimiters.contains) } }
        }
        if awkward { return }
        let again = description.split(separator: UInt8(ascii: " ")).map(Array.init)
        guard let reread = try? control.stagedState(for: "fuzz-again", rules: again) else {
            preconditionFailure("the description '\(printable(description))' is not accepted as rules")
        }
        let rereadDescription = ACLUser(name: "fuzz", state: reread).rulesDescription(catalog: control.catalog)
        let text = printable(description)
        precondition(rereadDescription == description, "'\(text)' reads back as '\(printable(rereadDescription))'")
        precondition(reread.selectors.count == state.selectors.count, "selectors lost in '\(text)'")
        for (a, b) in zip(state.selectors, reread.selectors) {
            precondition(a.commands == b.commands, "command bits differ after reading back '\(text)'")
            precondition(a.keys == b.keys && a.allKeys == b.allKeys, "keys differ after reading back '\(text)'")
            // First arguments of an allowed command do nothing and are not described (as in
            // Redis); the others must come back.
            let effective = a.firstArgs.filter { !a.commands.contains($0.key) }
            precondition(effective == b.firstArgs, "first arguments differ after reading back '\(text)'")
        }
    }

    private static func printable(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
