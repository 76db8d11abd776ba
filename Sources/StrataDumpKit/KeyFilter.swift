//! Which keys `inspect --keys`, `inspect --memory` and `restore` take: by database, type,
//! glob pattern and whether they have expired.

import ArgumentParser
import Foundation
import StrataEngine
import StrataPersistence

/// The types a key can have, as `TYPE` names them.
enum KeyType: String, CaseIterable, ExpressibleByArgument {
    case string, list, set, zset, hash, stream
}

/// The `--db`, `--type`, `--match` and `--expired`/`--no-expired` options of `inspect`.
struct KeyFilterOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Only keys of database N.", valueName: "N"))
    var db: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Only keys of type T.", valueName: "T"))
    var type: KeyType?

    @Option(parsing: .unconditional, help: ArgumentHelp("Only keys matching the glob pattern.", valueName: "GLOB"))
    var match: String?

    @Flag(help: "Only keys that have expired.")
    var expired = false

    @Flag(name: .customLong("no-expired"), help: "Only keys that have not expired.")
    var notExpired = false

    func validate() throws {
        try checkRange(db, "--db", in: KeyFilter.databases)
        if expired && notExpired { throw ValidationError("--expired and --no-expired exclude each other") }
    }

    /// The filter these options describe.
    var filter: KeyFilter {
        var filter = KeyFilter()
        filter.db = db
        filter.type = type?.rawValue
        filter.pattern = match.map { Bytes($0) }
        filter.expired = expired ? true : notExpired ? false : nil
        return filter
    }
}

/// A filter of keys; accepts every key when empty.
struct KeyFilter {
    /// The database numbers `--db` takes.
    static let databases = 0...1_000_000

    var db: Int?
    var type: String?
    var pattern: Bytes?
    /// true: only expired keys; false: only keys not expired; nil: all.
    var expired: Bool?
    let now = Int64(Date().timeIntervalSince1970 * 1000)

    func accepts(_ record: SnapshotRecord) -> Bool {
        accepts(db: record.db, key: record.key, value: record.value, deadline: record.deadline)
    }

    func accepts(db: Int, key: Bytes, value: Value, deadline: Int64?) -> Bool {
        if let wanted = self.db, db != wanted { return false }
        if let type, value.typeName != type { return false }
        if let expired {
            let isExpired = deadline.map { $0 <= now } ?? false
            if isExpired != expired { return false }
        }
        if let pattern, !GlobPattern.matches(pattern, key) { return false }
        return true
    }
}
