import NIOCore
import Testing

@testable import StrataServer

/// The backlog keeps the newest bytes of the stream with Redis's offsets, and the
/// replication state decides which PSYNC requests continue.
struct ReplicationBacklogTests {
    private func append(_ text: String, to backlog: inout ReplicationBacklog) {
        Array(text.utf8).withUnsafeBytes { backlog.append($0) }
    }

    private func string(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    @Test func keepsTheNewestBytesWithRedisOffsets() {
        var backlog = ReplicationBacklog(size: 8, offset: 100)
        #expect(backlog.masterOffset == 100 && backlog.count == 0 && backlog.firstByteOffset == 101)
        #expect(backlog.holds(from: 101) && !backlog.holds(from: 100) && !backlog.holds(from: 102))
        append("abcde", to: &backlog)
        #expect(backlog.masterOffset == 105 && backlog.firstByteOffset == 101)
        #expect(string(backlog.bytes(from: 101)) == "abcde")
        #expect(string(backlog.bytes(from: 104)) == "de")
        #expect(string(backlog.bytes(from: 106)) == "")
        append("fghij", to: &backlog)  // wraps: keeps "cdefghij"
        #expect(backlog.count == 8 && backlog.firstByteOffset == 103)
        #expect(backlog.bytes(from: 102) == nil)
        #expect(string(backlog.bytes(from: 103)) == "cdefghij")
        #expect(string(backlog.bytes(from: 109)) == "ij")
        append("0123456789ABC", to: &backlog)  // longer than the ring
        #expect(backlog.masterOffset == 123 && string(backlog.bytes(from: 117)) == "6789ABC")
        #expect(string(backlog.bytes(from: 116)) == "56789ABC")
        #expect(backlog.bytes(from: 115) == nil && backlog.bytes(from: 125) == nil)
    }

    @Test func agreesWithAPlainCopyOfTheStreamWhateverTheWrites() {
        var generator = SystemRandomNumberGenerator()
        for size in [1, 7, 64] {
            var backlog = ReplicationBacklog(size: size, offset: 0)
            var stream: [UInt8] = []
            for _ in 0..<200 {
                let chunk = (0..<Int.random(in: 0...20, using: &generator)).map { _ in UInt8.random(in: 0...255) }
                chunk.withUnsafeBytes { backlog.append($0) }
                stream += chunk
                let kept = min(size, stream.count)
                let from = Int64(stream.count - kept + 1)
                #expect(backlog.bytes(from: from) == Array(stream.suffix(kept)))
                #expect(backlog.bytes(from: from - 1) == nil || kept < size)
            }
        }
    }

    @Test func resizingKeepsTheNewestBytes() {
        var backlog = ReplicationBacklog(size: 8, offset: 0)
        append("abcdefghij", to: &backlog)
        backlog.resize(to: 4)
        #expect(backlog.masterOffset == 10 && string(backlog.bytes(from: 7)) == "ghij")
        backlog.resize(to: 16)
        append("kl", to: &backlog)
        #expect(string(backlog.bytes(from: 7)) == "ghijkl" && backlog.bytes(from: 6) == nil)
    }

    @Test func continuesOnlyTheSameHistoryFromHeldOffsets() {
        final class Connection {}
        var state = ReplicationState<Connection>(id: String(repeating: "a", count: 40))
        #expect(!state.canContinue(replid: state.id, offset: 1))  // no backlog yet
        state.ensureBacklog(size: 1024) { String(repeating: "b", count: 40) }
        #expect(state.id == String(repeating: "b", count: 40))
        _ = state.feed([])
        var buffer = ByteBufferAllocator().buffer(capacity: 16)
        buffer.writeString("*1\r\n$4\r\nPING\r\n")
        state.append(buffer)
        #expect(state.offset == 14)
        // Held for the end of the pass, then in the backlog.
        #expect(!state.canContinue(replid: state.id, offset: 15))
        #expect(state.takePending()?.readableBytes == 14)
        #expect(state.offset == 14)
        #expect(state.canContinue(replid: state.id, offset: 1))
        #expect(state.canContinue(replid: state.id, offset: 15))
        #expect(!state.canContinue(replid: state.id, offset: 16))
        #expect(!state.canContinue(replid: String(repeating: "c", count: 40), offset: 15))
        // A promotion keeps the old history for the offsets it reached.
        state.shiftID(to: String(repeating: "d", count: 40))
        #expect(state.previousIDEndOffset == 15)
        #expect(state.canContinue(replid: String(repeating: "b", count: 40), offset: 15))
        state.append(buffer)
        _ = state.takePending()
        #expect(!state.canContinue(replid: String(repeating: "b", count: 40), offset: 16))
        #expect(state.canContinue(replid: String(repeating: "d", count: 40), offset: 29))
        state.replaceID(with: String(repeating: "e", count: 40))
        #expect(!state.canContinue(replid: String(repeating: "d", count: 40), offset: 29))
    }
}
