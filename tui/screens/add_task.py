"""Adding a background task: prompt, directory, priority, schedule, budget."""

from __future__ import annotations

import os

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from sessions import wire
from tui.screens.dialog import Dialog, titled
from tui.screens.path_suggester import DirectorySuggester


class AddTaskDialog(Dialog[wire.QueueAddParams | None]):
    """Returns the parameters of `queue.add`, or None."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Add a background task", classes="title")
            yield titled(Input(id="prompt"), "prompt")
            yield titled(Input(os.getcwd(), suggester=DirectorySuggester(), id="cwd"), "directory")
            yield titled(Input("0", id="priority", type="integer"), "priority (higher runs first)")
            yield titled(
                Input(placeholder="empty: whenever capacity is spare", id="schedule"), "schedule"
            )
            yield titled(Input(placeholder="e.g. 5%week, 30%5h, 200k or $2", id="budget"), "budget")
            yield Label("", classes="problem", id="error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Add", variant="primary", id="add")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#add")
    def _add(self) -> None:
        prompt = self.query_one("#prompt", Input).value.strip()
        if not prompt:
            self.query_one("#error", Label).update("a prompt is needed")
            return
        self.dismiss(
            wire.QueueAddParams(
                prompt=prompt,
                cwd=os.path.abspath(os.path.expanduser(self.query_one("#cwd", Input).value)),
                priority=int(self.query_one("#priority", Input).value or 0),
                schedule=self.query_one("#schedule", Input).value.strip() or None,
                budget=self.query_one("#budget", Input).value.strip() or None,
            )
        )
