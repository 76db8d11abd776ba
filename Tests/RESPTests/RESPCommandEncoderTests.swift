import NIOCore
import TestSupport
import Testing

@testable import RESP

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Parses `frame` with the server's request parser.
private func requests(_ frame: [UInt8]) throws -> [[Arg]] {
    var parser = RESPRequestParser<Arg>()
    var buffer = ByteBuffer(bytes: frame)
    var commands: [[Arg]] = []
    while let command = try parser.next(&buffer) { commands.append(command) }
    #expect(buffer.readableBytes == 0)
    return commands
}

@Suite("RESPCommandEncoder")
struct RESPCommandEncoderTests {
    @Test func writesTheRedisFraming() {
        let command = [bytes("SET"), bytes("key"), bytes("value")]
        let expected = bytes("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
        var buffer = ByteBuffer()
        buffer.writeRESPCommand(command)
        #expect(Array(buffer.readableBytesView) == expected)
        #expect([UInt8].respCommand(command) == expected)
        #expect(RESPCommandEncoder.length(of: command) == expected.count)
        #expect(RESPCommandEncoder.maximumLength(of: command) >= expected.count)
    }

    @Test func writesEmptyCommandsAndEmptyArguments() {
        #expect([UInt8].respCommand([[UInt8]]()) == bytes("*0\r\n"))
        #expect([UInt8].respCommand([[UInt8]()]) == bytes("*1\r\n$0\r\n\r\n"))
    }

    @Test func appendsAfterWhatIsThere() {
        var out = bytes("#TS:1\r\n")
        out.appendRESPCommand([bytes("PING")])
        out.appendRESPCommand([bytes("SELECT")[...], bytes("12")[...]])
        #expect(out == bytes("#TS:1\r\n*1\r\n$4\r\nPING\r\n*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n"))
    }

    @Test func countsDigitsAsTheyAreWritten() {
        var room = [UInt8](repeating: 0, count: 24)
        for value in [0, 9, 10, 99, 100, 12345, -1, -10, Int.max, Int.min] {
            let written = room.withUnsafeMutableBytes { raw in
                raw.baseAddress.map { RESPDigits.write(value, to: $0) } ?? 0
            }
            #expect(RESPDigits.count(value) == written)
            #expect(Array(room[..<written]) == bytes(String(value)))
        }
    }

    @Test(arguments: 0..<200 as Range<UInt64>)
    func randomCommandsRoundTripThroughTheRequestParser(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        let command = (0..<Int.random(in: 1...12, using: &random)).map { _ in
            // Lengths across the one- to three-digit boundaries, bytes of every value.
            (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        }
        var buffer = ByteBuffer()
        buffer.writeRESPCommand(command)
        let array = [UInt8].respCommand(command)
        #expect(Array(buffer.readableBytesView) == array)
        #expect(array.count == RESPCommandEncoder.length(of: command))
        let parsed = try requests(array)
        #expect(parsed.map { $0.map(\.bytes) } == [command])
        let reply = try RESPReplyParser().parse(array)
        #expect(reply?.reply == .array(command.map { .bulkString($0) }))
        #expect(reply?.length == array.count)
    }

    @Test func aPipelineOfCommandsParsesBackInOrder() throws {
        var buffer = ByteBuffer()
        let commands = (0..<1000).map { [bytes("SET"), bytes("key:\($0)"), bytes(String(repeating: "v", count: $0))] }
        for command in commands { buffer.writeRESPCommand(command) }
        #expect(try requests(Array(buffer.readableBytesView)).map { $0.map(\.bytes) } == commands)
    }
}
