//! Redis 7's key specifications: where an invocation's keys are (a begin search, then a
//! key finder) and how each key is used (flags). They are what `COMMAND INFO` prints and
//! what `COMMAND GETKEYS` evaluates, so they are modelled exactly as Redis publishes them
//! rather than derived from Strata's own key positions.

/// How a command uses the keys one key spec finds, as `COMMAND INFO` and
/// `COMMAND GETKEYSANDFLAGS` print them.
public struct KeySpecFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Read-only access to the value.
    public static let readOnly = KeySpecFlags(rawValue: 1 << 0)
    /// Read and write access to the value.
    public static let readWrite = KeySpecFlags(rawValue: 1 << 1)
    /// Overwrites the value.
    public static let overwrite = KeySpecFlags(rawValue: 1 << 2)
    /// Removes the key.
    public static let remove = KeySpecFlags(rawValue: 1 << 3)
    /// Returns, copies or uses user data of the value.
    public static let access = KeySpecFlags(rawValue: 1 << 4)
    /// Updates data in the value.
    public static let update = KeySpecFlags(rawValue: 1 << 5)
    /// Only adds data to the value.
    public static let insert = KeySpecFlags(rawValue: 1 << 6)
    /// Explicitly deletes data from the value.
    public static let delete = KeySpecFlags(rawValue: 1 << 7)
    /// Not a key (a shard channel) though it hashes like one.
    public static let notKey = KeySpecFlags(rawValue: 1 << 8)
    /// The spec may miss keys: a command-specific search finds them all.
    public static let incomplete = KeySpecFlags(rawValue: 1 << 9)
    /// The flags depend on the arguments: a command-specific search tells them.
    public static let variableFlags = KeySpecFlags(rawValue: 1 << 10)

    /// The flags with their printed names, in the order Redis prints them.
    static let named: [(KeySpecFlags, String)] = [
        (.readOnly, "RO"), (.readWrite, "RW"), (.overwrite, "OW"), (.remove, "RM"), (.access, "access"),
        (.update, "update"), (.insert, "insert"), (.delete, "delete"), (.notKey, "not_key"),
        (.incomplete, "incomplete"), (.variableFlags, "variable_flags"),
    ]

    /// The flags named in a space-separated list (`"RW access delete"`); unknown names are
    /// ignored.
    public init(names: String) {
        self = []
        for word in names.split(separator: " ") {
            if let match = KeySpecFlags.named.first(where: { $0.1 == word }) { insert(match.0) }
        }
    }

    /// The printed names, in Redis's order.
    public var names: [String] {
        KeySpecFlags.named.filter { contains($0.0) }.map { $0.1 }
    }
}

/// One key specification of a command.
public struct KeySpec: Sendable, Equatable {
    /// Where the search for keys starts.
    public enum BeginSearch: Sendable, Equatable {
        /// At a fixed argument index (the name is index 0).
        case index(Int)
        /// After a keyword, searched from `startFrom` (negative: from the end, backwards).
        case keyword(String, startFrom: Int)
        /// Cannot be told from the arguments.
        case unknown
    }

    /// How the keys are found from the start.
    public enum FindKeys: Sendable, Equatable {
        /// A range: `lastKey` relative to the start (negative: from the end), every
        /// `keyStep`-th argument; with `limit` > 0 and `lastKey` -1, only the first
        /// 1/`limit` of the remaining arguments.
        case range(lastKey: Int, keyStep: Int, limit: Int)
        /// A key count at `index` (relative to the start), keys from `firstKey` (relative
        /// to the start) every `keyStep`-th argument.
        case keyNumber(index: Int, firstKey: Int, keyStep: Int)
        /// Cannot be told from the arguments.
        case unknown
    }

    /// How the keys are used.
    public let flags: KeySpecFlags
    /// Where the search starts.
    public let beginSearch: BeginSearch
    /// How keys are found from there.
    public let findKeys: FindKeys
    /// Redis's explanatory note, printed first when present.
    public let notes: String?

    /// A key spec; `flags` is a space-separated list of printed names.
    public init(_ flags: String, _ beginSearch: BeginSearch, _ findKeys: FindKeys, notes: String? = nil) {
        self.flags = KeySpecFlags(names: flags)
        self.beginSearch = beginSearch
        self.findKeys = findKeys
        self.notes = notes
    }

    /// A key spec from its parts.
    public init(flags: KeySpecFlags, beginSearch: BeginSearch, findKeys: FindKeys, notes: String? = nil) {
        self.flags = flags
        self.beginSearch = beginSearch
        self.findKeys = findKeys
        self.notes = notes
    }
}
