//! Progress on standard error for reads that take long: drawn only on a terminal and only
//! after the first second, so that pipes and scripts never see it.

import Foundation

/// Progress on standard error while a long read runs: bytes, keys, rate and ETA, redrawn
/// at most five times a second, only when both standard output and standard error are
/// terminals and only once the work has taken more than a second.
final class Progress {
    private let total: Int
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false
    private let output: DumpOutput
    private let enabled: Bool
    /// Seconds before the first line (`STRATA_DUMP_PROGRESS_AFTER`, for tests; default 1).
    private let after = Double(ProcessInfo.processInfo.environment["STRATA_DUMP_PROGRESS_AFTER"] ?? "") ?? 1

    /// A reporter for work of `total` bytes (0 when unknown), drawing on `output`.
    init(totalBytes: Int, output: DumpOutput) {
        total = totalBytes
        self.output = output
        enabled = output.isTerminal
    }

    /// Notes that `bytes` of the total are done and `keys` keys seen.
    func update(bytes: Int, keys: Int) {
        guard enabled, keys & 1023 == 0 else { return }
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        guard elapsed > after, now.timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = now
        drawn = true
        var line = "\(humanBytes(bytes))"
        if total > 0 { line += " of \(humanBytes(total)) (\(min(100, bytes * 100 / total))%)" }
        line += ", \(keys) keys, \(Int(Double(keys) / elapsed)) keys/s"
        if total > 0 && bytes > 0 {
            let remaining = elapsed * Double(total - bytes) / Double(bytes)
            line += ", ETA \(Int(remaining.rounded())) s"
        }
        output.writeError("\r\u{1B}[K\(line)")
    }

    /// Clears the progress line.
    func finish() {
        if drawn { output.writeError("\r\u{1B}[K") }
    }
}
