"""Stable session numbers, resume in place, and kill taking every pane (issue 12 §9, §10).

A session's number (Alt-N, its border, `podium ls`) is its own for its whole life;
`podium resume` starts a dead session again in its own pane, where it stood; a Claude
session that was never prompted has nothing to resume and says so; `podium kill`
leaves no pane of the session behind.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import PodiumEnv
from libtmux.test.retry import retry_until

QUICK = "[nopermission] answer at once"


def _new(env: PodiumEnv, name: str, *args: str) -> dict[str, Any]:
    return env.json("new", "--name", name, *args)


def _numbers(env: PodiumEnv) -> dict[str, int]:
    return {s["name"]: s["number"] for s in env.json("ls")}


def _title(env: PodiumEnv, pane: str) -> str:
    return env.tmux("show-options", "-pqv", "-t", pane, "@podium_title").stdout.strip()


def _key(env: PodiumEnv, n: int) -> str:
    """What Alt-n runs in podium's tmux."""
    return env.tmux("list-keys", "-T", "root", f"M-{n}").stdout


def _panes_tagged(env: PodiumEnv, session_id: str) -> list[str]:
    fmt = "#{pane_id} #{@podium_session}"
    lines = env.tmux("list-panes", "-a", "-F", fmt).stdout.split("\n")
    return [line.split(" ")[0] for line in lines if line.endswith(f" {session_id}")]


def _dead(env: PodiumEnv, pane: str) -> bool:
    out = env.tmux("display-message", "-p", "-t", pane, "#{pane_dead}").stdout.strip()
    return out == "1"


def test_killing_a_session_never_renumbers_the_others(engine: PodiumEnv) -> None:
    env = engine
    panes = {name: _new(env, name, "--agent", "shell")["pane_id"] for name in ("a", "b", "c")}
    assert retry_until(lambda: f"show {panes['c']}" in _key(env, 3), 10, raises=False)
    assert _title(env, panes["c"]).startswith("3 c ")

    env.run("kill", "b", check=True)
    # c is still 3 everywhere: its border, its key, `podium ls`; 2 is free.
    assert retry_until(lambda: "podium: no session 2" in _key(env, 2), 10, raises=False)
    assert f"show {panes['c']}" in _key(env, 3)
    assert _title(env, panes["c"]).startswith("3 c ")
    assert _numbers(env) == {"a": 1, "c": 3}
    listing = env.run("ls").stdout.splitlines()
    assert listing[0].startswith("#") and any(line.startswith("3  c ") for line in listing)

    # A new session takes the lowest free number; an engine restart keeps them all.
    _new(env, "d", "--agent", "shell")
    assert _numbers(env) == {"a": 1, "c": 3, "d": 2}
    env.run("engine", "stop", check=True)
    assert _numbers(env) == {"a": 1, "c": 3, "d": 2}
    env.run("kill", "a", check=True)
    _new(env, "e", "--agent", "shell")
    _new(env, "f", "--agent", "shell")
    assert _numbers(env) == {"c": 3, "d": 2, "e": 1, "f": 4}


@pytest.fixture
def staged(engine: PodiumEnv) -> PodiumEnv:
    """An engine with a stage whose tower is a plain long-lived program."""
    engine.env["PODIUM_TOWER_CMD"] = "sleep 600"
    # `podium up` makes the stage its terminal's size, from these first: 200 columns
    # hold two sessions (pytest-xdist's workers have COLUMNS=80, room for one).
    engine.env.update(COLUMNS="200", LINES="50")
    return engine


def test_resume_starts_the_dead_pane_again_in_its_place(staged: PodiumEnv) -> None:
    env = staged
    window = env.json("up", "--no-attach")["window_id"]
    first = _new(env, "a", "--agent", "sim", "--prompt", QUICK)
    _new(env, "b", "--agent", "sim", "--prompt", QUICK)
    env.wait_state("a", "waiting", seconds=30)
    assert env.json("stage")["staged"] == ["a", "b"]
    env.run("send", "a", "/exit", check=True)
    env.wait_state("a", "exited", seconds=30)
    pane = first["pane_id"]
    assert retry_until(lambda: _dead(env, pane), 10, raises=False)

    out = env.run("resume", "a")
    assert out.returncode == 0, out.stderr
    resumed = env.session("a")
    # The same pane, in the same place on the stage, with the same number.
    assert (resumed["pane_id"], resumed["window_id"], resumed["number"]) == (pane, window, 1)
    assert not _dead(env, pane)
    assert env.json("stage")["staged"] == ["a", "b"]
    assert _panes_tagged(env, first["id"]) == [pane]
    env.wait_state("a", "idle", "waiting", seconds=30)
    assert retry_until(lambda: _title(env, pane).startswith("1 a "), 10, raises=False)
    assert f"show {pane}" in _key(env, 1)


def test_resume_of_a_session_never_prompted_is_refused(engine: PodiumEnv) -> None:
    # The sim, like Claude Code, writes its transcript at the first prompt only.
    env = engine
    rec = _new(env, "blank", "--agent", "sim")
    assert env.wait_state("blank", "idle", seconds=30)["claude_session_id"]
    env.run("send", "blank", "/exit", check=True)
    env.wait_state("blank", "exited", seconds=30)
    out = env.run("resume", "blank")
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "was never prompted" in out.stderr, out.stderr
    assert "`podium kill blank`, then `podium new`" in out.stderr
    # Nothing was started: the dead pane is as it was.
    assert env.session("blank")["state"] == "exited"
    assert _dead(env, rec["pane_id"])


@pytest.mark.claude
def test_resume_of_a_claude_session_never_prompted_is_refused(claude_podium: PodiumEnv) -> None:
    env = claude_podium
    rec = env.json("new", "--agent", "claude", "--name", "blank", "--cwd", str(env.workdir))
    claude_id = env.wait_state("blank", "idle", seconds=90)["claude_session_id"]
    assert claude_id  # SessionStart named it: the id alone is nothing to resume
    env.tmux("send-keys", "-t", rec["pane_id"], "C-c")
    env.tmux("send-keys", "-t", rec["pane_id"], "C-c")  # Claude Code exits on the second
    assert retry_until(lambda: _dead(env, rec["pane_id"]), 30, raises=False)
    assert not list(env.claude_dir.glob(f"projects/*/{claude_id}.jsonl"))
    out = env.run("resume", "blank")
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "was never prompted" in out.stderr, out.stderr
    assert _dead(env, rec["pane_id"])


def test_kill_removes_every_pane_of_the_session_dead_ones_too(engine: PodiumEnv) -> None:
    env = engine
    rec = _new(env, "gone", "--agent", "shell")
    other = _new(env, "stays", "--agent", "shell")
    env.run("send", "gone", "exit 4", check=True)
    env.wait_state("gone", "exited", seconds=30)
    # A second pane of the same session (tagged with its id), dead too, elsewhere: what
    # a pane from an earlier life of the session looks like.
    extra = env.tmux(
        "new-window", "-d", "-P", "-F", "#{pane_id}", "-t", "=podium:", "--", "sh", "-c", "exit 0"
    ).stdout.strip()
    env.tmux("set-option", "-p", "-t", extra, "@podium_session", rec["id"])
    assert retry_until(lambda: _dead(env, extra), 10, raises=False)
    assert sorted(_panes_tagged(env, rec["id"])) == sorted([rec["pane_id"], extra])

    out = env.run("kill", "gone")
    assert out.returncode == 0, out.stderr
    assert _panes_tagged(env, rec["id"]) == []
    assert _panes_tagged(env, other["id"]) == [other["pane_id"]]
    assert [s["name"] for s in env.json("ls")] == ["stays"]
