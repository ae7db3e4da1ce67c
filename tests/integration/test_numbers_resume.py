"""Stable session numbers (issue 12 §9).

A session's number (Alt-N, its border, `podium ls`) is its own for its whole life.
"""

from __future__ import annotations

from typing import Any

from conftest import PodiumEnv
from libtmux.test.retry import retry_until


def _new(env: PodiumEnv, name: str, *args: str) -> dict[str, Any]:
    return env.json("new", "--name", name, *args)


def _numbers(env: PodiumEnv) -> dict[str, int]:
    return {s["name"]: s["number"] for s in env.json("ls")}


def _title(env: PodiumEnv, pane: str) -> str:
    return env.tmux("show-options", "-pqv", "-t", pane, "@podium_title").stdout.strip()


def _key(env: PodiumEnv, n: int) -> str:
    """What Alt-n runs in podium's tmux."""
    return env.tmux("list-keys", "-T", "root", f"M-{n}").stdout


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
