import Foundation
import StrataEngine
import Testing

@testable import StrataPersistence

/// Small databases of several types, with a deadline, spread over several chunks when
/// written with small `chunkBytes`.
func smallDatabases(now: Int64, keys: Int = 40) -> [Database] {
    var databases = Array(repeating: Database(), count: 4)
    let clock = Entry.clock(now: now)
    for n in 0..<keys {
        databases[n % 2].set(Bytes("key:\(n)"), .string(Bytes("value-\(n)")), accessClock: clock)
    }
    databases[2].set(Bytes("list"), .list(ListValue((0..<20).map { Bytes("e\($0)") })), accessClock: clock)
    databases[2].set(Bytes("ttl"), .integer(7), accessClock: clock)
    databases[2].setDeadline(Bytes("ttl"), now + 60_000)
    return databases
}

/// The persistence layer's writers on a failing disk: a failed durable write never touches
/// the file it replaces and leaves no temp file, short writes and reads are completed, an
/// append that fails half way is cut back, and the errors name the operation and errno.
@Suite("Fault injection")
struct FaultInjectionTests {
    let now: Int64 = 1_800_000_000_000

    /// A fault-injecting wrapper around memory, and the memory.
    func faultyMemory() -> (FaultInjectingFileSystem, MemoryFileSystem) {
        let memory = MemoryFileSystem()
        return (FaultInjectingFileSystem(wrapping: memory), memory)
    }

    static let durableFaults: [(FileOperation, Int32)] = [
        (.open, EROFS), (.write, ENOSPC), (.fsync, EIO), (.rename, EIO),
    ]

    @Test(arguments: durableFaults)
    func aFailedDurableWriteLeavesTheOldFileAndNoTempFile(operation: FileOperation, code: Int32) throws {
        let directory = TempDirectory()
        let disk = FaultInjectingFileSystem(wrapping: POSIXFileSystem.shared)
        let (memory, stored) = faultyMemory()
        for (fileSystem, path) in [(disk, directory.file("file")), (memory, "d/file")] {
            try DurableFile.write(Array("old".utf8), to: path, fileSystem: fileSystem)
            fileSystem.faults.arm(FileFault(operation: operation, code: code, remaining: 1))
            #expect {
                try DurableFile.write(Array("new".utf8), to: path, fileSystem: fileSystem)
            } throws: { error in
                (error as? DurableFileError)?.code == code
                    && (error as? DurableFileError)?.operation == operation.rawValue
            }
            #expect(try fileSystem.contents(of: path) == Array("old".utf8), "\(operation) changed the file")
            #expect(fileSystem.faults.current.isEmpty, "TIMES 1 is used up")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["file"])
        #expect(stored.paths == ["d/file"])
        stored.crash()
        #expect(stored.bytes(at: "d/file") == Array("old".utf8))
    }

    @Test func shortWritesAreCompleted() throws {
        let (fileSystem, memory) = faultyMemory()
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        fileSystem.faults.arm(FileFault(operation: .write, code: 0, remaining: 3))
        try DurableFile.write(bytes, to: "file", fileSystem: fileSystem)
        #expect(fileSystem.faults.current.isEmpty, "the writer met the three short writes")
        fileSystem.faults.arm(FileFault(operation: .write, code: 0, remaining: 3))
        let file = try AOFAppendFile(path: "append", fileSystem: fileSystem)
        let result = bytes.withUnsafeBytes { file.append($0) }
        #expect(result.error == nil && result.written == bytes.count)
        #expect(fileSystem.faults.current.isEmpty)
        #expect(memory.bytes(at: "file") == bytes)
        #expect(memory.bytes(at: "append") == bytes)
    }

    @Test func anAppendThatFailsHalfWayIsCutBack() throws {
        let (fileSystem, memory) = faultyMemory()
        let file = try AOFAppendFile(path: "append", fileSystem: fileSystem)
        let first = resp([["PING"]])
        #expect(first.withUnsafeBytes { file.append($0) }.error == nil)
        // The first write call is short (half), the second fails: the half is cut off.
        fileSystem.faults.arm(FileFault(operation: .write, code: 0, remaining: 1))
        fileSystem.faults.arm(FileFault(operation: .write, code: ENOSPC, remaining: 1))
        let result = resp([["SET", "k", "v"]]).withUnsafeBytes { file.append($0) }
        #expect(result.error == DurableFileError(path: "append", operation: "write", code: ENOSPC))
        #expect(result.written == 0)
        #expect(memory.bytes(at: "append") == first)
        #expect(file.size == first.count)
    }

    @Test func anAppendFileReportsAFailedFsync() throws {
        let (fileSystem, memory) = faultyMemory()
        let file = try AOFAppendFile(path: "dir/appendonly.aof.1.incr.aof", fileSystem: fileSystem)
        memory.syncDirectory("dir")
        let command = resp([["SET", "k", "v"]])
        #expect(command.withUnsafeBytes { file.append($0) }.error == nil)
        fileSystem.faults.arm(FileFault(operation: .fsync, code: EIO, pathContains: ".incr.", remaining: 1))
        #expect(file.sync() == DurableFileError(path: "dir/appendonly.aof.1.incr.aof", operation: "fsync", code: EIO))
        memory.crash()
        #expect(memory.bytes(at: "dir/appendonly.aof.1.incr.aof") == [], "nothing was made durable")
    }

    static let snapshotFaults: [(FileOperation, Int32, Int)] = [
        (.open, EROFS, 0), (.write, ENOSPC, 0), (.write, ENOSPC, 3), (.write, EIO, 5), (.fsync, EIO, 0),
        (.rename, EIO, 0),
    ]

    @Test(arguments: snapshotFaults)
    func aFailedSnapshotLeavesTheOldOne(operation: FileOperation, code: Int32, skip: Int) throws {
        let (fileSystem, memory) = faultyMemory()
        var options = SnapshotOptions()
        options.chunkBytes = 64
        let old = smallDatabases(now: now, keys: 10)
        _ = try SnapshotWriter.write(
            old, to: "d/dump.sdb", tempPath: "d/temp-1.sdb", fileSystem: fileSystem, options: options, now: now)
        fileSystem.faults.arm(FileFault(operation: operation, code: code, remaining: 1, skip: skip))
        #expect {
            _ = try SnapshotWriter.write(
                smallDatabases(now: now), to: "d/dump.sdb", tempPath: "d/temp-2.sdb", fileSystem: fileSystem,
                options: options, now: now)
        } throws: { error in
            (error as? DurableFileError)?.code == code
        }
        #expect(fileSystem.faults.current.isEmpty, "the fault was met")
        #expect(memory.paths == ["d/dump.sdb"], "no temp file is left")
        memory.crash()
        let loaded = try SnapshotReader.load(
            path: "d/dump.sdb", fileSystem: memory, databaseCount: 4, settings: EngineSettings(), now: now)
        expectSameContents(contents(old, now: now), contents(loaded.databases, now: now))
    }

    @Test(arguments: CompressionCodec.allCases)
    func shortWritesAndReadsGiveTheSameSnapshot(codec: CompressionCodec) throws {
        let (fileSystem, _) = faultyMemory()
        var options = SnapshotOptions()
        options.codec = codec
        options.chunkBytes = 64
        let databases = smallDatabases(now: now)
        fileSystem.faults.arm(FileFault(operation: .write, code: 0))
        fileSystem.faults.arm(FileFault(operation: .read, code: 0))
        let summary = try SnapshotWriter.write(
            databases, to: "dump.sdb", tempPath: "temp.sdb", fileSystem: fileSystem, options: options, now: now)
        #expect(summary.chunks > 3)
        let loaded = try SnapshotReader.load(
            path: "dump.sdb", fileSystem: fileSystem, databaseCount: 4, settings: EngineSettings(), now: now)
        expectSameContents(contents(databases, now: now), contents(loaded.databases, now: now))
        #expect(
            try SnapshotIndexLocator.head(path: "dump.sdb", fileSystem: fileSystem).index?.chunks.count
                == (codec == .none ? nil : summary.chunks))
    }

    @Test func aReadErrorIsDamageNotATruncatedTail() throws {
        let (fileSystem, memory) = faultyMemory()
        memory.install(resp([["SET", "a", "1"], ["SET", "b", "2"]]), at: "d/x.aof")
        let manifest = AOFManifest(incrementals: [.init(name: "x.aof", sequence: 1, type: .incremental)])
        fileSystem.faults.arm(FileFault(operation: .read, code: EIO, pathContains: "x.aof"))
        #expect {
            _ = try AOFLoader.load(
                directory: "d", fileSystem: fileSystem, manifest: manifest, into: Engine(), now: now,
                allowTruncatedTail: true)
        } throws: { error in
            (error as? FileDamageError)?.reason == String(cString: strerror(EIO))
        }
        #expect(memory.bytes(at: "d/x.aof")?.count == resp([["SET", "a", "1"], ["SET", "b", "2"]]).count, "not cut")
        fileSystem.faults.clear()
        fileSystem.faults.arm(FileFault(operation: .read, code: 0))
        let engine = Engine()
        let report = try AOFLoader.load(
            directory: "d", fileSystem: fileSystem, manifest: manifest, into: engine, now: now,
            allowTruncatedTail: false)
        #expect(report.files.first?.commands == 2)
        #expect(engine.databases[0].count == 2)
    }

    @Test(arguments: [(FileOperation.write, ENOSPC), (.fsync, EIO), (.rename, EROFS)])
    func aFailedManifestUpdateKeepsTheOldManifest(operation: FileOperation, code: Int32) throws {
        let (fileSystem, memory) = faultyMemory()
        let path = "aof/appendonly.aof.manifest"
        let old = AOFManifest(
            base: .init(name: "appendonly.aof.1.base.rdb", sequence: 1, type: .base),
            incrementals: [.init(name: "appendonly.aof.1.incr.aof", sequence: 1, type: .incremental)])
        try old.write(to: path, fileSystem: fileSystem)
        var new = old
        new.incrementals.append(.init(name: "appendonly.aof.2.incr.aof", sequence: 2, type: .incremental))
        fileSystem.faults.arm(FileFault(operation: operation, code: code, pathContains: ".manifest", remaining: 1))
        #expect(throws: DurableFileError.self) { try new.write(to: path, fileSystem: fileSystem) }
        #expect(try AOFManifest.read(path: path, fileSystem: fileSystem) == old)
        #expect(memory.paths == [path])
        try new.write(to: path, fileSystem: fileSystem)
        memory.crash()
        #expect(try AOFManifest.read(path: path, fileSystem: memory) == new, "a written manifest survives a crash")
    }
}
