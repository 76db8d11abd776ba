import NIOCore
import TestSupport
import Testing

@testable import RESP

/// A test argument type: the bytes as an array.
struct Arg: RESPArgument, Equatable, CustomStringConvertible {
    let bytes: [UInt8]
    init(_ raw: UnsafeRawBufferPointer) { bytes = Array(raw) }
    init(_ text: String) { bytes = Array(text.utf8) }
    var description: String { String(decoding: bytes, as: UTF8.self) }
}

private func parseAll(_ chunks: [[UInt8]], limits: RESPParserLimits = RESPParserLimits()) throws -> [[Arg]] {
    var parser = RESPRequestParser<Arg>(limits: limits)
    var buffer = ByteBuffer()
    var commands: [[Arg]] = []
    for chunk in chunks {
        buffer.writeBytes(chunk)
        while let command = try parser.next(&buffer) { commands.append(command) }
    }
    return commands
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite("RESPRequestParser")
struct RESPRequestParserTests {
    static let pipeline =
        "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*2\r\n$3\r\nGET\r\n$3\r\nkey\r\nPING\r\n*1\r\n$0\r\n\r\n"
    static let expected: [[Arg]] = [
        [Arg("SET"), Arg("key"), Arg("value")], [Arg("GET"), Arg("key")], [Arg("PING")], [Arg("")],
    ]

    /// A command handed back for reuse must not change a copy someone kept (a queued
    /// transaction), and the next commands parse the same as without reuse.
    @Test func recycledArgumentArraysLeaveKeptCommandsAlone() throws {
        var parser = RESPRequestParser<Arg>()
        var buffer = ByteBuffer()
        buffer.writeString("*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\nc\r\n")
        let first = try #require(try parser.next(&buffer))
        let kept = first
        parser.recycle(first)
        let second = try #require(try parser.next(&buffer))
        #expect(kept == [Arg("GET"), Arg("a")])
        #expect(second == [Arg("SET"), Arg("b"), Arg("c")])
        parser.recycle(second)
        buffer.writeString("*1\r\n$4\r\nPING\r\n")
        #expect(try parser.next(&buffer) == [Arg("PING")])
        // A large command is not kept for the next one.
        let big = (0..<100).map { _ in Arg("x") }
        parser.recycle(big)
        buffer.writeString("*1\r\n$4\r\nPING\r\n")
        #expect(try parser.next(&buffer) == [Arg("PING")])
    }

    @Test func parsesAPipelineInOnePiece() throws {
        #expect(try parseAll([bytes(Self.pipeline)]) == Self.expected)
    }

    @Test func parsesAPipelineFedByteByByte() throws {
        let chunks = bytes(Self.pipeline).map { [$0] }
        #expect(try parseAll(chunks) == Self.expected)
    }

    @Test(arguments: 1..<40)
    func parsesAPipelineSplitAtEveryOffset(split: Int) throws {
        let all = bytes(Self.pipeline)
        #expect(try parseAll([Array(all[..<split]), Array(all[split...])]) == Self.expected)
    }

    @Test func keepsResumeStateInsteadOfRescanning() throws {
        var parser = RESPRequestParser<Arg>()
        var buffer = ByteBuffer(string: "*2\r\n$3\r\nGET\r\n$10\r\n01234")
        #expect(try parser.next(&buffer) == nil)
        // Everything up to the pending bulk body has been consumed and remembered.
        #expect(buffer.readableBytes == 5)
        #expect(parser.isMidRequest)
        buffer.writeString("56789\r\n")
        #expect(try parser.next(&buffer) == [Arg("GET"), Arg("0123456789")])
        #expect(buffer.readableBytes == 0)
    }

    @Test func handlesThousandsOfPipelinedCommandsInOneRead() throws {
        let text = String(repeating: "*1\r\n$4\r\nPING\r\n", count: 5000)
        #expect(try parseAll([bytes(text)]).count == 5000)
    }

    @Test func binarySafeBulkStrings() throws {
        let payload: [UInt8] = [0, 13, 10, 255, 36, 42]
        let frame = bytes("*1\r\n$6\r\n") + payload + bytes("\r\n")
        #expect(try parseAll([frame]) == [[Arg(UnsafeRawBufferPointer(start: payload, count: 6))]])
    }

    @Test func parsesInlineCommandsWithQuotes() throws {
        let commands = try parseAll([bytes("set \"a b\" 'c d'\r\nget  x\n\r\n  \n")])
        #expect(commands == [[Arg("set"), Arg("a b"), Arg("c d")], [Arg("get"), Arg("x")]])
    }

    @Test func inlineEscapes() throws {
        let commands = try parseAll([bytes("echo \"\\x41\\n\\t\"\r\n")])
        #expect(commands == [[Arg("echo"), Arg("A\n\t")]])
    }

    @Test func skipsEmptyAndNegativeMultibulks() throws {
        #expect(try parseAll([bytes("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n")]) == [[Arg("PING")]])
    }

    @Test(arguments: [
        ("*1\r\n+PING\r\n", "Protocol error: expected '$', got '+'"),
        ("*abc\r\n", "Protocol error: invalid multibulk length"),
        ("*1\r\n$-3\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\n$x\r\n", "Protocol error: invalid bulk length"),
        ("set \"a\r\n", "Protocol error: unbalanced quotes in request"),
        ("set \"a\"b\r\n", "Protocol error: unbalanced quotes in request"),
    ])
    func rejectsMalformedInput(input: String, message: String) {
        #expect(throws: RESPProtocolError.self) { try parseAll([bytes(input)]) }
        do {
            _ = try parseAll([bytes(input)])
        } catch let error as RESPProtocolError {
            #expect(error.message == message)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func enforcesTheBulkLengthLimitBeforeTheBodyArrives() {
        let limits = RESPParserLimits(maxBulkLength: 1024 * 1024)
        #expect(throws: RESPProtocolError.invalidBulkLength) {
            try parseAll([bytes("*1\r\n$1048577\r\n")], limits: limits)
        }
        #expect(throws: RESPProtocolError.invalidBulkLength) {
            try parseAll([bytes("*1\r\n$99999999999999999999\r\n")])
        }
    }

    @Test func enforcesTheMultibulkLimit() {
        let limits = RESPParserLimits(maxMultibulkLength: 100)
        #expect(throws: RESPProtocolError.invalidMultibulkLength) {
            try parseAll([bytes("*101\r\n")], limits: limits)
        }
    }

    @Test func rejectsOversizedInlineAndLengthLines() {
        let limits = RESPParserLimits(maxInlineLength: 16)
        #expect(throws: RESPProtocolError.tooBigInline) {
            try parseAll([bytes(String(repeating: "a", count: 17))], limits: limits)
        }
        #expect(throws: RESPProtocolError.tooBigMultibulkCount) {
            try parseAll([bytes("*" + String(repeating: "1", count: 17))], limits: limits)
        }
        #expect(throws: RESPProtocolError.tooBigBulkCount) {
            try parseAll([bytes("*1\r\n$" + String(repeating: "1", count: 17))], limits: limits)
        }
    }

    @Test func unauthenticatedClientsGetTighterLimits() {
        var parser = RESPRequestParser<Arg>(authenticated: false)
        var buffer = ByteBuffer(string: "*11\r\n")
        #expect(throws: RESPProtocolError.unauthenticatedMultibulkLength) { try parser.next(&buffer) }
        var second = RESPRequestParser<Arg>(authenticated: false)
        var big = ByteBuffer(string: "*2\r\n$4\r\nAUTH\r\n$16385\r\n")
        #expect(throws: RESPProtocolError.unauthenticatedBulkLength) { try second.next(&big) }
    }

    @Test func waitsForALargeBulkWithoutReservingIt() throws {
        var parser = RESPRequestParser<Arg>()
        var buffer = ByteBuffer(string: "*1\r\n$536870912\r\nabc")
        #expect(try parser.next(&buffer) == nil)
        // The declared 512 MiB were not reserved: only what arrived is held.
        #expect(buffer.capacity < 1024 * 1024)
    }
}

@Suite("RESPInteger")
struct RESPIntegerTests {
    @Test(arguments: [
        ("0", 0), ("-1", -1), ("123", 123), ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min),
    ])
    func parsesCanonicalIntegers(text: String, value: Int) {
        let parsed = Array(text.utf8).withUnsafeBytes { RESPInteger.parse($0) }
        #expect(parsed == value)
    }

    @Test(arguments: ["", "-", "+1", "01", " 1", "1 ", "9223372036854775808", "1.5", "-0"])
    func rejectsEverythingElse(text: String) {
        #expect(Array(text.utf8).withUnsafeBytes { RESPInteger.parse($0) } == nil)
    }

    /// The one-pass read of a length line answers only where the general path (find the
    /// line end, then parse) gives the same value and line end, and declines the rest:
    /// leading zeros, signs, ten digits or more, a missing or lone `\r`, a line cut short.
    @Test(arguments: [
        "0", "7", "42", "999999999", "1000000000", "00", "01", "-1", "+1", "", "1 ", "12a", "123456789012",
    ])
    func shortLengthAgreesWithTheGeneralPath(digits: String) {
        for tail in ["\r\n$3", "\r\n", "\r", "", "\rx", "\n"] {
            let line = Array(("$" + digits + tail).utf8)
            line.withUnsafeBytes { raw in
                let general = RESPRequestParser<Arg>.findCRLF(raw, from: 1).flatMap { end in
                    RESPRequestParser<Arg>.parseInteger(raw, 1, end).map { (value: $0, lineEnd: end) }
                }
                guard let short = RESPRequestParser<Arg>.shortLength(raw, from: 1) else {
                    // Declined: only where the general path fails or the length is long.
                    #expect(general == nil || digits.count > 9 || general?.value ?? 0 < 0, "\(digits)\(tail)")
                    return
                }
                #expect(general?.value == short.value && general?.lineEnd == short.lineEnd, "\(digits)\(tail)")
            }
        }
    }
}

@Suite("ByteBuffer+RESPWriter")
struct RESPWriterTests {
    @Test func writesEachFrameType() {
        var buffer = ByteBuffer()
        buffer.writeRESPSimpleString("OK")
        buffer.writeRESPError("ERR x")
        buffer.writeRESPInteger(-42)
        Array("hi".utf8).withUnsafeBytes { buffer.writeRESPBulk($0) }
        buffer.writeRESPNull(.resp2)
        buffer.writeRESPNull(.resp3)
        buffer.writeRESPHeader(UInt8(ascii: "*"), count: 2)
        buffer.writeRESPDouble(formatted: "1.5", .resp3)
        buffer.writeRESPDouble(formatted: "inf", .resp2)
        buffer.writeRESPBool(true, .resp3)
        buffer.writeRESPBool(false, .resp2)
        buffer.writeRESPVerbatim("hey", .resp3)
        #expect(
            String(buffer: buffer)
                == "+OK\r\n-ERR x\r\n:-42\r\n$2\r\nhi\r\n$-1\r\n_\r\n*2\r\n,1.5\r\n$3\r\ninf\r\n#t\r\n:0\r\n=7\r\ntxt:hey\r\n"
        )
    }

    @Test(arguments: [0, 7, 10, 99, 12345, -1, -10, Int.max, Int.min])
    func writesDecimalsLikeStringConversion(value: Int) {
        var buffer = ByteBuffer()
        buffer.writeRESPInteger(value)
        #expect(String(buffer: buffer) == ":\(value)\r\n")
    }
}

@Suite("RESPRequestParser accounting")
struct RESPParserAccountingTests {
    @Test func countsBytesOfAPartlyParsedCommand() throws {
        var parser = RESPRequestParser<Arg>()
        var buffer = ByteBuffer(string: "*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n")
        #expect(try parser.next(&buffer) == nil)
        #expect(parser.pendingArgumentBytes == 3 + 32 + 5 + 32)
        buffer.writeString("$1\r\nx\r\n")
        #expect(try parser.next(&buffer) == [Arg("SET"), Arg("hello"), Arg("x")])
        #expect(parser.pendingArgumentBytes == 0)
    }
}

@Suite("RESPRequestParser robustness")
struct RESPParserRobustnessTests {
    @Test func randomAndMutatedInputNeverCrashesOrHangs() {
        var rng = SeededRandom(seed: 42)
        let seeds = [
            "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", "PING\r\n", "set \"a b\" 'c'\r\n", "*1\r\n$-1\r\n", "*-5\r\n",
        ]
        let alphabet = Array("*$\r\n-+:0123456789 \"'\\xabc".utf8)
        for round in 0..<3000 {
            var input = Array(seeds[round % seeds.count].utf8)
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let position = Int.random(in: 0...input.count, using: &rng)
                let byte = alphabet.randomElement(using: &rng) ?? 0
                if Bool.random(using: &rng) && position < input.count {
                    input[position] = byte
                } else {
                    input.insert(byte, at: position)
                }
            }
            var parser = RESPRequestParser<Arg>(limits: RESPParserLimits(maxBulkLength: 4096))
            var buffer = ByteBuffer(bytes: input)
            var steps = 0
            do {
                while try parser.next(&buffer) != nil {
                    steps += 1
                    #expect(steps <= input.count)
                }
            } catch is RESPProtocolError {
                // A clear protocol error is the expected outcome for garbage.
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }
}
