"""The background-queue screen: tasks with state, priority, schedule, budget and last result.

a adds a task, c cancels the selected one, + and - change its priority. The
queue comes with issue 6; an engine without it gets a sentence, not an error.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Static

from tui.engine_api import (
    UNAVAILABLE,
    queue_add,
    queue_cancel,
    queue_list,
    queue_reprioritise,
)
from tui.screens.wide import WideScreen

COLUMNS = (
    ("id", ("id",)),
    ("state", ("state",)),
    ("priority", ("priority",)),
    ("schedule", ("schedule", "not_before", "when")),
    ("budget", ("budget", "budget_pct", "budget_tokens")),
    ("last result", ("last_result", "result")),
    ("task", ("name", "prompt", "title")),
)
NO_QUEUE = (
    "This engine has no background queue yet. It will run prompts in the capacity your "
    "subscription would otherwise leave unused, without touching the share you keep."
)
EMPTY = "The queue is empty. Press a to add a task."


def task_cells(task: dict[str, Any]) -> list[str]:
    cells = []
    for _title, keys in COLUMNS:
        value = next((task[k] for k in keys if task.get(k) is not None), None)
        text = "-" if value is None else str(value)
        cells.append(text if len(text) <= 40 else text[:39] + "…")
    return cells


class BackgroundScreen(WideScreen):
    DEFAULT_CSS = """
    BackgroundScreen #queue-body {
        padding: 0 1;
    }
    BackgroundScreen .section {
        text-style: bold;
        color: $accent;
    }
    BackgroundScreen .note {
        color: $text-muted;
        margin-top: 1;
    }
    BackgroundScreen DataTable {
        height: 1fr;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("a", "add", "add"),
        Binding("c", "cancel_task", "cancel task"),
        Binding("plus,equals_sign", "priority(1)", "priority +"),
        Binding("minus", "priority(-1)", "priority -"),
        Binding("r", "reload", "reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[dict[str, Any]] = []
        self.available = True

    def compose(self) -> ComposeResult:
        with Vertical(id="queue-body"):
            yield Static("Background queue", classes="section")
            table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns(*(title for title, _keys in COLUMNS))
            yield table
            yield Static("asking the engine…", classes="note", id="note")
        yield Footer()

    @property
    def _link(self) -> Any:
        return cast(Any, self.app).link

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._link.run("queue list", queue_list, self.show)

    def show(self, tasks: list[dict[str, Any]] | Any) -> None:
        note = self.query_one("#note", Static)
        table = self.query_one(DataTable)
        table.clear()
        self.available = tasks is not UNAVAILABLE
        self.tasks = tasks if self.available else []
        for task in self.tasks:
            table.add_row(*task_cells(task), key=str(task.get("id")))
        if not self.available:
            note.update(NO_QUEUE)
        elif not self.tasks:
            note.update(EMPTY)
        note.display = not self.tasks

    def _selected(self) -> dict[str, Any] | None:
        table = self.query_one(DataTable)
        if not self.tasks or table.cursor_row is None:
            return None
        return self.tasks[min(table.cursor_row, len(self.tasks) - 1)]

    def action_add(self) -> None:
        from tui.screens.add_task import AddTaskDialog

        if not self.available:
            self.notify(NO_QUEUE, severity="warning")
            return

        def chosen(task: dict[str, Any] | None) -> None:
            if task:
                self._link.run(
                    "queue add",
                    lambda call: queue_add(call, **task),
                    lambda _r: self.action_reload(),
                )

        self.app.push_screen(AddTaskDialog(), chosen)

    def action_cancel_task(self) -> None:
        task = self._selected()
        if task is not None:
            task_id = task.get("id")
            self._link.run(
                "queue cancel",
                lambda call: queue_cancel(call, task_id),
                lambda _r: self.action_reload(),
            )

    def action_priority(self, delta: int) -> None:
        task = self._selected()
        if task is not None:
            task_id, priority = task.get("id"), int(task.get("priority") or 0) + delta
            self._link.run(
                "queue reprioritise",
                lambda call: queue_reprioritise(call, task_id, priority),
                lambda _r: self.action_reload(),
            )
