"""redis-cli's interactive hints come from COMMAND DOCS: drive redis-cli in tmux, type a
command, and read the hint it shows."""
import os
import shutil
import subprocess
import time

import pytest


def test_redis_cli_shows_argument_hints_from_command_docs(server):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is required to drive redis-cli interactively (apt-get install tmux)")
    session = f"strata-hints-{os.getpid()}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "10",
                    f"redis-cli -p {server.port}"], check=True)
    try:
        time.sleep(1)
        subprocess.run(["tmux", "send-keys", "-t", session, "SET mykey "], check=True)
        screen = ""
        for _ in range(50):
            time.sleep(0.1)
            screen = subprocess.run(["tmux", "capture-pane", "-t", session, "-p"], capture_output=True,
                                    text=True, check=True).stdout
            if "[NX|XX]" in screen:
                break
        assert "SET mykey value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|" \
               "PXAT unix-time-milliseconds|KEEPTTL]" in screen, screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
