"""`podium demo`: podium with stand-in agents, on a machine with no Claude account.

Everything lives under one private temp dir and one tmux socket of its own, so
the demo never touches the user's Claude config, tmux server or podium data,
and `podium demo --stop` removes every trace.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psutil

from collectors.paths import Paths, ensure_private_dir
from sessions.retry import wait_for
from sessions.tmux import Tmux, TmuxError

DEMO_SOCKET = "podium-demo"

# (name, prompt): one keeps working, one finishes and waits, one asks permission.
DEMO_SESSIONS = (
    ("refactor", "[nopermission] [work=900] Refactor the session registry into smaller modules"),
    ("tests", "[nopermission] [work=4] Add tests for the tmux backend"),
    ("deploy", "[permission] [work=3] [tools=1] Run the deploy script"),
)


@dataclass(frozen=True)
class DemoPlace:
    root: Path
    # Tests set `PODIUM_DEMO_SOCKET` (and TMPDIR) so as not to meet a person's own demo.
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

    def env(self) -> dict[str, str]:
        """Environment overrides that point every podium path into the demo."""
        return {
            "PODIUM_DATA_DIR": str(self.data),
            "PODIUM_TMUX_SOCKET": self.socket,
            "PODIUM_CONFIG": str(self.config),
            "CLAUDE_CONFIG_DIR": str(self.claude),
        }

    def paths(self) -> Paths:
        return Paths(data=self.data, runtime=Paths.from_env().runtime)


def demo_place() -> DemoPlace:
    return DemoPlace(
        Path(tempfile.gettempdir()) / f"podium-demo-{os.getuid()}",
        os.environ.get("PODIUM_DEMO_SOCKET") or DEMO_SOCKET,
    )


def enter(place: DemoPlace) -> None:
    """Point this process (and the engine it starts) at the demo's paths."""
    for key, value in place.env().items():
        os.environ[key] = value
    for directory in (place.root, place.data, place.claude, place.work):
        ensure_private_dir(directory)
    readme = place.work / "README.md"
    if not readme.exists():
        readme.write_text("# demo project\n\nA stand-in project for podium's demo agents.\n")


def seed_usage(place: DemoPlace) -> None:
    """Give the simulated account a plausible week: 5-hour window partly spent."""
    from sessions.sim import seed_account

    seed_account(
        five_hour_pct=38.0,
        seven_day_pct=61.0,
        five_hour_resets_in=2 * 3600 + 17 * 60,
        seven_day_resets_in=2 * 86400 + 5 * 3600,
        data_dir=place.data,
    )


def stop_tmux(tmux: Tmux, timeout: float = 5.0) -> None:
    """Kill the demo's tmux server and wait for its panes' programs to end.

    The stand-in agents report their end through their hooks, into the demo's
    spool, as they go: removing the directory before they are gone would
    leave a fresh spool file behind.
    """
    pids = [p.pid for p in tmux.list_panes() if p.pid]
    with contextlib.suppress(TmuxError):  # already gone is fine
        tmux.run("kill-server")

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
