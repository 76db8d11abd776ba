//! The Lua code that turns a fresh state into Redis's sandbox. It runs once, with full
//! access, when an interpreter is created:
//! - removes what scripts may not reach (`dofile`, `loadfile`, `print`, `setfenv`,
//!   `getfenv`, `newproxy`, `module`, `require`, `debug`; `os`, `io` and `package` are
//!   never opened);
//! - makes the library tables read-only proxies and gives scripts a proxy of the globals:
//!   assigning a global raises `Attempt to modify a readonly table` and reading a missing
//!   one `Script attempted to access nonexistent global variable` (both raised from C, see
//!   `LuaInterpreter`); the system Lua 5.1 has no read-only-table patch, so proxies with
//!   protected metatables do the job;
//! - wraps `loadstring`/`load` so that chunks get the protected globals and bytecode (which
//!   can crash Lua 5.1) is refused;
//! - builds the message handler that turns any error into Redis's error table
//!   `{err=..., source=..., line=...}`.

enum LuaSandbox {
    /// Chunk arguments: the nonexistent-global and read-only C functions, the `redis` table
    /// of scripts and the `redis` table of `FUNCTION LOAD`. Returns the message handler, the
    /// protected globals, and the read-only proxy of the load-time `redis` table.
    static let bootstrap = """
        local nonexistent, readonly, redis_api, library_api = ...
        local real = _G
        local setmetatable, getmetatable, rawset, type, tostring = setmetatable, getmetatable, rawset, type, tostring
        local setfenv, raw_loadstring, concat, error = setfenv, loadstring, table.concat, error
        local dbg = debug
        local protected = setmetatable({}, {__mode = 'k'})
        local function readonly_proxy(t)
          local proxy = setmetatable({}, {__index = t, __newindex = readonly, __metatable = false})
          protected[proxy] = true
          return proxy
        end
        for _, name in ipairs({'dofile', 'loadfile', 'print', 'setfenv', 'getfenv', 'newproxy', 'module',
                               'require', 'debug'}) do
          real[name] = nil
        end
        local string_meta = getmetatable('')
        for _, name in ipairs({'string', 'table', 'math', 'cjson', 'bit', 'cmsgpack', 'struct', 'coroutine'}) do
          real[name] = readonly_proxy(real[name])
        end
        string_meta.__index = real.string
        string_meta.__metatable = false
        real.redis = readonly_proxy(redis_api)
        local env = readonly_proxy(real)
        setmetatable(real, {__index = nonexistent, __newindex = readonly, __metatable = false})
        rawset(real, '_G', env)
        rawset(real, 'rawset', function(t, k, v)
          if protected[t] then error('Attempt to modify a readonly table', 2) end
          return rawset(t, k, v)
        end)
        local function safe_loadstring(source, name)
          if type(source) == 'string' and source:byte(1) == 27 then
            return nil, 'binary chunks are not allowed'
          end
          local chunk, message = raw_loadstring(source, name)
          if chunk then setfenv(chunk, env) end
          return chunk, message
        end
        rawset(real, 'loadstring', safe_loadstring)
        rawset(real, 'load', function(reader, name)
          if type(reader) == 'string' then return safe_loadstring(reader, name) end
          local parts = {}
          while true do
            local piece = reader()
            if piece == nil or piece == '' then break end
            if type(piece) ~= 'string' then return nil, 'reader function must return a string' end
            parts[#parts + 1] = piece
          end
          return safe_loadstring(concat(parts), name)
        end)
        local function handler(err)
          local info = dbg.getinfo(2, 'nSl')
          if info and info.what == 'C' then info = dbg.getinfo(3, 'nSl') end
          if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
          if info then
            err['source'] = info.source
            err['line'] = info.currentline
          end
          return err
        end
        setmetatable(library_api, {__index = nonexistent, __newindex = readonly, __metatable = false})
        return handler, env, readonly_proxy(library_api)
        """
}
