import Foundation
import Testing

@testable import StrataPersistence

/// The file systems under the persistence layer: the disk and memory behave alike, memory
/// keeps only what was synced across a crash, and armed faults fire where and when asked.
@Suite("File systems")
struct FileSystemTests {
    /// Writes `bytes` to `path` through `file` until all are written.
    static func writeAll(_ bytes: [UInt8], to file: any WritableFile) throws {
        if let error = bytes.withUnsafeBytes({ file.writeAll($0) }).error { throw error }
    }

    /// The same sequence of operations on `fileSystem` inside `directory`.
    func exercise(_ fileSystem: any FileSystem, in directory: String) throws {
        let path = directory + "/a"
        let created = try fileSystem.create(path)
        try Self.writeAll(Array("hello".utf8), to: created)
        try created.sync(dataOnly: false)
        created.close()
        #expect(throws: DurableFileError(path: path, operation: "write", code: EBADF)) {
            _ = try [UInt8(1)].withUnsafeBytes { try created.write($0) }
        }
        let appended = try fileSystem.openForAppending(path)
        #expect(try appended.currentSize() == 5)
        try Self.writeAll(Array(" world".utf8), to: appended)
        try appended.truncate(to: 8)
        #expect(try fileSystem.contents(of: path) == Array("hello wo".utf8))
        // Rewritten in place: shorter, then longer contents replace the old ones exactly.
        try fileSystem.overwrite(path, with: Array("hey".utf8))
        #expect(try fileSystem.contents(of: path) == Array("hey".utf8))
        try fileSystem.overwrite(path, with: Array("hello wo".utf8))
        #expect(try fileSystem.contents(of: path) == Array("hello wo".utf8))
        try fileSystem.rename(path, to: directory + "/b")
        #expect(fileSystem.size(of: path) == nil)
        #expect(fileSystem.size(of: directory + "/b") == 8)
        let reader = try fileSystem.openForReading(directory + "/b")
        try reader.seek(to: 6)
        #expect(try reader.read(upTo: 100) == Array("wo".utf8))
        try fileSystem.truncate(directory + "/b", to: 2)
        #expect(try fileSystem.contents(of: directory + "/b") == Array("he".utf8))
        fileSystem.remove(directory + "/b")
        #expect(!fileSystem.fileExists(directory + "/b"))
        #expect(throws: DurableFileError(path: path, operation: "open", code: ENOENT)) {
            _ = try fileSystem.openForReading(path)
        }
        #expect(throws: DurableFileError(path: path, operation: "rename", code: ENOENT)) {
            try fileSystem.rename(path, to: directory + "/c")
        }
    }

    @Test func diskAndMemoryAnswerAlike() throws {
        let directory = TempDirectory()
        try exercise(POSIXFileSystem.shared, in: directory.path)
        try exercise(MemoryFileSystem(), in: "dir")
    }

    @Test func aCrashKeepsOnlyWhatWasSynced() throws {
        let memory = MemoryFileSystem()
        memory.install(Array("old".utf8), at: "d/kept")
        let file = try memory.openForAppending("d/kept")
        try FileSystemTests.writeAll(Array("+synced".utf8), to: file)
        try file.sync(dataOnly: true)
        try FileSystemTests.writeAll(Array("+lost".utf8), to: file)
        let fresh = try memory.create("d/new")
        try FileSystemTests.writeAll(Array("data".utf8), to: fresh)
        try fresh.sync(dataOnly: false)
        // Synced data, but its name was never made durable by a directory sync.
        memory.crash()
        #expect(memory.bytes(at: "d/kept") == Array("old+synced".utf8))
        #expect(memory.paths == ["d/kept"])
        #expect(throws: DurableFileError(path: "d/kept", operation: "write", code: EIO)) {
            _ = try [UInt8(1)].withUnsafeBytes { try file.write($0) }
        }
        // A rename is durable once the directory is synced.
        let temp = try memory.create("d/temp")
        try FileSystemTests.writeAll(Array("new".utf8), to: temp)
        try temp.sync(dataOnly: false)
        try memory.rename("d/temp", to: "d/kept")
        memory.crash()
        #expect(memory.bytes(at: "d/kept") == Array("old+synced".utf8), "rename not durable yet")
        let again = try memory.create("d/temp")
        try FileSystemTests.writeAll(Array("new".utf8), to: again)
        try again.sync(dataOnly: false)
        try memory.rename("d/temp", to: "d/kept")
        memory.syncDirectory("d")
        memory.crash()
        #expect(memory.bytes(at: "d/kept") == Array("new".utf8))
        #expect(memory.paths == ["d/kept"])
    }

    @Test func faultsMatchPathsSkipAndCount() {
        let plan = FaultPlan()
        plan.arm(FileFault(operation: .fsync, code: EIO, pathContains: ".incr.", remaining: 1, skip: 1))
        #expect(plan.take(.fsync, path: "dir/appendonly.aof.1.base.rdb") == nil)
        #expect(plan.take(.write, path: "dir/appendonly.aof.2.incr.aof") == nil)
        #expect(plan.take(.fsync, path: "dir/appendonly.aof.2.incr.aof") == nil, "skipped once")
        #expect(plan.take(.fsync, path: "dir/appendonly.aof.2.incr.aof") == .fail(EIO))
        #expect(plan.take(.fsync, path: "dir/appendonly.aof.2.incr.aof") == nil, "used up")
        plan.arm(FileFault(operation: .write, code: 0))
        #expect(plan.current.map(\.description) == ["write SHORT path=\"\" skip=0 times=always"])
        #expect(plan.take(.write, path: "x") == .short)
        #expect(plan.take(.write, path: "x") == .short, "until cleared")
        plan.cutPower()
        #expect(plan.take(.open, path: "x") == .fail(EIO))
        plan.clear()
        #expect(plan.current.isEmpty && !plan.isPoweredOff && plan.take(.write, path: "x") == nil)
    }

    @Test func injectedFaultsReachTheCaller() throws {
        let memory = MemoryFileSystem()
        let faulty = FaultInjectingFileSystem(wrapping: memory)
        faulty.faults.arm(FileFault(operation: .open, code: EROFS, remaining: 1))
        #expect(throws: DurableFileError(path: "f", operation: "open", code: EROFS)) { _ = try faulty.create("f") }
        let file = try faulty.create("f")
        faulty.faults.arm(FileFault(operation: .write, code: 0, remaining: 1))
        let bytes = Array("0123456789".utf8)
        #expect(try bytes.withUnsafeBytes { try file.write($0) } == 5, "a short write moves half")
        faulty.faults.arm(FileFault(operation: .fsync, code: EIO, remaining: 1))
        #expect(throws: DurableFileError(path: "f", operation: "fsync", code: EIO)) { try file.sync(dataOnly: true) }
        faulty.faults.arm(FileFault(operation: .rename, code: EIO, pathContains: "g", remaining: 1))
        #expect(throws: DurableFileError(path: "f", operation: "rename", code: EIO)) { try faulty.rename("f", to: "g") }
        faulty.faults.arm(FileFault(operation: .read, code: 0, remaining: 1))
        let reader = try faulty.openForReading("f")
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(try buffer.withUnsafeMutableBytes { try reader.read(into: $0) } == 2, "a short read moves half")
        // A torn write: 3 bytes reach the disk, synced, then nothing answers.
        faulty.faults.arm(FileFault(operation: .write, action: .tear(keeping: 3), remaining: 1))
        #expect(throws: DurableFileError(path: "f", operation: "write", code: EIO)) {
            _ = try bytes.withUnsafeBytes { try file.write($0) }
        }
        #expect(faulty.faults.isPoweredOff)
        #expect(throws: DurableFileError(path: "h", operation: "open", code: EIO)) { _ = try faulty.create("h") }
        memory.syncDirectory(".")
        memory.crash()
        #expect(memory.bytes(at: "f") == Array("01234012".utf8))
    }
}
