"""Differential test of the Lua libraries `cmsgpack` and `struct`: the same EVAL scripts
against Redis 7 (Debian's redis-server) and Strata, replies compared exactly (bytes, types,
error texts), in RESP2 and RESP3; bytes packed by one server unpacked by the other; hostile
input that must fail with Redis's error and leave the server running."""
import pytest
import redis

# Numbers: every msgpack integer width and sign, floats exact in float32 or not, the
# non-finite values and int64's edges.
PACK_NUMBERS = [
    "return cmsgpack.pack(0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 2^53)",
    "return cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -2^53)",
    "return cmsgpack.pack(-2^63, 2^63, 2^64, 9007199254740993)",
    "return cmsgpack.pack(1.5, 0.1, -0.0, 0.25, -1e-3, 1e300, 3.4028234663852886e38, 1e-45, 123456.789)",
    "return cmsgpack.pack(1/0, -1/0, 0/0)",
]

# Strings of every length class, booleans, nil and values msgpack has no type for.
PACK_SCALARS = [
    "return cmsgpack.pack('', 'a', string.rep('x', 31), string.rep('x', 32))",
    "return cmsgpack.pack(string.rep('y', 255), string.rep('y', 256))",
    "return cmsgpack.pack(string.rep('z', 65535))",
    "return cmsgpack.pack(string.rep('z', 65536))",
    "return cmsgpack.pack('\\0\\1\\255 binary')",
    "return cmsgpack.pack(true, false, nil)",
    "return cmsgpack.pack(function() end, cjson.null, coroutine.create(function() end))",
    "return cmsgpack.pack(unpack({1, 2, 3}))",
]

# Tables: sequences become arrays, anything else a map (one key, so the order is fixed);
# nesting past 16 levels becomes nil, which also stops cycles.
PACK_TABLES = [
    "return cmsgpack.pack({}, {1, 2, 3}, {a = 1}, {1, 2, nil, 4}, {[1] = 1, [3] = 3})",
    "return cmsgpack.pack({[0] = 1}, {[1.5] = 1}, {['1'] = 1}, {[-1] = 'x'}, {[true] = false})",
    "return cmsgpack.pack({[2^31] = 1}, {[2^31 - 1] = 1}, {[{}] = 1})",
    "return cmsgpack.pack({x = {y = {z = {}}}}, {{}, {{}}, {1, {2, {3}}}})",
    "return cmsgpack.pack({1,{2,{3,{4,{5,{6,{7,{8,{9,{10,{11,{12,{13,{14,{15,{16,{17,{18}}}}}}}}}}}}}}}}}})",
    "return cmsgpack.pack({a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a='deep'}}}}}}}}}}}}}}}}}})",
    "local t = {} t[1] = t return cmsgpack.pack(t)",
    "local t = {} t.self = t return cmsgpack.pack(t)",
    "local t = {} for i = 1, 15 do t[i] = i end return cmsgpack.pack(t)",
    "local t = {} for i = 1, 16 do t[i] = i end return cmsgpack.pack(t)",
    "local t = {} for i = 1, 65536 do t[i] = i % 7 end return cmsgpack.pack(t)",
    "local t = {} for i = 1, 300 do t[i] = {i, tostring(i), i + 0.5, i % 2 == 0} end return cmsgpack.pack(t)",
    "local t = {} for i = 1, 20 do t['k' .. i] = i end return #cmsgpack.pack(t)",
    "local t = {} for i = 1, 70000 do t['k' .. i] = i end return #cmsgpack.pack(t)",
    "return cmsgpack.pack(setmetatable({}, {__index = function() return 1 end}))",
]

ROUND_TRIPS = [
    "return {cmsgpack.unpack(cmsgpack.pack(1, -1, 1.5, 'abc', {1, 2, {3}}, true, false, 2^63, -2^63))}",
    "return {cmsgpack.unpack(cmsgpack.pack(4294967296, 65536, -2147483649, 0.1))}",
    "return cmsgpack.unpack(cmsgpack.pack({a = {b = 'c'}})).a.b",
    "return tostring(cmsgpack.unpack(cmsgpack.pack(1.1)))",
    "return cmsgpack.unpack(cmsgpack.pack(0.1)) == 0.1",
    "return tostring(cmsgpack.unpack(cmsgpack.pack(0/0)))",
    "return tostring(cmsgpack.unpack(cmsgpack.pack(-1/0)))",
    "return cmsgpack.unpack(cmsgpack.pack(string.rep('s', 70000))) == string.rep('s', 70000)",
    "local u = cmsgpack.unpack(cmsgpack.pack({1, nil, 3})) return {#u, u[1], u[3]}",
    "local t = {} for i = 1, 300 do t[i] = {i, tostring(i), i + 0.5} end "
    "local u = cmsgpack.unpack(cmsgpack.pack(t)) return {#u, u[300][1], u[300][2], tostring(u[300][3])}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack('abc', {1}), 4)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 0)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 9)}",
    "return {cmsgpack.unpack_limit('\\1\\2\\3', 1, 3)}",
    "return {cmsgpack.unpack_limit('\\1\\2\\3', 2^40)}",
    "return {cmsgpack.unpack('')}",
    "return {cmsgpack.unpack(12)}",
    "return #{cmsgpack.unpack(string.rep('\\1', 7000))}",
    "local t = {} for i = 1, 7990 do t[i] = 1 end return #cmsgpack.pack(unpack(t))",
    "return cmsgpack._NAME .. ' ' .. cmsgpack._VERSION",
]

# Hand-made bytes: every type tag, including ones Redis's library does not read.
UNPACK_BYTES = [
    "return {cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')}",
    "return {cmsgpack.unpack('\\207\\127\\255\\255\\255\\255\\255\\255\\255')}",
    "return {cmsgpack.unpack('\\210\\255\\255\\255\\255\\209\\128\\0\\208\\128\\211\\128\\0\\0\\0\\0\\0\\0\\0\\224\\255')}",
    "return {cmsgpack.unpack('\\204\\200\\205\\1\\0\\206\\0\\1\\0\\0\\127\\0')}",
    "return {cmsgpack.unpack('\\202\\0\\0\\192\\127', '\\202\\63\\192\\0\\0')}",
    "return {cmsgpack.unpack('\\202\\63\\192\\0\\0\\203\\63\\185\\153\\153\\153\\153\\153\\154')}",
    "return {cmsgpack.unpack('\\217\\3abc\\218\\0\\2de\\219\\0\\0\\0\\1f\\163ghi')}",
    "return {cmsgpack.unpack('\\192\\194\\195')}",
    "return {cmsgpack.unpack('\\147\\1\\2\\3\\220\\0\\1\\4\\221\\0\\0\\0\\1\\5')}",
    "local m = cmsgpack.unpack('\\130\\161a\\1\\161b\\146\\2\\3') return {m.a, m.b[1], m.b[2]}",
    "local m = cmsgpack.unpack('\\222\\0\\1\\1\\2\\223\\0\\0\\0\\0') return m[1]",
    "return {cmsgpack.unpack('\\196\\1a')}",
    "return {cmsgpack.unpack('\\199\\1\\1a')}",
    "return {cmsgpack.unpack('\\212\\1\\1')}",
    "return {cmsgpack.unpack('\\193')}",
    "return {cmsgpack.unpack('\\1\\193')}",
]

# Bad input: each must fail with Redis's error text.
UNPACK_ERRORS = [
    "return {cmsgpack.unpack('\\145')}",
    "return {cmsgpack.unpack('\\161')}",
    "return {cmsgpack.unpack('\\206\\1\\2')}",
    "return {cmsgpack.unpack('\\217\\5abc')}",
    "return {cmsgpack.unpack('\\219\\255\\255\\255\\255abc')}",
    "return {cmsgpack.unpack('\\221\\255\\255\\255\\255')}",
    "return {cmsgpack.unpack('\\223\\255\\255\\255\\255')}",
    "return {cmsgpack.unpack('\\222\\0\\2\\1')}",
    "return {cmsgpack.unpack(string.rep('\\145', 10000))}",
    "return {cmsgpack.unpack(string.rep('\\129', 10000))}",
    "return {cmsgpack.unpack(string.rep('\\220\\255\\255', 5000))}",
    "return {cmsgpack.unpack(string.rep('\\222\\255\\255', 5000))}",
    "return {cmsgpack.unpack(string.rep('\\145\\129', 5000))}",
    "return {cmsgpack.unpack(string.rep('\\1', 9000))}",
    "return {cmsgpack.unpack()}",
    "return {cmsgpack.unpack({})}",
    "return {cmsgpack.unpack_one()}",
    "return {cmsgpack.unpack_one('a', 'x')}",
    "return {cmsgpack.unpack_one('a', 5)}",
    "return {cmsgpack.unpack_one('\\1\\2\\3', -1)}",
    "return {cmsgpack.unpack_limit()}",
    "return {cmsgpack.unpack_limit('a')}",
    "return {cmsgpack.unpack_limit('a', -1)}",
    "return {cmsgpack.unpack_limit('\\1\\2\\3', 1, 4)}",
    "return {cmsgpack.unpack_limit('\\1\\2\\3', 1, 2^33)}",
    "return cmsgpack.pack()",
    "local t = {} for i = 1, 8010 do t[i] = 1 end return #cmsgpack.pack(unpack(t))",
    "return {pcall(cmsgpack.unpack, '\\193')}",
]

STRUCT = [
    "return struct.pack('bBhHlLTiI', -1, 255, -2, 65535, -3, 4, 5, -6, 7)",
    "return struct.pack('>bBhHlLTiI', -1, 255, -2, 65535, -3, 4, 5, -6, 7)",
    "return struct.pack('<i1i2i3i5i8i16I32', 1, 2, 3, 4, 5, -6, 7)",
    "return struct.pack('>i1i2i3i5i8i16I32', 1, 2, 3, 4, 5, -6, 7)",
    "return struct.pack('<b>h<h', 1, 2, 3)",
    "return struct.pack('bBhH', 300, -1, 70000, -70000)",
    "return struct.pack('i', '12')",
    "return struct.pack('i0', 5)",
    "return struct.pack('<L<l<I8', 1e20, -1e20, 2^63)",
    "return struct.pack('<L<L<L<l<l', 0/0, 1/0, 2^64, -1/0, 0/0)",
    "return struct.pack('<i16<I16', -1, 2^63 + 4096)",
    "return struct.pack('fd', 1.5, 0.1)",
    "return struct.pack('>fd', 1.5, 0.1)",
    "return struct.pack('f f d', 1e300, -1/0, 0/0)",
    "return struct.pack('c', 'abc')",
    "return struct.pack('c3', 'abcdef')",
    "return struct.pack('c0', 'abcdef')",
    "return struct.pack('c0c0', '', 'x')",
    "return struct.pack('s', 'ab\\0c')",
    "return struct.pack('ss', '', 'x')",
    "return struct.pack('x b x', 1)",
    "return struct.pack('!4 b i', 1, 2)",
    "return struct.pack('! b d', 1, 2)",
    "return struct.pack('!2 b d b h', 1, 2, 3, 4)",
    "return struct.pack('!8 b i3 b i8 b c3 b s b f', 1, 2, 3, 4, 5, 'abc', 6, 'z', 7, 8)",
    "return struct.pack('!1073741824 b i8', 1, 2)",
    "return struct.pack(string.rep('c', 3000), unpack((function() local t = {} for i = 1, 3000 do t[i] = 'a' end "
    "return t end)()))",
    "return #struct.pack('c9000i', string.rep('a', 9000), 1)",
    "return {struct.unpack('bBhHlLTiI', struct.pack('bBhHlLTiI', -1, 255, -2, 65535, -3, 4, 5, -6, 7))}",
    "return {struct.unpack('>bBhHlLTiI', struct.pack('>bBhHlLTiI', -1, 255, -2, 65535, -3, 4, 5, -6, 7))}",
    "return {struct.unpack('>i3I3', '\\255\\255\\254\\255\\255\\254')}",
    "return {struct.unpack('<i3I3', '\\255\\255\\254\\255\\255\\254')}",
    "return {struct.unpack('>i9', string.rep('\\255', 9))}",
    "return {struct.unpack('<i9', string.rep('\\1', 9))}",
    "return {struct.unpack('>i16', string.rep('\\1', 16))}",
    "return {struct.unpack('>I16', string.rep('\\255', 16))}",
    "return {struct.unpack('<i32', string.rep('\\128', 32))}",
    "return {struct.unpack('>i12', string.rep('\\128', 12))}",
    "return {struct.unpack('i0I0', '')}",
    "return {struct.unpack('c2c0', 'ab3xyzw', 1)}",
    "return {struct.unpack('bc0', '\\3xyzw')}",
    "return {struct.unpack('bc0', '\\0xyzw')}",
    "return {struct.unpack('s s', 'ab\\0cd\\0')}",
    "return {struct.unpack('s', '\\0')}",
    "local f, d = struct.unpack('fd', struct.pack('fd', 1.5, 0.1)) return {tostring(f), tostring(d)}",
    "local f = struct.unpack('>f', '\\127\\128\\0\\0') return tostring(f)",
    "return {struct.unpack('!4 b i', struct.pack('!4 b i', 1, 2))}",
    "return {struct.unpack('!8 b d', struct.pack('!8 b d', 1, 2))}",
    "return {struct.unpack('b', 'abc', 2)}",
    "return {struct.unpack('x b', 'abc', 2)}",
    "return {struct.unpack('', 'abc', 10)}",
    "return {struct.unpack('', 'abc', -5)}",
    "return {struct.unpack('!8 i8', '12345678', -1)}",
    "return {struct.unpack(string.rep('b', 9000), string.rep('a', 9000))}",
    "return struct.size('bBhHlLTiIfdxc5')",
    "return struct.size('!8 b d')",
    "return struct.size('!4 b i2 b i8 b d')",
    "return struct.size('>< i7')",
    "return struct.size('i3i')",
    "return struct.size('yz')",
    "return struct.size(' ')",
    "return struct.size('')",
]

STRUCT_ERRORS = [
    "return struct.pack('i')",
    "return struct.pack('i', 'x')",
    "return struct.pack('c', 1)",
    "return struct.pack('c', {})",
    "return struct.pack()",
    "return struct.pack({})",
    "return struct.pack('!')",
    "return struct.pack('!0')",
    "return struct.pack('!3')",
    "return struct.pack('c99999999999')",
    "return struct.pack('c99999999999', 'a')",
    "return struct.pack('c999999999', 'a')",
    "return struct.pack('c5', 'ab')",
    "return struct.pack('i33', 1)",
    "return struct.pack('y')",
    "return struct.pack('b?', 1)",
    "return {struct.unpack('b', 'a', 0)}",
    "return {struct.unpack('b', 'a', -1)}",
    "return {struct.unpack('b', 'a', 'x')}",
    "return {struct.unpack('b', 'abc', 4)}",
    "return {struct.unpack('c0', '3')}",
    "return {struct.unpack('c0', '3', 1)}",
    "return {struct.unpack('c0', '')}",
    "return {struct.unpack('bc0', '\\255abc')}",
    "return {struct.unpack('z', 'abc')}",
    "return {struct.unpack('c99999999999', 'abc')}",
    "return {struct.unpack('c999999999', 'abc')}",
    "return {struct.unpack('s', 'ab')}",
    "return {struct.unpack('i', 'ab')}",
    "return {struct.unpack('d', 'abcdefg')}",
    "return {struct.unpack()}",
    "return {struct.unpack('b')}",
    "return struct.size('s')",
    "return struct.size('c0')",
    "return struct.size('?')",
    "return struct.size('!3')",
    "return struct.size()",
    "return struct.size('c99999999999')",
    "return struct.size('i40')",
    "return {pcall(struct.pack, 'z')}",
]

# The libraries are read-only globals, as in Redis 7.0.
SANDBOX = [
    "cmsgpack.pack = nil",
    "struct.foo = 1",
    "cmsgpack = nil",
    "struct = {}",
    "return type(struct) .. type(cmsgpack) .. type(struct.size) .. type(cmsgpack.unpack_limit)",
    "return {pcall(function() cmsgpack.unpack = 1 end)}",
]

CORPUS = PACK_NUMBERS + PACK_SCALARS + PACK_TABLES + ROUND_TRIPS + UNPACK_BYTES + UNPACK_ERRORS + STRUCT
CORPUS += STRUCT_ERRORS + SANDBOX

# A few of each kind again in RESP3 (numbers, nested arrays, errors).
RESP3_CORPUS = [PACK_NUMBERS[0], PACK_TABLES[3], ROUND_TRIPS[0], ROUND_TRIPS[9], UNPACK_BYTES[2], UNPACK_ERRORS[0],
                STRUCT[0], STRUCT[28], STRUCT[44], STRUCT_ERRORS[9], SANDBOX[0]]


def raw_client(server, **kwargs):
    client = server.client(**kwargs)
    client.response_callbacks.clear()
    return client


def run(client, script, *args):
    try:
        return ("ok", client.eval(script, 0, *args))
    except redis.ResponseError as e:
        return ("error", str(e))


def mismatches(theirs, ours, scripts):
    found = []
    for script in scripts:
        expected = run(theirs, script)
        actual = run(ours, script)
        if expected != actual:
            found.append(f"{script!r}:\n  redis={expected!r}\n  strata={actual!r}")
    return found


@pytest.mark.parametrize("protocol", [2, 3])
def test_scripts_match_redis_7(server, redis_server, protocol):
    scripts = CORPUS if protocol == 2 else RESP3_CORPUS
    found = mismatches(raw_client(redis_server, protocol=protocol), raw_client(server, protocol=protocol), scripts)
    assert not found, "\n".join(found)


def test_corpus_has_errors_and_values(redis_server):
    """The corpus exercises both outcomes (a guard against a corpus that only errors)."""
    theirs = raw_client(redis_server)
    outcomes = [run(theirs, script)[0] for script in CORPUS]
    assert outcomes.count("ok") > 100
    assert outcomes.count("error") > 60


PACKED_VALUES = [
    "1, -1, 1.5, 0.1, 'abc', string.rep('x', 40), true, false, nil, 2^40, -2^40",
    "{1, 2, {3, {4}}}, {a = 'b'}, {}, string.rep('y', 300), 2^63, -2^63",
]


@pytest.mark.parametrize("values", PACKED_VALUES)
def test_bytes_packed_by_one_server_unpack_alike_on_the_other(server, redis_server, values):
    theirs = raw_client(redis_server)
    ours = raw_client(server)
    pack = f"return cmsgpack.pack({values})"
    from_redis = theirs.eval(pack, 0)
    from_strata = ours.eval(pack, 0)
    assert from_redis == from_strata
    unpack = "local v = {cmsgpack.unpack(ARGV[1])} return {#v, cmsgpack.pack(unpack(v))}"
    assert run(ours, unpack, from_redis) == run(theirs, unpack, from_redis)
    assert run(theirs, unpack, from_strata) == run(ours, unpack, from_strata)


def test_packed_values_stored_by_scripts_match(server, redis_server):
    script = (
        "redis.call('set', 'packed', cmsgpack.pack({id = 7, data = {1, 2, 'three'}}, 'job'))"
        " redis.call('set', 'struct', struct.pack('>I4c0d', 42, 'name', 2.5))"
        " local id, name, number = struct.unpack('>I4c4d', redis.call('get', 'struct'))"
        " redis.call('hset', 'h', 'id', id, 'name', name, 'number', number)"
        " return cmsgpack.unpack(redis.call('get', 'packed')).data[3]"
    )
    theirs = raw_client(redis_server)
    ours = raw_client(server)
    assert run(ours, script) == run(theirs, script)
    for command in (["GET", "packed"], ["GET", "struct"], ["HGETALL", "h"]):
        assert ours.execute_command(*command) == theirs.execute_command(*command)


def test_functions_see_the_libraries(server, redis_server):
    library = (
        "#!lua name=packing\n"
        "redis.register_function('pack', function(keys, args) return cmsgpack.pack(args[1], tonumber(args[2])) end)\n"
        "redis.register_function('size', function(keys, args) return struct.size(args[1]) end)\n"
    )
    for client in (raw_client(redis_server), raw_client(server)):
        client.execute_command("FUNCTION", "LOAD", library)
    theirs = raw_client(redis_server)
    ours = raw_client(server)
    for call in (["pack", 0, "abc", "300"], ["size", 0, "!8bd"], ["size", 0, "s"]):
        expected = run_function(theirs, call)
        assert run_function(ours, call) == expected


def run_function(client, call):
    try:
        return ("ok", client.execute_command("FCALL", *call))
    except redis.ResponseError as e:
        return ("error", str(e))


def test_hostile_input_leaves_the_server_running(server):
    ours = raw_client(server)
    hostile = [
        "return {cmsgpack.unpack(string.rep('\\221\\255\\255\\255\\255', 2000))}",
        "return {cmsgpack.unpack(string.rep('\\145', 100000))}",
        "return {cmsgpack.unpack(string.rep('\\223\\127\\255\\255\\255', 3000))}",
        "local s = '' for i = 1, 200 do s = s .. string.char(math.random(0, 255)) end "
        "return {pcall(cmsgpack.unpack, s)}",
        "return struct.pack('c2147483647', 'a')",
        "return struct.pack('c2147483648', 'a')",
        "return {struct.unpack('c2147483647', 'a')}",
        "return {struct.unpack('bc0', '\\127abc')}",
        "return {struct.unpack('!1073741824 i32', string.rep('a', 40), 9)}",
        "return struct.pack(string.rep('i32', 100), unpack((function() local t = {} for i = 1, 100 do t[i] = -i end "
        "return t end)()))",
    ]
    for script in hostile:
        run(ours, script)
        assert ours.ping()
    # Random bytes, seeded for repeatability: every outcome is a reply, never a crash.
    for seed in range(50):
        run(ours, f"math.randomseed({seed}) local t = {{}} for i = 1, 64 do t[i] = string.char(math.random(0, 255)) end"
                  " return {pcall(cmsgpack.unpack, table.concat(t))}")
    assert ours.ping()
