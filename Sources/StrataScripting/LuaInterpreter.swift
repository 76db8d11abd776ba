//! One Lua 5.1 state with Redis's sandbox and `redis` library: compiles scripts and
//! function libraries, runs them, and converts between Lua values and replies.
//!
//! Safety: Lua raises errors with `longjmp`, which must never cross a Swift frame. Swift
//! code here only calls Lua API functions that cannot raise once the heap cap is lifted
//! (pushes, raw gets and sets, `lua_pcall`); the `redis.*` functions written in Swift
//! return a status to the C trampoline in `CLuaBridge`, which raises after they returned.

import CLuaBridge
import StrataEngine

/// What the interpreter asks of its host (the server) while a script runs.
public protocol ScriptHost: AnyObject {
    /// Executes a command for `redis.call` / `redis.pcall`; failures come back as `.error`.
    func scriptCall(_ args: [Bytes]) -> Reply
    /// Called every ``LuaInterpreter/hookInstructions`` instructions; returns the error
    /// message to stop the script with (a kill), or nil to go on.
    func scriptCheckpoint() -> String?
    /// `redis.log(level, message)`, level 0 (debug) to 3 (warning).
    func scriptLog(level: Int, message: String)
    /// `redis.set_repl(flags)`: which of the script's later writes are propagated.
    func scriptSetReplication(_ flags: Int)
    /// `redis.acl_check_cmd(...)`: whether the script's user may run the command; nil
    /// when the command does not exist.
    func scriptACLCheck(_ args: [Bytes]) -> Bool?
}

/// A Lua interpreter holding compiled scripts and function libraries.
public final class LuaInterpreter {
    /// Instructions between two calls of the host's checkpoint.
    public static let hookInstructions: Int32 = 100_000
    let vm: OpaquePointer
    let state: OpaquePointer
    /// The host of the script that is running.
    public weak var host: ScriptHost?
    /// The RESP version `redis.call` replies are converted from (`redis.setresp`); reset to
    /// 2 for every run.
    var scriptResp = 2
    /// Functions registered by the library being loaded (`FUNCTION LOAD`).
    var registration: LibraryRegistration?
    /// Set while a script's definition runs: it may not execute code.
    var compiling = false
    private var handlerRef: Int32 = 0
    private var environmentRef: Int32 = 0
    private var libraryAPIRef: Int32 = 0
    private var scriptAPIRef: Int32 = 0
    private var runs = 0
    /// Set when a script's reply nests deeper than ``maximumReplyDepth``.
    var replyTooDeep = false

    /// A new interpreter whose heap is capped at `memoryLimit` bytes while scripts run (0:
    /// no cap).
    public init(memoryLimit: Int) throws(ScriptError) {
        guard let vm = strata_lua_open(memoryLimit, nil, luaCallbackTrampoline, luaHookTrampoline),
            let state = strata_lua_state(vm)
        else { throw ScriptError("ERR could not create a Lua interpreter") }
        self.vm = vm
        self.state = state
        strata_lua_seed_random(Int32.random(in: 0...Int32.max))
        try setUp()
    }

    deinit { strata_lua_close(vm) }

    /// Bytes the Lua heap holds (`used_memory_lua`).
    public var memoryBytes: Int { strata_lua_memory(vm) }

    /// Changes the heap cap.
    public func setMemoryLimit(_ bytes: Int) { strata_lua_set_memory_limit(vm, bytes) }

    private func setUp() throws(ScriptError) {
        // The context pointer is only known now that self exists.
        strata_lua_set_context(vm, Unmanaged.passUnretained(self).toOpaque())
        let L = state
        let source = Array(LuaSandbox.bootstrap.utf8)
        let loaded = source.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { luaL_loadbuffer(L, $0.baseAddress, $0.count, "=bootstrap") }
        }
        guard loaded == 0 else { throw ScriptError("ERR could not load the Lua sandbox: \(popString())") }
        pushFunction(.nonexistentGlobal)
        pushFunction(.readonlyTable)
        pushScriptAPI()
        pushLibraryAPI()
        guard lua_pcall(L, 4, 3, 0) == 0 else {
            throw ScriptError("ERR could not set up the Lua sandbox: \(popString())")
        }
        libraryAPIRef = luaL_ref(L, LUA_REGISTRYINDEX)
        environmentRef = luaL_ref(L, LUA_REGISTRYINDEX)
        handlerRef = luaL_ref(L, LUA_REGISTRYINDEX)
        lua_pushstring(L, "redis")
        lua_rawget(L, LUA_GLOBALSINDEX)
        scriptAPIRef = luaL_ref(L, LUA_REGISTRYINDEX)
    }

    private func pushFunction(_ function: LuaFunction) {
        strata_lua_push_function(state, function.rawValue)
    }

    /// The `redis` table of scripts.
    private func pushScriptAPI() {
        let L = state
        strata_lua_newtable(L)
        let functions: [(String, LuaFunction)] = [
            ("call", .call), ("pcall", .pcall), ("sha1hex", .sha1hex), ("error_reply", .errorReply),
            ("status_reply", .statusReply), ("log", .log), ("setresp", .setResp), ("set_repl", .setRepl),
            ("replicate_commands", .replicateCommands), ("breakpoint", .breakpoint), ("debug", .debug),
            ("acl_check_cmd", .aclCheckCommand),
        ]
        for (name, function) in functions { strata_lua_register(L, -1, name, function.rawValue) }
        setConstants()
        for (name, value) in [
            ("REPL_NONE", 0), ("REPL_AOF", 1), ("REPL_SLAVE", 2), ("REPL_REPLICA", 2), ("REPL_ALL", 3),
        ] {
            lua_pushinteger(L, value)
            lua_setfield(L, -2, name)
        }
    }

    /// The `redis` table of a library's load-time code (`FUNCTION LOAD`).
    private func pushLibraryAPI() {
        let L = state
        strata_lua_newtable(L)
        strata_lua_register(L, -1, "register_function", LuaFunction.registerFunction.rawValue)
        strata_lua_register(L, -1, "log", LuaFunction.log.rawValue)
        strata_lua_register(L, -1, "setresp", LuaFunction.setResp.rawValue)
        setConstants()
    }

    private func setConstants() {
        let L = state
        for (name, value) in [("LOG_DEBUG", 0), ("LOG_VERBOSE", 1), ("LOG_NOTICE", 2), ("LOG_WARNING", 3)] {
            lua_pushinteger(L, value)
            lua_setfield(L, -2, name)
        }
        lua_pushstring(L, LuaInterpreter.redisVersion)
        lua_setfield(L, -2, "REDIS_VERSION")
        lua_pushinteger(L, LuaInterpreter.redisVersionNumber)
        lua_setfield(L, -2, "REDIS_VERSION_NUM")
    }

    /// The Redis version scripts see (`redis.REDIS_VERSION`).
    public static var redisVersion = "7.0.15"
    /// The same as a number, `0x00MMmmpp`.
    public static var redisVersionNumber = 0x07_00_0f

    func popString() -> String {
        var length = 0
        let text = lua_tolstring(state, -1, &length).map {
            String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self)
        }
        strata_lua_pop(state, 1)
        return text ?? "(error object is not a string)"
    }

    // MARK: Compiling

    /// Compiles an `EVAL` script body (as Redis: `function f_<sha>() <body>\nend`, named
    /// `@user_script`, the shebang line blanked) and returns its registry reference.
    public func compileScript(sha: String, body: [UInt8], shebangLength: Int) throws(ScriptError) -> Int32 {
        let L = state
        var source = Array("function f_\(sha)() ".utf8)
        source.reserveCapacity(body.count + 64)
        source += shebangLength > 0 ? body[shebangLength...] : body[...]
        source += Array("\nend".utf8)
        let loaded = source.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { luaL_loadbuffer(L, $0.baseAddress, $0.count, "@user_script") }
        }
        guard loaded == 0 else { throw ScriptError("ERR Error compiling script (new function): \(popString())") }
        // The definition runs in an empty table, so that code placed around the function
        // (`end ... function x()`) cannot reach anything, and may not loop: see `compiling`.
        strata_lua_newtable(L)
        lua_pushvalue(L, -1)
        lua_setfenv(L, -3)
        lua_insert(L, -2)  // [definitions, chunk]
        compiling = true
        let status = strata_lua_call(vm, 0, 0, 0, 1000)
        compiling = false
        guard status == 0 else {
            let message = popString()
            strata_lua_pop(L, 1)
            throw ScriptError("ERR Error compiling script (new function): \(message)")
        }
        rawField("f_\(sha)")
        guard lua_type(L, -1) == LUA_TFUNCTION else {
            strata_lua_pop(L, 2)
            throw ScriptError("ERR Error compiling script (new function): the script does not define its function")
        }
        lua_rawgeti(L, LUA_REGISTRYINDEX, environmentRef)
        lua_setfenv(L, -2)
        let ref = luaL_ref(L, LUA_REGISTRYINDEX)
        strata_lua_pop(L, 1)
        return ref
    }

    /// Drops a compiled function.
    public func release(_ ref: Int32) {
        luaL_unref(state, LUA_REGISTRYINDEX, ref)
    }

    // MARK: Running

    /// Runs a compiled `EVAL` script with `KEYS` and `ARGV` set; `name` is what errors
    /// call it (its SHA-1).
    public func runScript(_ ref: Int32, keys: ArraySlice<Bytes>, args: ArraySlice<Bytes>, name: String) -> Reply {
        let L = state
        pushArray(keys)
        rawSetGlobal("KEYS")
        pushArray(args)
        rawSetGlobal("ARGV")
        return run(ref, arguments: 0, name: name)
    }

    /// Runs a registered function with `keys` and `args` as its two arguments.
    public func runFunction(_ ref: Int32, keys: ArraySlice<Bytes>, args: ArraySlice<Bytes>, name: String) -> Reply {
        run(
            ref,
            pushing: {
                self.pushArray(keys); self.pushArray(args)
            }, arguments: 2, name: name)
    }

    private func run(_ ref: Int32, pushing: () -> Void = {}, arguments: Int32, name: String) -> Reply {
        let L = state
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        lua_rawgeti(L, LUA_REGISTRYINDEX, handlerRef)
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref)
        pushing()
        scriptResp = 2
        let status = strata_lua_call(vm, arguments, 1, base + 1, LuaInterpreter.hookInstructions)
        runs += 1
        if runs % 50 == 0 { lua_gc(L, LUA_GCSTEP, 50) }
        guard status == 0 else { return errorReply(status: status, name: name) }
        replyTooDeep = false
        let result = reply(at: -1, depth: 0)
        return replyTooDeep ? .error("ERR reached lua stack limit") : result
    }

    /// Redis's error reply for a script that raised: `<err> script: <name>, on <source>:<line>.`
    /// (without the suffix when there is no name: a library's load-time code).
    private func errorReply(status: Int32, name: String?) -> Reply {
        let L = state
        if status == LUA_ERRMEM {
            lua_gc(L, LUA_GCCOLLECT, 0)
            return .error("ERR Error running script \(name ?? "(load)"), the script exceeded the Lua memory limit")
        }
        guard lua_type(L, -1) == LUA_TTABLE else {
            let message = lua_type(L, -1) == LUA_TSTRING ? stringValue(at: -1) : "execution failure"
            return .error("ERR Error running script \(name ?? "(load)"), \(String(message.prefix(100)))")
        }
        rawField("err")
        let text = lua_type(L, -1) == LUA_TSTRING ? stringValue(at: -1) : "ERR unknown error"
        strata_lua_pop(L, 1)
        rawField("source")
        let source = lua_type(L, -1) == LUA_TSTRING ? stringValue(at: -1) : nil
        strata_lua_pop(L, 1)
        rawField("line")
        let line = lua_type(L, -1) == LUA_TNUMBER ? Int(exactly: lua_tonumber(L, -1).rounded(.towardZero)) : nil
        strata_lua_pop(L, 1)
        var message = LuaInterpreter.singleLine(text)
        if let name, let source, let line { message += " script: \(name), on \(source):\(line)." }
        return .error(message)
    }

    /// Error and status texts cannot hold line breaks.
    static func singleLine(_ text: String) -> String {
        guard text.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return text }
        return String(text.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 })
    }

    // MARK: Libraries

    /// Runs a library's code (`FUNCTION LOAD`) with the load-time `redis` table, collecting
    /// the functions it registers. The code may run for `timeoutMilliseconds` at most.
    func loadLibrary(code: [UInt8], registration: LibraryRegistration) throws(ScriptError) -> [RegisteredFunction] {
        let L = state
        let base = lua_gettop(L)
        defer {
            lua_settop(L, base)
            self.registration = nil
            lua_rawgeti(L, LUA_REGISTRYINDEX, scriptAPIRef)
            rawSetGlobal("redis")
        }
        let loaded = code.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { luaL_loadbuffer(L, $0.baseAddress, $0.count, "@user_function") }
        }
        guard loaded == 0 else { throw ScriptError("ERR Error compiling function: \(popString())") }
        lua_rawgeti(L, LUA_REGISTRYINDEX, environmentRef)
        lua_setfenv(L, -2)
        lua_rawgeti(L, LUA_REGISTRYINDEX, libraryAPIRef)
        rawSetGlobal("redis")
        lua_rawgeti(L, LUA_REGISTRYINDEX, handlerRef)
        lua_insert(L, -2)
        self.registration = registration
        scriptResp = 2
        let status = strata_lua_call(vm, 0, 0, base + 1, LuaInterpreter.hookInstructions / 100)
        guard status == 0 else {
            guard case .error(let message) = errorReply(status: status, name: nil) else { return [] }
            throw ScriptError(
                "ERR Error registering functions: \(registration.timedOut ? "ERR FUNCTION LOAD timeout" : message)")
        }
        return registration.functions
    }

    /// Pushes `t[name]` of the table on top, without metamethods (which could raise).
    func rawField(_ name: String, of index: Int32 = -1) {
        let table = index < 0 ? lua_gettop(state) + index + 1 : index
        lua_pushstring(state, name)
        lua_rawget(state, table)
    }

    /// Pops the value on top into the global `name`, without metamethods.
    func rawSetGlobal(_ name: String) {
        lua_pushstring(state, name)
        lua_insert(state, -2)
        lua_rawset(state, LUA_GLOBALSINDEX)
    }

    /// Gives a registered function the globals of scripts.
    func protect(functionRef ref: Int32) {
        lua_rawgeti(state, LUA_REGISTRYINDEX, ref)
        lua_rawgeti(state, LUA_REGISTRYINDEX, environmentRef)
        lua_setfenv(state, -2)
        strata_lua_pop(state, 1)
    }
}

/// The `redis.*` functions written in Swift, by the id the C trampoline passes.
enum LuaFunction: Int32 {
    case call = 1, pcall, sha1hex, errorReply, statusReply, log, setResp, setRepl, replicateCommands, breakpoint,
        debug, aclCheckCommand, registerFunction, nonexistentGlobal, readonlyTable
}

private func luaCallbackTrampoline(_ state: OpaquePointer?, _ context: UnsafeMutableRawPointer?, _ id: Int32) -> Int32 {
    guard let state, let context, let function = LuaFunction(rawValue: id) else { return 0 }
    let interpreter = Unmanaged<LuaInterpreter>.fromOpaque(context).takeUnretainedValue()
    return interpreter.callback(function, state: state)
}

private func luaHookTrampoline(_ state: OpaquePointer?, _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let context else { return 0 }
    let interpreter = Unmanaged<LuaInterpreter>.fromOpaque(context).takeUnretainedValue()
    return interpreter.checkpoint()
}
