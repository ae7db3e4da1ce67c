"""`podium demo`: podium with stand-in agents, on a machine with no Claude account.

Everything lives under one private temp dir and one tmux socket of its own, so
the demo never touches the user's Claude config, tmux server or podium data,
and `podium demo --stop` removes every trace.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from collectors.paths import Paths, ensure_private_dir

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
            "PODIUM_TMUX_SOCKET": DEMO_SOCKET,
            "PODIUM_CONFIG": str(self.config),
            "CLAUDE_CONFIG_DIR": str(self.claude),
        }

    def paths(self) -> Paths:
        return Paths(data=self.data, runtime=Paths.from_env().runtime)


def demo_place() -> DemoPlace:
    return DemoPlace(Path(tempfile.gettempdir()) / f"podium-demo-{os.getuid()}")


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


def remove(place: DemoPlace) -> None:
    shutil.rmtree(place.root, ignore_errors=True)
