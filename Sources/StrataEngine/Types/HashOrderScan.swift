/// The cursor walk HSCAN and SSCAN use over a hashtable-encoded collection: items are
/// visited in the order of their elements' placement hash, and the cursor is the hash to
/// resume from, so an element present for the whole iteration is always returned.
enum HashOrderScan {
    /// One step: up to about `count` items whose hash is at least `cursor`.
    ///
    /// - Returns: the next cursor (0 at the end) and the items of this step.
    static func step<T>(_ items: [(Bytes, T)], cursor: UInt64, count: Int) -> (next: UInt64, items: [T]) {
        var candidates: [(UInt64, T)] = []
        for (element, item) in items {
            let position = Database.placementHash(element)
            if position >= cursor { candidates.append((position, item)) }
        }
        candidates.sort { $0.0 < $1.0 }
        if candidates.count <= count { return (0, candidates.map { $0.1 }) }
        var taken = Swift.max(count, 1)
        while taken < candidates.count && candidates[taken].0 == candidates[taken - 1].0 { taken += 1 }
        if taken == candidates.count { return (0, candidates.map { $0.1 }) }
        return (candidates[taken].0, candidates[0..<taken].map { $0.1 })
    }
}
