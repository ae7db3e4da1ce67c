"""Asks before a kill: the agent stops and its pane closes."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Label

from sessions import wire
from tui.screens.dialog import Dialog


class ConfirmKill(Dialog[bool | None]):
    """Returns the `cleanup` choice (False when the session has no worktree), or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "kill", "kill"),
        Binding("n", "cancel", "keep"),
    ]

    def __init__(self, session: wire.Session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        name = self.session.name
        with Vertical(id="dialog"):
            yield Label(f"Kill {name}?", classes="title")
            yield Label(
                f"Its agent ({self.session.agent}) stops and its pane closes. "
                "Its history stays in podium's log."
            )
            if self.session.worktree_path:
                yield Checkbox(
                    f"also remove its worktree {self.session.worktree_path} "
                    "(only if it has no changes)",
                    id="cleanup",
                )
            yield Label("y kills, n or Esc keeps it", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Keep", id="keep")
                yield Button("Kill", variant="error", id="kill")

    def on_mount(self) -> None:
        # Keep is focused: Enter on a reflex does not kill.
        self.query_one("#keep", Button).focus()

    @on(Button.Pressed, "#keep")
    def _keep(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#kill")
    def action_kill(self) -> None:
        boxes = self.query("#cleanup")
        self.dismiss(bool(boxes and boxes.first(Checkbox).value))
