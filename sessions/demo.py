"""`podium demo`: podium with stand-in agents, on a machine with no Claude account.

Everything lives under one private temp dir and one tmux socket of its own, so
the demo never touches the user's Claude config, tmux server or podium data,
and `podium demo --stop` removes every trace.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psutil

from collectors import demo_history
from collectors.paths import SIM_CLAUDE_ENV, Paths, ensure_private_dir
from collectors.store import open_store
from collectors.windows import FIVE_HOUR, SEVEN_DAY
from sessions.retry import wait_for
from sessions.sim import seed_account, set_scripted
from sessions.tmux import Tmux, TmuxError

DEMO_SOCKET = "podium-demo"
# Tests (and a person who wants the demo elsewhere) move its directory with this.
DEMO_DIR_ENV = "PODIUM_DEMO_DIR"

# (name, prompt): one keeps working, one finishes and waits, one asks permission.
# "deploy" asks permission: blocked mid-task, so Tab (`[attention] order`) goes to it
# first, before "tests", which waits longer. How each goes is scripted (`SCRIPT`).
DEMO_SESSIONS = (
    ("refactor", "Refactor the session registry into smaller modules"),
    ("tests", "Add tests for the tmux backend"),
    ("deploy", "Run the deploy script"),
)

# Background tasks the demo queues: `queue.add` params. `f` (fill on) runs the docs
# first (priority 2), then the summary; the update waits for the night window.
DEMO_TASKS: tuple[dict[str, object], ...] = (
    {"prompt": "Summarise yesterday's commits"},
    {"prompt": "Update dependencies and run the tests", "window": "night"},
    {"prompt": "Write docs for the stage", "priority": 2},
)

# The sim's directives for each prompt above, through its side channel
# (`sessions.sim.set_scripted`): the prompts read as a person's, on screen and in the
# queue. Background runs work long enough to watch, a few tool calls each.
SCRIPT = {
    "Refactor the session registry into smaller modules": "[nopermission] [work=900]",
    "Add tests for the tmux backend": "[nopermission] [work=2]",
    "Run the deploy script": "[permission] [work=8] [tools=1]",
    "Summarise yesterday's commits": "[nopermission] [work=30] [tools=3]",
    "Update dependencies and run the tests": "[nopermission] [work=60] [tools=5]",
    "Write docs for the stage": "[nopermission] [work=45] [tools=4]",
}

# The demo's config: every agent is the stand-in. `claude_bin` too, so a session
# started as `claude` (the new-session dialog offers it) and every background run
# (`claude -p …`) run the sim: the demo never starts the real Claude Code.
CONFIG = """\
# podium's demo: every agent here is the stand-in (`python -m sessions.sim`).
[agents]
default = "sim"
claude_bin = {claude_bin}
"""


@dataclass(frozen=True)
class DemoPlace:
    root: Path
    # Tests set `PODIUM_DEMO_SOCKET` (and `PODIUM_DEMO_DIR` or TMPDIR) so as not to
    # meet a person's own demo.
    socket: str = DEMO_SOCKET

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def claude(self) -> Path:
        return self.root / "claude"

    @property
    def work(self) -> Path:
        return self.root / "project"

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def claude_bin(self) -> Path:
        """The demo's `claude`: a script that starts the sim."""
        return self.root / "bin" / "claude"

    def env(self) -> dict[str, str]:
        """Environment overrides that point every podium path into the demo."""
        return {
            "PODIUM_DATA_DIR": str(self.data),
            "PODIUM_TMUX_SOCKET": self.socket,
            "PODIUM_CONFIG": str(self.config),
            "CLAUDE_CONFIG_DIR": str(self.claude),
            # The sims write their transcripts where the demo's engine reads them.
            SIM_CLAUDE_ENV: str(self.claude),
        }

    def paths(self) -> Paths:
        return Paths(data=self.data, runtime=Paths.from_env().runtime)


def demo_place() -> DemoPlace:
    """`$PODIUM_DEMO_DIR`, else `<tmp>/podium-demo-<uid>`; socket `$PODIUM_DEMO_SOCKET`."""
    root = os.environ.get(DEMO_DIR_ENV)
    return DemoPlace(
        Path(root) if root else Path(tempfile.gettempdir()) / f"podium-demo-{os.getuid()}",
        os.environ.get("PODIUM_DEMO_SOCKET") or DEMO_SOCKET,
    )


def enter(place: DemoPlace) -> None:
    """Point this process (and the engine it starts) at the demo's paths, and make
    them: the stand-in project, the sim's script, the `claude` that starts the sim
    and the config that makes it every agent (kept when there: the person may edit it)."""
    for key, value in place.env().items():
        os.environ[key] = value
    for directory in (place.root, place.data, place.claude, place.work, place.claude_bin.parent):
        ensure_private_dir(directory)
    readme = place.work / "README.md"
    if not readme.exists():
        readme.write_text("# demo project\n\nA stand-in project for podium's demo agents.\n")
    set_scripted(SCRIPT, data_dir=place.data)
    # The interpreter running the demo has podium installed: the sim starts with it.
    sim = shlex.join([sys.executable, "-m", "sessions.sim"])
    place.claude_bin.write_text(
        f'#!/bin/sh\n# podium\'s demo: this `claude` is the stand-in agent.\nexec {sim} "$@"\n'
    )
    place.claude_bin.chmod(0o700)
    if not place.config.exists():
        place.config.write_text(CONFIG.format(claude_bin=json.dumps(str(place.claude_bin))))


def is_fresh(place: DemoPlace) -> bool:
    """No store yet: no engine has run here, so the demo may write its history."""
    return not place.paths().db.exists()


def seed_history(place: DemoPlace, now: datetime | None = None) -> dict[str, int]:
    """Two weeks of usage into the demo's store, and the sim account where they end.

    Runs before the demo's engine starts: the engine alone opens the store once
    it runs (DuckDB has one writer). The simulated account is set to the
    history's last figures, so the sims' statusline carries on from where the
    plot ends instead of jumping. Returns rows written per table.
    """
    now = now or datetime.now().astimezone()  # local: working hours are the person's
    history = demo_history.generate(now)
    conn = open_store(place.paths().db)
    try:
        counts = demo_history.seed_store(conn, history)
    finally:
        conn.close()
    five, week = history.current[FIVE_HOUR], history.current[SEVEN_DAY]
    seed_account(
        five_hour_pct=five.used_pct,
        seven_day_pct=week.used_pct,
        five_hour_resets_in=_left(five.resets_at, now),
        seven_day_resets_in=_left(week.resets_at, now),
        five_hour_tokens=history.capacity[FIVE_HOUR],
        seven_day_tokens=history.capacity[SEVEN_DAY],
        now=now.timestamp(),
        data_dir=place.data,
    )
    return counts


def _socket_file(socket: str) -> str:
    """Where tmux puts the socket `-L socket` (or `-S socket`) names."""
    if "/" in socket:
        return socket
    base = os.environ.get("TMUX_TMPDIR") or "/tmp"
    return os.path.join(base, f"tmux-{os.getuid()}", socket)


def _left(resets_at: datetime | None, now: datetime) -> float | None:
    return (resets_at - now).total_seconds() if resets_at else None


def stop_tmux(tmux: Tmux, timeout: float = 5.0) -> None:
    """Kill the demo's tmux server, remove its socket file and wait for its panes'
    programs to end.

    The stand-in agents report their end through their hooks, into the demo's
    spool, as they go: removing the directory before they are gone would
    leave a fresh spool file behind.
    """
    pids = [p.pid for p in tmux.list_panes() if p.pid]
    socket = tmux.socket_path() or _socket_file(tmux.socket)
    with contextlib.suppress(TmuxError):  # already gone is fine
        tmux.run("kill-server")
    # tmux leaves its socket file behind (a stale one too, from a server that died).
    with contextlib.suppress(OSError):
        if stat.S_ISSOCK(os.lstat(socket).st_mode):
            os.unlink(socket)

    def gone() -> bool:
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    return False
            except psutil.NoSuchProcess:
                continue
        return True

    wait_for(gone, timeout, interval=0.05)


def remove(place: DemoPlace) -> None:
    shutil.rmtree(place.root, ignore_errors=True)
