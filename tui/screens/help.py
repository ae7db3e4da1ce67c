"""Help: the keys as configured, what the state glyphs and colours mean, where to remap."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from collectors.settings import KeySettings, field_docs
from tui.screens.dialog import Dialog
from tui.widgets.session_row import GLYPHS

_KEY_NAMES = {
    "question_mark": "?",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "enter": "Enter",
    "space": "Space",
    "tab": "Tab",
    "escape": "Esc",
}

STATE_MEANINGS = {
    "waiting": "finished its turn: your move",
    "seen": "finished its turn, you looked: still your move",
    "permission": "asks permission for a tool",
    "limited": "hit a usage limit (↻ when it resets)",
    "busy": "working",
    "retrying": "Claude Code retries a failed API call (attempt n/10)",
    "starting": "starting up",
    "idle": "nothing asked of it, nothing running",
    "exited": "its program ended (exit code)",
    "lost": "its pane is gone",
}


def key_text(keys: str) -> str:
    """'tab,space' → 'Tab Space'; 'ctrl+p' → '^p'."""
    out = []
    for key in (k.strip() for k in keys.split(",")):
        key = _KEY_NAMES.get(key, key)
        out.append("^" + key[5:] if key.startswith("ctrl+") else key)
    return " ".join(out)


def help_content(keys: KeySettings) -> Content:
    lines: list[Content] = [Content.styled("Keys", "bold $accent")]
    for name, _default, doc in field_docs(KeySettings):
        lines.append(Content.assemble((f"  {key_text(getattr(keys, name)):<12}", "bold"), doc))
    lines.append(Content(""))
    lines.append(Content.styled("States", "bold $accent"))
    for state, meaning in STATE_MEANINGS.items():
        colour = f"$state-{state}"
        lines.append(
            Content.assemble(
                "  ", (GLYPHS[state], f"bold {colour}"), " ", (f"{state:<11}", colour), meaning
            )
        )
    lines.append(Content(""))
    lines.append(
        Content.assemble(
            ("Waiting sessions come first, longest wait on top; ", "$text-muted"),
            ("then busy ones, then the rest.", "$text-muted"),
        )
    )
    lines.append(
        Content.styled(
            'Change a key in the config file\'s [keys] section, e.g. next = "tab,space". '
            "Leaving the tower (q) never stops a session.",
            "$text-muted",
        )
    )
    return Content("\n").join(lines)


class HelpScreen(Dialog[None]):
    DEFAULT_CSS = """
    HelpScreen > #dialog {
        width: 84;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "cancel", "close"),
    ]

    def __init__(self, keys: KeySettings) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static("podium control tower", classes="title")
            yield Static(help_content(self.keys))
