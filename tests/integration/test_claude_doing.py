"""What a session is doing, with the real Claude Code CLI: the Bash command while it
runs, the reply's last line once the turn ended (issue 12 §12)."""

from __future__ import annotations

from typing import Any

from conftest import PodiumEnv


def _doing(env: PodiumEnv, name: str) -> dict[str, Any] | None:
    return env.session(name)["doing"]


def test_doing_shows_the_running_command_then_the_last_line(claude_podium: PodiumEnv):
    env = claude_podium
    env.json("new", "--agent", "claude", "--name", "busy", "--cwd", str(env.workdir))
    env.wait_state("busy", "idle", seconds=60)
    assert _doing(env, "busy") is None  # nothing asked, nothing said
    # A command that runs until the test lets it end: the test waits on it, not a clock.
    release = env.workdir / "release"
    command = "while [ ! -e release ]; do sleep 0.1; done"
    env.run("send", "busy", f"RUN_BASH {command}", check=True)
    running = {"kind": "tool", "text": f"Bash: {command}"}
    assert env.wait_for(lambda: _doing(env, "busy") == running, 60), _doing(env, "busy")
    assert env.session("busy")["state"] == "busy"
    release.touch()
    env.wait_state("busy", "waiting", seconds=60)
    done = {"kind": "said", "text": "Done: 1 tool result(s), 0 error(s)."}
    assert env.wait_for(lambda: _doing(env, "busy") == done, 10), _doing(env, "busy")

    # A reply of several lines, with escape sequences in it (a model can be made to
    # write them): its last line with words, cleaned.
    reply = r"Checked.\n\n\e]0;pwned\e\All \e[31m3\e[0m tests pass.\n```\n"
    env.run("send", "busy", f"REPLY {reply}", check=True)
    said = {"kind": "said", "text": "All 3 tests pass."}
    assert env.wait_for(lambda: _doing(env, "busy") == said, 60), _doing(env, "busy")
    stop = [x for x in env.spool_lines() if x["event"] == "Stop"][-1]["payload"]
    assert "\x1b[31m" in stop["last_assistant_message"]  # the hook did carry them
