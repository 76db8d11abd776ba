import Foundation
import Testing

@testable import StrataPersistence

/// Blocking file work handed off the caller's thread: it happens, later, on the queue.
@Suite("Background file work")
struct BackgroundFileWorkTests {
    /// Creates a fresh directory holding three small files; returns it and the files' paths.
    static func directoryWithFiles(_ name: String) throws -> (directory: String, paths: [String]) {
        let directory = NSTemporaryDirectory() + "\(name)-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let paths = (0..<3).map { directory + "/file\($0)" }
        for path in paths { #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8))) }
        return (directory, paths)
    }

    @Test func removesFilesOnTheQueue() throws {
        let (directory, paths) = try Self.directoryWithFiles("background-file-work")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        BackgroundFileWork.queue.suspend()
        BackgroundFileWork.remove(paths + [directory + "/never-existed"])
        // Nothing happens on the caller's thread.
        #expect(paths.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        BackgroundFileWork.queue.resume()
        BackgroundFileWork.queue.sync {}  // a serial queue: what was asked before has run
        #expect(paths.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
    }

    /// The completion runs after every unlink: a caller that forgets the files only then
    /// never forgets one still on disk.
    @Test func completionRunsOnceTheFilesAreGone() throws {
        let (directory, paths) = try Self.directoryWithFiles("background-file-work-done")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let seen = NSLock()
        nonisolated(unsafe) var leftWhenCalled: [Int] = []
        BackgroundFileWork.remove(paths) {
            let left = paths.filter { FileManager.default.fileExists(atPath: $0) }.count
            seen.lock()
            leftWhenCalled.append(left)
            seen.unlock()
        }
        BackgroundFileWork.queue.sync {}
        seen.lock()
        defer { seen.unlock() }
        #expect(leftWhenCalled == [0])
    }

    /// A file that records the thread its `close` ran on.
    final class RecordingFile: WritableFile, @unchecked Sendable {
        let wrapped: any WritableFile
        let lock = NSLock()
        var closedOn: [pthread_t] = []
        init(_ wrapped: any WritableFile) { self.wrapped = wrapped }
        var path: String { wrapped.path }
        func write(_ bytes: UnsafeRawBufferPointer) throws(DurableFileError) -> Int { try wrapped.write(bytes) }
        func sync(dataOnly: Bool) throws(DurableFileError) { try wrapped.sync(dataOnly: dataOnly) }
        func truncate(to size: Int) throws(DurableFileError) { try wrapped.truncate(to: size) }
        func currentSize() throws(DurableFileError) -> Int { try wrapped.currentSize() }
        func close() {
            lock.lock()
            closedOn.append(pthread_self())
            lock.unlock()
            wrapped.close()
        }
        var closes: [pthread_t] {
            lock.lock()
            defer { lock.unlock() }
            return closedOn
        }
    }

    /// A memory file system whose files opened for appending are ``RecordingFile``s.
    final class RecordingFileSystem: ForwardingFileSystem, @unchecked Sendable {
        let base: any FileSystem = MemoryFileSystem()
        var opened: [RecordingFile] = []
        func openForAppending(_ path: String) throws(DurableFileError) -> any WritableFile {
            let file = RecordingFile(try base.openForAppending(path))
            opened.append(file)
            return file
        }
    }

    /// An append file let go of on this thread is closed on the queue, once, whichever
    /// thread drops the last reference to the descriptor.
    @Test func appendFilesAreClosedOnTheQueue() throws {
        let fileSystem = RecordingFileSystem()
        BackgroundFileWork.queue.suspend()
        do {
            let file = try AOFAppendFile(path: "dir/log.aof", fileSystem: fileSystem)
            _ = file.append(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        let recorded = try #require(fileSystem.opened.first)
        // Let go of, but not closed here.
        #expect(recorded.closes.isEmpty)
        BackgroundFileWork.queue.resume()
        BackgroundFileWork.queue.sync {}
        let closes = recorded.closes
        #expect(closes.count == 1)
        #expect(closes.allSatisfy { pthread_equal($0, pthread_self()) == 0 })
    }
}
