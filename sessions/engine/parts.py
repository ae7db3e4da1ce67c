"""What the engine hands its parts, typed: each part takes only the collaborators
it uses (the registry, the event bus, tmux, the connection, a settings section)
and, for the engine's own doings, these callables and the small `Sessions`
Protocol. `core.Engine` builds the parts and wires them; no part imports it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sessions import wire
from sessions.registry import SessionRecord
from sessions.state import Change

T = TypeVar("T")


class Blocking(Protocol):
    """`Engine.blocking`: run blocking work in a worker thread, hand back its value."""

    def __call__(self, fn: Callable[..., T], /, *args: Any) -> Awaitable[T]: ...


class Spawn(Protocol):
    """`Engine.spawn`: a named background task, kept alive, its failure logged."""

    def __call__(self, coro: Coroutine[Any, Any, Any], name: str) -> None: ...


class Sessions(Protocol):
    """The engine's rules for a session's state and how it is shown."""

    def session_json(self, rec: SessionRecord) -> wire.Session: ...

    def publish_session(self, rec: SessionRecord) -> None: ...

    def change_state(
        self,
        rec: SessionRecord,
        change: Change,
        at: datetime | None = None,
        *,
        limit_text: str = "",
        close_as: str = "",
    ) -> None: ...

    def acknowledge(self, rec: SessionRecord, by: str, *, input_sent: bool = False) -> bool: ...
