//! memcached's exptime (`realtime()`): 0 never expires, a negative one has expired
//! already, up to 30 days it counts seconds from now, beyond it is a Unix time (one in the
//! past has expired already).

/// What an exptime means.
public enum MemcachedExpiry: Sendable, Equatable {
    /// No deadline.
    case never
    /// Expired already: the item is stored gone (memcached's rel time 1).
    case expired
    /// The Unix ms at which it goes.
    case at(Int64)

    /// The longest relative exptime, seconds (`REALTIME_MAXDELTA`).
    public static let maximumRelative: Int64 = 60 * 60 * 24 * 30

    /// The meaning of `exptime` at `now` (Unix ms).
    public init(exptime: Int64, now: Int64) {
        if exptime == 0 {
            self = .never
        } else if exptime < 0 {
            self = .expired
        } else if exptime > MemcachedExpiry.maximumRelative {
            // An absolute time (seconds); past what milliseconds hold it never comes.
            let (deadline, overflow) = exptime.multipliedReportingOverflow(by: 1000)
            self = overflow ? .never : deadline <= now ? .expired : .at(deadline)
        } else {
            let (deadline, overflow) = now.addingReportingOverflow(exptime * 1000)
            self = overflow ? .never : .at(deadline)
        }
    }
}
