"""The session list: one row per session, in attention order, with a cursor.

The cursor follows a session, not a position: when the order changes (a
session starts waiting and moves up), the same session stays selected; when
it leaves the list, the cursor stays on its line. Exited sessions are hidden
as in `podium ls` (a line under the rows says how many) until `show_exited`.
The list takes no keys itself; the main screen's bindings drive it, so every
key is remappable in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.cells import cell_len, set_cell_size
from textual import events
from textual.content import Content
from textual.geometry import Region
from textual.message import Message
from textual.widget import Widget

from sessions.state import State
from sessions.wire import Session
from tui.widgets.session_row import Widths, header_content, row_cells, row_content


def _hidden(session: Session) -> bool:
    return session.state == State.EXITED


class SessionList(Widget):
    """Rows of sessions; `set_sessions` replaces them, `move` and `select` drive the cursor."""

    DEFAULT_CSS = """
    SessionList {
        height: auto;
        /* No left padding: a row's first cell is the on-stage mark, blank when parked. */
        padding: 0 1 0 0;
        /* Rows are fitted to the width; should one not be, it is cut, never folded. */
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    class Selected(Message):
        """The selected session changed (or its data did); None when the list is empty."""

        def __init__(self, session: Session | None) -> None:
            super().__init__()
            self.session = session

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        on_stage: Callable[[Session], bool] = lambda _session: False,
        id: str | None = None,
    ) -> None:
        """`on_stage`: whether a session stands beside the tower now (its row is marked)."""
        super().__init__(id=id)
        self.clock = clock
        self.on_stage = on_stage
        # Every session the engine listed, and the ones shown (exited ones hidden).
        self.listed: list[Session] = []
        self.sessions: list[Session] = []
        self.show_exited = False
        # Said under the rows while exited sessions are hidden (set by the screen:
        # it knows the key that shows them).
        self.hidden_text = "{n} exited hidden"
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

    @property
    def hidden(self) -> int:
        """How many sessions the list hides now."""
        return len(self.listed) - len(self.sessions)

    def set_sessions(self, sessions: list[Session]) -> None:
        self.listed = sessions
        self._show(sessions if self.show_exited else [s for s in sessions if not _hidden(s)])

    def set_show_exited(self, show: bool) -> None:
        self.show_exited = show
        self.set_sessions(self.listed)

    def _show(self, sessions: list[Session]) -> None:
        before, old = self.selected, self.index
        self.sessions = sessions
        if self.selected is None:
            # The selected session went away (or was hidden): the cursor stays on its line.
            line = min(old or 0, len(sessions) - 1)
            self.selected_id = sessions[line].id if sessions else None
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
        return tuple(row_cells(s, now, staged=self.on_stage(s)) for s in self.sessions)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        note = 1 if self.hidden else 0
        if not self.sessions:
            return max(1, len(self.empty_text.plain.splitlines())) + note
        return len(self.sessions) + 1 + note

    def render(self) -> Content:
        width = self.content_region.width or self.size.width
        note = self._hidden_note(width)
        if not self.sessions:
            # Indented as the rows' names are (the list has no left padding).
            lines = [Content(" ") + line for line in self.empty_text.split(allow_blank=True)]
            return Content("\n").join([*lines, note] if note else lines)
        rows = self._signature(self.clock())
        self._drawn = rows
        widths = Widths.fit(list(rows), width)
        lines = [header_content(widths)]
        for session, row in zip(self.sessions, rows, strict=True):
            line = row_content(row, widths)
            if session.id == self.selected_id:
                line = line.pad_right(max(0, self.size.width - line.cell_length)).stylize(
                    "on $primary 25%"
                )
            lines.append(line)
        if note:
            lines.append(note)
        return Content("\n").join(lines)

    def _hidden_note(self, width: int) -> Content | None:
        if not self.hidden:
            return None
        text = self.hidden_text.format(n=self.hidden)
        if cell_len(text) > width:
            text = set_cell_size(text, max(0, width - 1)) + "…"
        return Content.styled(text, "dim")

    def on_click(self, event: events.Click) -> None:
        row = event.y - 1  # the header is line 0
        if 0 <= row < len(self.sessions):
            self.select(self.sessions[row].id)
