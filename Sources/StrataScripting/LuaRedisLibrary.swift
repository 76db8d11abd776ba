//! The `redis` library functions written in Swift, and the hook that stops runaway code.
//! Each returns the number of results it pushed, or -1 after pushing the error value for
//! the C trampoline to raise; none of them raises itself.

import CLuaBridge
import StrataEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension LuaInterpreter {
    /// Pushes Redis's error table `{err="ERR <message>"}` and returns -1 (raise it).
    private func raise(_ message: String) -> Int32 {
        pushErrorTable(message.hasPrefix("ERR ") ? message : "ERR " + message)
        return -1
    }

    private func pushErrorTable(_ text: String) {
        lua_createtable(state, 0, 1)
        lua_pushstring(state, "err")
        lua_pushstring(state, text)
        lua_rawset(state, -3)
    }

    /// Pushes `where: message` (the script's position, as `luaL_error`) and returns -1.
    private func raisePositioned(_ message: String) -> Int32 {
        luaL_where(state, 1)
        lua_pushstring(state, message)
        lua_concat(state, 2)
        return -1
    }

    func callback(_ function: LuaFunction, state L: OpaquePointer) -> Int32 {
        let count = lua_gettop(L)
        switch function {
        case .call, .pcall:
            return redisCall(raising: function == .call)
        case .sha1hex:
            guard count == 1 else { return raise("wrong number of arguments") }
            let text = bytesValue(at: 1).withUnsafeBytes { SHA1.hex($0) }
            lua_pushstring(L, text)
            return 1
        case .errorReply:
            guard count == 1, lua_type(L, 1) == LUA_TSTRING else {
                return raise("wrong number or type of arguments")
            }
            var text = stringValue(at: 1)
            if text.hasPrefix("-") { text.removeFirst() }
            pushErrorTable(text)
            return 1
        case .statusReply:
            guard count == 1, lua_type(L, 1) == LUA_TSTRING else {
                return raise("wrong number or type of arguments")
            }
            lua_createtable(L, 0, 1)
            lua_pushstring(L, "ok")
            lua_pushvalue(L, 1)
            lua_rawset(L, -3)
            return 1
        case .log:
            guard count >= 2 else { return raise("redis.log() requires two arguments or more.") }
            guard lua_type(L, 1) == LUA_TNUMBER else { return raise("First argument must be a number (log level).") }
            let level = Int(lua_tointeger(L, 1))
            guard (0...3).contains(level) else { return raise("Invalid debug level.") }
            var parts: [String] = []
            for index in 2...count where lua_type(L, index) == LUA_TSTRING || lua_type(L, index) == LUA_TNUMBER {
                parts.append(stringValue(at: index))
            }
            host?.scriptLog(level: level, message: parts.joined(separator: " "))
            return 0
        case .setResp:
            guard count == 1 else { return raise("redis.setresp() requires one argument.") }
            let version = lua_type(L, 1) == LUA_TNUMBER ? Int(lua_tointeger(L, 1)) : 0
            guard version == 2 || version == 3 else { return raise("RESP version must be 2 or 3.") }
            scriptResp = version
            return 0
        case .setRepl:
            guard count == 1 else { return raise("redis.set_repl() requires one argument.") }
            let flags = lua_type(L, 1) == LUA_TNUMBER ? Int(lua_tointeger(L, 1)) : -1
            guard (0...3).contains(flags) else {
                return raise("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
            }
            host?.scriptSetReplication(flags)
            return 0
        case .replicateCommands:
            lua_pushboolean(L, 1)
            return 1
        case .breakpoint:
            lua_pushboolean(L, 0)
            return 1
        case .debug:
            return 0
        case .aclCheckCommand:
            guard count >= 1 else { return raise("Please specify at least one argument for this redis lib call") }
            var args: [Bytes] = []
            for index in 1...count {
                let type = lua_type(L, index)
                guard type == LUA_TSTRING || type == LUA_TNUMBER else {
                    return raise("Lua redis lib command arguments must be strings or integers")
                }
                args.append(bytesValue(at: index))
            }
            guard let allowed = host?.scriptACLCheck(args) else {
                return raise("Invalid command passed to redis.acl_check_cmd()")
            }
            lua_pushboolean(L, allowed ? 1 : 0)
            return 1
        case .registerFunction:
            return registerFunction(argumentCount: count)
        case .nonexistentGlobal:
            let name =
                count >= 2 && (lua_type(L, 2) == LUA_TSTRING || lua_type(L, 2) == LUA_TNUMBER)
                ? stringValue(at: 2) : "?"
            return raisePositioned("Script attempted to access nonexistent global variable '\(name)'")
        case .readonlyTable:
            return raisePositioned("Attempt to modify a readonly table")
        }
    }

    /// `redis.call` / `redis.pcall`: arguments must be strings or numbers; a failing command
    /// raises (call) or returns its error table (pcall).
    private func redisCall(raising: Bool) -> Int32 {
        let L = state
        let count = lua_gettop(L)
        guard count > 0 else {
            pushErrorTable("ERR Please specify at least one argument for this redis lib call")
            return raising ? -1 : 1
        }
        var args: [Bytes] = []
        args.reserveCapacity(Int(count))
        for index in 1...count {
            let type = lua_type(L, index)
            guard type == LUA_TSTRING || type == LUA_TNUMBER else {
                pushErrorTable("ERR Lua redis lib command arguments must be strings or integers")
                return raising ? -1 : 1
            }
            args.append(bytesValue(at: index))
        }
        guard let host else {
            pushErrorTable("ERR redis.call can only be called inside a script invocation")
            return raising ? -1 : 1
        }
        let reply = host.scriptCall(args)
        if case .error(let text) = reply {
            pushErrorTable(text)
            return raising ? -1 : 1
        }
        push(reply)
        return 1
    }

    /// Called by the count hook: 1 (with the error pushed) stops the script.
    func checkpoint() -> Int32 {
        if compiling {
            pushErrorTable("ERR a script's definition may not run code")
            return 1
        }
        if let registration {
            guard registration.deadline > monotonicNanoseconds() else {
                registration.timedOut = true
                pushErrorTable("ERR FUNCTION LOAD timeout")
                return 1
            }
            return 0
        }
        guard let message = host?.scriptCheckpoint() else { return 0 }
        pushErrorTable(message.hasPrefix("ERR ") ? message : "ERR " + message)
        return 1
    }
}

/// The monotonic clock in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
