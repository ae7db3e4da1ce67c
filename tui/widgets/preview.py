"""A live look at the selected session's screen, when it is not on stage.

`tmux capture-pane -p -e` runs in a thread worker once a second, only while
the preview is shown and its screen is the current one; the capture becomes
Rich text (`Text.from_ansi`) off the app's thread and comes back as a message,
and drawing keeps the bottom lines that fit.

Blank lines are squeezed first: Claude Code keeps its prompt box at the bottom
of a tall pane with its last answer near the top, and the bottom lines of such a
screen would be the gap and the box, not what the agent said.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

from sessions import wire
from tui.tmux_query import TmuxReadError, tmux_read

REFRESH_S = 1.0


def parse_capture(raw: str) -> Text:
    """A capture as Rich text: trailing blank lines dropped (an agent's screen is
    often mostly empty below its prompt), and every run of blank lines made one."""
    lines = Text.from_ansi(raw.rstrip("\n")).split("\n")
    kept: list[Text] = []
    for line in lines:
        blank = not line.plain.strip()
        if blank and (not kept or not kept[-1].plain.strip()):
            continue  # leading blanks, or a blank after a blank
        kept.append(line)
    while kept and not kept[-1].plain.strip():
        kept.pop()
    return Text("\n").join(kept)


def bottom_lines(text: Text, height: int) -> Text:
    """The last `height` lines: the newest output and the agent's prompt are at the bottom."""
    lines = text.split("\n")
    if len(lines) <= height:
        return text
    return Text("\n").join(lines[-max(1, height) :])


def capture_pane(socket: str, pane_id: str) -> str:
    """The pane's screen with its colours; blocking (a tmux command)."""
    return tmux_read(socket, "capture-pane", "-p", "-e", "-t", pane_id)


class Preview(Widget):
    """Shows one session's screen; `show(session)` starts it, `show(None)` hides it."""

    DEFAULT_CSS = """
    Preview {
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        padding: 0 1;
        /* An agent's pane is wider than the tower: cut its lines, do not fold them. */
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    class Captured(Message):
        def __init__(self, pane_id: str, raw: str, text: Text | str) -> None:
            super().__init__()
            self.pane_id = pane_id
            self.raw = raw
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session: wire.Session | None = None
        self.text: Text | str = ""
        # The last capture as tmux gave it: an unchanged screen is not drawn again.
        self.raw = ""
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self._timer = self.set_interval(REFRESH_S, self._tick, pause=True)
        self.display = False

    def show(self, session: wire.Session | None) -> None:
        """Preview `session` (None hides the preview)."""
        pane = session.pane_id if session else None
        same = self.session is not None and session is not None and (self.session.pane_id == pane)
        self.session = session
        if session is None:
            self.display = False
            if self._timer is not None:
                self._timer.pause()
            return
        self.border_title = f"{session.name} · {pane or 'no pane'}"
        self.display = True
        if not same:
            self.raw = ""
            self.text = "" if pane else Text("this session has no pane any more", style="dim")
            self.refresh()
            self._tick()
        if self._timer is not None:
            self._timer.resume()

    def _tick(self) -> None:
        session = self.session
        if session is None or not self.display or not self.screen.is_current:
            return
        pane, socket = session.pane_id, session.tmux_socket
        if not pane or not socket or session.state == "lost":
            return
        previous = self.raw
        self.app.run_worker(
            lambda: self._capture(socket, pane, previous),
            name="preview capture",
            group="preview",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _capture(self, socket: str, pane: str, previous: str) -> None:
        try:
            raw = capture_pane(socket, pane)
        except TmuxReadError as exc:
            raw = f"cannot show {pane}: {exc}"
            self.post_message(self.Captured(pane, raw, Text(raw, style="dim")))
            return
        if raw != previous:
            self.post_message(self.Captured(pane, raw, parse_capture(raw)))

    def on_preview_captured(self, message: Captured) -> None:
        session = self.session
        if session and session.pane_id == message.pane_id and message.raw != self.raw:
            self.raw, self.text = message.raw, message.text
            self.refresh()

    def render(self) -> Text | str:
        if isinstance(self.text, Text):
            return bottom_lines(self.text, self.content_region.height)
        return self.text
