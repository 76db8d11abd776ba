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

    /// A file handed to the queue to be closed there.
    private struct Closing: @unchecked Sendable {
        let file: any WritableFile
    }

    /// Unlinks `paths`, ignoring the ones already gone, then calls `completion` on the
    /// queue: a caller that records the files somewhere forgets them only once they are
    /// gone, so a crash in between leaves them recorded rather than orphaned.
    public static func remove(_ paths: [String], then completion: (@Sendable () -> Void)? = nil) {
        guard !paths.isEmpty else { return }
        queue.async {
            for path in paths { _ = unlink(path) }
            completion?()
        }
    }

    /// Closes `file` on the queue. The close is explicit rather than left to the file's
    /// `deinit`: whichever thread drops the last reference would run that, and the caller's
    /// own reference is often the last one, released after the queue's.
    public static func close(_ file: any WritableFile) {
        let closing = Closing(file: file)
        queue.async { closing.file.close() }
    }
}
