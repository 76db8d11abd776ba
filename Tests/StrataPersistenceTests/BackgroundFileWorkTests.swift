import Foundation
import Testing

@testable import StrataPersistence

/// Blocking file work handed off the caller's thread: it happens, later, on the queue.
@Suite("Background file work")
struct BackgroundFileWorkTests {
    /// Polls `condition` until it holds or 30 s pass.
    static func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(30)
        while !condition() {
            if Date() > deadline { return false }
            usleep(1000)
        }
        return true
    }

    /// Records that it was deallocated.
    final class Tracked: @unchecked Sendable {
        var deallocated: () -> Void
        init(_ deallocated: @escaping () -> Void) { self.deallocated = deallocated }
        deinit { deallocated() }
    }

    @Test func removesFilesOnTheQueue() throws {
        let directory = NSTemporaryDirectory() + "background-file-work-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let paths = (0..<3).map { directory + "/file\($0)" }
        for path in paths { #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8))) }
        BackgroundFileWork.queue.suspend()
        BackgroundFileWork.remove(paths + [directory + "/never-existed"])
        // Nothing happens on the caller's thread.
        #expect(paths.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        BackgroundFileWork.queue.resume()
        #expect(Self.eventually { paths.allSatisfy { !FileManager.default.fileExists(atPath: $0) } })
    }

    @Test func releasesTheLastReferenceOnTheQueue() {
        let lock = NSLock()
        var deallocated = false
        BackgroundFileWork.queue.suspend()
        do {
            let object = Tracked {
                lock.lock()
                deallocated = true
                lock.unlock()
            }
            BackgroundFileWork.release(object)
        }
        // The caller's reference is gone; the queue's keeps the object until it runs.
        lock.lock()
        let early = deallocated
        lock.unlock()
        #expect(!early)
        BackgroundFileWork.queue.resume()
        #expect(
            Self.eventually {
                lock.lock()
                defer { lock.unlock() }
                return deallocated
            })
    }
}
