"""`podium key next|tower` and `podium key show PANE`: what podium's keys run in tmux.

Alt-Space runs `key next`; Alt-1…9 run `key show %N` for their session's pane;
Alt-0 runs `key tower` when no live tower stands on stage (it selects a live
one itself, with no command).

tmux runs it through `run-shell` on every press, so it must start fast: it is
dispatched by `tui.entry` before click or the settings are imported, and
talks to the engine with the engine client (stdlib, msgspec and the wire
module). It never starts an engine (a key press should not spawn daemons),
prints nothing (tmux would show output in a pane's view mode) and always exits
0 (tmux would show a failure as an error);
what a person should know goes to tmux's message line instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys


def _tell(text: str) -> None:
    """Show `text` in the tmux client that pressed the key, or on stderr outside tmux."""
    # tmux gives run-shell's command TMUX=<socket path>,<pid>,<session>: the
    # server the key was pressed on, which is where the message belongs.
    socket = os.environ.get("TMUX", "").split(",")[0]
    if not socket or shutil.which("tmux") is None:
        print(text, file=sys.stderr)
        return
    from sessions.tmux import TmuxError, quote, run_tmux  # only for a message: start-up

    # display-message expands formats, and a name may hold `#(…)`.
    message = quote(text, formats="drawn")
    with contextlib.suppress(TmuxError):
        run_tmux(["-S", socket], "display-message", "--", message)


def _switch_to(pane: str) -> bool:
    """tmux's own switch-client to `pane`, for when no engine answers."""
    socket = os.environ.get("TMUX", "").split(",")[0]
    if not socket or shutil.which("tmux") is None:
        return False
    from sessions.tmux import TmuxError, run_tmux  # only without an engine: start-up

    try:
        return run_tmux(["-S", socket], "switch-client", "-t", pane).returncode == 0
    except TmuxError:
        return False


def run_key(args: list[str]) -> int:
    pane: str | None = None
    params: dict[str, str] = {}
    if args == ["next"]:
        method = "attention.next"
    elif args == ["tower"]:
        method = "stage.tower"
    elif len(args) == 2 and args[0] == "show" and args[1].startswith("%"):
        pane = args[1]
        method, params = "sessions.focus", {"pane": pane}
    else:
        print("usage: podium key next | podium key tower | podium key show %PANE", file=sys.stderr)
        return 2
    # Only once the arguments are good: a key press starts this command, so it
    # loads the client when it needs it (a usage error starts fast).
    from collectors.paths import Paths
    from sessions.client import EngineClient
    from sessions.protocol import ApiError

    try:
        with EngineClient(Paths.from_env(), timeout=10) as client:
            result = client.call(method, **params)
    except ApiError as exc:
        _tell(f"podium: {exc.message}")
        return 0
    except Exception as exc:  # no engine, or it went away: say so, never a traceback
        # A session key still works without an engine: tmux can show the pane.
        if pane is None or not _switch_to(pane):
            name = exc.__class__.__name__
            fix = (
                "`podium up` brings the tower back"
                if args == ["tower"]
                else "run `podium engine start`"
            )
            _tell(f"podium: no engine answers ({name}); {fix}")
        return 0
    if method == "attention.next" and result.get("session") is None:
        _tell("podium: nobody is waiting for you")
    return 0
