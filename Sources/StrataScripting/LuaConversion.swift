//! Redis's conversion rules between replies and Lua values.
//!
//! Reply → Lua (what `redis.call` returns), by the script's RESP version (`redis.setresp`):
//! integers become numbers, bulk strings strings, arrays tables, status replies `{ok=...}`,
//! errors `{err=...}`; a null is `false` in RESP2 and `nil` in RESP3; RESP3 maps, sets,
//! doubles, booleans and verbatim strings become `{map=...}`, `{set=...}`, `{double=...}`,
//! booleans and `{verbatim_string=...}` (in RESP2 they arrive flattened, as the client sees
//! them).
//!
//! Lua → reply (what a script returns): strings are bulk strings, numbers integers
//! (truncated), `true` 1 and `false` null in RESP2 (booleans in RESP3), tables arrays up to
//! their first `nil`, unless they hold `err`, `ok`, `double`, `big_number`, `map` or `set`;
//! anything else is null. Only raw accesses: a metamethod could raise across Swift.

import CLuaBridge
import StrataEngine

extension LuaInterpreter {
    /// Nesting deeper than this in a script's reply is refused (a table can hold itself).
    static let maximumReplyDepth = 1000

    /// Pushes `items` as an array table.
    func pushArray(_ items: ArraySlice<Bytes>) {
        let L = state
        lua_createtable(L, Int32(clamping: items.count), 0)
        var index: Int32 = 1
        for item in items {
            pushBytes(item)
            lua_rawseti(L, -2, index)
            index += 1
        }
    }

    func pushBytes(_ bytes: Bytes) {
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else {
                lua_pushlstring(state, "", 0)
                return
            }
            lua_pushlstring(state, base.assumingMemoryBound(to: CChar.self), raw.count)
        }
    }

    private func pushTable(field: String, _ pushValue: () -> Void) {
        lua_createtable(state, 0, 1)
        lua_pushstring(state, field)
        pushValue()
        lua_rawset(state, -3)
    }

    /// Pushes what `redis.call` returns for `reply`.
    func push(_ reply: Reply) {
        let L = state
        let resp3 = scriptResp == 3
        guard lua_checkstack(L, 4) != 0 else {
            lua_pushboolean(L, 0)
            return
        }
        switch reply {
        case .ok: pushTable(field: "ok") { lua_pushstring(L, "OK") }
        case .status(let text): pushTable(field: "ok") { lua_pushstring(L, text) }
        case .error(let text): pushTable(field: "err") { lua_pushstring(L, text) }
        case .integer(let value): lua_pushnumber(L, Double(value))
        case .bulk(let bytes): pushBytes(bytes)
        case .null, .nullArray, .blockedOn:
            if resp3 { lua_pushnil(L) } else { lua_pushboolean(L, 0) }
        case .array(let items), .push(let items), .sequence(let items):
            pushList(items)
        case .set(let items):
            if resp3 {
                pushTable(field: "set") {
                    lua_createtable(L, 0, Int32(clamping: items.count))
                    for item in items {
                        push(item)
                        lua_pushboolean(L, 1)
                        lua_rawset(L, -3)
                    }
                }
            } else {
                pushList(items)
            }
        case .map(let pairs):
            if resp3 {
                pushTable(field: "map") {
                    lua_createtable(L, 0, Int32(clamping: pairs.count))
                    for (key, value) in pairs {
                        push(key)
                        push(value)
                        lua_rawset(L, -3)
                    }
                }
            } else {
                pushList(pairs.flatMap { [$0.0, $0.1] })
            }
        case .keyed(let pairs):
            if resp3 {
                push(.map(pairs))
            } else {
                pushList(pairs.map { .array([$0.0, $0.1]) })
            }
        case .members:
            push(reply.expanded)
        case .pairs(let pairs):
            if resp3 {
                pushList(pairs.map { .array([$0.0, $0.1]) })
            } else {
                pushList(pairs.flatMap { [$0.0, $0.1] })
            }
        case .double(let value):
            if resp3 {
                pushTable(field: "double") { lua_pushnumber(L, value) }
            } else {
                lua_pushstring(L, NumberFormat.double(value))
            }
        case .formattedDouble(let text):
            if resp3 {
                pushTable(field: "double") { lua_pushnumber(L, Double(text) ?? 0) }
            } else {
                lua_pushstring(L, text)
            }
        case .bool(let value):
            if resp3 { lua_pushboolean(L, value ? 1 : 0) } else { lua_pushnumber(L, value ? 1 : 0) }
        case .verbatim(let text):
            if resp3 {
                pushTable(field: "verbatim_string") {
                    lua_createtable(L, 0, 2)
                    lua_pushstring(L, "txt")
                    lua_setfield(L, -2, "format")
                    lua_pushstring(L, text)
                    lua_setfield(L, -2, "string")
                }
            } else {
                lua_pushstring(L, text)
            }
        case .bigNumber(let digits):
            if resp3 {
                pushTable(field: "big_number") { lua_pushstring(L, digits) }
            } else {
                lua_pushstring(L, digits)
            }
        case .attribute(_, let reply):
            push(reply)  // as Redis: scripts do not see attributes
        }
    }

    private func pushList(_ items: [Reply]) {
        lua_createtable(state, Int32(clamping: items.count), 0)
        var index: Int32 = 1
        for item in items {
            push(item)
            lua_rawseti(state, -2, index)
            index += 1
        }
    }

    /// The bytes of the string (or number, converted in place) at `index`.
    func bytesValue(at index: Int32) -> Bytes {
        var length = 0
        guard let pointer = lua_tolstring(state, index, &length) else { return Bytes() }
        return Bytes(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    /// The text of the string at `index`.
    func stringValue(at index: Int32) -> String {
        var length = 0
        guard let pointer = lua_tolstring(state, index, &length) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// A Lua number as Redis converts it to an integer (C's truncating cast; NaN and values
    /// out of range give the smallest integer, as on x86-64).
    static func truncatedInteger(_ number: Double) -> Int {
        guard number.isFinite, number >= -9.223_372_036_854_775_808e18, number < 9.223_372_036_854_775_808e18 else {
            return Int.min
        }
        return Int(number.rounded(.towardZero))
    }

    /// The reply for the Lua value at `index`.
    func reply(at index: Int32, depth: Int) -> Reply {
        let L = state
        let absolute = index < 0 ? lua_gettop(L) + index + 1 : index
        switch lua_type(L, absolute) {
        case LUA_TSTRING:
            return .bulk(bytesValue(at: absolute))
        case LUA_TBOOLEAN:
            let value = lua_toboolean(L, absolute) != 0
            if scriptResp == 2 { return value ? .integer(1) : .null }
            return .bool(value)
        case LUA_TNUMBER:
            return .integer(LuaInterpreter.truncatedInteger(lua_tonumber(L, absolute)))
        case LUA_TTABLE:
            guard depth < LuaInterpreter.maximumReplyDepth, lua_checkstack(L, 4) != 0 else {
                replyTooDeep = true
                return .null
            }
            return tableReply(at: absolute, depth: depth)
        default:
            return .null
        }
    }

    private func tableReply(at table: Int32, depth: Int) -> Reply {
        let L = state
        defer { lua_settop(L, table) }
        rawField("err", of: table)
        if lua_type(L, -1) == LUA_TSTRING {
            var text = stringValue(at: -1)
            if text.hasPrefix("-") { text.removeFirst() }
            return .error(LuaInterpreter.singleLine(text))
        }
        strata_lua_pop(L, 1)
        rawField("ok", of: table)
        if lua_type(L, -1) == LUA_TSTRING { return .status(LuaInterpreter.singleLine(stringValue(at: -1))) }
        strata_lua_pop(L, 1)
        rawField("double", of: table)
        if lua_type(L, -1) == LUA_TNUMBER { return .double(lua_tonumber(L, -1)) }
        strata_lua_pop(L, 1)
        rawField("big_number", of: table)
        if lua_type(L, -1) == LUA_TSTRING { return .bulk(bytesValue(at: -1)) }
        strata_lua_pop(L, 1)
        rawField("map", of: table)
        if lua_type(L, -1) == LUA_TTABLE {
            var pairs: [(Reply, Reply)] = []
            let map = lua_gettop(L)
            lua_pushnil(L)
            while lua_next(L, map) != 0 {
                let value = reply(at: -1, depth: depth + 1)
                lua_pushvalue(L, -2)
                let key = reply(at: -1, depth: depth + 1)
                strata_lua_pop(L, 2)
                pairs.append((key, value))
            }
            return .map(pairs)
        }
        strata_lua_pop(L, 1)
        rawField("set", of: table)
        if lua_type(L, -1) == LUA_TTABLE {
            var members: [Reply] = []
            let set = lua_gettop(L)
            lua_pushnil(L)
            while lua_next(L, set) != 0 {
                lua_pushvalue(L, -2)
                members.append(reply(at: -1, depth: depth + 1))
                strata_lua_pop(L, 2)
            }
            return .set(members)
        }
        strata_lua_pop(L, 1)
        var items: [Reply] = []
        var position: Int32 = 1
        while true {
            lua_rawgeti(L, table, position)
            if lua_type(L, -1) == LUA_TNIL { break }
            items.append(reply(at: -1, depth: depth + 1))
            strata_lua_pop(L, 1)
            position += 1
        }
        return .array(items)
    }
}
