"""The background-queue screen: fill on or off and the reserve in force, the tasks
with what each waits for, and the selected task whole.

The engine says why each open task waits (`queue.list {explain: true}`: the fill
policy's own reasons, `sessions/fill/held.py`); the table names it in a word or
two, the pane below the table gives the whole reason and the whole prompt.
a adds a task, c cancels the selected one and the tasks under it (it asks first),
p pauses it and them (or resumes), + and - change its priority, f switches fill, t
shows the tasks as trees (`tui/widgets/task_tree.py`: each task's subtasks under it,
with their spend against its budget) or as the list again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, cast

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Footer, Static

from collectors.durations import duration
from sessions import wire
from tui.engine_api import (
    budget_text,
    queue_add,
    queue_cancel,
    queue_list,
    queue_pause,
    queue_reprioritise,
    queue_resume,
    queue_tree,
    toggle_fill,
)
from tui.format import clock, usd
from tui.keys import binding_id, first_key
from tui.messages import QueueChanged
from tui.screens.wide import WideScreen
from tui.widgets.task_tree import TaskTree
from tui.widgets.text_table import clip

HEADERS = ("#", "STATE", "PRI", "WHEN", "BUDGET", "WAITS FOR", "TASK")
EMPTY = "The queue is empty. Press a to add a task."
EMPTY_TREES = "No open tasks. Press a to add one, t for the list."
# The reasons move with the clock (a scheduled time comes, a reset passes): while the
# screen is up, the queue is read again this often, beside every queue and fill event.
REFRESH_S = 30.0
# While the trees are shown and a task runs, its spend moves: read them this often.
TREE_REFRESH_S = 5.0
TASK_MIN = 12
# States a task is open in (cancel takes these under it).
OPEN = ("queued", "running", "deferred", "paused", "recurring")


def waits_for(held: wire.Held | None, now: datetime) -> str:
    """What a task waits for, in a word or two (the detail pane has the reason)."""
    if held is None:
        return "-"
    at = clock(held.until, now) if held.until else ""
    return {
        "fill_off": "fill on",
        "scheduled": at or "its time",
        "night": "the night",
        "day": "the day",
        "deadline": "(past deadline)",
        "deferred": f"until {at}" if at else "a retry",
        "cron": f"cron {at}".strip(),
        "on_change": "a change",
        "on_event": "an event",
        "behind": "its turn",
        "limit": "limit reset",
        "busy": "you to pause",
        "cap": "a run slot",
        "reserve": "room (reserve)",
        "pacing": "weekly pace",
        "night_budget": "night budget",
        "spare": "starting",
        "after": "other tasks",
        "held": "a stopped task",
        "paused": "you (paused)",
    }.get(held.kind, held.kind)


def state_text(task: wire.Task) -> str:
    """The task's state; a run in Claude Code's retry loop shows as 'retrying 3/10'."""
    retry = task.last_run.retrying if task.last_run and task.state == "running" else None
    if retry is not None:
        return f"retrying {retry.attempt}/{retry.max_retries}"
    return task.state


def rule_text(rule: wire.ReserveRule) -> str:
    """'30% mon-fri 09:00-19:00'; a rule for all times: 'otherwise 5%'."""
    when = " ".join(
        part
        for part in (rule.days, f"{rule.start or '00:00'}-{rule.end or '24:00'}")
        if part and part != "00:00-24:00"
    )
    return f"{rule.five_hour_pct:g}% {when}" if when else f"otherwise {rule.five_hour_pct:g}%"


def fill_line(listed: wire.QueueList, now: datetime, fill_key: str) -> Content:
    """Fill on or off, and what it keeps for you."""
    fill = listed.fill
    if fill.enabled:
        until = f" until {clock(fill.until, now)}" if fill.until else ""
        state = Content.assemble(("fill on", "bold $success"), until)
    else:
        state = Content.assemble(("fill off", "bold $warning"), f" ({fill_key} switches it on)")
    if fill.nightly:
        state = Content.assemble(state, f", on every night {fill.night}")
    reserve = listed.reserve
    if reserve is None:
        return state
    kept = (
        f" · {reserve.pct:g}% of the 5-hour window kept for you until "
        f"{clock(reserve.window_end, now)}"
    )
    if reserve.source == "fill":
        why = "podium fill --reserve"
    elif reserve.source == "config":
        why = "[fill] reserve_pct"
    else:
        why = "schedule: " + ", ".join(rule_text(r) for r in reserve.rules)
        if reserve.now_pct != reserve.pct:
            why = f"{reserve.now_pct:g}% now; {why}"
    return Content.assemble(state, kept, (f" ({why})", "$foreground-muted"))


# The prompt's lines the detail shows: a team lead's protocol runs to some 40, which
# pushed the facts under it out of an 80×24 view.
PROMPT_LINES = 10


def _prompt_lines(task: wire.Task) -> list[Content]:
    rows = task.prompt.strip("\n").splitlines()
    if len(rows) <= PROMPT_LINES:
        return [Content(task.prompt)]
    more = len(rows) - PROMPT_LINES
    rest = f"… {more} more line{'s' if more != 1 else ''} (podium queue show {task.id})"
    return [Content("\n".join(rows[:PROMPT_LINES])), Content.styled(rest, "$foreground-muted")]


def task_detail(task: wire.Task, held: wire.Held | None, now: datetime) -> Content:
    """The selected task whole: its prompt, why it waits, where and how it runs."""
    lines: list[Content] = [Content.styled(f"task {task.id} · {task.state}", "bold")]
    lines += _prompt_lines(task)
    if held is not None:
        lines.append(Content.assemble(("scheduler: ", "bold"), (held.reason, "$warning")))
    facts = [f"in {task.worktree_path or task.cwd}" + (" (worktree)" if task.worktree else "")]
    facts.append(f"priority {task.priority}")
    if task.schedule_text:
        facts.append(task.schedule_text)
    budget = budget_text(task)
    if budget:
        facts.append(f"budget {budget}")
    if task.timeout_s:
        facts.append(f"timeout {duration(task.timeout_s)}")
    if task.model or task.model_fallback:
        fallback = f", else {task.model_fallback}" if task.model_fallback else ""
        facts.append(f"model {task.model or 'the default'}{fallback}")
    lines.append(Content.styled(" · ".join(facts), "$foreground-muted"))
    # Its place in a task graph (`--after`): the scheduler line above says why it waits.
    if task.after:
        deps = ", ".join(f"{d.id} {d.state}" for d in task.after)
        lines.append(Content.styled(f"after tasks: {deps}", "$foreground-muted"))
    if task.before:
        deps = ", ".join(f"{d.id} {d.state}" for d in task.before)
        lines.append(Content.styled(f"before tasks: {deps}", "$foreground-muted"))
    if task.runs:
        run = task.last_run
        last = ""
        if run is not None:
            took = ""
            if run.duration_ms is not None:
                took = f", {duration(run.duration_ms / 1000)}"
            on = f" on {run.model}" if run.model else ""
            last = f"; the last {run.state}{on}{took}"
        runs = f"{task.runs} run{'s' if task.runs != 1 else ''}, {usd(task.cost_usd)}{last}"
        lines.append(Content.styled(runs, "$foreground-muted"))
        retry = run.retrying if run is not None else None
        if retry is not None and task.state == "running":
            what = " ".join(str(p) for p in (retry.status, retry.error) if p)
            at = f", next at {clock(retry.next_at, now)}" if retry.next_at else ""
            text = f"Claude Code retries ({what}): {retry.attempt}/{retry.max_retries}{at}"
            lines.append(Content.styled(text, "$warning"))
    if task.last_result:
        lines.append(Content.assemble(("result: ", "bold"), task.last_result))
    return Content("\n").join(lines)


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
        height: auto;
        max-height: 50%;
    }
    BackgroundScreen TaskTree {
        display: none;
    }
    BackgroundScreen #detail {
        height: 1fr;
        margin-top: 1;
        border-top: solid $panel;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("a", "add", "add"),
        Binding("c", "cancel_task", "cancel task"),
        Binding("p", "pause", "pause/resume", id=binding_id("pause")),
        Binding("t", "tree", "trees/list", id=binding_id("tree")),
        Binding("plus,equals_sign", "priority(1)", "priority +"),
        Binding("minus", "priority(-1)", "priority -"),
        Binding("f", "fill", "fill on/off", id=binding_id("fill")),
        Binding("r", "reload", "reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.listed: wire.QueueList | None = None
        self.tasks: list[wire.Task] = []
        self.held: dict[int, wire.Held] = {}
        self.trees: wire.QueueTree | None = None
        self.tree_view = False
        self._focus_pending = False  # the view changed: its table takes the focus

    def compose(self) -> ComposeResult:
        with Vertical(id="queue-body"):
            yield Static("Background queue", classes="section")
            yield Static("asking the engine…", id="fill")
            table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id="tasks")
            yield table
            yield TaskTree(id="trees")
            yield Static(EMPTY, classes="note", id="note")
            with VerticalScroll(id="detail"):
                yield Static(id="task")
        yield Footer()

    @property
    def _link(self) -> Any:
        return cast(Any, self.app).link

    def _now(self) -> datetime:
        return cast(Any, self.app).clock()

    def on_mount(self) -> None:
        self.query_one("#note").display = False
        self.query_one("#detail").display = False
        self.set_interval(REFRESH_S, self._refresh_when_shown)
        self.set_interval(TREE_REFRESH_S, self._refresh_running_trees)
        self.action_reload()

    def _refresh_when_shown(self) -> None:
        if self.is_current:
            self.action_reload()

    def _refresh_running_trees(self) -> None:
        if self.is_current and self.tree_view and any(t.state == "running" for t in self.tasks):
            self._link.run("queue tree", queue_tree, self.show_trees)

    def action_reload(self) -> None:
        self._link.run("queue list", queue_list, self.show)
        if self.tree_view:
            self._link.run("queue tree", queue_tree, self.show_trees)

    def action_tree(self) -> None:
        """The tasks as trees, or as the list again."""
        self.tree_view = not self.tree_view
        self._focus_pending = True
        if self.tree_view:
            self._link.run("queue tree", queue_tree, self.show_trees)
        else:
            self._place()
            self._show_detail()

    def show_trees(self, answer: wire.QueueTree) -> None:
        if not self.children:  # a reply that came as the app closed: its widgets are gone
            return
        self.trees = answer
        tree = self.query_one(TaskTree)
        # The body's padding (1 each side) and the scroll bar's 2 cells.
        tree.show(answer.trees, self.size.width - 2 - 2)
        self._place()
        self._show_detail()

    def _place(self) -> None:
        """Show the list or the trees, and the note when there is nothing to show."""
        table = self.query_one("#tasks", DataTable)
        tree = self.query_one(TaskTree)
        trees = self.trees.trees if self.trees is not None else []
        table.display = bool(self.tasks) and not self.tree_view
        tree.display = bool(trees) and self.tree_view
        note = self.query_one("#note", Static)
        note.update(EMPTY if not self.tree_view else EMPTY_TREES)
        note.display = not (tree.display or table.display)
        # The keys move the cursor of what is shown (once shown: a reload leaves the focus).
        shown = tree if self.tree_view else table
        if shown.display and self.focused is not shown and self._focus_pending:
            shown.focus()
            self._focus_pending = False

    def on_queue_changed(self, message: QueueChanged) -> None:
        # A task added from the shell, a run that started or ended, fill switched: show it.
        message.stop()
        self.action_reload()

    def on_resize(self) -> None:
        # The TASK column takes the width the others leave.
        if self.listed is not None:
            self.show(self.listed)
        if self.trees is not None:
            self.show_trees(self.trees)

    def show(self, listed: wire.QueueList) -> None:
        if not self.children:  # a reply that came as the app closed: its widgets are gone
            return
        now = self._now()
        self.listed = listed
        self.tasks = listed.tasks
        self.held = {h.task_id: h for h in listed.held}
        fill_key = first_key(cast(Any, self.app).settings.keys, "fill")
        self.query_one("#fill", Static).update(fill_line(listed, now, fill_key))
        table: DataTable[Text] = self.query_one("#tasks", DataTable)
        selected = self._listed_selected()
        table.clear(columns=True)
        rows = [self._cells(t, now) for t in self.tasks]
        widths = [
            max([cell_len(h), *(cell_len(r[i]) for r in rows)]) for i, h in enumerate(HEADERS)
        ]
        # Each column has one cell of padding either side; the body has one each side.
        room = self.size.width - 2 - 2 * table.cell_padding * len(HEADERS) - 2
        task_width = max(TASK_MIN, room - sum(widths[:-1]))
        for title, width in zip(HEADERS[:-1], widths, strict=False):
            table.add_column(title, width=width)
        table.add_column(HEADERS[-1], width=task_width)
        for task, cells in zip(self.tasks, rows, strict=True):
            *first, prompt = cells
            table.add_row(
                *(Text(c) for c in first), Text(clip(prompt, task_width)), key=str(task.id)
            )
        if selected is not None and selected.id in {t.id for t in self.tasks}:
            table.move_cursor(row=[t.id for t in self.tasks].index(selected.id))
        self._place()
        self._show_detail()

    def _cells(self, task: wire.Task, now: datetime) -> list[str]:
        return [
            str(task.id),
            state_text(task),
            str(task.priority),
            task.schedule_text or "-",
            budget_text(task) or "-",
            waits_for(self.held.get(task.id), now) if task.state != "running" else "-",
            " ".join(task.prompt.split()),
        ]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()

    def _show_detail(self) -> None:
        task = self._selected()
        detail = self.query_one("#detail", VerticalScroll)
        detail.display = task is not None
        if task is not None:
            content = task_detail(task, self.held.get(task.id), self._now())
            self.query_one("#task", Static).update(content)

    def _selected(self) -> wire.Task | None:
        """The task under the cursor: of the trees when they are shown, else the list's."""
        if not self.tree_view:
            return self._listed_selected()
        node = self.query_one(TaskTree).selected()
        if node is None:
            return None
        return next((t for t in self.tasks if t.id == node.id), None)

    def _listed_selected(self) -> wire.Task | None:
        table = self.query_one("#tasks", DataTable)
        if not self.tasks or table.row_count == 0:
            return None
        return self.tasks[min(max(table.cursor_row, 0), len(self.tasks) - 1)]

    def _open_under(self, task_id: int) -> int:
        """How many open tasks lie under the task (a cancel takes them too)."""
        kids: dict[int, list[wire.Task]] = {}
        for t in self.tasks:
            if t.parent_id is not None:
                kids.setdefault(t.parent_id, []).append(t)
        count, stack, seen = 0, [task_id], {task_id}
        while stack:
            for child in kids.get(stack.pop(), []):
                if child.id not in seen:
                    seen.add(child.id)
                    stack.append(child.id)
                    count += child.state in OPEN
        return count

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
        # Imported when first asked, so the tower starts without it.
        from tui.screens.confirm_cancel import ConfirmCancel

        task = self._selected()
        # A done lead with subtasks still open can be cancelled: they go.
        if task is None or (task.state not in OPEN and not self._open_under(task.id)):
            return
        task_id = task.id

        def chosen(yes: bool | None) -> None:
            if yes:
                self._link.run(
                    "queue cancel",
                    lambda request: queue_cancel(request, task_id),
                    lambda _r: self.action_reload(),
                )

        head = " ".join(task.prompt.split())
        under = self._open_under(task_id)
        ended = task.state not in OPEN
        self.app.push_screen(ConfirmCancel(task_id, head, under, ended=ended), chosen)

    def action_pause(self) -> None:
        """Pause the selected task and those under it; resume it when it is paused."""
        task = self._selected()
        if task is None or (task.state not in OPEN and not self._open_under(task.id)):
            return
        task_id = task.id
        act = queue_resume if task.state == "paused" else queue_pause
        self._link.run(
            "queue resume" if act is queue_resume else "queue pause",
            lambda request: act(request, task_id),
            self._changed,
        )

    def _changed(self, change: wire.TreeChange) -> None:
        for note in change.notes:
            self.app.notify(note)
        self.action_reload()

    def action_priority(self, delta: int) -> None:
        task = self._selected()
        if task is not None:
            task_id, priority = task.id, task.priority + delta
            self._link.run(
                "queue reprioritise",
                lambda request: queue_reprioritise(request, task_id, priority),
                lambda _r: self.action_reload(),
            )

    def action_fill(self) -> None:
        self._link.run("toggle fill", toggle_fill, self._fill_switched)

    def _fill_switched(self, state: wire.FillState) -> None:
        self.app.notify(f"background fill {'on' if state.enabled else 'off'}")
        self.action_reload()
