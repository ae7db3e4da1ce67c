"""What the tower's keys do to sessions: each a job for the engine link and a reply.

Kept apart from the app so that the app only wires things together. Every
method is called on the app's thread; the jobs run in the link's workers, and
their failures reach the app's one error handler.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Protocol

import msgspec

from collectors.settings import Settings
from sessions import wire
from sessions.agent_env import agent_env
from tui.engine_api import show_session, toggle_fill, usage_windows
from tui.engine_link import Link, call_job
from tui.tower_state import TowerState

# A session jumped to is skipped by the next jump for this long, while the
# engine's acknowledgement is on its way: Tab Tab goes to two different sessions.
JUMP_GRACE_S = 3.0


class ActionHost(Protocol):
    """What the actions use of the app (`tui.app.PodiumApp`)."""

    link: Link
    state: TowerState
    settings: Settings
    environ: Mapping[str, str]
    engine_up: bool

    def notify(self, message: str, *, timeout: float | None = None) -> None: ...

    def show_sessions(self, select: str | None = None) -> None: ...

    def show_usage(self, windows: list[wire.UsageWindow]) -> None: ...

    def prefetch_usage(self) -> None: ...


class TowerActions:
    def __init__(self, app: ActionHost) -> None:
        self.app = app
        self._jumped: dict[str, float] = {}

    def show(self, session: wire.Session) -> None:
        """Bring the session into view: on stage if the engine has a stage, else focus it."""
        name = session.name
        self._jumped[session.id] = time.monotonic()
        self.app.link.run(f"show {name}", lambda request: show_session(request, name), self._shown)

    def _shown(self, result: wire.FocusedSession) -> None:
        if not result.shown:
            name = result.name
            self.app.notify(
                f"{name} is selected, but no terminal is attached to podium's tmux; "
                f"`podium attach {name}` shows it",
                timeout=6,
            )

    def next_waiting(self) -> wire.Session | None:
        """Jump to the session `podium next` would (skipping one just jumped to)."""
        now = time.monotonic()
        self._jumped = {k: t for k, t in self._jumped.items() if now - t < JUMP_GRACE_S}
        for session in self.app.state.waiting():
            if session.id not in self._jumped:
                self.show(session)
                return session
        self.app.notify("nobody is waiting for you")
        return None

    def new(self, params: wire.NewParams) -> None:
        env = agent_env(self.app.environ, self.app.settings.agents.pass_env)
        job = call_job(wire.SESSIONS_NEW, msgspec.structs.replace(params, env=env))
        self.app.link.run("new session", job, self._started)

    def _started(self, session: wire.Session) -> None:
        self.app.state.update(session)
        self.app.show_sessions(select=session.id)
        self.app.notify(f"started {session.name} ({session.agent})")

    def send(self, name: str, text: str, enter: bool) -> None:
        job = call_job(wire.SESSIONS_SEND, wire.SendParams(name=name, text=text, enter=enter))
        self.app.link.run(f"send {name}", job, lambda r: self.app.notify(f"sent to {name}"))

    def kill(self, name: str, cleanup: bool) -> None:
        job = call_job(wire.SESSIONS_KILL, wire.KillParams(name=name, cleanup=cleanup))
        self.app.link.run(f"kill {name}", job, self._killed)

    def _killed(self, result: wire.Killed) -> None:
        lines = [f"killed {result.killed}"]
        lines += result.cleanup or []
        wt = result.worktree
        if wt and wt.removed is msgspec.UNSET:
            lines.append(f"its worktree stays at {wt.path}")
        self.app.notify("\n".join(lines))

    def rename(self, name: str, new_name: str) -> None:
        job = call_job(wire.SESSIONS_RENAME, wire.RenameParams(name=name, new_name=new_name))
        self.app.link.run(
            f"rename {name}", job, lambda r: self.app.notify(f"{name} is now {r.name}")
        )

    def toggle_fill(self) -> None:
        self.app.link.run("toggle fill", toggle_fill, self._fill_toggled)

    def _fill_toggled(self, result: wire.FillState) -> None:
        self.app.notify(f"background fill {'on' if result.enabled else 'off'}")

    def refresh_usage(self) -> None:
        # Not while the engine is away: the banner says so already, once.
        if self.app.engine_up:
            self.app.link.run("usage windows", usage_windows, self.app.show_usage)
            self.app.prefetch_usage()
