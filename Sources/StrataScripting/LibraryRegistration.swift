//! `redis.register_function` during `FUNCTION LOAD`: both call forms, with Redis 7's checks.

import CLuaBridge

/// A function a library registered.
public struct RegisteredFunction: Sendable {
    /// Its name (letters, digits and underscores).
    public var name: String
    /// Registry reference of its Lua function.
    public var ref: Int32
    /// Its flags.
    public var flags: ScriptFlags
    /// Its description, if given.
    public var description: String?
}

/// Collects the functions of the library being loaded.
final class LibraryRegistration {
    var functions: [RegisteredFunction] = []
    /// When the library's code must have finished (monotonic ns).
    let deadline: UInt64
    var timedOut = false

    init(timeoutMilliseconds: Int) {
        deadline = monotonicNanoseconds() + UInt64(max(0, timeoutMilliseconds)) * 1_000_000
    }

    /// Whether `name` is a valid function or library name.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy {
                $0 == UInt8(ascii: "_") || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
            }
    }
}

extension LuaInterpreter {
    /// `redis.register_function(name, callback)` or `redis.register_function{function_name=,
    /// callback=, flags=, description=}`.
    func registerFunction(argumentCount count: Int32) -> Int32 {
        let L = state
        func fail(_ message: String) -> Int32 {
            lua_createtable(L, 0, 1)
            lua_pushstring(L, "err")
            lua_pushstring(L, "ERR " + message)
            lua_rawset(L, -3)
            return -1
        }
        guard let registration else {
            return fail("redis.register_function can only be called on FUNCTION LOAD command")
        }
        var name: String?
        var flags: ScriptFlags = []
        var description: String?
        var callbackIndex: Int32 = 0
        if count == 1 && lua_type(L, 1) == LUA_TTABLE {
            lua_pushnil(L)
            while lua_next(L, 1) != 0 {
                guard lua_type(L, -2) == LUA_TSTRING else {
                    return fail("named argument key given to redis.register_function is not a string")
                }
                lua_pushvalue(L, -2)
                let key = stringValue(at: -1)
                strata_lua_pop(L, 1)
                switch key {
                case "function_name":
                    guard lua_type(L, -1) == LUA_TSTRING else {
                        return fail("function_name argument given to redis.register_function must be a string")
                    }
                    name = stringValue(at: -1)
                case "description":
                    guard lua_type(L, -1) == LUA_TSTRING else {
                        return fail("description argument given to redis.register_function must be a string")
                    }
                    description = stringValue(at: -1)
                case "callback":
                    guard lua_type(L, -1) == LUA_TFUNCTION else {
                        return fail("callback argument given to redis.register_function must be a function")
                    }
                    lua_pushvalue(L, -1)
                    lua_insert(L, 2)  // kept below the iteration
                    callbackIndex = 2
                case "flags":
                    guard lua_type(L, -1) == LUA_TTABLE else {
                        return fail(
                            "flags argument to redis.register_function must be a table representing function flags")
                    }
                    var position: Int32 = 1
                    while true {
                        lua_rawgeti(L, -1, position)
                        if lua_type(L, -1) == LUA_TNIL {
                            strata_lua_pop(L, 1)
                            break
                        }
                        guard lua_type(L, -1) == LUA_TSTRING, let flag = ScriptFlags.named(stringValue(at: -1)) else {
                            return fail("unknown flag given")
                        }
                        flags.insert(flag)
                        strata_lua_pop(L, 1)
                        position += 1
                    }
                default:
                    return fail("unknown argument given to redis.register_function")
                }
                strata_lua_pop(L, 1)
            }
            guard name != nil else { return fail("redis.register_function must get a function name argument") }
            guard callbackIndex != 0 else { return fail("redis.register_function must get a callback argument") }
        } else {
            guard count == 2 else { return fail("wrong number of arguments to redis.register_function") }
            guard lua_type(L, 1) == LUA_TSTRING else {
                return fail("first argument to redis.register_function must be a string")
            }
            guard lua_type(L, 2) == LUA_TFUNCTION else {
                return fail("second argument to redis.register_function must be a function")
            }
            name = stringValue(at: 1)
            callbackIndex = 2
        }
        guard let name, LibraryRegistration.isValidName(name) else {
            return fail(
                "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
            )
        }
        guard !registration.functions.contains(where: { $0.name == name }) else {
            return fail("Function already exists in the library")
        }
        lua_pushvalue(L, callbackIndex)
        let ref = luaL_ref(L, LUA_REGISTRYINDEX)
        protect(functionRef: ref)
        registration.functions.append(RegisteredFunction(name: name, ref: ref, flags: flags, description: description))
        return 0
    }
}
