//! Replaying an AOF in bounded memory: keys are split into partitions by a hash of their
//! bytes, and a replay loads only one group of partitions (its keys from the base, the
//! commands naming them, and every keyless command such as SELECT, FLUSHALL or SWAPDB,
//! which act the same on any subset of keys). A command naming keys of several partitions
//! (RENAME, SMOVE, LMOVE, *STORE, ...) needs them in one replay, so a first scan links
//! such partitions into one group (`AOFPartitionPlan`); a command whose keys cannot be
//! told (SORT with BY or GET) links them all.

import StrataEngine

/// One replay's share of the keys: the partitions in `members`, out of `count`.
public struct AOFPartition: Sendable {
    /// How many partitions keys are split into.
    public let count: Int
    /// The partitions this replay loads.
    public let members: Set<Int>

    /// A share of `count` partitions.
    public init(count: Int, members: Set<Int>) {
        self.count = count
        self.members = members
    }

    /// The partition of `key` (FNV-1a of its bytes).
    public static func index(of key: Bytes, count: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        key.withUnsafeBytes { raw in
            for byte in raw {
                hash ^= UInt64(byte)
                hash &*= 0x100_0000_01b3
            }
        }
        return Int(hash % UInt64(count))
    }

    /// Whether `key` belongs to this replay.
    public func contains(_ key: Bytes) -> Bool {
        members.contains(AOFPartition.index(of: key, count: count))
    }

    /// Whether this replay runs the command: keyless commands always, others when their
    /// (first) key is in it (the plan put all of a command's keys in one group).
    func runs(_ spec: CommandSpec, _ args: [Bytes]) -> Bool {
        guard let keys = spec.keys(in: args) else { return true }
        guard let first = keys.first else { return true }
        return contains(first)
    }

}

/// The groups of partitions an AOF must be replayed in: built from the commands of the
/// files, linking the partitions of every multi-key command.
public struct AOFPartitionPlan {
    private var parent: [Int]
    /// How many partitions keys are split into.
    public let count: Int
    private let table = CommandTable.standard

    /// A plan over `count` partitions, none linked yet.
    public init(count: Int) {
        self.count = count
        parent = Array(0..<count)
    }

    private mutating func root(_ x: Int) -> Int {
        var x = x
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    private mutating func link(_ a: Int, _ b: Int) {
        let (ra, rb) = (root(a), root(b))
        if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
    }

    /// Notes one command of the log.
    public mutating func note(_ args: [Bytes]) {
        guard case .success(let spec) = table.resolveLogged(args) else { return }
        guard let keys = spec.keys(in: args) else {
            for index in 1..<max(count, 1) { link(0, index) }
            return
        }
        guard keys.count > 1 else { return }
        let first = AOFPartition.index(of: keys[0], count: count)
        for key in keys.dropFirst() { link(first, AOFPartition.index(of: key, count: count)) }
    }

    /// The replays to run, each a group of linked partitions.
    public mutating func groups() -> [AOFPartition] {
        var members: [Int: Set<Int>] = [:]
        for index in 0..<count { members[root(index), default: []].insert(index) }
        return members.keys.sorted().map { AOFPartition(count: count, members: members[$0] ?? []) }
    }
}
