import Foundation
import StrataPersistence
import Testing

@testable import StrataServer

/// The small replacements for what the server took from the full Foundation library print
/// exactly what `String(format:)` and `DateFormatter` printed.
@Suite struct FoundationFreeHelpersTests {
    @Test func printfMatchesStringFormat() {
        let values: [Double] = [
            0, -0.0, 1.005, 2.0 / 3.0, 99.9, 1e-7, 123_456_789.125, .nan, .infinity, -.infinity, 1e300,
        ]
        for format in ["%.2f", "%.3f", "%.6f", "%f", "%.17g", "%.2f%%"] {
            for value in values {
                #expect(String(printf: format, value) == String(format: format, value), "\(format) \(value)")
            }
        }
    }

    @Test func longResultsAreWhole() {
        let text = String(printf: "%f", 1e300)
        #expect(text.utf8.count == 308)
        #expect(text == String(format: "%f", 1e300))
    }

    @Test func logTimestampHasRedisShape() {
        let stamp = RedisLogHandler.localTimestamp()
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "dd MMM yyyy HH:mm:ss.SSS"
        // Parsed back by the formatter the log used before, at most a second from now.
        let parsed = formatter.date(from: stamp)
        #expect(parsed != nil, "\(stamp)")
        if let parsed { #expect(abs(parsed.timeIntervalSinceNow) < 1) }
    }

    /// Items a producer thread hands to the test's thread through a ``ThreadCondition``.
    final class Handover: @unchecked Sendable {
        let condition = ThreadCondition()
        var items: [Int] = []
    }

    @Test func conditionHandsItemsAcross() {
        let handover = Handover()
        let producer = Thread {
            for item in 0..<1000 {
                handover.condition.lock()
                while handover.items.count >= 4 { handover.condition.wait() }
                handover.items.append(item)
                handover.condition.broadcast()
                handover.condition.unlock()
            }
        }
        producer.start()
        var received: [Int] = []
        while received.count < 1000 {
            handover.condition.lock()
            while handover.items.isEmpty { handover.condition.wait() }
            received.append(handover.items.removeFirst())
            handover.condition.broadcast()
            handover.condition.unlock()
        }
        #expect(received == Array(0..<1000))
    }
}
