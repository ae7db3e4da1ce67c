"""`podium demo` end to end: a real terminal attached, the real tower, Tab, `--stop`.

The demo runs under a pseudo-terminal this test holds (as a person's terminal
would), with HOME, TMPDIR, the demo's directory and its tmux socket all inside
the test's tmp dir, so it never meets a person's own podium, demo or Claude.
"""

from __future__ import annotations

import fcntl
import json
import os
import struct
import subprocess
import termios
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import PODIUM, PodiumEnv
from libtmux.test.retry import retry_until

from sessions.demo import DEMO_SESSIONS


@dataclass
class Demo:
    root: Path
    socket: str
    env: dict[str, str]  # how to run `podium demo`

    @property
    def engine_env(self) -> dict[str, str]:
        """The env of a podium command that talks to the demo's engine."""
        return {
            **self.env,
            "PODIUM_DATA_DIR": str(self.root / "data"),
            "PODIUM_CONFIG": str(self.root / "config.toml"),
            "PODIUM_TMUX_SOCKET": self.socket,
            "CLAUDE_CONFIG_DIR": str(self.root / "claude"),
        }

    def podium(self, *args: str, demo_paths: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*PODIUM, *args],
            env=self.engine_env if demo_paths else self.env,
            capture_output=True,
            text=True,
            timeout=90,
            cwd=self.root.parent,
        )

    def json(self, *args: str) -> Any:
        out = self.podium(*args, "--json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def state(self, name: str) -> str:
        return next(s["state"] for s in self.json("ls") if s["name"] == name)

    def tmux(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True)
        return out.stdout.strip()

    def stop(self) -> None:
        out = self.podium("demo", "--stop", demo_paths=False)
        assert out.returncode == 0, out.stderr


@pytest.fixture
def demo(podium_env: PodiumEnv, tmp_path: Path) -> Iterator[Demo]:
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {
        k: v
        for k, v in podium_env.env.items()
        # The demo points these at its own dir itself; it must need none of them.
        if k not in ("PODIUM_DATA_DIR", "PODIUM_TMUX_SOCKET", "PODIUM_CONFIG", "CLAUDE_CONFIG_DIR")
    }
    socket = f"podium-demo-test-{uuid.uuid4().hex[:8]}"
    root = tmp_path / "demo"
    env.update(
        HOME=str(home),
        TMPDIR=str(tmp),
        PODIUM_DEMO_DIR=str(root),
        PODIUM_DEMO_SOCKET=socket,
        TERM="xterm-256color",
        # Real time: "tests" must be waiting a few seconds before "deploy" asks.
        PODIUM_SIM_SPEED="1",
    )
    d = Demo(root, socket, env)
    yield d
    if root.exists():  # a failed test: leave nothing running
        d.stop()


class Terminal:
    """A pseudo-terminal running one command, its output drained as a terminal would."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))
        self.master = master
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,
            # The pty becomes the session's controlling terminal, as in a real login.
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self.output = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        # tmux's client blocks once the pty's buffer is full: read it all, always.
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def type(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)
        os.close(self.master)
        self._reader.join(timeout=5)


def _tower_pane(demo: Demo) -> str:
    fmt = "#{pane_id} #{@podium_role}"
    for line in demo.tmux("list-panes", "-t", "=podium:tower", "-F", fmt).splitlines():
        pane, _, role = line.partition(" ")
        if role == "tower":
            return pane
    return ""


def test_demo_attached_tab_goes_to_the_session_asking_permission(demo: Demo):
    term = Terminal([*PODIUM, "demo"], demo.env, demo.root.parent)
    try:
        assert retry_until(lambda: _tower_pane(demo) != "", 60, raises=False), term.output[-2000:]
        tower = _tower_pane(demo)
        # The terminal is attached to the stage, on the tower.
        assert retry_until(lambda: demo.tmux("list-clients", "-F", "#{pane_id}") == tower, 20)

        def drawn() -> bool:
            screen = demo.tmux("capture-pane", "-p", "-t", tower)
            return all(word in screen for word in ("refactor", "5h", "week")) and all(
                f"{name}" in screen for name in ("tests", "deploy")
            )

        assert retry_until(drawn, 30, raises=False), demo.tmux("capture-pane", "-p", "-t", tower)

        # The usage header has the seeded figures at once: a percentage on each line.
        # (Retried: the stage may still be settling the tower's width, and it redraws.)
        def header() -> list[str]:
            return demo.tmux("capture-pane", "-p", "-t", tower).splitlines()[:2]

        assert retry_until(lambda: all("%" in line for line in header()), 15, raises=False), (
            demo.tmux("capture-pane", "-p", "-t", tower),
            demo.tmux("list-panes", "-a", "-F", "#{pane_id} #{pane_width}x#{pane_height}"),
        )

        def ready() -> bool:
            # The states first (the word "permission" shows elsewhere on the tower too),
            # then the tower must have drawn them.
            if (demo.state("tests"), demo.state("deploy")) != ("waiting", "permission"):
                return False
            screen = demo.tmux("capture-pane", "-p", "-t", tower)
            return "waiting" in screen and "permission" in screen

        assert retry_until(ready, 30, raises=False), demo.tmux("capture-pane", "-p", "-t", tower)
        sessions = {s["name"]: s for s in demo.json("ls")}
        assert sessions["tests"]["state"] == "waiting"
        assert sessions["refactor"]["state"] == "busy"
        # "tests" has waited longer, but "deploy" is blocked mid-task: it comes first.
        assert (
            sessions["tests"]["attention"]["opened_at"]
            < (sessions["deploy"]["attention"]["opened_at"])
        )
        deploy_pane = sessions["deploy"]["pane_id"]

        term.type(b"\t")  # Tab, typed in the person's terminal: the tower has the focus

        def focused() -> bool:
            return demo.tmux("list-clients", "-F", "#{pane_id}") == deploy_pane

        assert retry_until(focused, 15, raises=False), demo.tmux(
            "list-panes", "-a", "-F", "#{pane_id} #{pane_active} #{window_active}"
        )

        # Seen: its item closed, its dialog still there.
        def seen() -> bool:
            return next(s for s in demo.json("ls") if s["name"] == "deploy")["attention"] is None

        assert retry_until(seen, 15, raises=False)
        assert demo.state("deploy") == "permission"
        assert demo.state("tests") == "waiting"  # only the one Tab went to

        # Alt-0 back to the tower; its usage screen takes the whole stage window.
        term.type(b"\x1b0")
        assert retry_until(lambda: demo.tmux("list-clients", "-F", "#{pane_id}") == tower, 10)
        zoom = ["display-message", "-p", "-t", tower, "#{window_zoomed_flag} #{pane_width}"]
        wide = demo.tmux("display-message", "-p", "-t", tower, "#{window_width}")
        narrow = demo.tmux(*zoom).split()[1]
        term.type(b"u")
        assert retry_until(lambda: demo.tmux(*zoom).split() == ["1", wide], 15, raises=False)
        assert retry_until(
            lambda: "Used % per window" in demo.tmux("capture-pane", "-p", "-t", tower), 15
        )
        term.type(b"\x1b")  # Escape: back to the list, the sessions in their places
        assert retry_until(lambda: demo.tmux(*zoom).split() == ["0", narrow], 15, raises=False)
        # Quitting the tower from a wide screen leaves the stage unzoomed too.
        window = demo.tmux("display-message", "-p", "-t", tower, "#{window_id}")
        flag = ["display-message", "-p", "-t", window, "#{window_zoomed_flag}"]
        term.type(b"b")
        assert retry_until(lambda: demo.tmux(*flag) == "1", 15, raises=False)
        term.type(b"q")
        assert retry_until(lambda: demo.tmux(*flag) == "0", 15, raises=False)
    finally:
        demo.stop()
        term.close()
    assert not demo.root.exists()
    assert subprocess.run(
        ["tmux", "-L", demo.socket, "has-session"], capture_output=True
    ).returncode


def test_demo_has_two_weeks_of_history(demo: Demo):
    # No real tower here: it would restart the engine this test stops to read the store.
    demo.env["PODIUM_TOWER_CMD"] = "sleep 600"
    out = demo.podium("demo", "--no-attach", demo_paths=False)
    assert out.returncode == 0, out.stderr
    try:
        windows = {w["window"]: w for w in demo.json("usage")["windows"]}
        for name in ("five_hour", "seven_day"):
            assert windows[name]["source"] == "statusline", windows[name]
            assert windows[name]["resets_at"] is not None
            # The series is there from the start: a burn rate needs minutes of it.
            assert windows[name]["burn_pct_per_hour"] is not None
        account = json.loads((demo.root / "data" / "sim" / "account.json").read_text())
        assert account["windows"]["seven_day"]["used"] > 0
        assert demo.podium("engine", "stop").returncode == 0
        conn = duckdb.connect(str(demo.root / "data" / "podium.duckdb"), read_only=True)
        try:
            rows = conn.execute(
                'SELECT "window", count(*), min(minute) FROM limit_series GROUP BY 1'
            ).fetchall()
            samples = conn.execute("SELECT count(*) FROM limit_samples").fetchone()
        finally:
            conn.close()
        span = {w: (n, first) for w, n, first in rows}
        for name in ("five_hour", "seven_day"):
            n, first = span[name]
            assert n >= 14 * 24 * 60
            assert datetime.now(UTC) - first >= timedelta(days=14)
        assert samples is not None and samples[0] > 1000
    finally:
        demo.stop()
    assert not demo.root.exists()


def test_demo_new_session_and_fill_run_stand_ins_never_claude(demo: Demo, tmp_path: Path):
    # A `claude` first on PATH that leaves a mark if anything runs it: nothing may.
    bin_dir, called = tmp_path / "bin", tmp_path / "real-claude-ran"
    bin_dir.mkdir()
    (bin_dir / "claude").write_text(f"#!/bin/sh\ntouch '{called}'\nexit 1\n")
    (bin_dir / "claude").chmod(0o755)
    demo.env["PATH"] = f"{bin_dir}:{demo.env['PATH']}"
    demo.env["PODIUM_SIM_SPEED"] = "5"  # the first background task works 45 s: 9 here
    term = Terminal([*PODIUM, "demo"], demo.env, demo.root.parent)
    try:
        assert retry_until(lambda: _tower_pane(demo) != "", 60, raises=False), term.output[-2000:]
        tower = _tower_pane(demo)
        assert retry_until(lambda: demo.tmux("list-clients", "-F", "#{pane_id}") == tower, 20)
        assert retry_until(lambda: "deploy" in demo.tmux("capture-pane", "-p", "-t", tower), 30)

        # The prompts read as a person's: their directives go through the sim's side
        # channel and show nowhere.
        panes = {s["name"]: s["pane_id"] for s in demo.json("ls")}
        for name, prompt in DEMO_SESSIONS:

            def shown(pane: str = panes[name], prompt: str = prompt) -> bool:
                return prompt in demo.tmux("capture-pane", "-p", "-J", "-t", pane, "-S", "-200")

            assert retry_until(shown, 30, raises=False), name
            screen = demo.tmux("capture-pane", "-p", "-J", "-t", panes[name], "-S", "-200")
            assert "[work=" not in screen and "permission]" not in screen, screen
        assert all("[" not in t["prompt"] for t in demo.json("queue", "ls")["tasks"])

        # n: the new-session dialog's defaults make a stand-in, in the demo's project.
        term.type(b"n")
        assert retry_until(
            lambda: "New session" in demo.tmux("capture-pane", "-p", "-t", tower), 15, raises=False
        ), demo.tmux("capture-pane", "-p", "-t", tower)
        term.type(b"\r")
        assert retry_until(lambda: len(demo.json("ls")) == 4, 20, raises=False)
        new = next(s for s in demo.json("ls") if s["name"] not in panes)
        assert (new["agent"], new["cwd"]) == ("sim", str(demo.root / "project"))
        assert retry_until(lambda: demo.state(new["name"]) == "idle", 30, raises=False)

        # f: fill on; the first task (priority 2) runs in a window of its own, where the
        # person can watch it, as a stand-in, and ends.
        term.type(b"f")

        def task(number: int) -> dict[str, Any]:
            return demo.json("queue", "show", str(number))

        assert retry_until(lambda: task(3)["task"]["state"] == "running", 30, raises=False), task(3)
        windows = demo.tmux("list-windows", "-a", "-F", "#{window_name}").split()
        assert "q3" in windows, windows
        assert retry_until(lambda: task(3)["task"]["state"] == "done", 60, raises=False), task(3)
        (run,) = task(3)["runs"]
        assert run["argv"][0] == str(demo.root / "bin" / "claude")
        assert task(3)["task"]["last_result"]
    finally:
        demo.stop()
        term.close()
    assert not called.exists()
