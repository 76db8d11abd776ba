//! The keyspace's memory as a tree of key-prefix segments, for the picture `strata-dump
//! inspect --memory --svg` draws: `user:42:cart` adds its bytes to `user`, then
//! `user:42`, then the key itself (segments split by `--separator`, at most `--depth`
//! levels, the rest of the key a leaf). Each node keeps its bytes by type so the picture
//! can colour it. Memory stays bounded: past `maximumNodes`, new children of a node fold
//! into its `(other)` child.

import StrataEngine

struct MemoryTree {
    /// One prefix (or key) and what lies under it.
    struct Node {
        var name: String
        var bytes = 0
        var keys = 0
        var bytesByType: [String: Int] = [:]
        var children: [String: Int] = [:]

        /// The type holding most of the bytes.
        var dominantType: String {
            bytesByType.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? "string"
        }
    }

    static let maximumNodes = 200_000
    static let other = "(other)"

    let separator: [UInt8]
    let depth: Int
    private(set) var nodes = [Node(name: "all keys")]

    init(separator: String, depth: Int) {
        self.separator = Array(separator.utf8)
        self.depth = max(1, depth)
    }

    /// Adds a key of `type` taking `bytes`.
    mutating func add(key: Bytes, type: String, bytes: Int) {
        var node = 0
        nodes[0].bytes += bytes
        nodes[0].keys += 1
        nodes[0].bytesByType[type, default: 0] += bytes
        for segment in segments(of: key) {
            node = child(of: node, named: segment)
            nodes[node].bytes += bytes
            nodes[node].keys += 1
            nodes[node].bytesByType[type, default: 0] += bytes
        }
    }

    /// The node under `parent` named `name`, created (or folded into `(other)`) as needed.
    private mutating func child(of parent: Int, named name: String) -> Int {
        if let existing = nodes[parent].children[name] { return existing }
        let label = nodes.count >= MemoryTree.maximumNodes ? MemoryTree.other : name
        if let existing = nodes[parent].children[label] { return existing }
        nodes.append(Node(name: label))
        nodes[parent].children[label] = nodes.count - 1
        return nodes.count - 1
    }

    /// The key's path: up to `depth` prefixes, each ending with the separator, then the key's
    /// remainder (none when the key ends at a separator).
    func segments(of key: Bytes) -> [String] {
        let bytes = key.withUnsafeBytes { Array($0) }
        guard !separator.isEmpty else { return [Bytes(bytes).displayText] }
        var result: [String] = []
        var start = 0
        var index = 0
        while index + separator.count <= bytes.count && result.count < depth {
            if bytes[index..<(index + separator.count)].elementsEqual(separator) {
                index += separator.count
                result.append(Bytes(Array(bytes[start..<index])).displayText)
                start = index
            } else {
                index += 1
            }
        }
        if start < bytes.count { result.append(Bytes(Array(bytes[start...])).displayText) }
        return result
    }
}
