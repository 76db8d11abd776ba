"""Tools/strata.conf, the sample configuration for Tools/strata.service: it names every
parameter `CONFIG GET *` lists, each with its default; the server starts from it; and with
every default uncommented it still starts and reports those same values."""
import os
import re
import subprocess

import pytest

from conftest import ROOT, SERVER, Server

SAMPLE = os.path.join(ROOT, "Tools", "strata.conf")
# Left commented in the uncommented copy: where the server listens and what it follows.
KEEP_COMMENTED = {"port", "bind", "dir", "replicaof", "slaveof", "supervised", "daemonize", "logfile", "pidfile"}


def sample_lines():
    with open(SAMPLE) as f:
        return f.read().splitlines()


def parameters(server):
    return server.client().config_get("*")


def test_the_sample_names_every_parameter_with_its_default(start_server):
    server = start_server("--save", "")
    lines = sample_lines()
    named = {}
    for line in lines:
        match = re.match(r"^(?:# )?([a-z][a-z0-9_-]*) (.*)$", line)
        if match:
            named.setdefault(match.group(1), match.group(2))
    live = parameters(server)
    missing = sorted(set(live) - set(named))
    assert not missing, f"not in Tools/strata.conf: {missing}"
    assert named["maxmemory-policy"] == "noeviction" and named["appendfsync"] == "everysec"
    assert "supervised systemd" in lines and "dir /var/lib/strata" in lines


def start(config, workdir):
    workdir.mkdir()
    return Server(SERVER, [config, "--bind", "127.0.0.1", "--supervised", "no"], str(workdir))


def test_the_server_starts_from_the_sample_and_from_every_default_uncommented(tmp_path):
    server = start(SAMPLE, tmp_path / "sample")
    try:
        defaults = parameters(server)
        assert defaults["maxmemory"] == "0" and defaults["save"] == "3600 1 300 100 60 10000"
    finally:
        server.stop()
    copy = tmp_path / "all.conf"
    out = []
    for line in sample_lines():
        match = re.match(r"^# ([a-z][a-z0-9_-]*) (.*)$", line)
        if match and match.group(1) in defaults and match.group(1) not in KEEP_COMMENTED:
            out.append(f"{match.group(1)} {match.group(2)}")
        elif not re.match(r"^(dir|supervised|bind|logfile) ", line):
            out.append(line)
    copy.write_text("\n".join(out) + "\n")
    server = start(str(copy), tmp_path / "all")
    try:
        live = parameters(server)
        changed = {name: (defaults[name], live[name]) for name in defaults
                   if name not in KEEP_COMMENTED and live.get(name) != defaults[name]}
        assert not changed
    finally:
        server.stop()
