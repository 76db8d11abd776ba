import Testing

@testable import StrataEngine

@Suite("StringCommands")
struct StringCommandsTests {
    @Test func setAndGet() {
        let h = Harness()
        #expect(h.run("SET", "k", "v") == .ok)
        #expect(h.run("get", "k") == .b("v"))
        #expect(h.run("GET", "missing") == .null)
    }

    @Test func setOptions() {
        let h = Harness()
        #expect(h.run("SET", "k", "1", "NX") == .ok)
        #expect(h.run("SET", "k", "2", "NX") == .null)
        #expect(h.run("SET", "k", "3", "XX", "GET") == .b("1"))
        #expect(h.run("SET", "other", "3", "XX") == .null)
        #expect(h.run("SET", "k", "4", "NX", "GET") == .b("3"))
        #expect(h.run("SET", "k", "v", "EX", "10", "PX", "5") == Errors.syntax)
        #expect(h.run("SET", "k", "v", "NX", "XX") == Errors.syntax)
        #expect(h.run("SET", "k", "v", "EX") == Errors.syntax)
        #expect(h.run("SET", "k", "v", "EX", "abc") == Errors.notInteger)
        #expect(h.run("SET", "k", "v", "EX", "0") == .error("ERR invalid expire time in 'set' command"))
        #expect(h.run("SET", "k", "v", "EX", "-5") == .error("ERR invalid expire time in 'set' command"))
        #expect(h.run("SET", "k", "v", "KEEPTTL", "EX", "5") == Errors.syntax)
    }

    @Test func setGetOnWrongTypeDoesNotOverwrite() {
        let h = Harness()
        h.engine.store(Bytes("k"), .integer(1), db: 0, now: h.now)
        #expect(h.run("SET", "k", "x", "GET") == .b("1"))
    }

    @Test func setWithTTLAndKeepTTL() {
        let h = Harness()
        #expect(h.run("SET", "k", "v", "PX", "1500") == .ok)
        #expect(h.run("PTTL", "k") == .integer(1500))
        #expect(h.run("SET", "k", "w", "KEEPTTL") == .ok)
        #expect(h.run("PTTL", "k") == .integer(1500))
        #expect(h.run("SET", "k", "x") == .ok)
        #expect(h.run("TTL", "k") == .integer(-1))
        #expect(h.run("SET", "k", "v", "EXAT", String((h.now / 1000) + 100)) == .ok)
        #expect(h.run("TTL", "k") == .integer(100))
    }

    @Test func counters() {
        let h = Harness()
        #expect(h.run("INCR", "c") == .integer(1))
        #expect(h.run("INCRBY", "c", "10") == .integer(11))
        #expect(h.run("DECR", "c") == .integer(10))
        #expect(h.run("DECRBY", "c", "20") == .integer(-10))
        #expect(h.run("GET", "c") == .b("-10"))
        #expect(h.run("INCRBY", "c", "x") == Errors.notInteger)
        h.run("SET", "s", "abc")
        #expect(h.run("INCR", "s") == Errors.notInteger)
        h.run("SET", "s", " 1")
        #expect(h.run("INCR", "s") == Errors.notInteger)
        h.run("SET", "big", "9223372036854775807")
        #expect(h.run("INCR", "big") == .error("ERR increment or decrement would overflow"))
        #expect(h.run("DECRBY", "big", "-9223372036854775808") == .error("ERR decrement would overflow"))
        #expect(h.run("OBJECT", "ENCODING", "big") == .b("int"))
    }

    @Test func counterKeepsTTL() {
        let h = Harness()
        h.run("SET", "c", "1", "EX", "100")
        h.run("INCR", "c")
        #expect(h.run("TTL", "c") == .integer(100))
    }

    @Test(arguments: [
        ("10.50", "0.1", "10.6"), ("5.0e3", "2.0e2", "5200"), ("0", "3.0e-1", "0.3"), ("1", "-1", "0"),
        ("0.1", "0.2", "0.3"),
    ])
    func incrbyfloatFormatsAsRedis(start: String, delta: String, result: String) {
        let h = Harness()
        h.run("SET", "f", start)
        #expect(h.run("INCRBYFLOAT", "f", delta) == .b(result))
        #expect(h.run("GET", "f") == .b(result))
    }

    @Test func incrbyfloatErrors() {
        let h = Harness()
        h.run("SET", "f", "abc")
        #expect(h.run("INCRBYFLOAT", "f", "1") == .error("ERR value is not a valid float"))
        #expect(h.run("INCRBYFLOAT", "g", "x") == .error("ERR value is not a valid float"))
        #expect(h.run("INCRBYFLOAT", "g", "inf") == .error("ERR increment would produce NaN or Infinity"))
    }

    @Test func appendStrlenRanges() {
        let h = Harness()
        #expect(h.run("APPEND", "s", "Hello") == .integer(5))
        #expect(h.run("APPEND", "s", " World") == .integer(11))
        #expect(h.run("STRLEN", "s") == .integer(11))
        #expect(h.run("GETRANGE", "s", "0", "4") == .b("Hello"))
        #expect(h.run("GETRANGE", "s", "-5", "-1") == .b("World"))
        #expect(h.run("GETRANGE", "s", "5", "2") == .b(""))
        #expect(h.run("GETRANGE", "s", "0", "100") == .b("Hello World"))
        #expect(h.run("SETRANGE", "s", "6", "Redis") == .integer(11))
        #expect(h.run("GET", "s") == .b("Hello Redis"))
        #expect(h.run("SETRANGE", "pad", "3", "x") == .integer(4))
        #expect(h.run("GET", "pad") == .bulk(Bytes([0, 0, 0, UInt8(ascii: "x")])))
        #expect(h.run("SETRANGE", "none", "5", "") == .integer(0))
        #expect(h.run("EXISTS", "none") == .integer(0))
        #expect(h.run("SETRANGE", "s", "-1", "x") == .error("ERR offset is out of range"))
    }

    @Test func appendGrowsLargeValuesInPlace() {
        let h = Harness()
        let chunk = String(repeating: "x", count: 1000)
        for i in 1...200 { #expect(h.run("APPEND", "big", chunk) == .integer(i * 1000)) }
        #expect(h.run("STRLEN", "big") == .integer(200_000))
    }

    @Test func getsetGetdelGetex() {
        let h = Harness()
        #expect(h.run("GETSET", "k", "1") == .null)
        #expect(h.run("GETSET", "k", "2") == .b("1"))
        #expect(h.run("GETEX", "k", "EX", "50") == .b("2"))
        #expect(h.run("TTL", "k") == .integer(50))
        #expect(h.run("GETEX", "k", "PERSIST") == .b("2"))
        #expect(h.run("TTL", "k") == .integer(-1))
        #expect(h.run("GETEX", "k", "EX", "1", "PX", "2") == Errors.syntax)
        #expect(h.run("GETDEL", "k") == .b("2"))
        #expect(h.run("EXISTS", "k") == .integer(0))
    }

    @Test func multiKeyCommands() {
        let h = Harness()
        #expect(h.run("MSET", "a", "1", "b", "2") == .ok)
        #expect(h.run("MGET", "a", "b", "c") == .array([.b("1"), .b("2"), .null]))
        #expect(h.run("MSET", "a", "1", "b") == .error("ERR wrong number of arguments for 'mset' command"))
        #expect(h.run("MSETNX", "a", "9", "z", "9") == .integer(0))
        #expect(h.run("EXISTS", "z") == .integer(0))
        #expect(h.run("MSETNX", "y", "9", "z", "9") == .integer(1))
        #expect(h.run("SETNX", "y", "0") == .integer(0))
        #expect(h.run("SETEX", "t", "0", "v") == .error("ERR invalid expire time in 'setex' command"))
        #expect(h.run("PSETEX", "t", "100", "v") == .ok)
        #expect(h.run("PTTL", "t") == .integer(100))
    }

    @Test func arityAndUnknownCommands() {
        let h = Harness()
        #expect(h.run("GET") == .error("ERR wrong number of arguments for 'get' command"))
        #expect(h.run("GET", "a", "b") == .error("ERR wrong number of arguments for 'get' command"))
        #expect(h.run("NOPE", "x", "y") == .error("ERR unknown command 'NOPE', with args beginning with: 'x' 'y' "))
        #expect(h.run("OBJECT", "nope") == .error("ERR unknown subcommand 'nope'. Try OBJECT HELP."))
    }

    @Test func encodings() {
        let h = Harness()
        h.run("SET", "i", "12345")
        h.run("SET", "e", "hello")
        h.run("SET", "r", String(repeating: "x", count: 45))
        h.run("SET", "z", "007")
        #expect(h.run("OBJECT", "ENCODING", "i") == .b("int"))
        #expect(h.run("OBJECT", "ENCODING", "e") == .b("embstr"))
        #expect(h.run("OBJECT", "ENCODING", "r") == .b("raw"))
        #expect(h.run("OBJECT", "ENCODING", "z") == .b("embstr"))
        #expect(h.run("OBJECT", "ENCODING", "none") == .null)
    }

    @Test func bits() {
        let h = Harness()
        #expect(h.run("SETBIT", "b", "7", "1") == .integer(0))
        #expect(h.run("SETBIT", "b", "7", "1") == .integer(1))
        #expect(h.run("GETBIT", "b", "7") == .integer(1))
        #expect(h.run("GETBIT", "b", "100") == .integer(0))
        #expect(h.run("GET", "b") == .bulk(Bytes([1])))
        #expect(h.run("SETBIT", "b", "-1", "1") == Errors.bitOffset)
        #expect(h.run("SETBIT", "b", "1", "2") == Errors.bitValue)
        h.run("SET", "foobar", "foobar")
        #expect(h.run("BITCOUNT", "foobar") == .integer(26))
        #expect(h.run("BITCOUNT", "foobar", "0", "0") == .integer(4))
        #expect(h.run("BITCOUNT", "foobar", "1", "1") == .integer(6))
        #expect(h.run("BITCOUNT", "foobar", "5", "30", "BIT") == .integer(17))
        #expect(h.run("BITCOUNT", "foobar", "1") == Errors.syntax)
        h.run("SET", "p", String(decoding: [0xFF, 0xF0, 0x00], as: UTF8.self))
        h.run(bytes: [Bytes("SET"), Bytes("p"), Bytes([0xFF, 0xF0, 0x00])])
        #expect(h.run("BITPOS", "p", "0") == .integer(12))
        h.run(bytes: [Bytes("SET"), Bytes("q"), Bytes([0x00, 0xFF, 0xF0])])
        #expect(h.run("BITPOS", "q", "1", "0") == .integer(8))
        #expect(h.run("BITPOS", "q", "1", "2") == .integer(16))
        #expect(h.run("BITPOS", "q", "1", "7", "15", "BIT") == .integer(8))
        h.run(bytes: [Bytes("SET"), Bytes("ones"), Bytes([0xFF, 0xFF])])
        #expect(h.run("BITPOS", "ones", "0") == .integer(16))
        #expect(h.run("BITPOS", "ones", "0", "0", "-1") == .integer(-1))
        #expect(h.run("BITPOS", "nokey", "0") == .integer(0))
        #expect(h.run("BITPOS", "nokey", "1") == .integer(-1))
        #expect(h.run("BITPOS", "q", "2") == .error("ERR The bit argument must be 1 or 0."))
    }

    @Test func wrongType() {
        let h = Harness()
        h.engine.databases[0].set(Bytes("n"), .integer(5), accessClock: 0)
        #expect(h.run("APPEND", "n", "1") == .integer(2))
        #expect(h.run("GET", "n") == .b("51"))
    }
}
