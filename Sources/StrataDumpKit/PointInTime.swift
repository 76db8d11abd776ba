//! `--until TIME` of `restore`: the moment up to which an AOF is replayed.

import ArgumentParser
import Foundation

/// A moment, to the second.
struct PointInTime: Equatable, Sendable {
    /// Unix seconds.
    var seconds: Int64

    /// `text` as Unix seconds: an integer, or an ISO 8601 time (`2026-11-28T10:00:00Z`).
    static func parse(_ text: String) throws -> PointInTime {
        if let seconds = Int64(text) { return PointInTime(seconds: seconds) }
        if let date = ISO8601DateFormatter().date(from: text) {
            return PointInTime(seconds: Int64(date.timeIntervalSince1970))
        }
        throw ValidationError(
            "--until takes Unix seconds or an ISO 8601 time such as 2026-11-28T10:00:00Z, not \(text)")
    }
}
