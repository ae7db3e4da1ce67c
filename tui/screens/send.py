"""The send dialog: a line of text for the selected session."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label

from tui.screens.dialog import Dialog, titled


class SendDialog(Dialog[tuple[str, bool] | None]):
    """Returns (text, press Enter after it) or None."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.session_name = name

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Send to {self.session_name}", classes="title")
            yield titled(Input(id="text"), "text to type")
            yield Checkbox("press Enter after it", value=True, id="enter")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Send", variant="primary", id="send")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#send")
    def _send(self) -> None:
        text = self.query_one("#text", Input).value
        enter = self.query_one("#enter", Checkbox).value
        if text or enter:
            self.dismiss((text, enter))
