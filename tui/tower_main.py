"""Starting the control tower, shared by `podium tower` and the fast path in `tui.entry`.

Kept out of `tui.cli` on purpose: importing anything in that package loads
click and every command, which the tower does not need before its first frame.
"""

from __future__ import annotations

import sys


class TowerError(Exception):
    """The tower cannot start; the message says why and what to do."""


def run_tower() -> None:
    """Run the tower in this terminal until the person leaves it."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise TowerError("the control tower needs a terminal; run it from an interactive shell")
    # Loaded here, not at import: `podium tower` dispatches to this module before
    # anything heavy (tui.entry), and the app's modules come after the settings.
    from collectors.paths import Paths, config_file
    from collectors.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise TowerError(str(exc)) from None
    from tui.app import PodiumApp  # textual, once the settings are good

    PodiumApp(Paths.from_env(), settings, config_path=config_file()).run()


def main() -> int:
    """`podium tower` without click: an error is one line, exit status 1."""
    try:
        run_tower()
    except TowerError as exc:
        print(f"podium: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
