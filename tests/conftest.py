"""Shared fixtures: real tmux servers on private sockets, real data dirs, the real CLI.

Every test that touches podium gets its own data dir, runtime dir (short: Unix
socket paths are limited to 108 bytes), tmux socket and Claude config dir, so
tests never see each other's engines or the user's own podium.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from claude_bed import (  # noqa: F401 - fixtures
    claude_bed,
    claude_bin,
    claude_env,
    fake_api,
    make_bed,
    make_claude_bed,
)
from libtmux.test.retry import retry_until

REPO = Path(__file__).resolve().parent.parent
PODIUM = [sys.executable, "-m", "tui"]
_script = Path(sys.executable).with_name("podium")
if _script.exists():
    PODIUM = [str(_script)]


@dataclass
class PodiumEnv:
    """One isolated podium installation: env, dirs, and a way to run its CLI."""

    root: Path
    env: dict[str, str]
    data: Path
    runtime: Path
    socket: str
    claude_dir: Path
    workdir: Path
    extra: dict[str, str] = field(default_factory=dict)
    # The loopback Messages API, for tests of the real Claude CLI.
    api: Any = None

    def run(
        self, *args: str, input: str | None = None, check: bool = False, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run `podium ARGS…` as a real process with this env."""
        return subprocess.run(
            [*PODIUM, *args],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
            cwd=self.workdir,
        )

    def json(self, *args: str) -> Any:
        out = self.run(*args, "--json")
        assert out.returncode == 0, f"podium {' '.join(args)} failed: {out.stderr}"
        return json.loads(out.stdout)

    def session(self, name: str) -> dict[str, Any]:
        for rec in self.json("ls"):
            if rec["name"] == name:
                return rec
        raise AssertionError(f"no session {name!r} in podium ls")

    def wait_for(self, check: Callable[[], bool], seconds: float = 20) -> bool:
        """libtmux's retry helper: True once `check()` holds, False after `seconds`."""
        return retry_until(check, seconds, raises=False)

    def wait_state(self, name: str, *states: str, seconds: float = 30) -> dict[str, Any]:
        """Retry until session `name` is in one of `states`; return its record."""
        seen: list[str] = []

        def check() -> bool:
            rec = self.session(name)
            if not seen or seen[-1] != rec["state"]:
                seen.append(rec["state"])
            return rec["state"] in states

        if not retry_until(check, seconds, raises=False):
            raise AssertionError(f"{name} never reached {states}; states seen: {seen}")
        return self.session(name)

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        # This env's TMUX_TMPDIR says where the server's socket is (this process's PATH
        # finds tmux: a test may give podium one without it).
        tmpdir = self.env.get("TMUX_TMPDIR")
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "TMUX_TMPDIR": tmpdir} if tmpdir else None,
        )

    def type_in(self, pane_id: str, text: str) -> None:
        """Type a line into a pane as a person would (not through podium, which would
        acknowledge it and mark the session busy itself)."""
        self.tmux("send-keys", "-t", pane_id, "-l", "--", text)
        assert retry_until(lambda: text in self.screen(pane_id, history=0), 10, raises=False)
        self.tmux("send-keys", "-t", pane_id, "Enter")

    def screen(self, pane_id: str, history: int = 200) -> str:
        """The pane's text, with `history` lines of scrollback (a dead pane's last words
        scroll there)."""
        return self.tmux("capture-pane", "-p", "-t", pane_id, "-S", f"-{history}").stdout

    def spool_lines(self) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        for path in sorted((self.data / "spool").glob("hooks-*.jsonl")):
            lines += [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
        return lines


@contextmanager
def terminal_running_up(env: PodiumEnv, cols: int, rows: int) -> Iterator[Callable[[bytes], None]]:
    """A real terminal (`script`) of that size running `podium up` attached to `env`'s
    tmux server; yields what types into it, and closes it afterwards."""
    command = f"stty cols {cols} rows {rows}; exec {' '.join(PODIUM)} up"
    client = subprocess.Popen(
        ["script", "-qfc", command, "/dev/null"],
        env=env.env,
        cwd=env.workdir,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stdin = client.stdin
    assert stdin is not None

    def press(keys: bytes) -> None:
        stdin.write(keys)
        stdin.flush()

    try:
        assert retry_until(lambda: env.tmux("list-clients").stdout.strip() != "", 30)
        yield press
    finally:
        client.terminate()
        client.wait(10)


@pytest.fixture(scope="session", autouse=True)
def private_tmp() -> Iterator[Path]:
    """A temp dir of this worker's own for what the programs tests start leave behind,
    removed at the end: tmux sockets (`TMUX_TMPDIR`; tmux leaves the file when its server
    exits, and runs of the suite left thousands in /tmp/tmux-<uid>/) and Claude Code's
    `claude-<uid>/` and `cc-socks/` (`TMPDIR`). Short, as socket paths must be.

    The test process itself keeps /tmp (pytest's tmp_path stays where a person looks for
    a failed test's files); only the programs it starts get the new TMPDIR.
    """
    root = Path(tempfile.mkdtemp(prefix="pdt-", dir="/tmp"))
    (root / "tmp").mkdir()
    tempfile.tempdir = tempfile.gettempdir()  # pinned before TMPDIR moves
    saved = {name: os.environ.get(name) for name in ("TMUX_TMPDIR", "TMPDIR", "HISTFILE")}
    # HISTFILE empty: a shell a tmux server starts (its environment is this one) saves
    # no history into the person's ~/.bash_history when the server kills it.
    os.environ.update(TMUX_TMPDIR=str(root), TMPDIR=str(root / "tmp"), HISTFILE="")
    try:
        yield root
    finally:
        # A server some test left running would outlive the run with its socket gone.
        for socket in (root / f"tmux-{os.getuid()}").glob("*"):
            subprocess.run(["tmux", "-S", str(socket), "kill-server"], capture_output=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def podium_env(tmp_path: Path) -> Iterator[PodiumEnv]:
    runtime = Path(tempfile.mkdtemp(prefix="pdm-", dir="/tmp"))
    socket = f"podium-test-{uuid.uuid4().hex[:8]}"
    data = tmp_path / "data"
    claude_dir = tmp_path / "claude"
    claude_dir.mkdir()
    workdir = tmp_path / "work"
    workdir.mkdir()
    # Shell sessions start bash without the machine's rc files: a `pyenv rehash` in
    # ~/.bashrc, say, waits on a lock that a shell killed by an earlier test can
    # leave behind, and the prompt never comes.
    shell = tmp_path / "shell"
    # HISTFILE empty: what tests type there stays out of ~/.bash_history (podium passes
    # an agent no HISTFILE of its own).
    shell.write_text('#!/bin/sh\nHISTFILE=; export HISTFILE\nexec bash --norc --noprofile "$@"\n')
    shell.chmod(0o700)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PODIUM_", "TMUX", "CLAUDE_", "ANTHROPIC_")) or k == "TMUX_TMPDIR"
    }
    env.update(
        PODIUM_DATA_DIR=str(data),
        PODIUM_RUNTIME_DIR=str(runtime),
        PODIUM_TMUX_SOCKET=socket,
        PODIUM_CONFIG=str(tmp_path / "config.toml"),
        CLAUDE_CONFIG_DIR=str(claude_dir),
        # The sim keeps its transcripts out of CLAUDE_CONFIG_DIR unless told: here it
        # shares it, so the engine ingests them as a real agent's.
        PODIUM_SIM_CLAUDE_CONFIG_DIR=str(claude_dir),
        PODIUM_SIM_SPEED="10",
        PODIUM_SIM_SEED="7",
        PODIUM_AGENTS__SHELL=str(shell),
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    )
    penv = PodiumEnv(tmp_path, env, data, runtime, socket, claude_dir, workdir)
    yield penv
    try:
        penv.run("engine", "stop", timeout=30)
        penv.tmux("kill-server")
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def engine(podium_env: PodiumEnv) -> PodiumEnv:
    """A running engine for `podium_env`."""
    out = podium_env.run("engine", "start")
    assert out.returncode == 0, out.stderr
    return podium_env


@pytest.fixture
def wait() -> Callable[..., bool]:
    """libtmux's retry helper: `wait(lambda: cond, seconds)` instead of sleeps."""

    def _wait(fn: Callable[[], bool], seconds: float = 20) -> bool:
        return retry_until(fn, seconds, raises=True)

    return _wait


@pytest.fixture
def make_claude_podium(
    podium_env: PodiumEnv,
    claude_bin: Path,  # noqa: F811
    fake_api: Any,  # noqa: F811
) -> Callable[..., PodiumEnv]:
    """Start a podium whose `claude` is the real CLI, talking to the loopback API.

    The bed shares podium's Claude config dir and trusts its work dir; the
    bed's environment (API URL, key or gateway token, quiet flags, temp HOME)
    becomes the environment `podium new` passes to the sessions it starts.
    `auth="gateway"` makes Claude Code read the plan-limit headers (limit
    texts with reset times, statusline `rate_limits`); keyword arguments are
    more variables for the engine and the agents it starts.
    """

    def start(auth: str = "api_key", **agent_env: str) -> PodiumEnv:
        engine = podium_env
        bed = make_bed(
            engine.root / "claude-bed",
            claude_bin,
            fake_api,
            config_dir=engine.claude_dir,
            work_dir=engine.workdir,
            auth=auth,
        )
        keep = {k: v for k, v in engine.env.items() if k.startswith("PODIUM_") or k == "PATH"}
        engine.env = {**bed.env, **keep, "PODIUM_CLAUDE_BIN": str(claude_bin), **agent_env}
        engine.api = fake_api
        out = engine.run("engine", "start")  # after the env is final: the engine reads it once
        assert out.returncode == 0, out.stderr
        return engine

    return start


@pytest.fixture
def claude_podium(make_claude_podium: Callable[..., PodiumEnv]) -> PodiumEnv:
    """A running podium whose `claude` is the real CLI (API-key auth)."""
    return make_claude_podium()
