"""The real Claude Code CLI inside podium sessions, against the loopback Messages API.

These are the tests that prove podium's Claude integration: the hooks podium's
`--settings` file adds reach the spool through `podium hook`, and the engine
turns them into states.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import PodiumEnv
from libtmux.test.retry import retry_until

from sessions.claude_settings import write_settings_file


def _claude(env: PodiumEnv, name: str, *flags: str, prompt: str | None = None) -> dict:
    args = ["new", "--agent", "claude", "--name", name, "--cwd", str(env.workdir)]
    if flags:
        args += ["--cmd", " ".join([env.env["PODIUM_CLAUDE_BIN"], *flags])]
    if prompt is not None:
        args += ["--prompt", prompt]
    return env.json(*args)


def test_prompt_takes_the_session_busy_then_waiting(claude_podium: PodiumEnv):
    rec = _claude(claude_podium, "c1")
    claude_podium.wait_state("c1", "idle", seconds=60)  # SessionStart arrived
    # Long enough that a loaded machine still sees the turn run (the hooks are read
    # from the spool, and each `podium ls` of wait_state is a process).
    claude_podium.run("send", "c1", "SLOW 6", check=True)
    claude_podium.wait_state("c1", "busy", seconds=30)
    done = claude_podium.wait_state("c1", "waiting", seconds=60)
    assert done["claude_session_id"]
    events = [x["event"] for x in claude_podium.spool_lines() if x["podium_session"] == rec["id"]]
    assert events[:1] == ["SessionStart"]
    assert events.index("UserPromptSubmit") < events.index("Stop")
    assert "Hello from the fake API" in claude_podium.screen(rec["pane_id"])
    # The transcript Claude Code wrote is the one podium learned about.
    lines = Path(done["transcript_path"]).read_text().splitlines()
    assert any(json.loads(x).get("sessionId") == done["claude_session_id"] for x in lines)


def test_real_permission_dialog_shows_permission(claude_podium: PodiumEnv):
    target = claude_podium.workdir / "made-by-claude.txt"
    rec = _claude(
        claude_podium, "perm", "--permission-mode", "default", prompt=f"WRITE_FILE {target}"
    )
    claude_podium.wait_state("perm", "permission", seconds=60)
    retry_until(lambda: "Do you want to" in claude_podium.screen(rec["pane_id"]), 30)
    assert not target.exists()
    claude_podium.run("send", "perm", "1", "--no-enter", check=True)
    claude_podium.wait_state("perm", "waiting", seconds=60)
    assert target.exists()


def test_session_end_when_claude_exits(claude_podium: PodiumEnv):
    _claude(claude_podium, "bye")
    claude_podium.wait_state("bye", "idle", seconds=60)
    claude_podium.run("send", "bye", "/exit", check=True)
    rec = claude_podium.wait_state("bye", "exited", seconds=60)
    assert rec["state"] == "exited"


def test_headless_run_with_podium_hooks(claude_podium: PodiumEnv):
    settings = write_settings_file(claude_podium.data / "agent-settings", "headless", 10)
    proc = subprocess.run(
        [
            claude_podium.env["PODIUM_CLAUDE_BIN"],
            "-p",
            "say hello",
            "--settings",
            str(settings),
            "--output-format",
            "stream-json",
            "--verbose",
        ],
        env=claude_podium.env,
        cwd=claude_podium.workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
    result = lines[-1]
    assert result["type"] == "result" and result["is_error"] is False
    assert result["result"] == "Hello from the fake API."
    events = {x["event"] for x in claude_podium.spool_lines()}
    assert {"SessionStart", "UserPromptSubmit", "Stop"} <= events
