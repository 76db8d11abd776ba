//! `DEBUG DIGEST` and `DEBUG DIGEST-VALUE`: Redis 7.0's digest of a keyspace (`debug.c`),
//! computed the same way so the same data gives the same 40 hex digits in Strata and Redis
//! (tests compare keyspaces across servers and across restarts with it). Two operations on
//! a 20-byte digest: *xor* folds in the SHA-1 of some bytes (order does not matter: set
//! members, hash fields, keys), *mix* xors then replaces the digest by its own SHA-1 (order
//! matters: list elements, stream entries). Each key's digest mixes its name, its type as a
//! big-endian 32-bit integer, its elements, and xors `!!expire!!` when it has a deadline;
//! the dataset's digest mixes each non-empty database's index and xors every key's digest.

import StrataEngine
import StrataScripting

/// Redis's keyspace digest.
enum DatasetDigest {
    /// The digest of every database (keys past their deadline included, as Redis's walk of
    /// its tables); 20 zero bytes when every database is empty.
    static func dataset(_ databases: [Database]) -> [UInt8] {
        var final = [UInt8](repeating: 0, count: 20)
        for (index, database) in databases.enumerated() where database.count > 0 {
            mix(&final, bigEndian32(index))
            for key in database.allKeys() {
                guard let entry = database.rawEntry(key) else { continue }
                var digest = [UInt8](repeating: 0, count: 20)
                mix(&digest, key.array)
                object(&digest, entry.value, hasDeadline: database.deadline(key) != nil)
                xor(&final, digest)
            }
        }
        return final
    }

    /// The digest of one value (`DEBUG DIGEST-VALUE`): its type, elements and deadline
    /// flag, without the key's name.
    static func value(_ value: Value, hasDeadline: Bool) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 20)
        object(&digest, value, hasDeadline: hasDeadline)
        return digest
    }

    /// Lowercase hex, as Redis prints digests.
    static func hex(_ digest: [UInt8]) -> String { digest.lowercaseHex }

    private static func object(_ digest: inout [UInt8], _ value: Value, hasDeadline: Bool) {
        switch value {
        case .shortString, .longString, .rawString, .integer:
            mix(&digest, bigEndian32(0))
            mix(&digest, (value.stringBytes ?? Bytes()).array)
        case .list(let list):
            mix(&digest, bigEndian32(1))
            for element in list.elements { mix(&digest, element.array) }
        case .set(let set):
            mix(&digest, bigEndian32(2))
            for member in set.members { xor(&digest, member.array) }
        case .sortedSet(let zset):
            mix(&digest, bigEndian32(3))
            for item in zset.all {
                var element = [UInt8](repeating: 0, count: 20)
                mix(&element, item.member.array)
                mix(&element, Array(String(printf: "%.17g", item.score).utf8))
                xor(&digest, element)
            }
        case .hash(let hash):
            mix(&digest, bigEndian32(4))
            for entry in hash.entries {
                var element = [UInt8](repeating: 0, count: 20)
                mix(&element, entry.field.array)
                mix(&element, entry.value.array)
                xor(&digest, element)
            }
        case .stream(let storage):
            mix(&digest, bigEndian32(6))
            for entry in storage.stream.range(from: .zero, to: .max) {
                mix(&digest, Array("\(entry.id.ms).\(entry.id.seq)".utf8))
                for item in entry.fields { mix(&digest, item.array) }
            }
        }
        if hasDeadline { xor(&digest, Array("!!expire!!".utf8)) }
    }

    private static func bigEndian32(_ n: Int) -> [UInt8] {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: n).bigEndian) { Array($0) }
    }

    private static func sha1(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { SHA1.digest($0) }
    }

    /// Folds the SHA-1 of `bytes` into `digest` (Redis's `xorDigest`).
    private static func xor(_ digest: inout [UInt8], _ bytes: [UInt8]) {
        let hash = sha1(bytes)
        for i in 0..<20 { digest[i] ^= hash[i] }
    }

    /// Folds the SHA-1 of `bytes` into `digest`, then replaces `digest` by its SHA-1
    /// (Redis's `mixDigest`).
    private static func mix(_ digest: inout [UInt8], _ bytes: [UInt8]) {
        xor(&digest, bytes)
        digest = sha1(digest)
    }
}
