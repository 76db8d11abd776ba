// The Lua C libraries Strata writes itself for Redis compatibility (see each file's
// header). Each opens its table and leaves it on the stack; strata_lua_open makes it a global.
#ifndef STRATA_LUA_LIBRARIES_H
#define STRATA_LUA_LIBRARIES_H

#include <lua.h>

/// `cmsgpack`: MessagePack as Redis's bundled lua-cmsgpack writes and reads it.
int strata_luaopen_cmsgpack(lua_State *L);

/// `struct`: binary packing as Redis's bundled struct library does it.
int strata_luaopen_struct(lua_State *L);

#endif
