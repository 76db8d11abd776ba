//! ArgumentParser's parse errors told in the tool's own words. strata-dump's usage errors
//! had one wording before it moved to ArgumentParser (`unknown option --x`, `--top needs a
//! value`, `--top takes an integer in 1...100000, not x`, `--type takes one of ...`);
//! scripts and the end-to-end tests match it, so the few messages ArgumentParser words
//! itself are put back into that wording. Anything else passes through unchanged.

/// Rewording of ArgumentParser's parse errors.
enum UsageWording {
    /// The integer options and their ranges, as `validate()` checks them.
    static let integerRanges: [String: ClosedRange<Int>] = [
        "--top": 1...100_000, "--depth": 1...64, "--db": KeyFilter.databases, "--keep": 1...1_000_000,
    ]

    /// What the options with a fixed set of values say about an unknown one.
    static let choices: [String: String] = [
        "--type": "--type takes one of \(KeyType.allCases.map(\.rawValue).sorted().joined(separator: ", "))",
        "--format": "--format takes sdb, rdb, resp or jsonl",
        "--codec": "--codec takes lz4, zlib or none",
    ]

    /// `message` in the tool's wording.
    static func reword(_ message: String) -> String {
        let quoted = message.split(separator: "'", omittingEmptySubsequences: false).map(String.init)
        // The option inside quotes, without the value placeholder: `'--top <N>'` → `--top`.
        func option(_ text: String) -> String { String(text.split(separator: " ").first ?? "") }
        if message.hasPrefix("Unknown option '"), quoted.count >= 2 {
            return "unknown option \(quoted[1])"
        }
        if message.hasPrefix("Missing value for '"), quoted.count >= 2 {
            return "\(option(quoted[1])) needs a value"
        }
        if message.hasPrefix("The value '"), quoted.count >= 4 {
            let (value, name) = (quoted[1], option(quoted[3]))
            if let range = integerRanges[name] {
                return "\(name) takes an integer in \(range.lowerBound)...\(range.upperBound), not \(value)"
            }
            if let choice = choices[name] { return choice }
        }
        return message
    }
}
