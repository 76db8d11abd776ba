//! The `struct` library Redis 7.0 gives scripts (`pack`, `unpack`, `size`), written for
//! Strata to behave as the struct library Redis bundles (Roberto Ierusalimschy's, with
//! Redis's overflow fixes) on x86-64 Linux: the same format options and sizes (`b` 1, `h` 2,
//! `l`/`L`/`T` 8, `i`/`I` 4 or `in` up to 32, `f` 4, `d` 8, `c[n]`, `s`, `x`, `<`, `>`,
//! `![n]`, ` `), the same alignment rule, the same error texts, and the same results where
//! the original relies on what the C compiler does with out-of-range conversions and wide
//! shifts (those are spelled out here, without undefined behaviour).
//!
//! Why C and not Swift: the library raises Lua errors (bad formats, short data, wrong
//! argument types) with longjmp, which must never cross a Swift frame; in C it unwinds only
//! C frames back to `lua_pcall`. Output goes through a `luaL_Buffer`, so it is bounded by
//! the strings given (a count such as `c99999999` is checked against the string first) and
//! counts in a format cannot overflow (`integral size overflow`).
#include "strata_lua_libraries.h"

#include <ctype.h>
#include <lauxlib.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

/// Largest `in`/`In` size.
#define STRUCT_MAX_INT_SIZE 32
/// Alignment `!` without a number sets: what a double needs on x86-64.
#define STRUCT_MAX_ALIGN 8

enum { STRUCT_BIG = 0, STRUCT_LITTLE = 1 };

typedef struct {
    int endian;
    int align;
} layout;

static void default_layout(layout *h) {
    h->endian = STRUCT_LITTLE;  // native on x86-64 and arm64
    h->align = 1;
}

/// Reads the decimal number at `*format`, or returns `fallback` when there is none.
static int read_count(lua_State *L, const char **format, int fallback) {
    if (!isdigit((unsigned char)**format)) return fallback;
    int value = 0;
    while (isdigit((unsigned char)**format)) {
        int digit = **format - '0';
        if (value > INT_MAX / 10 || value * 10 > INT_MAX - digit) luaL_error(L, "integral size overflow");
        value = value * 10 + digit;
        (*format)++;
    }
    return value;
}

/// The bytes an option takes (0 for options that are not data, and for `s`).
static size_t option_size(lua_State *L, int option, const char **format) {
    switch (option) {
    case 'b':
    case 'B':
    case 'x':
        return 1;
    case 'h':
    case 'H':
        return 2;
    case 'l':
    case 'L':
    case 'T':
    case 'd':
        return 8;
    case 'f':
        return 4;
    case 'c':
        return (size_t)read_count(L, format, 1);
    case 'i':
    case 'I': {
        int size = read_count(L, format, 4);
        if (size > STRUCT_MAX_INT_SIZE) {
            luaL_error(L, "integral size %d is larger than limit of %d", size, STRUCT_MAX_INT_SIZE);
        }
        return (size_t)size;
    }
    default:
        return 0;
    }
}

/// Padding before an option of `size` bytes at offset `position` (sizes that are not powers
/// of two give the same odd padding as the original's mask arithmetic).
static size_t padding(size_t position, const layout *h, int option, size_t size) {
    if (size == 0 || option == 'c') return 0;
    if (size > (size_t)h->align) size = (size_t)h->align;
    return (size - (position & (size - 1))) & (size - 1);
}

/// Endianness, alignment and spaces; anything else is an invalid option.
static void control_option(lua_State *L, int option, const char **format, layout *h) {
    switch (option) {
    case ' ':
        return;
    case '>':
        h->endian = STRUCT_BIG;
        return;
    case '<':
        h->endian = STRUCT_LITTLE;
        return;
    case '!': {
        int align = read_count(L, format, STRUCT_MAX_ALIGN);
        if (align <= 0 || (align & (align - 1)) != 0) luaL_error(L, "alignment %d is not a power of 2", align);
        h->align = align;
        return;
    }
    default:
        luaL_argerror(L, 1, lua_pushfstring(L, "invalid format option '%c'", option));
    }
}

/// x86-64's conversion of a double to int64 (cvttsd2si): truncation, and INT64_MIN for
/// NaN and values out of range.
static uint64_t truncate_signed(double d) {
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) return (uint64_t)(int64_t)d;
    return UINT64_C(1) << 63;
}

/// The compiled conversion of a double to uint64 on x86-64: below 2^63 (or NaN) as signed,
/// otherwise as signed after subtracting 2^63, with the top bit flipped back.
static uint64_t truncate_unsigned(double d) {
    if (!(d >= 9223372036854775808.0)) return truncate_signed(d);
    return truncate_signed(d - 9223372036854775808.0) ^ (UINT64_C(1) << 63);
}

static void pack_integer(lua_State *L, luaL_Buffer *b, int arg, int endian, size_t size) {
    lua_Number n = luaL_checknumber(L, arg);
    uint64_t value = n < 0 ? truncate_signed(n) : truncate_unsigned(n);
    char bytes[STRUCT_MAX_INT_SIZE];
    for (size_t i = 0; i < size; i++) {
        // Bytes past the eighth are zero (no sign extension), as in the original.
        char byte = i < 8 ? (char)(value >> (8 * i)) : 0;
        bytes[endian == STRUCT_LITTLE ? i : size - 1 - i] = byte;
    }
    luaL_addlstring(b, bytes, size);
}

/// Appends `size` bytes of `value` (native little-endian) in the requested order.
static void pack_raw(luaL_Buffer *b, const void *value, size_t size, int endian) {
    const char *bytes = value;
    for (size_t i = 0; i < size; i++) luaL_addchar(b, bytes[endian == STRUCT_LITTLE ? i : size - 1 - i]);
}

static int struct_pack(lua_State *L) {
    const char *format = luaL_checkstring(L, 1);
    layout h;
    default_layout(&h);
    int arg = 2;
    size_t total = 0;
    luaL_Buffer b;
    lua_pushnil(L);  // separates the arguments from the buffer's pieces
    luaL_buffinit(L, &b);
    while (*format != '\0') {
        int option = (unsigned char)*format++;
        size_t size = option_size(L, option, &format);
        size_t pad = padding(total, &h, option, size);
        total += pad;
        while (pad-- > 0) luaL_addchar(&b, '\0');
        switch (option) {
        case 'b':
        case 'B':
        case 'h':
        case 'H':
        case 'l':
        case 'L':
        case 'T':
        case 'i':
        case 'I':
            pack_integer(L, &b, arg++, h.endian, size);
            break;
        case 'x':
            luaL_addchar(&b, '\0');
            break;
        case 'f': {
            lua_Number n = luaL_checknumber(L, arg++);
            float f = (float)n;
            pack_raw(&b, &f, sizeof f, h.endian);
            break;
        }
        case 'd': {
            double d = luaL_checknumber(L, arg++);
            pack_raw(&b, &d, sizeof d, h.endian);
            break;
        }
        case 'c':
        case 's': {
            size_t length;
            const char *s = luaL_checklstring(L, arg++, &length);
            if (size == 0) size = length;
            // The argument number reported is the one after the string, as in the original.
            luaL_argcheck(L, length >= size, arg, "string too short");
            luaL_addlstring(&b, s, size);
            if (option == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default:
            control_option(L, option, &format, &h);
        }
        total += size;
    }
    luaL_pushresult(&b);
    return 1;
}

/// Reads an integer of `size` bytes; bytes before the last eight shift out, and the sign
/// mask uses the shift count modulo 64, as x86-64 computes the original's wide shifts.
static lua_Number unpack_integer(const char *bytes, int endian, int is_signed, size_t size) {
    uint64_t value = 0;
    for (size_t i = 0; i < size; i++) {
        size_t at = endian == STRUCT_BIG ? i : size - 1 - i;
        value = (value << 8) | (unsigned char)bytes[at];
    }
    if (!is_signed) return (lua_Number)value;
    uint64_t mask = ~UINT64_C(0) << ((size * 8 - 1) & 63);
    if (value & mask) value |= mask;
    return (lua_Number)(int64_t)value;
}

static void unpack_raw(const char *data, void *value, size_t size, int endian) {
    char *bytes = value;
    for (size_t i = 0; i < size; i++) bytes[endian == STRUCT_LITTLE ? i : size - 1 - i] = data[i];
}

static int struct_unpack(lua_State *L) {
    const char *format = luaL_checkstring(L, 1);
    size_t length;
    const char *data = luaL_checklstring(L, 2, &length);
    // Offsets are size_t arithmetic as in the original: a negative offset wraps around and
    // then fails the length check.
    size_t position = (size_t)luaL_optinteger(L, 3, 1);
    luaL_argcheck(L, position > 0, 3, "offset must be 1 or greater");
    position--;
    layout h;
    default_layout(&h);
    int results = 0;
    while (*format != '\0') {
        int option = (unsigned char)*format++;
        size_t size = option_size(L, option, &format);
        position += padding(position, &h, option, size);
        luaL_argcheck(L, size <= length && position <= length - size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        switch (option) {
        case 'b':
        case 'B':
        case 'h':
        case 'H':
        case 'l':
        case 'L':
        case 'T':
        case 'i':
        case 'I':
            lua_pushnumber(L, unpack_integer(data + position, h.endian, islower(option), size));
            results++;
            break;
        case 'x':
            break;
        case 'f': {
            float f;
            unpack_raw(data + position, &f, sizeof f, h.endian);
            lua_pushnumber(L, (lua_Number)f);
            results++;
            break;
        }
        case 'd': {
            double d;
            unpack_raw(data + position, &d, sizeof d, h.endian);
            lua_pushnumber(L, d);
            results++;
            break;
        }
        case 'c':
            if (size == 0) {
                if (results == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
                size = (size_t)truncate_unsigned(lua_tonumber(L, -1));
                lua_pop(L, 1);
                results--;
                luaL_argcheck(L, size <= length && position <= length - size, 2, "data string too short");
            }
            lua_pushlstring(L, data + position, size);
            results++;
            break;
        case 's': {
            const char *end = memchr(data + position, '\0', length - position);
            if (end == NULL) luaL_error(L, "unfinished string in data");
            size = (size_t)(end - (data + position)) + 1;
            lua_pushlstring(L, data + position, size - 1);
            results++;
            break;
        }
        default:
            control_option(L, option, &format, &h);
        }
        position += size;
    }
    lua_pushinteger(L, (lua_Integer)(position + 1));
    return results + 1;
}

static int struct_size(lua_State *L) {
    const char *format = luaL_checkstring(L, 1);
    layout h;
    default_layout(&h);
    size_t position = 0;
    while (*format != '\0') {
        int option = (unsigned char)*format++;
        size_t size = option_size(L, option, &format);
        position += padding(position, &h, option, size);
        if (option == 's') {
            luaL_argerror(L, 1, "option 's' has no fixed size");
        } else if (option == 'c' && size == 0) {
            luaL_argerror(L, 1, "option 'c0' has no fixed size");
        }
        // Unknown letters and digits are skipped here (the original only checks the
        // other characters).
        if (!isalnum(option)) control_option(L, option, &format, &h);
        position += size;
    }
    lua_pushinteger(L, (lua_Integer)position);
    return 1;
}

int strata_luaopen_struct(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"pack", struct_pack},
        {"unpack", struct_unpack},
        {"size", struct_size},
        {NULL, NULL},
    };
    lua_newtable(L);
    for (const luaL_Reg *f = functions; f->name != NULL; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    return 1;
}
