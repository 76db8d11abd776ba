#!/usr/bin/env python3
"""Generate Sources/StrataEngine/CommandMetadata+Redis70.swift from a running redis-server.

Clients and cluster routers read `COMMAND INFO` (flags, legacy key range, ACL categories,
tips, key specs) to route and classify commands. That metadata is Redis's published
interface, so Strata reproduces it from the reference server instead of retyping it: this
script asks a redis-server 7.0.x for `COMMAND` (every command with its subcommands, RESP2),
and writes one Swift `add(...)` statement per command and subcommand, keyed by the full
lowercase name (`client|list`). Commands Strata does not implement yet are included, so a
command added later picks its metadata up by name.

Usage (the reference server must be Redis 7.0.15, the version Strata follows):

    redis-server --port 7790 --save '' --daemonize no &
    python3 Tools/generate-command-metadata.py --port 7790

The script then runs `swift format format -i` on the file (the repository's lint settings)
when `swift` is on PATH. The output is deterministic (sorted by name), so regenerating from
the same server leaves the file unchanged, and a new server version shows up as a diff.
Only the standard library is used.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys

OUTPUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "StrataEngine", "CommandMetadata+Redis70.swift"
)


def request(sock_file, sock, *args):
    """Send one command in RESP2 and read its reply."""
    out = b"*%d\r\n" % len(args)
    for arg in args:
        data = arg.encode()
        out += b"$%d\r\n%s\r\n" % (len(data), data)
    sock.sendall(out)
    return read_reply(sock_file)


def read_reply(sock_file):
    """Read one RESP2 reply: strings come back as str, errors raise."""
    line = sock_file.readline()
    if not line.endswith(b"\r\n"):
        raise ValueError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        length = int(rest)
        if length < 0:
            return None
        return sock_file.read(length + 2)[:-2].decode()
    if kind == b"*":
        length = int(rest)
        if length < 0:
            return None
        return [read_reply(sock_file) for _ in range(length)]
    raise ValueError("unexpected reply type %r" % kind)


def pairs(flat):
    """A RESP2 map (flat key, value list) as a dict, keeping order."""
    return dict(zip(flat[0::2], flat[1::2]))


def swift_string(text):
    """A Swift string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"%s"' % escaped


def begin_search(spec):
    kind, detail = spec["type"], pairs(spec["spec"])
    if kind == "index":
        return ".index(%d)" % detail["index"]
    if kind == "keyword":
        return ".keyword(%s, startFrom: %d)" % (swift_string(detail["keyword"]), detail["startfrom"])
    if kind == "unknown":
        return ".unknown"
    raise ValueError("unknown begin_search type %r" % kind)


def find_keys(spec):
    kind, detail = spec["type"], pairs(spec["spec"])
    if kind == "range":
        return ".range(lastKey: %d, keyStep: %d, limit: %d)" % (detail["lastkey"], detail["keystep"], detail["limit"])
    if kind == "keynum":
        return ".keyNumber(index: %d, firstKey: %d, keyStep: %d)" % (
            detail["keynumidx"],
            detail["firstkey"],
            detail["keystep"],
        )
    if kind == "unknown":
        return ".unknown"
    raise ValueError("unknown find_keys type %r" % kind)


def key_spec(flat):
    spec = pairs(flat)
    notes = spec.get("notes")
    text = "KeySpec(%s, %s, %s" % (
        swift_string(" ".join(spec["flags"])),
        begin_search(pairs(spec["begin_search"])),
        find_keys(pairs(spec["find_keys"])),
    )
    if notes is not None:
        text += ", notes: %s" % swift_string(notes)
    return text + ")"


def statement(command):
    name, arity, flags, first, last, step, categories, tips, specs = command[:9]
    lines = [
        "        table.add(",
        "            %s, arity: %d, flags: %s, legacyKeys: (%d, %d, %d)," % (
            swift_string(name), arity, swift_string(" ".join(flags)), first, last, step
        ),
        "            categories: %s, tips: %s," % (swift_string(" ".join(categories)), swift_string(" ".join(tips))),
    ]
    if specs:
        lines.append("            keySpecs: [")
        for spec in specs:
            lines.append("                %s," % key_spec(spec))
        lines.append("            ])")
    else:
        lines.append("            keySpecs: [])")
    return "\n".join(lines)


def flatten(commands):
    for command in commands:
        yield command
        yield from flatten(command[9] or [])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--output", default=OUTPUT)
    options = parser.parse_args()

    sock = socket.create_connection((options.host, options.port))
    sock_file = sock.makefile("rb")
    info = pairs(
        [
            part
            for line in request(sock_file, sock, "INFO", "server").splitlines()
            if ":" in line
            for part in line.split(":", 1)
        ]
    )
    version = info.get("redis_version", "?")
    if not version.startswith("7.0."):
        sys.exit("expected a redis-server 7.0.x, found %s" % version)
    commands = sorted(flatten(request(sock_file, sock, "COMMAND")), key=lambda command: command[0])

    header = [
        "//! Redis %s's command metadata as `COMMAND INFO` reports it, for every command and" % version,
        "//! subcommand (implemented by Strata or not): generated by",
        "//! `Tools/generate-command-metadata.py` from the reference server. Do not edit by hand;",
        "//! regenerate instead. One statement per command keeps the compiler's type checking cheap.",
        "",
        "extension CommandMetadata {",
        "    /// Builds the table of every command of Redis 7.0, by full lowercase name.",
        "    static func redis70() -> [String: CommandMetadata] {",
        "        var table = Table()",
    ]
    body = [statement(command) for command in commands]
    footer = ["        return table.entries", "    }", "}", ""]
    with open(options.output, "w") as out:
        out.write("\n".join(header + body + footer))
    if shutil.which("swift"):
        subprocess.run(["swift", "format", "format", "-i", options.output], check=True)
    else:
        print("swift not found: run `swift format format -i` on the output before committing")
    print("wrote %d commands to %s" % (len(commands), options.output))


if __name__ == "__main__":
    main()
