//! How much memory a key and its value take in Strata's keyspace, and how many elements a
//! value has: `MEMORY USAGE` answers with the first, `strata-dump inspect --memory` reports
//! both for every key of a dump.

extension Value {
    /// Heap bytes of a byte string of `count` bytes kept out of line (the allocator's size
    /// class of a block holding a 16-byte object header and the bytes), 0 when it fits in
    /// `inline` bytes.
    static func heapBytes(_ count: Int, inline: Int) -> Int {
        guard count > inline else { return 0 }
        let raw = 16 + count
        return (raw + 15) & ~15
    }

    /// A key's share of its keyspace table: a 48-byte slot and a 2-byte tag in a table
    /// kept between 45% and 90% full (``KeyTable``), about 75% on average.
    public static let keyspaceBytesPerKey = 67
    /// A deadline's share of its shard's deadline table (32-byte slot, 2-byte tag).
    public static let deadlineBytesPerKey = 45

    /// The bytes a key of `keyBytes` bytes holding this value takes: its keyspace slot
    /// (``keyspaceBytesPerKey``), the heap blocks of key and value, and a deadline-table
    /// slot when `hasDeadline`.
    public func memoryUsage(keyBytes: Int, hasDeadline: Bool) -> Int {
        var total = Value.keyspaceBytesPerKey + Value.heapBytes(keyBytes, inline: Bytes.inlineCapacity)
        switch self {
        case .integer, .shortString: break
        case .longString(_, let count), .rawString(_, let count):
            total += Value.heapBytes(count, inline: 0)
        case .hash(let hash):
            if let packed = hash.packedByteCount {
                total += Value.heapBytes(packed, inline: 0)
            } else {
                for entry in hash.entries {
                    total +=
                        85 + Value.heapBytes(entry.field.count, inline: Bytes.inlineCapacity)
                        + Value.heapBytes(entry.value.count, inline: Bytes.inlineCapacity)
                }
            }
        case .list(let list):
            for element in list.elements {
                total += 24 + Value.heapBytes(element.count, inline: Bytes.inlineCapacity)
            }
        case .set(let set):
            let perMember = set.encodingName == "intset" ? 8 : 60
            for member in set.members {
                total += perMember + Value.heapBytes(member.count, inline: Bytes.inlineCapacity)
            }
        case .sortedSet(let zset):
            // Listpack: 32 bytes an element; skiplist: ~46 in tree leaves plus ~64 in the
            // score dictionary.
            let perMember = zset.encodingName == "listpack" ? 32 : 110
            for item in zset.all {
                total += perMember + Value.heapBytes(item.member.count, inline: Bytes.inlineCapacity)
            }
        case .stream(let storage):
            total += storage.stream.footprint
        }
        return total + (hasDeadline ? Value.deadlineBytesPerKey : 0)
    }

    /// Elements of a collection (fields, members, list elements); for a string, its
    /// length in bytes (as `redis-cli --bigkeys` sizes strings).
    public var elementCount: Int {
        switch self {
        case .hash(let hash): return hash.count
        case .set(let set): return set.count
        case .list(let list): return list.count
        case .sortedSet(let zset): return zset.count
        case .stream(let storage): return storage.stream.length
        case .integer, .shortString, .longString, .rawString: return stringBytes?.count ?? 0
        }
    }
}
