//! File work that may block in the kernel and that nothing waits for: unlinking a large
//! file, closing a descriptor whose pages are still being written back. Done on the event
//! loop it stalled every client of that pass (2–20 ms each was seen at the end of an AOF
//! rewrite); Redis hands the same work to a background job. One serial queue keeps it in
//! the order it was asked for.

import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs blocking file work off the calling thread, in order.
public enum BackgroundFileWork {
    static let queue = DispatchQueue(label: "strata.files", qos: .utility)

    /// Something handed to the queue only to be released there.
    private struct Released: @unchecked Sendable {
        let object: AnyObject
    }

    /// Unlinks `paths`, ignoring the ones already gone.
    public static func remove(_ paths: [String]) {
        guard !paths.isEmpty else { return }
        queue.async {
            for path in paths { _ = unlink(path) }
        }
    }

    /// Drops this reference to `object` on the queue, so that a `deinit` it runs there (a
    /// descriptor's close) does not block the caller.
    public static func release(_ object: AnyObject) {
        let released = Released(object: object)
        queue.async { withExtendedLifetime(released) {} }
    }
}
