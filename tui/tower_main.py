"""Starting the control tower, shared by `podium tower` and the fast path in `tui.entry`.

Kept out of `tui.cli` on purpose: importing anything in that package loads
click and every command, which the tower does not need before its first frame.

In the stage, the tower's pane closes when the tower ends (`sessions.stage`,
`TOWER_REMAIN`): q leaves no dead pane, and Alt-0 or `podium up` starts it
again. A tower that fails there (a bad config file, a crash) would vanish with
its reason, so it keeps its pane open until Enter (`hold`).
"""

from __future__ import annotations

import contextlib
import os
import sys


class TowerError(Exception):
    """The tower cannot start; the message says why and what to do."""


def run_tower() -> int:
    """Run the tower in this terminal until the person leaves it; its exit status."""
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

    app = PodiumApp(Paths.from_env(), settings, config_path=config_file())
    app.run()
    # Textual has printed a crash's traceback by now; its status says it failed.
    return app.return_code or 0


def hold(status: int) -> None:
    """In a tmux pane, keep a failed tower's last words on screen until Enter."""
    if not os.environ.get("TMUX_PANE") or not sys.stdin.isatty():
        return
    print(
        f"\npodium: the control tower stopped (exit status {status}).\n"
        "Press Enter to close; Alt-0 or `podium up` starts the tower again.",
        file=sys.stderr,
    )
    with contextlib.suppress(EOFError, KeyboardInterrupt):
        input()


def main() -> int:
    """`podium tower` without click: an error is one line, exit status 1."""
    try:
        status = run_tower()
    except TowerError as exc:
        print(f"podium: {exc}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        return 130
    if status:
        hold(status)
    return status
