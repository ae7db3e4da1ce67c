"""The background-queue screen: tasks with state, priority, schedule, budget and last result.

a adds a task, c cancels the selected one, + and - change its priority.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Static

from sessions import wire
from tui.engine_api import (
    budget_text,
    queue_add,
    queue_cancel,
    queue_list,
    queue_reprioritise,
)
from tui.messages import QueueChanged
from tui.screens.wide import WideScreen

COLUMNS: tuple[tuple[str, Callable[[wire.Task], object]], ...] = (
    ("id", lambda t: t.id),
    ("state", lambda t: t.state),
    ("priority", lambda t: t.priority),
    ("schedule", lambda t: t.schedule_text or None),
    ("budget", budget_text),
    ("last result", lambda t: t.last_result),
    ("task", lambda t: t.prompt),
)
EMPTY = "The queue is empty. Press a to add a task."


def task_cells(task: wire.Task) -> list[str]:
    cells = []
    for _title, value_of in COLUMNS:
        value = value_of(task)
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
        self.tasks: list[wire.Task] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="queue-body"):
            yield Static("Background queue", classes="section")
            table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns(*(title for title, _value in COLUMNS))
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

    def on_queue_changed(self, message: QueueChanged) -> None:
        # A task added from the shell, a run that started or ended: show it now.
        message.stop()
        self.action_reload()

    def show(self, tasks: list[wire.Task]) -> None:
        note = self.query_one("#note", Static)
        table = self.query_one(DataTable)
        table.clear()
        self.tasks = tasks
        for task in self.tasks:
            table.add_row(*task_cells(task), key=str(task.id))
        if not self.tasks:
            note.update(EMPTY)
        note.display = not self.tasks

    def _selected(self) -> wire.Task | None:
        table = self.query_one(DataTable)
        if not self.tasks or table.cursor_row is None:
            return None
        return self.tasks[min(table.cursor_row, len(self.tasks) - 1)]

    def action_add(self) -> None:
        # Imported when first opened, so the tower starts without it.
        from tui.screens.add_task import AddTaskDialog

        def chosen(task: wire.QueueAddParams | None) -> None:
            if task:
                self._link.run(
                    "queue add",
                    lambda request: queue_add(request, task),
                    lambda _r: self.action_reload(),
                )

        self.app.push_screen(AddTaskDialog(), chosen)

    def action_cancel_task(self) -> None:
        task = self._selected()
        if task is not None:
            task_id = task.id
            self._link.run(
                "queue cancel",
                lambda request: queue_cancel(request, task_id),
                lambda _r: self.action_reload(),
            )

    def action_priority(self, delta: int) -> None:
        task = self._selected()
        if task is not None:
            task_id, priority = task.id, task.priority + delta
            self._link.run(
                "queue reprioritise",
                lambda request: queue_reprioritise(request, task_id, priority),
                lambda _r: self.action_reload(),
            )
