//! The bound on random replies that repeat members (SRANDMEMBER, ZRANDMEMBER and HRANDFIELD
//! with a negative count). Such a reply is as long as the client asks, whatever the size of
//! the collection: Redis 7.0 tries to build one of 9,223,372,036,854,775,807 elements and is
//! killed by the kernel for want of memory, with every client's data. Strata builds a
//! reply before it sends it, so it refuses counts past this bound instead.

/// The longest reply of repeated random members Strata builds.
public enum RandomReplyLimit {
    /// Elements in one reply (about 300 MB of reply at most).
    public static let maximumRepeated = 10_000_000

    /// The refusal for a larger count.
    public static let tooLarge = Reply.error(
        "ERR value is out of range, a count below -\(maximumRepeated) would build a reply larger than memory")

    /// Whether a negative `count` asks for more repeated members than a reply may hold.
    @inlinable
    public static func exceeds(_ count: Int) -> Bool {
        count < -maximumRepeated
    }
}
