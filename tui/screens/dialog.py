"""What every dialog shares: a centred box on a dimmed screen; Escape cancels.

A dialog zooms the tower's pane to the stage window's width while it is up (as
the usage and queue screens do: `PodiumApp.want_zoom`), so its fields are never
squeezed into the tower's quarter of the window.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar, cast

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widget import Widget

T = TypeVar("T")
W = TypeVar("W", bound=Widget)


def titled(widget: W, title: str) -> W:
    """A field's name in its border: it stays visible once the field has a value."""
    widget.border_title = title
    return widget


class Dialog(ModalScreen[T]):
    DEFAULT_CSS = """
    Dialog {
        align: center middle;
    }
    Dialog > #dialog {
        width: 72;
        max-width: 95%;
        height: auto;
        max-height: 95%;
        /* A short terminal (80x24) cannot show a whole dialog: it scrolls, and the
           focused field scrolls into view. */
        overflow-y: auto;
        border: round $primary;
        background: $surface;
        padding: 1 2;
    }
    Dialog Label {
        /* A fixed width lets a long sentence wrap instead of being cut. */
        width: 100%;
    }
    Dialog .title {
        text-style: bold;
        margin-bottom: 1;
    }
    Dialog .hint {
        color: $text-muted;
        margin-top: 1;
    }
    Dialog .problem {
        color: $error;
        height: auto;
    }
    Dialog .buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    Dialog .buttons Button {
        margin-left: 2;
    }
    Dialog Input, Dialog Select, Dialog Checkbox {
        border-title-color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def on_screen_resume(self) -> None:
        cast(Any, self.app).want_zoom(True)

    def on_mount(self) -> None:
        # Focusing the first field scrolls a dialog that is taller than the terminal
        # past its title; it is near the top, so the top shows both.
        self.call_after_refresh(self._show_top)

    def _show_top(self) -> None:
        for box in self.query("#dialog"):
            box.scroll_home(animate=False)

    def action_cancel(self) -> None:
        self.dismiss(None)
