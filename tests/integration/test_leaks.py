"""Tests leave nothing behind: tmux sockets in the worker's own dir, no shell history.

tmux leaves its socket file when its server exits, and a shell killed with its server
saves its history: runs of the suite left thousands of sockets in /tmp/tmux-<uid>/
and the tests' commands in ~/.bash_history. `private_tmp` (tests/conftest.py) and
the shell of `podium_env` keep both out; these tests keep them honest.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import PodiumEnv


def test_podium_tmux_socket_is_in_the_workers_own_dir(engine: PodiumEnv, private_tmp: Path):
    engine.json("new", "--agent", "shell", "--name", "sh")
    socket = engine.tmux("display-message", "-p", "#{socket_path}").stdout.strip()
    assert Path(socket).parent == private_tmp / f"tmux-{os.getuid()}"
    # The test's own tmux commands reach the same server.
    assert engine.tmux("has-session").returncode == 0


def test_a_shell_session_keeps_no_history_file(engine: PodiumEnv):
    rec = engine.json("new", "--agent", "shell", "--name", "sh")
    engine.wait_state("sh", "idle", seconds=20)
    engine.run("send", "sh", 'echo "history file: [$HISTFILE]"', check=True)
    assert engine.wait_for(lambda: "history file: []" in engine.screen(rec["pane_id"]), 10)


def test_programs_tests_start_get_the_private_temp_dir(private_tmp: Path):
    out = subprocess.run(
        ["sh", "-c", 'echo "$TMPDIR $TMUX_TMPDIR"'], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == [str(private_tmp / "tmp"), str(private_tmp)]
