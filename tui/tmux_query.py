"""The two tmux reads the tower makes itself (a pane's screen, its own window).

Through `sessions.tmux.run_tmux`, the runner the engine uses, with a short
time-out: the tower must not hang on a wedged server. Reads only: everything
that changes tmux goes through the engine.
"""

from __future__ import annotations

from sessions.tmux import TmuxError, run_tmux, socket_args

TIMEOUT_S = 5.0


class TmuxReadError(Exception):
    """tmux is missing, its server is gone, or the target does not exist."""


def tmux_read(socket: str, *args: str) -> str:
    """Run one tmux command on podium's server and return its output."""
    try:
        out = run_tmux(socket_args(socket), *args, timeout=TIMEOUT_S)
    except TmuxError as exc:  # TmuxMissing too
        raise TmuxReadError(str(exc)) from None
    if out.returncode != 0:
        message = "; ".join(out.stderr) or f"exit status {out.returncode}"
        if "no server running" in message or "error connecting" in message:
            message = f"no tmux server on socket '{socket}'"
        raise TmuxReadError(message)
    return "\n".join(out.stdout)
