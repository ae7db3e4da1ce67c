"""What the control tower knows about the sessions, kept on the app's thread.

Pure data: the engine link's messages are applied here and the list comes out
in the order `podium ls` uses (the engine's `attention_order`). The sessions are
the engine's own `sessions.wire.Session` Structs.
"""

from __future__ import annotations

from sessions.attention import DEFAULT_ORDER, AttentionOrder, attention_order, waiting_first
from sessions.wire import Session


class TowerState:
    """Sessions by id, as last reported by the engine."""

    def __init__(self, order: AttentionOrder = DEFAULT_ORDER) -> None:
        """`order`: `[attention] order`, the engine's."""
        self._sessions: dict[str, Session] = {}
        self.order = order
        self.loaded = False

    def load(self, sessions: list[Session]) -> None:
        """Replace everything with a fresh listing (after a (re)connect)."""
        self._sessions = {s.id: s for s in sessions}
        self.loaded = True

    def update(self, session: Session) -> None:
        self._sessions[session.id] = session

    def remove(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def get(self, session_id: str | None) -> Session | None:
        return self._sessions.get(session_id or "")

    def ordered(self) -> list[Session]:
        """Who needs the person first (`attention_order`), as `podium ls` lists them."""
        return attention_order(list(self._sessions.values()), self.order)

    def waiting(self) -> list[Session]:
        """Sessions with an open item, in order: where `podium next` goes, first first."""
        return waiting_first(list(self._sessions.values()), self.order)

    def oldest_waiting(self) -> Session | None:
        """The first session with an open item (what `podium next` picks)."""
        first = self.waiting()
        return first[0] if first else None

    def __len__(self) -> int:
        return len(self._sessions)
