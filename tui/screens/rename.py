"""The rename dialog."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from tui.screens.dialog import Dialog


class RenameDialog(Dialog[str | None]):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.session_name = name

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Rename {self.session_name}", classes="title")
            yield Input(self.session_name, id="new-name")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Rename", variant="primary", id="rename")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#rename")
    def _rename(self) -> None:
        value = self.query_one("#new-name", Input).value.strip()
        self.dismiss(value or None)
