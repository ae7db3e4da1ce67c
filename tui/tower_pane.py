"""Where the control tower itself runs in tmux, to tell which sessions are beside it.

A session whose pane is in the tower's own window is on stage: the person
sees it already, so the tower shows no preview of it.
"""

from __future__ import annotations

from collections.abc import Mapping


def tower_window(socket: str, environ: Mapping[str, str]) -> str | None:
    """The tmux window id of the tower's pane on podium's server; None when not in it.

    Blocking (tmux commands): call it from a worker thread.
    """
    pane = environ.get("TMUX_PANE")
    inside = environ.get("TMUX", "").split(",")[0]
    if not pane or not inside:
        return None
    # Imported here: libtmux is not needed for the tower's first paint.
    from sessions.tmux import Tmux, TmuxError

    tmux = Tmux(socket)
    try:
        # Pane ids are per server: only on podium's own server does ours mean anything.
        if tmux.socket_path() != inside:
            return None
        out = tmux.run("display-message", "-p", "-t", pane, "#{window_id}")
    except TmuxError:
        return None
    return out[0] if out else None
