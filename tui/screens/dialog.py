"""What every dialog shares: a centred box on a dimmed screen; Escape cancels."""

from __future__ import annotations

from typing import ClassVar, TypeVar

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

    def action_cancel(self) -> None:
        self.dismiss(None)
