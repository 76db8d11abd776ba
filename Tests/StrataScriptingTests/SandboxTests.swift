import StrataEngine
import StrataScripting
import Testing

/// The sandbox: no new globals, no files or processes, no bytecode, runaway code stopped.
@Suite struct SandboxTests {
    let cache: ScriptCache
    let host = ScriptTestHost()

    init() throws {
        cache = try ScriptCache(memoryLimit: 8 << 20)
    }

    func run(_ body: String) -> Reply {
        evaluate(body, cache: cache, host: host)
    }

    func sha(_ body: String) -> String { ScriptCache.sha(of: Bytes(body)) }

    @Test func globalsCannotBeCreatedOrChanged() {
        #expect(
            run("x = 1")
                == .error(
                    "ERR user_script:1: Attempt to modify a readonly table script: \(sha("x = 1")), on @user_script:1.")
        )
        #expect(
            run("return x")
                == .error(
                    "ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: \(sha("return x")), on @user_script:1."
                ))
        for body in [
            "_G.y = 1", "rawset(_G, 'y', 1)", "redis.call = nil", "string.upper = nil", "setmetatable(_G, nil)",
            "getmetatable('').__index = {}", "cjson.encode = nil", "math.pi = 3",
        ] {
            guard case .error = run(body) else {
                Issue.record("\(body) must fail")
                continue
            }
        }
        #expect(run("local x = 1; return x") == .integer(1))
        #expect(run("return string.upper('a')") == .bulk(Bytes("A")))
    }

    @Test func unsafeFunctionsAreGone() {
        for name in [
            "os", "io", "loadfile", "dofile", "require", "package", "debug", "print", "setfenv", "getfenv", "newproxy",
            "module",
        ] {
            let body = "return \(name)"
            #expect(
                run(body)
                    == .error(
                        "ERR user_script:1: Script attempted to access nonexistent global variable '\(name)' script: \(sha(body)), on @user_script:1."
                    ))
        }
    }

    @Test func loadedChunksAreSandboxedAndBytecodeIsRefused() {
        #expect(run("return loadstring('return 1 + 1')()") == .integer(2))
        guard case .error = run("return loadstring('x = 5')()") else {
            Issue.record("a loaded chunk must not create globals")
            return
        }
        #expect(
            run("local f, e = loadstring(string.dump(function() return 1 end)) return e")
                == .bulk(Bytes("binary chunks are not allowed")))
    }

    @Test func runawayScriptsAreStoppedByTheHost() {
        host.killMessage = "Script killed by user with SCRIPT KILL..."
        let body = "while true do end"
        #expect(
            run(body)
                == .error("ERR Script killed by user with SCRIPT KILL... script: \(sha(body)), on @user_script:1."))
        // A pcall cannot swallow the kill.
        let guarded = "local ok = pcall(function() while true do end end) while true do end"
        guard case .error(let message) = run(guarded) else {
            Issue.record("the kill must end the script")
            return
        }
        #expect(message.hasPrefix("ERR Script killed by user"))
        host.killMessage = nil
        #expect(run("return 5") == .integer(5))
    }

    @Test func codeAroundTheFunctionCannotRun() {
        guard case .error(let message) = run("end while true do end function f()") else {
            Issue.record("code outside the script function must be refused")
            return
        }
        #expect(message.hasPrefix("ERR Error compiling script"))
    }

    @Test func theHeapIsCapped() {
        guard case .error(let message) = run("local t = {} for i = 1, 10000000 do t[i] = i end return 1") else {
            Issue.record("a script past the heap cap must fail")
            return
        }
        #expect(message.contains("memory"))
        #expect(run("return 7") == .integer(7))
        #expect(cache.interpreter.memoryBytes < 8 << 20)
    }
}
