"""Where the control tower itself runs in tmux, to tell which sessions are beside it.

A session whose pane is in the tower's own window is on stage: the person
sees it already, so the tower shows no preview of it.
"""

from __future__ import annotations

from collections.abc import Mapping

from tui.tmux_query import TmuxReadError, tmux_read


def tower_window(socket: str, environ: Mapping[str, str]) -> str | None:
    """The tmux window id of the tower's pane on podium's server; None when not in it.

    Blocking (tmux commands): call it from a worker thread.
    """
    pane = environ.get("TMUX_PANE")
    inside = environ.get("TMUX", "").split(",")[0]
    if not pane or not inside:
        return None
    try:
        # Pane ids are per server: only on podium's own server does ours mean anything.
        if tmux_read(socket, "display-message", "-p", "#{socket_path}").strip() != inside:
            return None
        out = tmux_read(socket, "display-message", "-p", "-t", pane, "#{window_id}")
    except TmuxReadError:
        return None
    return out.strip() or None
