import StrataEngine
import StrataScripting
import Testing

/// Redis's conversion rules, in both directions (the texts were read off redis-server 7.0.15).
@Suite struct ConversionTests {
    let cache: ScriptCache
    let host = ScriptTestHost()

    init() throws {
        cache = try ScriptCache(memoryLimit: 64 << 20)
    }

    func run(_ body: String, keys: [String] = [], args: [String] = []) -> Reply {
        evaluate(body, keys: keys, args: args, cache: cache, host: host)
    }

    @Test func luaValuesBecomeReplies() {
        #expect(run("return 1") == .integer(1))
        #expect(run("return 3.99") == .integer(3))
        #expect(run("return -3.99") == .integer(-3))
        #expect(run("return 'x'") == .bulk(Bytes("x")))
        #expect(run("return true") == .integer(1))
        #expect(run("return false") == .null)
        #expect(run("return nil") == .null)
        #expect(
            run("return {1, 2, 3.7, 'x', nil, 5}")
                == .array([.integer(1), .integer(2), .integer(3), .bulk(Bytes("x"))]))
        #expect(run("return {ok='fine'}") == .status("fine"))
        #expect(run("return {err='bad thing'}") == .error("bad thing"))
        #expect(run("return redis.error_reply('My Error')") == .error("My Error"))
        #expect(run("return redis.status_reply('FINE')") == .status("FINE"))
        #expect(
            run("return {{1, {2}}, 'a'}") == .array([.array([.integer(1), .array([.integer(2)])]), .bulk(Bytes("a"))]))
        #expect(run("return function() end") == .null)
    }

    @Test func resp3ValuesBecomeTypedReplies() {
        #expect(run("redis.setresp(3); return true") == .bool(true))
        #expect(run("redis.setresp(3); return false") == .bool(false))
        #expect(run("return {double=3.5}") == .double(3.5))
        #expect(run("return {map={a=1}}") == .map([(.bulk(Bytes("a")), .integer(1))]))
        #expect(run("return {set={a=true}}") == .set([.bulk(Bytes("a"))]))
    }

    @Test func repliesBecomeLuaValues() {
        _ = run("redis.call('set', 'k', 'v')")
        #expect(run("return redis.call('get', 'k')") == .bulk(Bytes("v")))
        #expect(run("return redis.call('get', 'missing') == false") == .integer(1))
        #expect(run("return type(redis.call('set', 'k', 'v'))") == .bulk(Bytes("table")))
        #expect(run("return redis.call('set', 'k', 'v').ok") == .bulk(Bytes("OK")))
        #expect(run("return redis.call('incr', 'n')") == .integer(1))
        #expect(run("return type(redis.call('incr', 'n'))") == .bulk(Bytes("number")))
        _ = run("redis.call('rpush', 'l', 'a', 'b')")
        #expect(run("return redis.call('lrange', 'l', 0, -1)") == .array([.bulk(Bytes("a")), .bulk(Bytes("b"))]))
        #expect(
            run("return redis.pcall('incr', 'k')['err']") == .bulk(Bytes("ERR value is not an integer or out of range"))
        )
        #expect(run("redis.setresp(3); return redis.call('get', 'missing') == nil and 1 or 0") == .integer(1))
        _ = run("redis.call('hset', 'h', 'f', 'v')")
        #expect(run("redis.setresp(3); return redis.call('hgetall', 'h').map.f") == .bulk(Bytes("v")))
        #expect(run("return redis.call('hgetall', 'h')") == .array([.bulk(Bytes("f")), .bulk(Bytes("v"))]))
        _ = run("redis.call('zadd', 'z', 1.5, 'm')")
        #expect(run("redis.setresp(3); return redis.call('zscore', 'z', 'm').double * 2") == .integer(3))
        #expect(run("return redis.call('zscore', 'z', 'm')") == .bulk(Bytes("1.5")))
    }

    @Test func argumentsAreKeysAndArgv() {
        #expect(
            run("return {KEYS[1], ARGV[1], #KEYS, #ARGV}", keys: ["a"], args: ["b", "c"])
                == .array([.bulk(Bytes("a")), .bulk(Bytes("b")), .integer(1), .integer(2)]))
        #expect(run("return redis.call('set', KEYS[1], 42)", keys: ["num"]) == .status("OK"))
        #expect(run("return redis.call('get', 'num')") == .bulk(Bytes("42")))
    }

    @Test func commandErrorsRaiseWithThePosition() throws {
        let sha = ScriptCache.sha(of: Bytes("return redis.call('incr', 'k')"))
        _ = run("redis.call('set', 'k', 'v')")
        #expect(
            run("return redis.call('incr', 'k')")
                == .error("ERR value is not an integer or out of range script: \(sha), on @user_script:1."))
        #expect(
            run("return redis.call()")
                == .error(
                    "ERR Please specify at least one argument for this redis lib call script: \(ScriptCache.sha(of: Bytes("return redis.call()"))), on @user_script:1."
                ))
        let tableArgument = "return redis.call('get', {})"
        #expect(
            run(tableArgument)
                == .error(
                    "ERR Lua redis lib command arguments must be strings or integers script: \(ScriptCache.sha(of: Bytes(tableArgument))), on @user_script:1."
                ))
        let raised = "\nerror('boom')"
        #expect(
            run(raised)
                == .error("ERR user_script:2: boom script: \(ScriptCache.sha(of: Bytes(raised))), on @user_script:2."))
        #expect(
            run("error({err='X y'})")
                == .error("X y script: \(ScriptCache.sha(of: Bytes("error({err='X y'})"))), on @user_script:1."))
    }

    @Test func compileErrorsNameTheScript() {
        #expect(
            run("syntax error here")
                == .error("ERR Error compiling script (new function): user_script:1: '=' expected near 'error'"))
    }

    @Test func sha1hexAndLog() {
        #expect(run("return redis.sha1hex('')") == .bulk(Bytes("da39a3ee5e6b4b0d3255bfef95601890afd80709")))
        #expect(run("return redis.sha1hex('abc')") == .bulk(Bytes("a9993e364706816aba3e25717850c26c9cd0d89d")))
        _ = run("redis.log(redis.LOG_WARNING, 'hello', 'there')")
        #expect(host.logged.last?.0 == 3)
        #expect(host.logged.last?.1 == "hello there")
    }

    @Test func librariesAreThere() {
        #expect(run("return cjson.encode({1, 2})") == .bulk(Bytes("[1,2]")))
        #expect(run("return cjson.decode('{\"a\":[1,2]}').a[2]") == .integer(2))
        #expect(run("return bit.band(7, 3)") == .integer(3))
        #expect(run("return bit.tohex(255)") == .bulk(Bytes("000000ff")))
        #expect(run("return string.format('%d-%s', 5, 'x')") == .bulk(Bytes("5-x")))
        #expect(run("return ('abc'):upper()") == .bulk(Bytes("ABC")))
        #expect(run("return math.floor(2.5)") == .integer(2))
        #expect(run("return table.concat({'a', 'b'}, ',')") == .bulk(Bytes("a,b")))
    }

    @Test func randomFollowsRedisSequence() {
        // redis-server 7.0.15: math.randomseed(0) then math.random(100) twice gives 18, 75.
        #expect(
            run("math.randomseed(0) return {math.random(100), math.random(100)}")
                == .array([.integer(18), .integer(75)]))
    }

    @Test func cyclicTablesAreRefused() {
        guard case .error = run("local t = {} t[1] = t return t") else {
            Issue.record("a cyclic table must give an error")
            return
        }
    }
}
