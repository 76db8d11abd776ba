import NIOCore
import RESP
import StrataEngine
import Testing

@testable import StrataServer

/// The encoder's shortcuts must put on the wire exactly what the general replies do.
@Suite("ReplyEncoder") struct ReplyEncoderTests {
    private func encoded(_ reply: Reply, _ version: RESPVersion) -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        ReplyEncoder.write(reply, into: &buffer, version: version)
        return Array(buffer.readableBytesView)
    }

    /// Members of every length class (inline, one and two length digits, three digits),
    /// scores integral, fractional, negative and infinite.
    private var members: [ScoredMember] {
        [
            ScoredMember(score: 1, member: Bytes("a")),
            ScoredMember(score: -2.5, member: Bytes("member:000000000123")),
            ScoredMember(score: .infinity, member: Bytes(String(repeating: "x", count: 150))),
            ScoredMember(score: 0.1, member: Bytes("")),
        ]
    }

    @Test(arguments: [RESPVersion.resp2, .resp3], [false, true])
    func membersEncodeAsTheirExpandedReply(version: RESPVersion, withScores: Bool) {
        let reply = Reply.members(members, withScores: withScores)
        #expect(encoded(reply, version) == encoded(reply.expanded, version))
        // Equality sees through the shortcut, and still tells the two forms apart.
        let spelledOut: Reply =
            withScores
            ? .pairs(members.map { (.bulk($0.member), .double($0.score)) }) : .array(members.map { .bulk($0.member) })
        #expect(reply == spelledOut)
        #expect(reply != .members(members, withScores: !withScores))
        #expect(reply != .members(Array(members.dropLast()), withScores: withScores))
    }

    @Test(arguments: [RESPVersion.resp2, .resp3])
    func noMembersIsAnEmptyArray(version: RESPVersion) {
        #expect(encoded(.members([], withScores: false), version) == Array("*0\r\n".utf8))
        #expect(encoded(.members([], withScores: true), version) == Array("*0\r\n".utf8))
    }

    @Test func expandedSpellsOutTheElements() {
        let reply = Reply.members(Array(members.prefix(2)), withScores: true)
        #expect(
            reply.expanded
                == .pairs([(.bulk(Bytes("a")), .double(1)), (.bulk(Bytes("member:000000000123")), .double(-2.5))]))
        #expect(Reply.members(Array(members.prefix(1)), withScores: false).expanded == .array([.bulk(Bytes("a"))]))
    }

    @Test func bulkLengthsUseEveryDigitPath() {
        for length in [0, 9, 10, 99, 100, 12345] {
            let text = String(repeating: "y", count: length)
            #expect(encoded(.bulk(Bytes(text)), .resp2) == Array("$\(length)\r\n\(text)\r\n".utf8))
        }
    }
}
