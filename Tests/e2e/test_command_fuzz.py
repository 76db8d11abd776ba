"""A short run of the differential command fuzzer (Tools/command_fuzz.py) in every `make
test`: commands generated from Strata's own COMMAND DOCS and from mutations of valid ones,
with boundary numbers and strings, run on Strata and redis-server 7.0 side by side, direct
and through EVAL. It fails when Strata stops answering or exits, when a reply's type or
error class differs from Redis's, or when the keyspace differs afterwards, except for the
differences kept on purpose (Tools/command_fuzz.py KNOWN, explained in docs/DECISIONS.md).
Longer campaigns: `Tools/command_fuzz.py --seconds 1800 --seed 1 --seed 2 ...`."""
import os
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "Tools"))
import command_fuzz  # noqa: E402

COMMANDS_PER_SEED = int(os.environ.get("STRATA_FUZZ_COMMANDS", "2000"))


@pytest.mark.parametrize("seed", [101, 202])
def test_no_command_crashes_or_diverges_from_redis(server, redis_server, seed):
    campaign = command_fuzz.Campaign(server.port, redis_server.port, seed, lambda: server.proc.poll() is None)
    try:
        report = campaign.run(commands=COMMANDS_PER_SEED)
    except command_fuzz.Finding as finding:
        pytest.fail(f"{finding}\n--- server log ---\n{server.output()[-3000:]}")
    # The campaign reached most of the command table, not a few commands over and over.
    assert report["distinct_covered"] >= 0.8 * report["served"], report["not_covered"]
    assert report["divergences"] == [], "\n".join(
        f"{d['command']} ({d['kind']}, {d['count']}x): {d['sample']}" for d in report["divergences"])
