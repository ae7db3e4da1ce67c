"""The two tmux reads the tower makes itself (a pane's screen, its own window).

Plain `subprocess`, not `sessions.tmux`: libtmux reads `sys.stdout.encoding`
when first imported, and inside a running Textual app stdout is Textual's
capture object, so importing it there fails. Reads only: everything that
changes tmux goes through the engine.
"""

from __future__ import annotations

import shutil
import subprocess

TIMEOUT_S = 5.0


class TmuxReadError(Exception):
    """tmux is missing, its server is gone, or the target does not exist."""


def socket_args(socket: str) -> list[str]:
    """`-L name`, or `-S path` for a socket given as a path (as podium's config allows)."""
    return ["-S", socket] if "/" in socket else ["-L", socket]


def tmux_read(socket: str, *args: str) -> str:
    """Run one tmux command on podium's server and return its output."""
    tmux = shutil.which("tmux")
    if tmux is None:
        raise TmuxReadError("tmux is not installed")
    try:
        out = subprocess.run(
            [tmux, *socket_args(socket), *args],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TmuxReadError(f"tmux {args[0]}: {exc}") from None
    if out.returncode != 0:
        message = out.stderr.strip() or f"exit status {out.returncode}"
        if "no server running" in message or "error connecting" in message:
            message = f"no tmux server on socket '{socket}'"
        raise TmuxReadError(message)
    return out.stdout
