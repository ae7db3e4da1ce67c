"""podium's tmux server as the engine sees it: running or not, which one (its pid),
and the last one that exited under the engine.

A tmux server that exits (a crash, a `kill-server`) takes every pane with it. The
engine reports it: a log line naming the sessions it held, the `tmux` event with
`alive` false and the exit, `status` (`tmux_exit`), and so `podium engine status`
and `podium doctor`. It never starts a new server of its own accord after that: a
person's `podium new`, `podium resume` or `podium up` does (they start one when
none runs), and background runs wait for it (`may_start`). A server replaced
between two sweeps shows as a new pid, and is reported as an exit too.

A server that ends because it emptied is no such exit: tmux ends a server whose
last pane closed (a background run's window, the last session killed), and
nothing was lost. So an exit is a server that went away holding something of
the person's: a listed session's pane, or the control tower.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sessions import wire

log = logging.getLogger("podium.engine")


@dataclass
class ServerExit:
    """A server that exited under the engine: when the sweep saw it gone, its pid, the
    sessions that had a pane in it, and the server that runs since (if one does)."""

    at: datetime
    pid: int | None
    sessions: list[str] = field(default_factory=list)
    replaced_by: int | None = None


class ServerWatch:
    """Follows the server from the sweeps' sightings (engine loop only)."""

    def __init__(self, socket: str) -> None:
        self.socket = socket
        # None until the first sweep.
        self.alive: bool | None = None
        self.pid: int | None = None
        self.exit: ServerExit | None = None
        # Whether the server seen last held the control tower.
        self._tower = False

    def saw(
        self,
        alive: bool,
        pid: int | None,
        sessions: list[str],
        *,
        tower: bool = False,
        now: datetime | None = None,
    ) -> bool:
        """One sweep's sighting: whether a server runs, its pid, whether it holds the
        tower, and the listed sessions that had a pane in the server seen before (lost
        with it, if it went). True when it is news for subscribers (the `tmux` event)."""
        now = now or datetime.now(UTC)
        before, old_pid = self.alive, self.pid
        replaced = bool(before and alive and pid and old_pid and pid != old_pid)
        news = alive != before or replaced
        held = bool(sessions) or self._tower
        if before and (not alive or replaced) and not held:
            log.info("tmux server on socket %r (pid %s) ended, empty", self.socket, old_pid)
        elif before and (not alive or replaced):
            self.exit = ServerExit(now, old_pid, list(sessions))
            held = f"{len(sessions)} session(s) lost: {', '.join(sessions)}" if sessions else ""
            if replaced:
                log.warning(
                    "tmux server on socket %r (pid %s) exited and another runs (pid %s)%s",
                    self.socket,
                    old_pid,
                    pid,
                    f"; {held}" if held else "",
                )
            else:
                log.warning(
                    "tmux server on socket %r (pid %s) exited%s; podium starts no other "
                    "until `podium up` or `podium new`",
                    self.socket,
                    old_pid,
                    f"; {held}" if held else "",
                )
        elif alive and before is False:
            log.info("tmux server on socket %r runs (pid %s)", self.socket, pid)
        if alive and self.exit is not None and self.exit.replaced_by is None:
            self.exit.replaced_by = pid
        self.alive, self.pid = alive, pid if alive else None
        self._tower = alive and tower
        return news

    def may_start(self) -> bool:
        """Whether the engine may start a server on its own (for a background run): not
        while the last one it saw has exited and none runs since. A server never seen
        (none yet at engine start) may be started: the queue needs one."""
        return not (self.alive is False and self.exit is not None)

    def exit_wire(self) -> wire.TmuxExit | None:
        return wire.from_record(self.exit, wire.TmuxExit) if self.exit else None

    def state_wire(self) -> wire.TmuxState:
        return wire.TmuxState(
            alive=bool(self.alive), socket=self.socket, pid=self.pid, exit=self.exit_wire()
        )
