import Foundation
import XCTest

@testable import StrataPersistence

/// The persistence layer's write paths under injected faults: a failed durable write never
/// touches the file it replaces, short writes are completed, and an append that fails half
/// way is cut back to the last whole write.
final class FileFaultsTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "strata-faults-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        FileFaults.clear()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func contents(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }

    func testFailedDurableWritesLeaveTheOldFileAndNoTempFile() throws {
        let path = directory + "/file"
        try DurableFile.write(Array("old".utf8), to: path)
        for (operation, code) in [(FileOperation.open, EROFS), (.write, ENOSPC), (.fsync, EIO), (.rename, EIO)] {
            FileFaults.arm(FileFault(operation: operation, code: code, remaining: 1))
            XCTAssertThrowsError(try DurableFile.write(Array("new".utf8), to: path)) { error in
                XCTAssertEqual((error as? DurableFileError)?.code, code, "\(operation)")
            }
            XCTAssertEqual(contents(path), Array("old".utf8), "\(operation) changed the file")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["file"])
            XCTAssertTrue(FileFaults.current.isEmpty, "TIMES 1 is used up")
        }
    }

    func testShortWritesAreCompleted() throws {
        let path = directory + "/file"
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        // Each writer meets three short writes (its write loop goes on): all are used up.
        FileFaults.arm(FileFault(operation: .write, code: 0, remaining: 3))
        try DurableFile.write(bytes, to: path)
        XCTAssertTrue(FileFaults.current.isEmpty)
        FileFaults.arm(FileFault(operation: .write, code: 0, remaining: 3))
        let file = try AOFAppendFile(path: directory + "/append")
        let result = bytes.withUnsafeBytes { file.append($0) }
        XCTAssertNil(result.error)
        XCTAssertEqual(result.written, bytes.count)
        XCTAssertTrue(FileFaults.current.isEmpty)
        XCTAssertEqual(contents(path), bytes)
        XCTAssertEqual(contents(directory + "/append"), bytes)
    }

    func testAnAppendThatFailsHalfWayIsCutBack() throws {
        let path = directory + "/append"
        let file = try AOFAppendFile(path: path)
        let first = Array("*1\r\n$4\r\nPING\r\n".utf8)
        XCTAssertNil(first.withUnsafeBytes { file.append($0) }.error)
        // The first write call is short (half), the second fails: the half is cut off.
        FileFaults.arm(FileFault(operation: .write, code: 0, remaining: 1))
        FileFaults.arm(FileFault(operation: .write, code: ENOSPC, remaining: 1))
        let second = Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n".utf8)
        let result = second.withUnsafeBytes { file.append($0) }
        XCTAssertEqual(result.error?.code, ENOSPC)
        XCTAssertEqual(result.written, 0)
        XCTAssertEqual(contents(path), first)
        XCTAssertEqual(file.size, first.count)
    }

    func testFaultsMatchPathsAndSkip() {
        FileFaults.arm(FileFault(operation: .fsync, code: EIO, pathContains: ".incr.", remaining: 1, skip: 1))
        XCTAssertNil(FileFaults.take(.fsync, path: "dir/appendonly.aof.1.base.rdb"))
        XCTAssertNil(FileFaults.take(.write, path: "dir/appendonly.aof.2.incr.aof"))
        XCTAssertNil(FileFaults.take(.fsync, path: "dir/appendonly.aof.2.incr.aof"), "skipped once")
        XCTAssertEqual(FileFaults.take(.fsync, path: "dir/appendonly.aof.2.incr.aof")?.code, EIO)
        XCTAssertNil(FileFaults.take(.fsync, path: "dir/appendonly.aof.2.incr.aof"), "used up")
    }
}
