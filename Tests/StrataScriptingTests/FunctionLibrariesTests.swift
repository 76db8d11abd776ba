import StrataEngine
import StrataScripting
import Testing

/// `FUNCTION LOAD` semantics: metadata, registration forms, name clashes, replacement.
@Suite struct FunctionLibrariesTests {
    let libraries: FunctionLibraries
    let host = ScriptTestHost()

    init() throws {
        libraries = try FunctionLibraries(memoryLimit: 16 << 20)
    }

    func load(_ code: String, replace: Bool = false) -> String {
        do {
            return try libraries.load(Bytes(code), replace: replace)
        } catch {
            return error.message
        }
    }

    func call(_ name: String, keys: [String] = [], args: [String] = []) -> Reply {
        libraries.interpreter.host = host
        guard let (_, function) = libraries.function(named: name) else { return .error("ERR Function not found") }
        return libraries.interpreter.runFunction(
            function.ref, keys: keys.map { Bytes($0) }[...], args: args.map { Bytes($0) }[...], name: name)
    }

    @Test func registersBothFormsWithFlags() {
        #expect(
            load(
                """
                #!lua name=lib1
                redis.register_function('setter', function(keys, args) return redis.call('set', keys[1], args[1]) end)
                local function read(keys) return redis.call('get', keys[1]) end
                redis.register_function{function_name='getter', callback=read, flags={'no-writes'}, description='reads'}
                """) == "lib1")
        #expect(call("setter", keys: ["k"], args: ["v"]) == .status("OK"))
        #expect(call("getter", keys: ["k"]) == .bulk(Bytes("v")))
        let getter = libraries.function(named: "getter")?.function
        #expect(getter?.flags == [.noWrites])
        #expect(getter?.description == "reads")
        #expect(libraries.functionCount == 2)
    }

    @Test func refusesBadLibrariesWithRedisTexts() {
        #expect(load("return 1") == "ERR Missing library metadata")
        #expect(load("#!lua name=a") == "ERR Invalid library metadata")
        #expect(load("#!lua name=a\nreturn 1") == "ERR No functions registered")
        #expect(load("#!lua name=a b=c\nreturn 1") == "ERR Invalid metadata value given: b=c")
        #expect(load("#!py name=a\nreturn 1") == "ERR Engine 'py' not found")
        #expect(
            load("#!lua name=a\nredis.call('ping')")
                == "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"
        )
        #expect(
            load("#!lua name=a\nx = 1")
                == "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table")
        #expect(load("#!lua name=a\nwhile true do end") == "ERR Error registering functions: ERR FUNCTION LOAD timeout")
        #expect(libraries.libraries.isEmpty)
    }

    @Test func namesClashAcrossLibrariesAndReplaceSwaps() {
        #expect(load("#!lua name=one\nredis.register_function('f', function() return 1 end)") == "one")
        #expect(
            load("#!lua name=one\nredis.register_function('f', function() return 2 end)")
                == "ERR Library 'one' already exists")
        #expect(
            load("#!lua name=two\nredis.register_function('f', function() return 3 end)")
                == "ERR Function f already exists")
        #expect(load("#!lua name=one\nredis.register_function('g', function() return 4 end)", replace: true) == "one")
        #expect(call("f") == .error("ERR Function not found"))
        #expect(call("g") == .integer(4))
        #expect(libraries.delete("one"))
        #expect(!libraries.delete("one"))
        #expect(libraries.functionCount == 0)
    }
}
