"""podium's private tmux server (issue 12 §13): the config it reads, and its end.

A server that exits under the engine, killed or crashed in the middle of one of
podium's commands, is reported (one line to the command, the engine's log, the
`tmux` event, `engine status`, `podium doctor`) and never replaced behind the
person's back: only a person's `podium new` (or `resume`, `up`) starts another.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import PodiumEnv

from collectors.paths import Paths
from sessions import wire
from sessions.client import EngineClient

pytestmark = [pytest.mark.tmux]


def _status(env: PodiumEnv) -> dict[str, Any]:
    return env.json("engine", "status")


def _server_runs(env: PodiumEnv) -> bool:
    return env.tmux("list-sessions").returncode == 0


def _doctor(env: PodiumEnv) -> dict[str, Any]:
    out = env.run("doctor", "--json")
    return {c["name"]: c for c in json.loads(out.stdout)}["tmux server"]


def _task_state(env: PodiumEnv, task_id: int) -> dict[str, Any]:
    with EngineClient(Paths(data=env.data, runtime=env.runtime)) as client:
        return client.call("queue.show", id=task_id)["task"]


def test_a_killed_tmux_server_is_reported_and_not_started_again(
    podium_env: PodiumEnv, tmp_path: Path
) -> None:
    env = podium_env
    # A background run would need a program; this one never gets that far.
    claude = tmp_path / "fake-claude"
    claude.write_text("#!/bin/sh\nexit 0\n")
    claude.chmod(0o700)
    env.env["PODIUM_CLAUDE_BIN"] = str(claude)
    env.env["PODIUM_FILL__INTERVAL"] = "0.5"
    env.run("engine", "start", check=True)
    env.json("new", "--agent", "shell", "--name", "a")
    env.wait_state("a", "idle")
    assert env.wait_for(lambda: _status(env)["tmux_pid"] is not None, 10)
    pid = _status(env)["tmux_pid"]

    with EngineClient(Paths(data=env.data, runtime=env.runtime)) as events:
        events.subscribe()
        events.sock.settimeout(20)  # a missing event fails the test, never hangs it
        env.tmux("kill-server")
        gone = next(
            e.data for e in events.events() if isinstance(e, wire.TmuxEvent) and not e.data.alive
        )
    assert gone.exit is not None and gone.exit.pid == pid and gone.exit.sessions == ["a"]

    status = _status(env)
    assert status["tmux_alive"] is False
    assert status["tmux_exit"]["pid"] == pid and status["tmux_exit"]["sessions"] == ["a"]
    env.wait_state("a", "lost", seconds=15)
    log = (env.data / "engine.log").read_text()
    assert f"(pid {pid}) exited; 1 session(s) lost: a" in log
    said = env.run("engine", "status").stdout
    assert f"the server (pid {pid}) exited at " in said and "lost with it: a" in said
    check = _doctor(env)
    assert check["status"] == "warn" and "exited at" in check["detail"], check
    assert "`podium up` or `podium new`" in check["fix"]

    # The engine starts no server of its own accord: a background run waits.
    task = json.loads(
        env.run("queue", "add", "hello", "--cwd", str(env.workdir), "--json", check=True).stdout
    )
    with EngineClient(Paths(data=env.data, runtime=env.runtime)) as client:
        client.call("queue.fill", enabled=True)
    assert env.wait_for(lambda: _task_state(env, task["id"])["state"] == "deferred", 30)
    assert "starts no other by itself" in _task_state(env, task["id"])["last_result"]
    assert not _server_runs(env)

    # A person's `podium new` starts one; the exit stays on record.
    env.json("new", "--agent", "shell", "--name", "b")
    assert env.wait_for(lambda: _status(env)["tmux_alive"] is True, 10)
    status = _status(env)
    assert status["tmux_exit"]["replaced_by"] == status["tmux_pid"] != pid
    check = _doctor(env)
    assert check["status"] == "ok" and "the one before exited at" in check["detail"], check


def test_a_server_that_exits_under_a_command_is_one_clear_line(
    podium_env: PodiumEnv, tmp_path: Path
) -> None:
    env = podium_env
    # A config whose server dies in the middle of podium's next new-window (the
    # command is still waiting for it), as a crashing setting would make it.
    config = tmp_path / "crash.conf"
    config.write_text('set-hook -g after-new-window "run-shell \\"kill -9 #{pid}\\""\n')
    env.env["PODIUM_TMUX__CONFIG"] = str(config)
    env.run("engine", "start", check=True)
    env.json("new", "--agent", "shell", "--name", "a")  # new-session: the server starts
    out = env.run("new", "--agent", "shell", "--name", "b")
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1, out.stderr
    assert f"podium's tmux server (socket '{env.socket}') exited during new-window" in out.stderr
    assert "a setting in the tmux config it reads may crash it" in out.stderr
    assert env.wait_for(lambda: _status(env)["tmux_exit"] is not None, 10)
    assert _status(env)["tmux_exit"]["sessions"] == ["a"]
    assert [s["name"] for s in env.json("ls")] == ["a"]  # b was never registered
    assert not _server_runs(env)


def test_the_persons_tmux_conf_only_when_asked(podium_env: PodiumEnv) -> None:
    env = podium_env
    home = env.root / "home"
    home.mkdir()
    (home / ".tmux.conf").write_text("set -g @from_user_conf yes\n")
    env.env["HOME"] = str(home)
    env.env["XDG_CONFIG_HOME"] = str(home / ".config")
    env.env["PODIUM_TMUX__SOURCE_USER_CONF"] = "true"
    env.run("engine", "start", check=True)
    env.json("new", "--agent", "shell", "--name", "dressed")
    shown = env.tmux("show-options", "-gqv", "@from_user_conf").stdout.strip()
    assert shown == "yes"
    # With a config file of podium's as well: refused, with the way to have both.
    env.run("engine", "stop", check=True)
    env.env["PODIUM_TMUX__CONFIG"] = str(home / "podium-tmux.conf")
    out = env.run("ls")
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "tmux.source_user_conf" in out.stderr and "source-file ~/.tmux.conf" in out.stderr
