"""Fill that stays on: switched by the config and by the night schedule from the engine
itself (no `podium fill` in a terminal), across an engine restart; a fill that ends
at its time sends the morning report as a desktop notification."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_queue import add, call, fast_fill, wait_task

pytestmark = [pytest.mark.tmux, pytest.mark.claude]


def _notify_send(root: Path) -> Path:
    """A `notify-send` that writes what it was asked to show, one call a line."""
    bin_dir = root / "bin"
    bin_dir.mkdir(exist_ok=True)
    told = root / "notified.txt"
    script = bin_dir / "notify-send"
    script.write_text(f'#!/bin/sh\nprintf "%s|" "$@" >> "{told}"\necho >> "{told}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return told


def test_config_enabled_switches_fill_on_at_engine_start(
    make_claude_podium: Any, podium_env: Any
) -> None:
    fast_fill(podium_env)
    podium_env.env["PODIUM_FILL__ENABLED"] = "true"
    env = make_claude_podium()
    status = env.run("fill", "--status")
    assert "fill on" in status.stdout, status.stdout + status.stderr
    assert "switched on by [fill] enabled" in status.stdout
    task = add(env, "REPLY done with no terminal")
    done = wait_task(env, task["id"], "done", "failed")
    assert done["task"]["state"] == "done", done


def test_nightly_fill_switches_itself_on_survives_a_restart_and_reports_its_end(
    make_claude_podium: Any, podium_env: Any
) -> None:
    fast_fill(podium_env)
    now = datetime.now(UTC)
    # A night that began a minute ago and lasts a few more: the engine is inside it.
    podium_env.env.update(
        PODIUM_FILL__TZ="UTC",
        PODIUM_FILL__NIGHT_START=f"{now - timedelta(minutes=1):%H:%M}",
        PODIUM_FILL__NIGHT_END=f"{now + timedelta(minutes=5):%H:%M}",
    )
    told = _notify_send(podium_env.root)
    podium_env.env["PATH"] = f"{podium_env.root / 'bin'}:{podium_env.env['PATH']}"
    env = make_claude_podium()
    assert call(env, "queue.fill")["enabled"] is False
    out = env.run("fill", "--nightly")
    assert out.returncode == 0, out.stderr
    assert "every day (`podium fill --nightly`)" in out.stdout, out.stdout

    # No terminal holds it: the engine switched fill on for this night, until its end.
    assert env.wait_for(lambda: call(env, "queue.fill")["enabled"], 20)
    state = call(env, "queue.fill")
    assert state["source"] == "nightly" and state["nightly"] is True
    assert state["until"].startswith(f"{now + timedelta(minutes=5):%Y-%m-%dT%H:%M}")
    task = add(env, "REPLY done overnight")
    assert wait_task(env, task["id"], "done", "failed")["task"]["state"] == "done"

    # An engine restart (a reboot, the service) keeps the schedule and the switch.
    assert env.run("engine", "stop").returncode == 0
    assert env.run("engine", "start").returncode == 0
    state = call(env, "queue.fill")
    assert state["enabled"] is True and state["nightly"] is True, state
    assert "nightly: the engine switches fill on at" in env.run("fill", "--status").stdout
    assert "on every night" in env.run("queue", "ls").stdout

    # The fill ends at its time (brought forward here): the morning report goes out.
    soon = (datetime.now(UTC) + timedelta(seconds=3)).isoformat(timespec="seconds")
    call(env, "queue.fill", enabled=True, until=soon)
    assert env.wait_for(lambda: told.exists() and told.read_text().strip() != "", 30)
    notice = told.read_text()
    assert "podium: background fill ended" in notice
    assert "1 done, 0 failed, 0 deferred" in notice, notice
    assert call(env, "queue.fill")["enabled"] is False
    report = env.run("report", "night", "--since", f"{now - timedelta(hours=1):%Y-%m-%d}")
    assert report.returncode == 0, report.stderr
    assert "done:" in report.stdout and "REPLY done overnight" in report.stdout, report.stdout
    nightly = env.json("report", "night")
    assert [t["task_id"] for t in nightly["done"]] == [task["id"]]
