"""Help: the keys as configured (the tower's and podium's tmux keys), what the state
glyphs and colours mean, where to remap.

Like every dialog it zooms the tower's pane to the stage window's width while it
is up. `help_sections` is what it says, as plain rows (tested without a screen).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from collectors.settings import CuesSettings, KeySettings, field_docs
from sessions.cues import SESSION_KEYS
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
_TMUX_MODIFIERS = {"M": "Alt", "C": "Ctrl", "S": "Shift"}

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

Row = tuple[str, str]


def key_text(keys: str) -> str:
    """'tab,space' → 'Tab Space'; 'ctrl+p' → '^p'."""
    out = []
    for key in (k.strip() for k in keys.split(",")):
        key = _KEY_NAMES.get(key, key)
        out.append("^" + key[5:] if key.startswith("ctrl+") else key)
    return " ".join(out)


def tmux_key_text(key: str) -> str:
    """A tmux key name as a person reads it: 'M-Space' → 'Alt-Space', 'C-M-a' →
    'Ctrl-Alt-a'."""
    parts = key.split("-")
    mods: list[str] = []
    while len(parts) > 1 and parts[0] in _TMUX_MODIFIERS and parts[1]:
        mods.append(_TMUX_MODIFIERS[parts.pop(0)])
    return "-".join([*mods, "-".join(parts)])


def tower_rows(keys: KeySettings) -> list[Row]:
    """The tower's keys, as configured, with their `[keys]` docstrings."""
    return [(key_text(getattr(keys, name)), doc) for name, _default, doc in field_docs(KeySettings)]


def tmux_rows(cues: CuesSettings) -> list[Row]:
    """The keys podium binds in its own tmux (no prefix), as configured in `[cues]`."""
    rows: list[Row] = []
    if cues.keys:
        rows.append(
            (
                tmux_key_text(cues.next_key),
                "Jump to the session that needs you first, from any pane",
            )
        )
        rows.append(
            (
                tmux_key_text(cues.tower_key),
                "Back to the control tower; after q it starts the tower again",
            )
        )
        if cues.session_keys:
            rows.append(
                (
                    f"Alt-1…{SESSION_KEYS}",
                    "Session 1…9 (its # in the list and on its pane's border); "
                    "a parked one comes on stage",
                )
            )
    else:
        rows.append(("none", "podium binds no tmux keys here ([cues] keys = false)"))
    if cues.mouse:
        rows.append(("click", "Select a pane; in the tower, a session's row"))
    return rows


def help_sections(keys: KeySettings, cues: CuesSettings) -> list[tuple[str, list[Row]]]:
    """(title, rows of (key, what it does)) for each part of the help."""
    return [
        ("Keys in the tower", tower_rows(keys)),
        ("Keys anywhere in podium's tmux", tmux_rows(cues)),
    ]


def state_content(state: str) -> Content:
    colour = f"$state-{state}"
    return Content.assemble((GLYPHS[state], f"bold {colour}"), " ", (state, colour))


class HelpScreen(Dialog[None]):
    DEFAULT_CSS = """
    HelpScreen > #dialog {
        width: 90;
    }
    HelpScreen .section {
        text-style: bold;
        color: $accent;
        margin-top: 1;
    }
    HelpScreen Grid {
        grid-size: 2;
        grid-columns: 14 1fr;
        grid-rows: auto;
        height: auto;
        padding-left: 2;
    }
    HelpScreen .key {
        text-style: bold;
    }
    HelpScreen .note {
        color: $text-muted;
        margin-top: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "cancel", "close"),
    ]

    def __init__(self, keys: KeySettings, cues: CuesSettings) -> None:
        super().__init__()
        self.keys = keys
        self.cues = cues

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static("podium control tower", classes="title")
            for title, rows in help_sections(self.keys, self.cues):
                yield Static(title, classes="section")
                with Grid():
                    for key, doc in rows:
                        # Content, not markup: a doc may hold `[keys]`.
                        yield Static(Content(key), classes="key")
                        yield Static(Content(doc))
            yield Static("States", classes="section")
            with Grid(id="states"):
                for state, meaning in STATE_MEANINGS.items():
                    yield Static(state_content(state))
                    yield Static(meaning)
            yield Static(
                Content(
                    "Waiting sessions come first, longest wait on top; then busy ones, then "
                    "the rest. ▸ marks the sessions on stage beside the tower; the others "
                    "wait parked, each in a window of its own.\n"
                    'Change a key in the config file\'s [keys] section, e.g. next = "tab,space", '
                    "and podium's tmux keys in [cues]. Leaving the tower (q) never stops a "
                    "session."
                ),
                classes="note",
            )
