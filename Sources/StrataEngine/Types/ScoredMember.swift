//! One element of a sorted set: a member and its score, ordered as Redis orders them — by
//! score, then by the member's bytes (memcmp, a prefix first).

/// A sorted-set member with its score.
public struct ScoredMember: Sendable, Equatable {
    /// The score (never NaN).
    public var score: Double
    /// The member.
    public var member: Bytes

    /// A member with its score.
    @inlinable
    public init(score: Double, member: Bytes) {
        self.score = score
        self.member = member
    }

    /// Whether `self` sorts before `other`: lower score, or equal score and smaller bytes.
    @inlinable
    public func precedes(_ other: ScoredMember) -> Bool {
        if score != other.score { return score < other.score }
        return member.compare(other.member) < 0
    }

    /// Whether `self` is `other`: the same score and member.
    @inlinable
    public func matches(_ other: ScoredMember) -> Bool {
        score == other.score && member == other.member
    }
}

extension Array where Element == ScoredMember {
    /// The index of the first element not before `x` (where `x` belongs), by binary search.
    @inlinable
    func insertionIndex(of x: ScoredMember) -> Int {
        partitionIndex { $0.precedes(x) }
    }

    /// The number of leading elements for which `isBelow` holds; `isBelow` must hold for a
    /// prefix of the array and not after it.
    @inlinable
    func partitionIndex(_ isBelow: (ScoredMember) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low &+ high) >> 1
            if isBelow(self[mid]) { low = mid &+ 1 } else { high = mid }
        }
        return low
    }
}
