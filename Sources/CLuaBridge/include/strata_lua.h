// The C side of Strata's Lua embedding. Lua reports errors with longjmp, which must never
// cross a Swift frame: every Lua error is raised here, in C, after the Swift callback that
// decided on it has returned. Swift callbacks only push values (the heap cap is lifted while
// they run, so a push cannot fail) and return a status.
#ifndef STRATA_LUA_H
#define STRATA_LUA_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>

/// A Swift function behind one of the `redis.*` functions. Returns how many results it
/// pushed, or -1 to have the value on top of the stack raised as a Lua error.
typedef int (*strata_lua_callback)(lua_State *L, void *context, int function_id);

/// Called by the instruction-count hook (and, once a script is being killed, on every
/// line). Returns nonzero to have the value it pushed raised as a Lua error.
typedef int (*strata_lua_hook)(lua_State *L, void *context);

typedef struct strata_lua strata_lua;

/// A new Lua state with the libraries Redis exposes (base, table, string, math, cjson,
/// bit, cmsgpack, struct; debug for the error handler only). The heap is capped at
/// `memory_limit` bytes while Lua code runs (0: no cap).
strata_lua *strata_lua_open(size_t memory_limit, void *context, strata_lua_callback callback,
                            strata_lua_hook hook);
void strata_lua_close(strata_lua *vm);
lua_State *strata_lua_state(strata_lua *vm);
/// Bytes the Lua heap holds.
size_t strata_lua_memory(const strata_lua *vm);
void strata_lua_set_memory_limit(strata_lua *vm, size_t limit);

/// Sets the context pointer the callbacks receive.
void strata_lua_set_context(strata_lua *vm, void *context);

/// Pushes a C closure that calls the Swift callback with `function_id`.
void strata_lua_push_function(lua_State *L, int function_id);

/// Sets `t[name]` (t at `table_index`) to a C closure that calls the Swift callback with
/// `function_id`.
void strata_lua_register(lua_State *L, int table_index, const char *name, int function_id);

/// Calls the function below `nargs` arguments on the stack in protected mode, with
/// `errfunc_index` as message handler, the count hook armed every `hook_every`
/// instructions and the heap cap enforced. Returns lua_pcall's status.
int strata_lua_call(strata_lua *vm, int nargs, int nresults, int errfunc_index, int hook_every);

/// Seeds `math.random` (Redis 7 seeds it once; scripts may call math.randomseed).
void strata_lua_seed_random(int32_t seed);

// Macros of lua.h that Swift cannot import.
void strata_lua_pop(lua_State *L, int n);
void strata_lua_newtable(lua_State *L);
void strata_lua_getglobal(lua_State *L, const char *name);
void strata_lua_setglobal(lua_State *L, const char *name);
int strata_lua_upvalueindex(int i);

#endif
