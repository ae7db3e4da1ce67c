"""What the control tower knows about the sessions, kept on the app's thread.

Pure data: the engine link's messages are applied here and the list comes out
in the order `podium ls` uses (the engine's `attention_order`).
"""

from __future__ import annotations

from typing import Any

from sessions.attention import attention_order

Session = dict[str, Any]


class _Sortable:
    """A session dict as `attention_order` reads a `sessions.wire.Session` (until the
    tower holds those Structs itself)."""

    def __init__(self, data: Session) -> None:
        self.data = data
        item = data.get("attention")
        self.attention = _Item(item["opened_at"]) if item is not None else None
        self.state = data.get("state")
        self.state_since = data.get("state_since")
        self.created_at = data.get("created_at")


class _Item:
    def __init__(self, opened_at: str) -> None:
        self.opened_at = opened_at


class TowerState:
    """Sessions by id, as last reported by the engine."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self.loaded = False

    def load(self, sessions: list[Session]) -> None:
        """Replace everything with a fresh listing (after a (re)connect)."""
        self._sessions = {s["id"]: s for s in sessions if "id" in s}
        self.loaded = True

    def update(self, session: Session) -> None:
        if "id" in session:
            self._sessions[session["id"]] = session

    def remove(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def get(self, session_id: str | None) -> Session | None:
        return self._sessions.get(session_id or "")

    def ordered(self) -> list[Session]:
        """Open attention items oldest first, then busy, then the rest by creation."""
        order = attention_order([_Sortable(s) for s in self._sessions.values()])  # type: ignore[type-var]
        return [s.data for s in order]

    def oldest_waiting(self) -> Session | None:
        """The session whose open attention item is oldest (what `podium next` picks)."""
        for session in self.ordered():
            if session.get("attention") is not None:
                return session
        return None

    def __len__(self) -> int:
        return len(self._sessions)
