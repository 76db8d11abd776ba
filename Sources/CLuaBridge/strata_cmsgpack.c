//! The `cmsgpack` library Redis 7.0 gives scripts (`pack`, `unpack`, `unpack_one`,
//! `unpack_limit`), written for Strata to produce and accept the same bytes as Redis's
//! bundled lua-cmsgpack, including its quirks (numbers that are whole int64 values become
//! msgpack integers in the smallest form, other numbers float32 when exact else float64;
//! tables are arrays when their keys are exactly 1..n, maps otherwise; tables nested 16 deep
//! become nil; strings use fixstr/str8/str16/str32; unsigned 64-bit values past INT64_MAX
//! come back negative).
//!
//! Why C and not Swift: these functions raise Lua errors (bad input, a full heap, a stack
//! that cannot grow) with longjmp, which must never cross a Swift frame. In C the error
//! unwinds only C frames back to `lua_pcall`. The output buffer is a Lua userdata kept in a
//! fixed stack slot, so every byte goes through Strata's capped allocator and an error in
//! the middle of packing leaks nothing (the garbage collector reclaims it).
//!
//! Decoding never allocates from a count found in the input: arrays and maps are filled one
//! element at a time and stop at the first missing byte, and nesting is bounded by the Lua
//! stack limit (the same checks, with the same messages, as Redis's library).
#include "strata_lua_libraries.h"

#include <float.h>
#include <lauxlib.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/// Tables nested this deep are packed as nil (this also stops cycles).
#define PACK_MAX_NESTING 16

/// The bytes packed so far: `data` points into the userdata at stack slot `slot`.
typedef struct {
    unsigned char *data;
    size_t length;
    size_t capacity;
    int slot;
} pack_buffer;

static void buffer_reserve(lua_State *L, pack_buffer *buffer, size_t extra) {
    if (buffer->capacity - buffer->length >= extra) return;
    if (extra > SIZE_MAX / 4 - buffer->length) luaL_error(L, "not enough memory");
    size_t capacity = (buffer->length + extra) * 2;
    unsigned char *grown = lua_newuserdata(L, capacity);
    if (buffer->length > 0) memcpy(grown, buffer->data, buffer->length);
    lua_replace(L, buffer->slot);
    buffer->data = grown;
    buffer->capacity = capacity;
}

static void buffer_append(lua_State *L, pack_buffer *buffer, const void *bytes, size_t count) {
    buffer_reserve(L, buffer, count);
    if (count > 0) memcpy(buffer->data + buffer->length, bytes, count);
    buffer->length += count;
}

/// Appends `tag` then the low `width` bytes of `value`, most significant first.
static void append_tagged(lua_State *L, pack_buffer *buffer, unsigned char tag, uint64_t value, int width) {
    unsigned char bytes[9];
    bytes[0] = tag;
    for (int i = 0; i < width; i++) bytes[1 + i] = (unsigned char)(value >> (8 * (width - 1 - i)));
    buffer_append(L, buffer, bytes, (size_t)width + 1);
}

static void pack_integer(lua_State *L, pack_buffer *buffer, int64_t n) {
    uint64_t bits = (uint64_t)n;
    if (n >= 0) {
        if (n <= 0x7f) {
            unsigned char b = (unsigned char)n;
            buffer_append(L, buffer, &b, 1);
        } else if (n <= 0xff) {
            append_tagged(L, buffer, 0xcc, bits, 1);
        } else if (n <= 0xffff) {
            append_tagged(L, buffer, 0xcd, bits, 2);
        } else if (n <= 0xffffffffLL) {
            append_tagged(L, buffer, 0xce, bits, 4);
        } else {
            append_tagged(L, buffer, 0xcf, bits, 8);
        }
    } else {
        if (n >= -32) {
            unsigned char b = (unsigned char)bits;
            buffer_append(L, buffer, &b, 1);
        } else if (n >= -128) {
            append_tagged(L, buffer, 0xd0, bits, 1);
        } else if (n >= -32768) {
            append_tagged(L, buffer, 0xd1, bits, 2);
        } else if (n >= -2147483648LL) {
            append_tagged(L, buffer, 0xd2, bits, 4);
        } else {
            append_tagged(L, buffer, 0xd3, bits, 8);
        }
    }
}

static void pack_double(lua_State *L, pack_buffer *buffer, double d) {
    // A value beyond float's range can never round-trip through float (infinity does).
    if (!(fabs(d) > FLT_MAX) || isinf(d)) {
        float f = (float)d;
        if ((double)f == d) {
            uint32_t bits;
            memcpy(&bits, &f, sizeof bits);
            append_tagged(L, buffer, 0xca, bits, 4);
            return;
        }
    }
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    append_tagged(L, buffer, 0xcb, bits, 8);
}

static void pack_number(lua_State *L, pack_buffer *buffer, lua_Number n) {
    // Whole numbers in int64's range are integers; everything else (fractions, huge
    // values, infinities, NaN) is a float.
    if (n >= -9223372036854775808.0 && n < 9223372036854775808.0 && (lua_Number)(int64_t)n == n) {
        pack_integer(L, buffer, (int64_t)n);
    } else {
        pack_double(L, buffer, n);
    }
}

static void pack_string(lua_State *L, pack_buffer *buffer) {
    size_t length;
    const char *s = lua_tolstring(L, -1, &length);
    if (length < 32) {
        unsigned char b = (unsigned char)(0xa0 | length);
        buffer_append(L, buffer, &b, 1);
    } else if (length <= 0xff) {
        append_tagged(L, buffer, 0xd9, length, 1);
    } else if (length <= 0xffff) {
        append_tagged(L, buffer, 0xda, length, 2);
    } else {
        append_tagged(L, buffer, 0xdb, length, 4);
    }
    buffer_append(L, buffer, s, length);
}

/// The header of an array (`fixed` 0x90) or map (`fixed` 0x80) of `count` elements.
static void pack_container_header(lua_State *L, pack_buffer *buffer, unsigned char fixed, size_t count) {
    unsigned char wide16 = fixed == 0x90 ? 0xdc : 0xde;
    if (count <= 15) {
        unsigned char b = (unsigned char)(fixed | count);
        buffer_append(L, buffer, &b, 1);
    } else if (count <= 0xffff) {
        append_tagged(L, buffer, wide16, count, 2);
    } else {
        append_tagged(L, buffer, wide16 + 1, count, 4);
    }
}

/// Whether the table on top holds exactly the keys 1..n (numbers that are whole, positive
/// and within int's range; an empty table counts).
static int table_is_sequence(lua_State *L) {
    int top = lua_gettop(L);
    long count = 0;
    double highest = 0;
    luaL_checkstack(L, 2, "table too large to pack");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER) break;
        lua_Number key = lua_tonumber(L, -1);
        if (!(key > 0) || !(key < 2147483648.0) || (lua_Number)(int)key != key) break;
        if (key > highest) highest = key;
        count++;
    }
    int finished = lua_gettop(L) == top;
    lua_settop(L, top);
    return finished && highest == (double)count;
}

static void pack_value(lua_State *L, pack_buffer *buffer, int level);

static void pack_table(lua_State *L, pack_buffer *buffer, int level) {
    // A map level holds its key, value and key copy, and growing the buffer one more slot.
    luaL_checkstack(L, 4, "table too deeply nested to pack");
    if (table_is_sequence(L)) {
        size_t count = lua_objlen(L, -1);
        pack_container_header(L, buffer, 0x90, count);
        for (size_t i = 1; i <= count; i++) {
            lua_pushnumber(L, (lua_Number)i);
            lua_gettable(L, -2);
            pack_value(L, buffer, level + 1);
        }
        return;
    }
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        count++;
    }
    pack_container_header(L, buffer, 0x80, count);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        pack_value(L, buffer, level + 1);  // the key
        pack_value(L, buffer, level + 1);  // the value
    }
}

/// Packs the value on top of the stack and pops it.
static void pack_value(lua_State *L, pack_buffer *buffer, int level) {
    switch (lua_type(L, -1)) {
    case LUA_TSTRING:
        pack_string(L, buffer);
        break;
    case LUA_TBOOLEAN: {
        unsigned char b = lua_toboolean(L, -1) ? 0xc3 : 0xc2;
        buffer_append(L, buffer, &b, 1);
        break;
    }
    case LUA_TNUMBER:
        pack_number(L, buffer, lua_tonumber(L, -1));
        break;
    case LUA_TTABLE:
        if (level < PACK_MAX_NESTING) {
            pack_table(L, buffer, level);
            break;
        }
        // fall through: too deep, packed as nil
    default: {
        unsigned char b = 0xc0;
        buffer_append(L, buffer, &b, 1);
        break;
    }
    }
    lua_pop(L, 1);
}

static int cmsgpack_pack(lua_State *L) {
    int count = lua_gettop(L);
    if (count == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    if (!lua_checkstack(L, count)) return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
    luaL_checkstack(L, 2, "in function pack");
    lua_newuserdata(L, 64);
    pack_buffer buffer = {lua_touserdata(L, -1), 0, 64, lua_gettop(L)};
    for (int i = 1; i <= count; i++) {
        lua_pushvalue(L, i);
        pack_value(L, &buffer, 0);
    }
    lua_pushlstring(L, (const char *)buffer.data, buffer.length);
    return 1;
}

// Decoding.

enum { READ_OK = 0, READ_MISSING = 1, READ_BAD = 2 };

typedef struct {
    const unsigned char *at;
    size_t left;
    int status;
} reader;

static uint64_t read_big_endian(const unsigned char *p, int width) {
    uint64_t value = 0;
    for (int i = 0; i < width; i++) value = (value << 8) | p[i];
    return value;
}

static void unpack_value(lua_State *L, reader *r);

static void unpack_array(lua_State *L, reader *r, uint64_t count) {
    lua_newtable(L);
    luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
    for (uint64_t index = 1; index <= count; index++) {
        lua_pushnumber(L, (lua_Number)index);
        unpack_value(L, r);
        if (r->status != READ_OK) return;
        lua_settable(L, -3);
    }
}

static void unpack_map(lua_State *L, reader *r, uint64_t count) {
    lua_newtable(L);
    for (uint64_t i = 0; i < count; i++) {
        unpack_value(L, r);
        if (r->status != READ_OK) return;
        unpack_value(L, r);
        if (r->status != READ_OK) return;
        lua_settable(L, -3);
    }
}

/// Reads the `width`-byte big-endian number after the tag; false (and the status set)
/// when the input ends first.
static int read_header(reader *r, int width, uint64_t *value) {
    if (r->left < (size_t)width + 1) {
        r->status = READ_MISSING;
        return 0;
    }
    *value = read_big_endian(r->at + 1, width);
    r->at += width + 1;
    r->left -= (size_t)width + 1;
    return 1;
}

/// Pushes the string of `length` bytes that follows a header already consumed.
static void unpack_bytes(lua_State *L, reader *r, uint64_t length) {
    if (r->left < length) {
        r->status = READ_MISSING;
        return;
    }
    lua_pushlstring(L, (const char *)r->at, (size_t)length);
    r->at += length;
    r->left -= (size_t)length;
}

/// Pushes the next value, or sets the reader's status (leaving what it pushed so far; the
/// caller raises the error).
static void unpack_value(lua_State *L, reader *r) {
    if (r->left < 1) {
        r->status = READ_MISSING;
        return;
    }
    luaL_checkstack(L, 1, "too many return values at once; use unpack_one or unpack_limit instead.");
    unsigned char tag = r->at[0];
    uint64_t v;
    switch (tag) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
        if (tag == 0xc0) {
            lua_pushnil(L);
        } else {
            lua_pushboolean(L, tag == 0xc3);
        }
        r->at++;
        r->left--;
        return;
    case 0xcc:
    case 0xcd:
    case 0xce:
        if (read_header(r, 1 << (tag - 0xcc), &v)) lua_pushnumber(L, (lua_Number)v);
        return;
    case 0xcf:
        // Pushed as a signed 64-bit integer, as Redis's library does.
        if (read_header(r, 8, &v)) lua_pushnumber(L, (lua_Number)(int64_t)v);
        return;
    case 0xd0:
        if (read_header(r, 1, &v)) lua_pushnumber(L, (lua_Number)(int8_t)(uint8_t)v);
        return;
    case 0xd1:
        if (read_header(r, 2, &v)) lua_pushnumber(L, (lua_Number)(int16_t)(uint16_t)v);
        return;
    case 0xd2:
        if (read_header(r, 4, &v)) lua_pushnumber(L, (lua_Number)(int32_t)(uint32_t)v);
        return;
    case 0xd3:
        if (read_header(r, 8, &v)) lua_pushnumber(L, (lua_Number)(int64_t)v);
        return;
    case 0xca:
        if (read_header(r, 4, &v)) {
            uint32_t bits = (uint32_t)v;
            float f;
            memcpy(&f, &bits, sizeof f);
            lua_pushnumber(L, (lua_Number)f);
        }
        return;
    case 0xcb:
        if (read_header(r, 8, &v)) {
            double d;
            memcpy(&d, &v, sizeof d);
            lua_pushnumber(L, (lua_Number)d);
        }
        return;
    case 0xd9:
    case 0xda:
    case 0xdb:
        if (read_header(r, 1 << (tag - 0xd9), &v)) unpack_bytes(L, r, v);
        return;
    case 0xdc:
    case 0xdd:
        if (read_header(r, tag == 0xdc ? 2 : 4, &v)) unpack_array(L, r, v);
        return;
    case 0xde:
    case 0xdf:
        if (read_header(r, tag == 0xde ? 2 : 4, &v)) unpack_map(L, r, v);
        return;
    default:
        break;
    }
    if ((tag & 0x80) == 0) {
        lua_pushnumber(L, (lua_Number)tag);
    } else if ((tag & 0xe0) == 0xe0) {
        lua_pushnumber(L, (lua_Number)(int8_t)tag);
    } else if ((tag & 0xe0) == 0xa0) {
        r->at++;
        r->left--;
        if (r->left < (size_t)(tag & 0x1f)) {
            // Redis's library reports a short fixstr without consuming its tag; the
            // outcome (an error) is the same.
            r->status = READ_MISSING;
            return;
        }
        unpack_bytes(L, r, tag & 0x1f);
        return;
    } else if ((tag & 0xf0) == 0x90 || (tag & 0xf0) == 0x80) {
        r->at++;
        r->left--;
        if ((tag & 0xf0) == 0x90) {
            unpack_array(L, r, tag & 0x0f);
        } else {
            unpack_map(L, r, tag & 0x0f);
        }
        return;
    } else {
        r->status = READ_BAD;
        return;
    }
    r->at++;
    r->left--;
}

/// Unpacks up to `limit` values from `offset` of argument 1 (all of them when both are
/// zero). Unless decoding everything, the offset after the last value (or -1 at the end)
/// comes first in the results.
static int unpack_values(lua_State *L, lua_Integer limit, lua_Integer offset) {
    size_t length;
    const char *s = luaL_checklstring(L, 1, &length);
    int everything = limit == 0 && offset == 0;
    if (offset < 0 || limit < 0) {
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", (int)offset,
                          (int)length);
    }
    if ((size_t)offset > length) {
        return luaL_error(L, "Start offset %d greater than input length %d.", (int)offset, (int)length);
    }
    if (everything) limit = INT_MAX;
    reader r = {(const unsigned char *)s + offset, length - (size_t)offset, READ_OK};
    int count = 0;
    while (r.left > 0 && count < limit) {
        unpack_value(L, &r);
        if (r.status == READ_MISSING) return luaL_error(L, "Missing bytes in input.");
        if (r.status == READ_BAD) return luaL_error(L, "Bad data format in input.");
        count++;
    }
    if (everything) return count;
    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, r.left == 0 ? -1 : (lua_Integer)(length - r.left));
    lua_insert(L, 2);
    return count + 1;
}

static int cmsgpack_unpack(lua_State *L) { return unpack_values(L, 0, 0); }

static int cmsgpack_unpack_one(lua_State *L) {
    lua_Integer offset = luaL_optinteger(L, 2, 0);
    if (lua_gettop(L) > 1) lua_settop(L, 1);
    return unpack_values(L, 1, offset);
}

static int cmsgpack_unpack_limit(lua_State *L) {
    lua_Integer limit = luaL_checkinteger(L, 2);
    lua_Integer offset = luaL_optinteger(L, 3, 0);
    if (lua_gettop(L) > 1) lua_settop(L, 1);
    return unpack_values(L, limit, offset);
}

int strata_luaopen_cmsgpack(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"pack", cmsgpack_pack},
        {"unpack", cmsgpack_unpack},
        {"unpack_one", cmsgpack_unpack_one},
        {"unpack_limit", cmsgpack_unpack_limit},
        {NULL, NULL},
    };
    lua_newtable(L);
    for (const luaL_Reg *f = functions; f->name != NULL; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    lua_pushliteral(L, "cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
    lua_setfield(L, -2, "_COPYRIGHT");
    lua_pushliteral(L, "MessagePack C implementation for Lua");
    lua_setfield(L, -2, "_DESCRIPTION");
    return 1;
}
