"""redis-cli's interactive hints come from COMMAND DOCS: drive redis-cli in tmux, type a
command, and read the hint it shows."""
import os
import shutil
import subprocess

import pytest

from conftest import wait_until


def test_redis_cli_shows_argument_hints_from_command_docs(server):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is required to drive redis-cli interactively (apt-get install tmux)")
    session = f"strata-hints-{os.getpid()}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "10",
                    f"redis-cli -p {server.port}"], check=True)

    def screen_with(text):
        """The pane's contents when they include `text`, else None."""
        screen = subprocess.run(["tmux", "capture-pane", "-t", session, "-p"], capture_output=True, text=True,
                                check=True).stdout
        return screen if text in screen else None

    try:
        # redis-cli shows its prompt once connected (and its help loaded): only then type.
        wait_until(lambda: screen_with(f"127.0.0.1:{server.port}>"), message="redis-cli's prompt", interval=0.05)
        subprocess.run(["tmux", "send-keys", "-t", session, "SET mykey "], check=True)
        shown = wait_until(lambda: screen_with("[NX|XX]"), message="redis-cli's hint", interval=0.05)
        assert "SET mykey value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|" \
               "PXAT unix-time-milliseconds|KEEPTTL]" in shown, shown
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
