// See strata_lua.h. The allocator counts the heap and refuses growth past the cap while
// Lua code runs; the hooks and closures call into Swift and raise from here.
#include "strata_lua.h"
#include "strata_lua_libraries.h"

#include <lauxlib.h>
#include <lualib.h>
#include <lua-bitop.h>
#include <lua-cjson.h>
#include <stdint.h>
#include <stdlib.h>

struct strata_lua {
    lua_State *L;
    size_t used;
    size_t limit;
    int enforcing;
    void *context;
    strata_lua_callback callback;
    strata_lua_hook hook;
};

static void *strata_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    strata_lua *vm = ud;
    if (nsize == 0) {
        free(ptr);
        vm->used -= osize;
        return NULL;
    }
    if (vm->enforcing && vm->limit > 0 && nsize > osize && vm->used - osize + nsize > vm->limit) {
        return NULL;  // Lua raises "not enough memory" (from C: never across Swift)
    }
    void *grown = realloc(ptr, nsize);
    if (grown != NULL) vm->used = vm->used - osize + nsize;
    return grown;
}

static strata_lua *vm_of(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

static int strata_dispatch(lua_State *L) {
    strata_lua *vm = vm_of(L);
    int id = (int)lua_tointeger(L, lua_upvalueindex(1));
    int enforcing = vm->enforcing;
    vm->enforcing = 0;
    int results = vm->callback(L, vm->context, id);
    vm->enforcing = enforcing;
    if (results < 0) return lua_error(L);
    return results;
}

static void strata_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    strata_lua *vm = vm_of(L);
    int enforcing = vm->enforcing;
    vm->enforcing = 0;
    int abort = vm->hook(L, vm->context);
    vm->enforcing = enforcing;
    if (abort) {
        // Raise again on every line, so that a pcall in the script cannot swallow it.
        lua_sethook(L, strata_hook, LUA_MASKLINE, 0);
        lua_error(L);
    }
}

// Redis's math.random: the rand48 generator (math.randomseed(n) gives Redis's sequence).
static uint64_t rand48_state;
static const int32_t rand48_max = INT32_MAX;

void strata_lua_seed_random(int32_t seed) { rand48_state = ((uint64_t)(uint32_t)seed << 16) | 0x330E; }

static int32_t rand48_next(void) {
    rand48_state = (rand48_state * 0x5DEECE66DULL + 0xB) & ((1ULL << 48) - 1);
    return (int32_t)(rand48_state >> 17);
}

static int strata_math_random(lua_State *L) {
    lua_Number r = (lua_Number)(rand48_next() % rand48_max) / (lua_Number)rand48_max;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, r);
        break;
    case 1: {
        int u = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= u, 1, "interval is empty");
        lua_pushnumber(L, (lua_Number)((int)(r * u) + 1));
        break;
    }
    case 2: {
        int l = luaL_checkint(L, 1);
        int u = luaL_checkint(L, 2);
        luaL_argcheck(L, l <= u, 2, "interval is empty");
        lua_pushnumber(L, (lua_Number)((int)(r * (u - l + 1)) + l));
        break;
    }
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    return 1;
}

static int strata_math_randomseed(lua_State *L) {
    rand48_state = ((uint64_t)(uint32_t)luaL_checkint(L, 1) << 16) | 0x330E;
    return 0;
}

static void open_library(lua_State *L, const char *name, lua_CFunction open) {
    lua_pushcfunction(L, open);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    // Some libraries (cjson) only return their table.
    if (name[0] != '\0' && lua_istable(L, -1)) {
        lua_setglobal(L, name);
    } else {
        lua_pop(L, 1);
    }
}

strata_lua *strata_lua_open(size_t memory_limit, void *context, strata_lua_callback callback,
                            strata_lua_hook hook) {
    strata_lua *vm = calloc(1, sizeof(strata_lua));
    if (vm == NULL) return NULL;
    vm->limit = memory_limit;
    vm->context = context;
    vm->callback = callback;
    vm->hook = hook;
    vm->L = lua_newstate(strata_alloc, vm);
    if (vm->L == NULL) {
        free(vm);
        return NULL;
    }
    lua_State *L = vm->L;
    open_library(L, "", luaopen_base);
    open_library(L, LUA_TABLIBNAME, luaopen_table);
    open_library(L, LUA_STRLIBNAME, luaopen_string);
    open_library(L, LUA_MATHLIBNAME, luaopen_math);
    open_library(L, LUA_DBLIBNAME, luaopen_debug);
    open_library(L, "cjson", luaopen_cjson);
    open_library(L, "bit", luaopen_bit);
    open_library(L, "cmsgpack", strata_luaopen_cmsgpack);
    open_library(L, "struct", strata_luaopen_struct);
    lua_getglobal(L, "math");
    lua_pushcfunction(L, strata_math_random);
    lua_setfield(L, -2, "random");
    lua_pushcfunction(L, strata_math_randomseed);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
    return vm;
}

void strata_lua_close(strata_lua *vm) {
    if (vm == NULL) return;
    lua_close(vm->L);
    free(vm);
}

lua_State *strata_lua_state(strata_lua *vm) { return vm->L; }
size_t strata_lua_memory(const strata_lua *vm) { return vm->used; }
void strata_lua_set_memory_limit(strata_lua *vm, size_t limit) { vm->limit = limit; }

void strata_lua_set_context(strata_lua *vm, void *context) { vm->context = context; }

void strata_lua_push_function(lua_State *L, int function_id) {
    lua_pushinteger(L, function_id);
    lua_pushcclosure(L, strata_dispatch, 1);
}

void strata_lua_register(lua_State *L, int table_index, const char *name, int function_id) {
    int table = table_index < 0 && table_index > LUA_REGISTRYINDEX ? lua_gettop(L) + table_index + 1 : table_index;
    strata_lua_push_function(L, function_id);
    lua_setfield(L, table, name);
}

int strata_lua_call(strata_lua *vm, int nargs, int nresults, int errfunc_index, int hook_every) {
    lua_State *L = vm->L;
    lua_sethook(L, strata_hook, LUA_MASKCOUNT, hook_every);
    vm->enforcing = 1;
    int status = lua_pcall(L, nargs, nresults, errfunc_index);
    vm->enforcing = 0;
    lua_sethook(L, NULL, 0, 0);
    return status;
}

void strata_lua_pop(lua_State *L, int n) { lua_pop(L, n); }
void strata_lua_newtable(lua_State *L) { lua_newtable(L); }
void strata_lua_getglobal(lua_State *L, const char *name) { lua_getglobal(L, name); }
void strata_lua_setglobal(lua_State *L, const char *name) { lua_setglobal(L, name); }
int strata_lua_upvalueindex(int i) { return lua_upvalueindex(i); }
