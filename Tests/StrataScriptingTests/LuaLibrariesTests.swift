import StrataEngine
import StrataScripting
import Testing

/// The `cmsgpack` and `struct` libraries: exact bytes (read off redis-server 7.0.15), round
/// trips, error texts and hostile input.
@Suite struct LuaLibrariesTests {
    let cache: ScriptCache
    let host = ScriptTestHost()

    init() throws {
        cache = try ScriptCache(memoryLimit: 64 << 20)
    }

    func run(_ body: String, args: [String] = []) -> Reply {
        evaluate(body, args: args, cache: cache, host: host)
    }

    /// The bulk reply holding the bytes spelled by `hex`.
    func bulk(hex: String) -> Reply {
        let digits = Array(hex.utf8)
        var bytes: [UInt8] = []
        var index = 0
        while index + 1 < digits.count {
            let pair = String(decoding: digits[index...(index + 1)], as: UTF8.self)
            bytes.append(UInt8(pair, radix: 16) ?? 0)
            index += 2
        }
        return .bulk(Bytes(bytes))
    }

    /// The error text of a reply, without the script and line Redis appends.
    func errorText(_ reply: Reply) -> String? {
        guard case .error(let message) = reply else { return nil }
        guard let cut = message.firstRange(of: " script: ") else { return message }
        return String(message[..<cut.lowerBound])
    }

    @Test func integersTakeTheSmallestForm() {
        let script =
            "return cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536, -1, -32, -33, -128, -129, -32769,"
            + " -2147483649, 4294967296)"
        #expect(
            run(script)
                == bulk(
                    hex:
                        "007fcc80ccffcd0100cdffffce00010000ffe0d0dfd080d1ff7fd2ffff7fffd3ffffffff7fffffffcf0000000100000000"
                ))
    }

    @Test func floatsAreSinglePrecisionWhenExact() {
        #expect(run("return cmsgpack.pack(1.5, 0.1, 1/0)") == bulk(hex: "ca3fc00000cb3fb999999999999aca7f800000"))
        #expect(run("return cmsgpack.pack(-0.0)") == bulk(hex: "00"))
        #expect(run("return cmsgpack.pack(2^63)") == bulk(hex: "ca5f000000"))
    }

    @Test func tablesStringsAndNil() {
        let x32 = String(repeating: "78", count: 32)
        #expect(
            run("return cmsgpack.pack({}, {1, 'a'}, {k=true}, string.rep('x', 32), nil)")
                == bulk(hex: "909201a16181a16bc3d920" + x32 + "c0"))
        #expect(run("return #cmsgpack.pack(string.rep('x', 255))") == .integer(257))
        #expect(run("return #cmsgpack.pack(string.rep('x', 256))") == .integer(259))
        #expect(run("return #cmsgpack.pack(string.rep('x', 65536))") == .integer(65541))
        #expect(run("return cmsgpack.pack({1, nil, 3})") == bulk(hex: "820101" + "0303"))
    }

    @Test func nestingPastSixteenLevelsBecomesNil() {
        let nested = "{1,{2,{3,{4,{5,{6,{7,{8,{9,{10,{11,{12,{13,{14,{15,{16,{17}}}}}}}}}}}}}}}}}"
        #expect(
            run("return cmsgpack.pack(\(nested))")
                == bulk(hex: "920192029203920492059206920792089209920a920b920c920d920e920f9210c0"))
        #expect(run("local t = {} t[1] = t return #cmsgpack.pack(t)") == .integer(17))
    }

    @Test func roundTripsAndPartialUnpacking() {
        #expect(
            run("return {cmsgpack.unpack(cmsgpack.pack(1, -1, 'abc', {1, {2}}, true, 4294967296))}")
                == .array([
                    .integer(1), .integer(-1), .bulk(Bytes("abc")), .array([.integer(1), .array([.integer(2)])]),
                    .integer(1), .integer(4_294_967_296),
                ]))
        #expect(run("return cmsgpack.unpack(cmsgpack.pack({a = {b = 'c'}})).a.b") == .bulk(Bytes("c")))
        #expect(run("return cmsgpack.unpack(cmsgpack.pack(0.1)) == 0.1") == .integer(1))
        #expect(run("return {cmsgpack.unpack_one('\\1\\2\\3')}") == .array([.integer(1), .integer(1)]))
        #expect(run("return {cmsgpack.unpack_one('\\1\\2\\3', 2)}") == .array([.integer(-1), .integer(3)]))
        #expect(
            run("return {cmsgpack.unpack_limit('\\1\\2\\3', 2, 0)}") == .array([.integer(2), .integer(1), .integer(2)]))
        #expect(
            run("return {cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')}") == .array([.integer(-1)]))
    }

    @Test func badInputRaisesRedisErrors() {
        #expect(errorText(run("return cmsgpack.unpack('\\193')")) == "ERR user_script:1: Bad data format in input.")
        #expect(errorText(run("return cmsgpack.unpack('\\145')")) == "ERR user_script:1: Missing bytes in input.")
        #expect(
            errorText(run("return cmsgpack.pack()"))
                == "ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)")
        #expect(
            errorText(run("return cmsgpack.unpack_limit('a', -1)"))
                == "ERR user_script:1: Invalid request to unpack with offset of 0 and limit of 1.")
        #expect(
            errorText(run("return cmsgpack.unpack_one('a', 5)"))
                == "ERR user_script:1: Start offset 5 greater than input length 1.")
    }

    @Test func hostileMessagePackFailsCleanly() {
        let deep = run("return cmsgpack.unpack(string.rep('\\145', 100000))")
        #expect(errorText(deep)?.hasPrefix("ERR user_script:1: stack overflow") == true)
        #expect(
            errorText(run("return cmsgpack.unpack('\\221\\255\\255\\255\\255')"))
                == "ERR user_script:1: Missing bytes in input.")
        #expect(
            errorText(run("return cmsgpack.unpack('\\219\\255\\255\\255\\255abc')"))
                == "ERR user_script:1: Missing bytes in input.")
        #expect(run("return 1") == .integer(1))
    }

    @Test func structPacksEveryFormat() {
        #expect(
            run("return struct.pack('>bBhHi3I8', -1, 255, -2, 513, -3, 2^40)")
                == bulk(hex: "fffffffe0201fffffd0000010000000000"))
        #expect(run("return struct.pack('<!4 b i d', 1, 2, 1.5)") == bulk(hex: "0100000002000000000000000000f83f"))
        #expect(
            run("return struct.pack('<L<L<l', 1e20, 0/0, -1e20)")
                == bulk(hex: "0000000000000000" + "0000000000000080" + "0000000000000080"))
        #expect(run("return struct.pack('c2 s x', 'abc', 'de')") == bulk(hex: "6162" + "646500" + "00"))
        #expect(run("return struct.size('!8 b d c3 T')") == .integer(32))
    }

    @Test func structUnpacksWithPositions() {
        #expect(
            run("return {struct.unpack('>i3I3', '\\255\\255\\254\\255\\255\\254')}")
                == .array([.integer(-2), .integer(16_777_214), .integer(7)]))
        #expect(run("return {struct.unpack('bc0', '\\3xyzw')}") == .array([.bulk(Bytes("xyz")), .integer(5)]))
        #expect(run("return {struct.unpack('s', 'ab\\0c')}") == .array([.bulk(Bytes("ab")), .integer(4)]))
        #expect(run("return {struct.unpack('b', 'abc', 2)}") == .array([.integer(98), .integer(3)]))
        #expect(run("return {struct.unpack('<i9', string.rep('\\1', 9))}") == .array([.integer(-127), .integer(10)]))
    }

    @Test func structErrorsMatchRedis() {
        let cases: [(String, String)] = [
            ("struct.pack('z')", "bad argument #1 to 'pack' (invalid format option 'z')"),
            ("struct.pack('c99999999999', 'a')", "integral size overflow"),
            ("struct.pack('i33', 1)", "integral size 33 is larger than limit of 32"),
            ("struct.pack('!3')", "alignment 3 is not a power of 2"),
            ("struct.pack('c5', 'ab')", "bad argument #3 to 'pack' (string too short)"),
            ("struct.unpack('b', 'a', 0)", "bad argument #3 to 'unpack' (offset must be 1 or greater)"),
            ("struct.unpack('c999999999', 'a')", "bad argument #2 to 'unpack' (data string too short)"),
            ("struct.unpack('c0', '3')", "format 'c0' needs a previous size"),
            ("struct.unpack('s', 'ab')", "unfinished string in data"),
            ("struct.size('s')", "bad argument #1 to 'size' (option 's' has no fixed size)"),
        ]
        for (call, message) in cases {
            #expect(errorText(run("return \(call)")) == "ERR user_script:1: " + message, "\(call)")
        }
    }

    @Test func librariesAreReadOnly() {
        #expect(errorText(run("cmsgpack.pack = nil")) == "ERR user_script:1: Attempt to modify a readonly table")
        #expect(errorText(run("struct.size = nil")) == "ERR user_script:1: Attempt to modify a readonly table")
        #expect(run("return type(cmsgpack.unpack_limit) .. type(struct.unpack)") == .bulk(Bytes("functionfunction")))
    }
}
