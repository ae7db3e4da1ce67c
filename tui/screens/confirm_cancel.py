"""Asks before a task is cancelled: it goes with every open task under it, and a running
one's run is stopped."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label

from tui.screens.dialog import Dialog


def cancel_question(task_id: int, under: int, *, ended: bool = False) -> str:
    """'Cancel task 3 and the 2 open tasks under it?'; of a task that `ended` (a done
    lead), only what is still open under it goes: 'Cancel the 2 open tasks under task 3?'"""
    if not under:
        return f"Cancel task {task_id}?"
    tasks = "open task" if under == 1 else f"{under} open tasks"
    if ended:
        return f"Cancel the {tasks} under task {task_id}?"
    return f"Cancel task {task_id} and the {tasks} under it?"


class ConfirmCancel(Dialog[bool | None]):
    """True: cancel it; False or None (n, Esc, Keep): leave it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "cancel it"),
        Binding("n", "keep", "keep"),
    ]

    def __init__(self, task_id: int, prompt_head: str, under: int, *, ended: bool = False) -> None:
        super().__init__()
        self.task_id = task_id
        self.prompt_head = prompt_head
        self.under = under
        self.ended = ended  # the task itself is over: only its open subtasks go

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(
                cancel_question(self.task_id, self.under, ended=self.ended), classes="title"
            )
            yield Label(self.prompt_head)
            yield Label(
                "A running one is stopped; a cancelled task can be queued again with "
                "`podium queue retry`. y cancels, n or Esc keeps it.",
                classes="hint",
            )
            with Horizontal(classes="buttons"):
                yield Button("Keep", id="keep")
                yield Button("Cancel it", variant="error", id="confirm")

    def on_mount(self) -> None:
        # Keep is focused: Enter on a reflex does not cancel.
        self.query_one("#keep", Button).focus()

    @on(Button.Pressed, "#keep")
    def action_keep(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)
