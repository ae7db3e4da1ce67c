"""The session list: one row per session, in attention order, with a cursor.

The cursor follows a session, not a position: when the order changes (a
session starts waiting and moves up), the same session stays selected. The
list takes no keys itself; the main screen's bindings drive it, so every key
is remappable in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from textual import events
from textual.content import Content
from textual.geometry import Region
from textual.message import Message
from textual.widget import Widget

from sessions.wire import Session
from tui.widgets.session_row import Widths, header_content, row_cells, row_content


class SessionList(Widget):
    """Rows of sessions; `set_sessions` replaces them, `move` and `select` drive the cursor."""

    DEFAULT_CSS = """
    SessionList {
        height: auto;
        padding: 0 1;
    }
    """

    class Selected(Message):
        """The selected session changed (or its data did); None when the list is empty."""

        def __init__(self, session: Session | None) -> None:
            super().__init__()
            self.session = session

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.sessions: list[Session] = []
        self.selected_id: str | None = None
        # Shown instead of rows when there are none (set by the screen: first run,
        # connecting, …).
        self.empty_text: Content = Content("")
        self._drawn: tuple[object, ...] = ()

    # -- data ----------------------------------------------------------------------
    @property
    def selected(self) -> Session | None:
        for session in self.sessions:
            if session.id == self.selected_id:
                return session
        return None

    @property
    def index(self) -> int | None:
        for i, session in enumerate(self.sessions):
            if session.id == self.selected_id:
                return i
        return None

    def set_sessions(self, sessions: list[Session]) -> None:
        before = self.selected
        self.sessions = sessions
        if self.selected is None:
            # The selected session went away: keep the cursor where it was.
            old = 0
            if before is not None and before in sessions:
                old = sessions.index(before)
            self.selected_id = sessions[min(old, len(sessions) - 1)].id if sessions else None
        after = self.selected
        if after is not before:
            self.post_message(self.Selected(after))
        self.refresh(layout=True)

    def set_empty_text(self, text: Content) -> None:
        self.empty_text = text
        self.refresh(layout=True)

    def select(self, session_id: str) -> None:
        if session_id != self.selected_id and any(s.id == session_id for s in self.sessions):
            self.selected_id = session_id
            self._cursor_moved()

    def move(self, delta: int) -> None:
        index = self.index
        if index is None or not self.sessions:
            return
        new = max(0, min(len(self.sessions) - 1, index + delta))
        if new != index:
            self.selected_id = self.sessions[new].id
            self._cursor_moved()

    def _cursor_moved(self) -> None:
        self.refresh()
        self.post_message(self.Selected(self.selected))
        index = self.index
        if index is not None and isinstance(self.parent, Widget):
            # Row `index` is line index + 1 (the header); keep it in view.
            self.parent.scroll_to_region(
                Region(0, self.virtual_region.y + index + 1, 1, 1), animate=False
            )

    # -- drawing ---------------------------------------------------------------------
    def tick(self) -> None:
        """Redraw if the clock changed what a row says (a wait went from 41s to 42s);
        most seconds nothing does, and an idle tower then draws nothing."""
        if self._signature(self.clock()) != self._drawn:
            self.refresh()

    def _signature(self, now: datetime) -> tuple[object, ...]:
        return tuple(row_cells(s, now) for s in self.sessions)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        if not self.sessions:
            return max(1, len(self.empty_text.plain.splitlines()))
        return len(self.sessions) + 1

    def render(self) -> Content:
        if not self.sessions:
            return self.empty_text
        now = self.clock()
        rows = [row_cells(s, now) for s in self.sessions]
        self._drawn = tuple(rows)
        widths = Widths.fit(rows, self.content_region.width or self.size.width)
        lines = [header_content(widths)]
        for session, row in zip(self.sessions, rows, strict=True):
            line = row_content(row, widths)
            if session.id == self.selected_id:
                line = line.pad_right(max(0, self.size.width - line.cell_length)).stylize(
                    "on $primary 25%"
                )
            lines.append(line)
        return Content("\n").join(lines)

    def on_click(self, event: events.Click) -> None:
        row = event.y - 1  # the header is line 0
        if 0 <= row < len(self.sessions):
            self.select(self.sessions[row].id)
