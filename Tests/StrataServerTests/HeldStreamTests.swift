import Foundation
import NIOCore
import Testing

@testable import StrataServer

@Suite struct HeldStreamTests {
    static func path() -> String { NSTemporaryDirectory() + "held-\(UUID().uuidString)" }

    static func buffer(_ byte: UInt8, _ count: Int) -> ByteBuffer {
        ByteBuffer(bytes: [UInt8](repeating: byte, count: count))
    }

    @Test func keepsTheFirstBytesInMemoryAndTheRestInAFileInOrder() throws {
        let file = Self.path()
        let held = HeldStream(memoryLimit: 100) { file }
        try held.append(Self.buffer(1, 60))
        try held.append(Self.buffer(2, 30))
        #expect(held.filePath == nil && held.bytes == 90)
        try held.append(Self.buffer(3, 20))  // past the limit: to the file, and all after it
        try held.append(Self.buffer(4, 5))
        #expect(held.bytes == 115 && held.fileBytes == 25)
        let taken = held.take()
        #expect(taken.chunks.reduce(0) { $0 + $1.readableBytes } == 90)
        #expect(
            taken.chunks.flatMap { Array($0.readableBytesView) } == [UInt8](repeating: 1, count: 60)
                + [UInt8](repeating: 2, count: 30))
        #expect(taken.file?.path == file && taken.file?.bytes == 25)
        let contents = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        #expect(contents == [UInt8](repeating: 3, count: 20) + [UInt8](repeating: 4, count: 5))
        #expect(held.bytes == 0 && held.take().file == nil)
        unlink(file)
    }

    @Test func discardingRemovesTheFile() throws {
        let file = Self.path()
        let held = HeldStream(memoryLimit: 0) { file }
        try held.append(Self.buffer(7, 10))
        #expect(FileManager.default.fileExists(atPath: file))
        held.discard()
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    @Test func aFileThatCannotBeCreatedIsAnError() {
        let held = HeldStream(memoryLimit: 0) { "/nonexistent-directory/held" }
        #expect(throws: (any Error).self) { try held.append(Self.buffer(7, 10)) }
    }
}
