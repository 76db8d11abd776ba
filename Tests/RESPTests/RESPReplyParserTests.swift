import NIOCore
import Testing

@testable import RESP

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Parses `text`, which must hold exactly one complete reply.
private func reply(_ text: String, limits: RESPReplyLimits = RESPReplyLimits()) throws -> RESPReply? {
    let input = bytes(text)
    guard let (reply, length) = try RESPReplyParser(limits: limits).parse(input) else { return nil }
    #expect(length == input.count)
    return reply
}

/// The error parsing `text` throws, nil when it throws none.
private func failure(_ text: String, limits: RESPReplyLimits = RESPReplyLimits()) -> RESPReplyError? {
    do {
        _ = try RESPReplyParser(limits: limits).parse(bytes(text))
        return nil
    } catch let error as RESPReplyError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

@Suite("RESPReplyParser")
struct RESPReplyParserTests {
    /// One reply of every type, with what it parses to.
    static let everyType: [(String, RESPReply)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("-WRONGTYPE Operation against a key\r\n", .error("WRONGTYPE Operation against a key")),
        (":0\r\n", .integer(0)),
        (":-42\r\n", .integer(-42)),
        (":9223372036854775807\r\n", .integer(.max)),
        (":-9223372036854775808\r\n", .integer(.min)),
        ("$5\r\nhello\r\n", .bulkString(bytes("hello"))),
        ("$0\r\n\r\n", .bulkString([])),
        ("$4\r\na\r\nb\r\n", .bulkString(bytes("a\r\nb"))),
        ("$-1\r\n", .null),
        ("*-1\r\n", .null),
        ("_\r\n", .null),
        ("*0\r\n", .array([])),
        ("*2\r\n:1\r\n$1\r\nx\r\n", .array([.integer(1), .bulkString(bytes("x"))])),
        ("*2\r\n*1\r\n+a\r\n*0\r\n", .array([.array([.simpleString("a")]), .array([])])),
        (
            "%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n_\r\n",
            .map([
                .init(key: .simpleString("first"), value: .integer(1)),
                .init(key: .bulkString(bytes("second")), value: .null),
            ])
        ),
        ("~2\r\n+a\r\n+b\r\n", .set([.simpleString("a"), .simpleString("b")])),
        (
            ">3\r\n+message\r\n+chan\r\n$2\r\nhi\r\n",
            .push([.simpleString("message"), .simpleString("chan"), .bulkString(bytes("hi"))])
        ),
        (",1.5\r\n", .double(1.5)),
        (",-3e10\r\n", .double(-3e10)),
        (",10\r\n", .double(10)),
        (",inf\r\n", .double(.infinity)),
        (",-inf\r\n", .double(-.infinity)),
        ("#t\r\n", .boolean(true)),
        ("#f\r\n", .boolean(false)),
        ("=15\r\ntxt:Some string\r\n", .verbatimString(format: "txt", text: bytes("Some string"))),
        ("=4\r\nmkd:\r\n", .verbatimString(format: "mkd", text: [])),
        ("(3492890328409238509324850943850943825024385\r\n", .bigNumber("3492890328409238509324850943850943825024385")),
        ("(-1\r\n", .bigNumber("-1")),
        ("!21\r\nSYNTAX invalid syntax\r\n", .error("SYNTAX invalid syntax")),
    ]

    @Test(arguments: 0..<everyType.count)
    func parsesEveryReplyType(index: Int) throws {
        let (text, expected) = Self.everyType[index]
        #expect(try reply(text) == expected)
    }

    @Test func parsesNaN() throws {
        guard case .double(let value) = try reply(",nan\r\n") else {
            Issue.record("not a double")
            return
        }
        #expect(value.isNaN)
    }

    @Test(arguments: 0..<everyType.count)
    func anyPrefixIsIncompleteNotAnError(index: Int) throws {
        let input = bytes(Self.everyType[index].0)
        for end in 0..<input.count {
            #expect(try RESPReplyParser().parse(Array(input[..<end])) == nil, "prefix of \(end) bytes")
        }
    }

    @Test func aPipelineSplitAtEveryOffsetGivesEveryReply() throws {
        let all = Self.everyType.flatMap { bytes($0.0) }
        let expected = Self.everyType.map(\.1)
        for split in 0...all.count {
            var buffer = ByteBuffer()
            var replies: [RESPReply] = []
            for piece in [all[..<split], all[split...]] {
                buffer.writeBytes(piece)
                while let next = try RESPReplyParser().next(&buffer) { replies.append(next) }
            }
            #expect(replies == expected, "split at \(split)")
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func leavesTheBytesOfTheNextReply() throws {
        let parsed = try RESPReplyParser().parse(bytes("+OK\r\n:1"))
        #expect(parsed?.reply == .simpleString("OK"))
        #expect(parsed?.length == 5)
        var buffer = ByteBuffer(string: "$3\r\nab")
        #expect(try RESPReplyParser().next(&buffer) == nil)
        #expect(buffer.readableBytes == 6)
    }

    @Test func binaryBulkStrings() throws {
        let payload: [UInt8] = [0, 13, 10, 255, 36, 42]
        let parsed = try RESPReplyParser().parse(bytes("$6\r\n") + payload + bytes("\r\n"))
        #expect(parsed?.reply == .bulkString(payload))
    }

    @Test(arguments: [
        "?\r\n", "\r\n", ":\r\n", ":-\r\n", ":12a\r\n", ": 1\r\n", "+OK\rX", "$3\r\nabcd\r\n", "$3\r\nabc\n\r",
        "$-2\r\n", "*-2\r\n", "%-1\r\n", "~-1\r\n", ">-1\r\n", "!-1\r\n", "=-1\r\n", "_x\r\n", "#x\r\n", "#tt\r\n",
        ",\r\n", ",one\r\n", "(\r\n", "(12x\r\n", "(-\r\n", "=3\r\ntxt\r\n", "=5\r\ntxt-x\r\n", "*1\r\n?\r\n",
        "%1\r\n+k\r\n?\r\n",
    ])
    func malformedRepliesAreErrors(text: String) {
        #expect(failure(text) != nil, "\(text.debugDescription)")
    }

    @Test(arguments: [
        ":9223372036854775808\r\n", ":-9223372036854775809\r\n", ":99999999999999999999999\r\n",
        "$9223372036854775807\r\n", "$99999999999999999999\r\n", "*9223372036854775807\r\n",
        "%9223372036854775807\r\n", "=9223372036854775807\r\n", "$536870913\r\n", "*2147483648\r\n",
    ])
    func overflowingNumbersAndLengthsAreErrorsNotTraps(text: String) {
        #expect(failure(text) != nil, "\(text.debugDescription)")
    }

    @Test func lengthsAreCheckedAgainstTheLimits() throws {
        let limits = RESPReplyLimits(maxBulkLength: 4, maxAggregateCount: 2, maxLineLength: 8, maxDepth: 2)
        #expect(try reply("$4\r\nabcd\r\n", limits: limits) == .bulkString(bytes("abcd")))
        #expect(failure("$5\r\nabcde\r\n", limits: limits) != nil)
        #expect(failure("!5\r\nERR x\r\n", limits: limits) != nil)
        #expect(failure("*3\r\n", limits: limits) != nil)
        #expect(failure("%3\r\n", limits: limits) != nil)
        #expect(try reply("+12345678\r\n", limits: limits) == .simpleString("12345678"))
        #expect(failure("+123456789\r\n", limits: limits)?.offset == 9)
        // A long line is refused as soon as it is too long, before its end arrives.
        #expect(failure("+123456789", limits: limits) != nil)
        #expect(try reply("*1\r\n*1\r\n:1\r\n", limits: limits) == .array([.array([.integer(1)])]))
        #expect(failure("*1\r\n*1\r\n*1\r\n:1\r\n", limits: limits) != nil)
        #expect(failure("%1\r\n*1\r\n*1\r\n:1\r\n:2\r\n", limits: limits) != nil)
    }

    @Test func deepNestingIsAnErrorNotAStackOverflow() {
        let deep = String(repeating: "*1\r\n", count: 1_000_000) + ":1\r\n"
        #expect(failure(deep)?.message.contains("nested deeper than 64") == true)
    }

    @Test func aHugeCountWithFewBytesReservesNothingAndWaits() throws {
        // Two billion elements announced, none sent: incomplete, and no allocation from the count.
        #expect(try RESPReplyParser().parse(bytes("*2000000000\r\n:1\r\n")) == nil)
        #expect(try RESPReplyParser().parse(bytes("$536870912\r\nab")) == nil)
    }

    @Test func errorsNameTheOffsetOfTheBadByte() {
        #expect(failure("*2\r\n:1\r\n:x\r\n")?.offset == 9)
        #expect(failure("$3\r\nabcXY")?.offset == 7)
    }
}
