import Testing

@testable import StrataMemcached

/// The text protocol cut and checked as memcached 1.6 does it.
@Suite("memcached text parser")
struct MemcachedTextParserTests {
    let parser = MemcachedTextParser()

    func parse(_ text: String) -> MemcachedParseResult { parser.parse(ArraySlice(Array(text.utf8))) }

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func storageCommandsWaitForTheirDataBlock() {
        #expect(parse("set k 5 0 3") == .needMore)
        #expect(parse("set k 5 0 3\r\nab") == .needMore)
        #expect(parse("set k 5 0 3\r\nabc\r") == .needMore)
        let store = MemcachedStore(mode: .set, key: bytes("k"), flags: 5, exptime: 0, data: bytes("abc"))
        #expect(parse("set k 5 0 3\r\nabc\r\nget k\r\n") == .command(.store(store), consumed: 18))
        // A bare \n ends the line too, and the data may hold \r\n.
        let both = MemcachedStore(mode: .append, key: bytes("k"), flags: 0, exptime: 0, data: bytes("a\r\nb"))
        #expect(parse("append k 0 0 4\na\r\nb\r\n") == .command(.store(both), consumed: 21))
    }

    @Test func casAndNoreplyAreReadFromTheirPlaces() {
        let cas = MemcachedStore(
            mode: .cas, key: bytes("k"), flags: 0, exptime: 10, data: bytes("x"), casUnique: 42, noreply: true)
        #expect(parse("cas k 0 10 1 42 noreply\r\nx\r\n") == .command(.store(cas), consumed: 28))
        #expect(parse("cas k 0 10 1\r\nx\r\n") == .reply("ERROR", consumed: 14))
        #expect(parse("set k 0 0 1 noreply extra\r\n") == .reply("ERROR", consumed: 27))
    }

    @Test func badDataChunksAndTooLargeItemsAreRefusedAsMemcachedDoes() {
        #expect(parse("set k 0 0 3\r\nabcd\r\n") == .reply("CLIENT_ERROR bad data chunk", consumed: 18))
        #expect(parse("set k 0 0 3 noreply\r\nabcd\r\n") == .reply(nil, consumed: 26))
        let big = 1 << 20
        #expect(
            parse("set k 0 0 \(big)\r\n")
                == .skip(
                    reply: "SERVER_ERROR object too large for cache", consumed: 19, skip: big + 2, removing: bytes("k"))
        )
        #expect(parse("set k 0 0 -1\r\n") == .reply("CLIENT_ERROR bad command line format", consumed: 14))
        let longKey = String(repeating: "k", count: 251)
        #expect(parse("set \(longKey) 0 0 1\r\n") == .reply("CLIENT_ERROR bad command line format", consumed: 263))
        #expect(parse("get \(longKey)\r\n") == .reply("CLIENT_ERROR bad command line format", consumed: 257))
    }

    @Test func numbersFollowCsConversionsAndMemcachedsChecks() {
        #expect(MemcachedNumbers.flags(ArraySlice(bytes("4294967297"))) == 1)
        #expect(MemcachedNumbers.flags(ArraySlice(bytes("-1"))) == nil)
        #expect(MemcachedNumbers.flags(ArraySlice(bytes("-0"))) == 0)
        #expect(MemcachedNumbers.flags(ArraySlice(bytes("+7"))) == 7)
        #expect(MemcachedNumbers.flags(ArraySlice(bytes("7x"))) == nil)
        #expect(MemcachedNumbers.unsigned64(ArraySlice(bytes("18446744073709551615"))) == .max)
        #expect(MemcachedNumbers.unsigned64(ArraySlice(bytes("18446744073709551616"))) == nil)
        #expect(MemcachedNumbers.signed32(ArraySlice(bytes("2147483648"))) == nil)
        #expect(MemcachedNumbers.signed32(ArraySlice(bytes("-5"))) == -5)
        #expect(MemcachedNumbers.signed32(ArraySlice(bytes("99999999999999999999"))) == nil)
        #expect(MemcachedNumbers.signed32(ArraySlice(bytes(""))) == nil)
    }

    @Test func otherCommandsCheckTheirTokens() {
        #expect(
            parse("get a b c\r\n")
                == .command(.get(keys: [bytes("a"), bytes("b"), bytes("c")], withCAS: false), consumed: 11))
        #expect(
            parse("gats 100 a\r\n")
                == .command(.getAndTouch(exptime: 100, keys: [bytes("a")], withCAS: true), consumed: 12))
        #expect(parse("gat x a\r\n") == .reply("CLIENT_ERROR invalid exptime argument", consumed: 9))
        #expect(parse("get\r\n") == .reply("ERROR", consumed: 5))
        #expect(
            parse("incr k 5\r\n")
                == .command(.arithmetic(key: bytes("k"), increment: true, delta: 5, noreply: false), consumed: 10))
        #expect(parse("decr k -1\r\n") == .reply("CLIENT_ERROR invalid numeric delta argument", consumed: 11))
        #expect(parse("delete k\r\n") == .command(.delete(key: bytes("k"), noreply: false), consumed: 10))
        #expect(parse("delete k 0 noreply\r\n") == .command(.delete(key: bytes("k"), noreply: true), consumed: 20))
        #expect(
            parse("delete k 5\r\n")
                == .reply("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]", consumed: 12))
        #expect(parse("touch k 10\r\n") == .command(.touch(key: bytes("k"), exptime: 10, noreply: false), consumed: 12))
        #expect(parse("flush_all 10 noreply\r\n") == .command(.flushAll(delay: 10, noreply: true), consumed: 22))
        #expect(parse("version\r\n") == .command(.version, consumed: 9))
        #expect(parse("bogus\r\n") == .reply("ERROR", consumed: 7))
        #expect(parse("\r\n") == .reply("ERROR", consumed: 2))
        #expect(parse("x\r\n") == .reply("ERROR", consumed: 3))
    }

    @Test func metaGetFlagsAreCheckedAsMemcachedChecksThem() {
        let flags = [
            MemcachedMetaFlag(letter: UInt8(ascii: "v"), token: []),
            MemcachedMetaFlag(letter: UInt8(ascii: "T"), token: bytes("30")),
            MemcachedMetaFlag(letter: UInt8(ascii: "O"), token: bytes("abc")),
        ]
        #expect(parse("mg k v T30 Oabc\r\n") == .command(.metaGet(key: bytes("k"), flags: flags), consumed: 17))
        #expect(parse("mg k v v\r\n") == .reply("CLIENT_ERROR duplicate flag", consumed: 10))
        #expect(parse("mg k Tx\r\n") == .reply("CLIENT_ERROR bad token in command line format", consumed: 9))
        #expect(parse("mg k z\r\n") == .reply("CLIENT_ERROR invalid flag", consumed: 8))
        #expect(parse("mg\r\n") == .reply("ERROR", consumed: 4))
        #expect(parse("mn\r\n") == .command(.metaNoop, consumed: 4))
    }

    @Test func metaSetSkipsTheDataOfARefusedRequest() {
        let flags = [MemcachedMetaFlag(letter: UInt8(ascii: "T"), token: bytes("5"))]
        #expect(
            parse("ms k 2 T5\r\nab\r\n")
                == .command(.metaSet(key: bytes("k"), flags: flags, data: bytes("ab")), consumed: 15))
        #expect(
            parse("ms k 2 MX\r\nab\r\n")
                == .skip(reply: "CLIENT_ERROR invalid mode for ms M token", consumed: 11, skip: 4, removing: nil))
        #expect(parse("ms k x\r\n") == .reply("CLIENT_ERROR bad command line format", consumed: 8))
        #expect(parse("ma k Dx\r\n") == .reply("CLIENT_ERROR invalid or duplicate flag", consumed: 9))
        #expect(parse("ma k Mx\r\n") == .reply("CLIENT_ERROR invalid mode for ma M token", consumed: 9))
    }

    @Test func longLinesCloseTheConnectionUnlessTheyAreGets() {
        let junk = String(repeating: "x", count: 3000)
        #expect(parse(junk) == .close)
        #expect(parse("get " + junk) == .needMore)
        var limits = MemcachedLimits()
        limits.maximumGetLine = 2500
        #expect(MemcachedTextParser(limits: limits).parse(ArraySlice(bytes("get " + junk))) == .close)
    }

    @Test func expiryFollowsRealtime() {
        let now: Int64 = 1_800_000_000_000
        #expect(MemcachedExpiry(exptime: 0, now: now) == .never)
        #expect(MemcachedExpiry(exptime: -1, now: now) == .expired)
        #expect(MemcachedExpiry(exptime: 60, now: now) == .at(now + 60_000))
        #expect(MemcachedExpiry(exptime: 2_592_000, now: now) == .at(now + 2_592_000_000))
        #expect(MemcachedExpiry(exptime: 2_592_001, now: now) == .expired)
        #expect(MemcachedExpiry(exptime: 1_900_000_000, now: now) == .at(1_900_000_000_000))
        #expect(MemcachedExpiry(exptime: .max, now: now) == .never)
    }
}

/// Base64 keys as memcached 1.6.18 decodes and echoes them, and the meta flags every meta
/// command checks alike.
@Suite("memcached meta flags and base64 keys")
struct MemcachedMetaParsingTests {
    let parser = MemcachedTextParser()

    private func parse(_ text: String) -> MemcachedParseResult { parser.parse(Array(text.utf8)[...]) }

    @Test func base64DecodesLenientlyAndEncodesPadded() {
        #expect(MemcachedBase64.decode(Array("Zm9v".utf8)) == Array("foo".utf8))
        #expect(MemcachedBase64.decode(Array("Zm9v!".utf8)) == Array("foo".utf8))  // outside the alphabet: skipped
        #expect(MemcachedBase64.decode(Array("Zm=v".utf8)) == [0x66, 0x60])  // stops at the padded group
        // What follows the padded group is ignored.
        #expect(MemcachedBase64.decode(Array("Zm9vYg==igno!".utf8)) == Array("foob".utf8))
        for refused in ["Zm8", "Zg", "Zm9vYg", "====", "Zm9v====", "@@@@", ""] {
            #expect(MemcachedBase64.decode(Array(refused.utf8)) == nil, "\(refused)")
        }
        #expect(MemcachedBase64.encode([0x66, 0x60]) == Array("ZmA=".utf8))
        #expect(MemcachedBase64.encode([0, 1, 2, 255]) == Array("AAEC/w==".utf8))
        #expect(MemcachedBase64.encode([]) == [])
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            if length > 0 { #expect(MemcachedBase64.decode(MemcachedBase64.encode(bytes)) == bytes) }
        }
    }

    @Test func metaCommandsDecodeBase64KeysAndWordRefusalsAsMemcached() {
        #expect(
            parse("mg Zm9v b v\r\n")
                == .command(
                    .metaGet(
                        key: Array("foo".utf8), flags: [.init(letter: 98, token: []), .init(letter: 118, token: [])]),
                    consumed: 13))
        #expect(parse("mg Zm8 b\r\n") == .reply("CLIENT_ERROR error decoding key", consumed: 10))
        #expect(parse("md Zm8 b\r\n") == .reply("CLIENT_ERROR invalid or duplicate flag", consumed: 10))
        #expect(parse("me Zm8 b\r\n") == .reply("CLIENT_ERROR bad command line format", consumed: 10))
        #expect(parse("me Zm9v b\r\n") == .command(.metaDebug(key: Array("foo".utf8), base64: true), consumed: 11))
        #expect(parse("me Zm9v x b\r\n") == .command(.metaDebug(key: Array("Zm9v".utf8), base64: false), consumed: 13))
        // One set of letters for every command; a duplicate wins over an earlier bad number.
        #expect(parse("mg k F5 I J1\r\n") != .reply("CLIENT_ERROR invalid flag", consumed: 14))
        #expect(parse("mg k E5\r\n") == .reply("CLIENT_ERROR invalid flag", consumed: 9))
        #expect(parse("mg k Nx v v\r\n") == .reply("CLIENT_ERROR duplicate flag", consumed: 13))
        #expect(parse("mg k Nx\r\n") == .reply("CLIENT_ERROR bad token in command line format", consumed: 9))
        let many = (0..<18).map { " O\($0)" }.joined()
        #expect(parse("mg k\(many)\r\n") == .reply("CLIENT_ERROR options flags are too long", consumed: 6 + many.count))
        #expect(parse("md k\(many)\r\n") == .reply("CLIENT_ERROR options flags too long", consumed: 6 + many.count))
    }

    @Test func slabClassesFollowMemcachedsDefaultLayout() {
        #expect(MemcachedLimits.slabClass(forItemSize: 62) == 1)
        #expect(MemcachedLimits.slabClass(forItemSize: 96) == 1)
        #expect(MemcachedLimits.slabClass(forItemSize: 97) == 2)
        #expect(MemcachedLimits.slabClass(forItemSize: 362) == 7)
        #expect(MemcachedLimits.slabClass(forItemSize: 1264) == 13)
    }
}
