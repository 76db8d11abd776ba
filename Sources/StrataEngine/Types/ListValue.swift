//! The list type: a double-ended queue (swift-collections' `Deque`, a copy-on-write ring
//! buffer) so pushes and pops at both ends are O(1) and indexing is O(1), as queues and
//! capped logs need. Redis 7.0 reports every list as `quicklist`; so does Strata.

import DequeModule

/// An ordered sequence of byte strings.
public struct ListValue: Sendable, Equatable {
    /// The elements, head first.
    public var elements: Deque<Bytes>

    /// An empty list.
    public init() {
        elements = []
    }

    /// A list of `elements`, head first.
    public init<S: Sequence>(_ elements: S) where S.Element == Bytes {
        self.elements = Deque(elements)
    }

    /// Number of elements.
    public var count: Int { elements.count }

    /// The encoding name Redis 7.0 reports for lists.
    public var encodingName: String { "quicklist" }

    /// Resolves a Redis index (negative counts from the tail) to an offset, or nil.
    public func offset(_ index: Int) -> Int? {
        let resolved = index < 0 ? elements.count + index : index
        return resolved >= 0 && resolved < elements.count ? resolved : nil
    }

    /// The clamped inclusive range `[start, stop]` with Redis's rules, or nil when empty.
    public func range(_ start: Int, _ stop: Int) -> ClosedRange<Int>? {
        let count = elements.count
        var low = start < 0 ? count + start : start
        var high = stop < 0 ? count + stop : stop
        if low < 0 { low = 0 }
        if high >= count { high = count - 1 }
        guard low <= high, low < count else { return nil }
        return low...high
    }
}
