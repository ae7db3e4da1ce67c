"""The queue store: tasks, their runs, the edges of task graphs and fill's switch in
DuckDB (migrations 0008, 0012, 0014, 0017).

Used on the engine's loop thread only, like every other table. Task states:
`queued` (waiting for its time and for fill), `running`, `deferred` (a usage
limit or the policy: until `defer_until`), `done`, `failed`, `cancelled`, and
`recurring` for a cron or on-change template that queues a new task per
occurrence, and `paused` (the person paused it, or a task above it: it is not
started, and a template queues no copy, until resumed). Run states: `running`,
`done`, `failed`, `limited` (deferred to the limit's reset), `interrupted` (its pane
vanished), `cancelled`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import duckdb
import msgspec

from collectors import safe_json
from collectors.limit_log import WEIGHTED_TOKENS_SQL
from collectors.limits import weighted_tokens
from collectors.windows import FIVE_HOUR
from sessions import wire
from sessions.fill.amount import parse_amount
from sessions.fill.graph import Dep, GraphError, check_edges

log = logging.getLogger("podium.fill.queue")

OPEN_STATES = ("queued", "running", "deferred")
FINAL_TASK_STATES = ("done", "failed", "cancelled")
# Held by a person until resumed (`queue.pause`): not final, not started.
PAUSED = "paused"


@dataclass
class Task:
    id: int
    prompt: str
    cwd: str
    agent: str = "claude"
    worktree: bool = False
    worktree_path: str | None = None
    priority: int = 0
    model: str | None = None
    # The model to run on instead when the scheduler says so (migration 0013).
    model_fallback: str | None = None
    max_turns: int | None = None
    budget_usd: float | None = None
    est_pct: float | None = None
    allowed_tools: list[str] = field(default_factory=list)
    permission_mode: str | None = None
    schedule_kind: str = "now"
    schedule: str | None = None
    not_before: datetime | None = None
    defer_until: datetime | None = None
    state: str = "queued"
    parent_id: int | None = None
    claude_session_id: str | None = None
    attempts: int = 0
    last_result: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Amount specs (`sessions.fill.amount`, migration 0012): what the task is expected to
    # spend, and where its run is stopped ("5%week", "200k"; a budget may be "$1.5").
    estimate: str | None = None
    budget: str | None = None
    timeout_s: int | None = None  # wall-clock seconds a run may take before it is stopped
    # Teams (migration 0016): the team the task belongs to, the time after which it must
    # not start (its team's deadline), and the task whose Claude session its first run
    # resumes (a lead's continuation: the conversation goes on with its results).
    team_id: int | None = None
    not_after: datetime | None = None
    continues_id: int | None = None
    # Who paused it (migration 0017): "you", or "task N" when N's subtree was paused.
    paused_by: str | None = None
    paused_at: datetime | None = None

    def estimate_units(self, capacity: Callable[[str], float]) -> float | None:
        """The person's estimate in weighted tokens (`--estimate 2%week` through
        `capacity(window)`, `UsageMonitor.capacity`; `--estimate 50k` as it is), else
        `est_pct` of the 5-hour window (tasks from before estimates); None: neither."""
        if self.estimate:
            try:
                return parse_amount(self.estimate).units(capacity)
            except ValueError:  # checked when added: only a hand-edited row
                log.warning("task %d: its estimate %r is ignored", self.id, self.estimate)
        if self.est_pct is not None:
            return self.est_pct * capacity(FIVE_HOUR) / 100
        return None

    def to_wire(self) -> wire.TaskRecord:
        return wire.from_record(self, wire.TaskRecord, schedule_text=schedule_text(self))


@dataclass
class Run:
    id: int
    task_id: int
    attempt: int
    state: str
    started_at: datetime
    ended_at: datetime | None = None
    argv: list[str] = field(default_factory=list)
    cwd: str | None = None
    resumed_from: str | None = None
    window_id: str | None = None
    pane_id: str | None = None
    pid: int | None = None
    stream_path: str | None = None
    stream_offset: int = 0
    claude_session_id: str | None = None
    exit_code: int | None = None
    subtype: str | None = None
    is_error: bool | None = None
    api_error_status: int | None = None
    terminal_reason: str | None = None
    num_turns: int | None = None
    total_cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_tokens: int | None = None
    cache_read_tokens: int | None = None
    duration_ms: int | None = None
    resets_at: datetime | None = None
    result: str | None = None
    # The model this run was started on (`--model`); None: the agent's default.
    model: str | None = None

    def weighted_tokens(self) -> float:
        """What the run spent as budgets and the policy count it (its result's tokens)."""
        return weighted_tokens(
            self.input_tokens or 0,
            self.cache_creation_tokens or 0,
            self.cache_read_tokens or 0,
            self.output_tokens or 0,
        )

    def reason(self) -> str:
        """How the attempt ended, in a few words: 'usage limit until 14:05Z',
        'API error 529', 'interrupted', 'error_max_turns', 'done'."""
        if self.state == "limited":
            until = f" until {self.resets_at.astimezone(UTC):%H:%MZ}" if self.resets_at else ""
            return f"usage limit{until}"
        if self.state in ("interrupted", "running", "cancelled", "done"):
            return self.state
        if self.api_error_status is not None:
            return f"API error {self.api_error_status}"
        if self.subtype and self.subtype != "success":
            return self.subtype
        first = next((ln.strip() for ln in (self.result or "").splitlines() if ln.strip()), "")
        return first[:80] or self.state

    def to_wire(self, retrying: wire.RetryInfo | None = None) -> wire.RunRecord:
        """The run on the wire; `retrying` is the runner's (it is not stored)."""
        extra = {"retrying": msgspec.to_builtins(retrying)} if retrying else {}
        return wire.from_record(self, wire.RunRecord, reason=self.reason(), **extra)


_TASK_COLS = [f.name for f in fields(Task)]
_RUN_COLS = [f.name for f in fields(Run)]


def schedule_text(task: Task) -> str:
    """How the tower and `queue ls` show a task's schedule."""
    if task.schedule_kind == "now":
        return ""
    if task.schedule_kind == "on_change":
        return f"on change {task.schedule}"
    if task.schedule_kind == "on_event":
        return f"on {task.schedule}"
    return f"{task.schedule_kind} {task.schedule}"


def _now() -> datetime:
    return datetime.now(UTC)


class QueueStore:
    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn

    # -- tasks ------------------------------------------------------------------------------
    def add(self, task: Task) -> Task:
        now = _now()
        task.created_at = task.updated_at = now
        cols = [c for c in _TASK_COLS if c != "id"]
        values = [self._to_db(c, getattr(task, c)) for c in cols]
        row = self.conn.execute(
            f"INSERT INTO queue_tasks ({', '.join(cols)}) VALUES "
            f"({', '.join('?' for _ in cols)}) RETURNING id",
            values,
        ).fetchone()
        assert row is not None
        task.id = int(row[0])
        return task

    def get(self, task_id: int) -> Task | None:
        rows = self._tasks("WHERE id = ?", [task_id])
        return rows[0] if rows else None

    def tasks(self, *, include_final: bool = True) -> list[Task]:
        where = "" if include_final else "WHERE state NOT IN ('done', 'failed', 'cancelled')"
        return self._tasks(where + " ORDER BY id", [])

    def in_state(self, *states: str) -> list[Task]:
        marks = ", ".join("?" for _ in states)
        return self._tasks(f"WHERE state IN ({marks}) ORDER BY priority DESC, id", list(states))

    def of_team(self, team_id: int) -> list[Task]:
        """A team's nodes (migration 0016), in the order they were queued."""
        return self._tasks("WHERE team_id = ? ORDER BY id", [team_id])

    def children(self, parent_id: int) -> list[Task]:
        return self._tasks("WHERE parent_id = ? ORDER BY id", [parent_id])

    def update(self, task: Task, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(task, key, value)
        task.updated_at = _now()
        changes["updated_at"] = task.updated_at
        self._update("queue_tasks", task.id, changes)

    def _tasks(self, tail: str, params: list[Any]) -> list[Task]:
        rows = self._select("queue_tasks", _TASK_COLS, "allowed_tools", tail, params)
        return [Task(**data) for data in rows]

    def _select(
        self, table: str, cols: list[str], json_col: str, tail: str, params: list[Any]
    ) -> list[dict[str, Any]]:
        """Rows of `table` as dicts of `cols`, the JSON list in `json_col` decoded."""
        cur = self.conn.execute(f"SELECT {', '.join(cols)} FROM {table} {tail}", params)
        out = []
        for row in cur.fetchall():
            data = dict(zip(cols, row, strict=True))
            value, why = safe_json.loads(data[json_col] or "[]")
            if why is not None or not isinstance(value, list):
                log.warning(
                    "%s row %s: %s is not a JSON list (%s)", table, data.get("id"), json_col, why
                )
                value = []
            data[json_col] = value
            out.append(data)
        return out

    def _update(self, table: str, row_id: int, changes: dict[str, Any]) -> None:
        sets = ", ".join(f"{k} = ?" for k in changes)
        values = [self._to_db(k, v) for k, v in changes.items()]
        self.conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*values, row_id])

    @staticmethod
    def _to_db(column: str, value: Any) -> Any:
        if column in ("allowed_tools", "argv"):
            return json.dumps(value or [])
        return value

    # -- task graphs (migration 0014) ----------------------------------------------------------
    def add_deps(self, task_id: int, after: list[int], *, dry_run: bool = False) -> None:
        """Make `task_id` come after each task of `after` (duplicates count once).
        Raises `GraphError` (one line) for an unknown task, the task itself, a recurring
        template (it never ends) or a cycle; nothing is written then, nor with
        `dry_run` (the check alone)."""
        wanted = list(dict.fromkeys(after))
        for dep in wanted:
            if dep == task_id:
                raise GraphError(f"task {task_id} cannot come after itself")
            found = self.get(dep)
            if found is None:
                raise GraphError(f"--after {dep}: no task {dep}; `podium queue ls` lists them")
            if found.state == "recurring":
                raise GraphError(
                    f"--after {dep}: task {dep} is a recurring template and never ends; "
                    "name one of its copies"
                )
        check_edges(task_id, wanted, self._edges())
        if dry_run:
            return
        for dep in wanted:
            self.conn.execute(
                "INSERT OR IGNORE INTO queue_task_deps (task_id, after_id) VALUES (?, ?)",
                [task_id, dep],
            )

    def _edges(self) -> dict[int, list[int]]:
        edges: dict[int, list[int]] = {}
        for tid, dep in self.conn.execute(
            "SELECT task_id, after_id FROM queue_task_deps ORDER BY task_id, after_id"
        ).fetchall():
            edges.setdefault(int(tid), []).append(int(dep))
        return edges

    def after(self, task_id: int) -> list[Dep]:
        """The tasks `task_id` comes after, with their states, by id."""
        return self.deps_of([task_id]).get(task_id, [])

    def before(self, task_id: int) -> list[Dep]:
        """The tasks that come after `task_id` (its dependents), with their states."""
        rows = self.conn.execute(
            "SELECT t.id, t.state, t.last_result FROM queue_task_deps d "
            "JOIN queue_tasks t ON t.id = d.task_id WHERE d.after_id = ? ORDER BY t.id",
            [task_id],
        ).fetchall()
        return [Dep(int(i), st, res) for i, st, res in rows]

    def deps_of(self, task_ids: list[int]) -> dict[int, list[Dep]]:
        """For each of `task_ids` that comes after others: those tasks, with their
        states (one query for a whole list, as a scheduler round asks)."""
        if not task_ids:
            return {}
        marks = ", ".join("?" for _ in task_ids)
        rows = self.conn.execute(
            "SELECT d.task_id, t.id, t.state, t.last_result FROM queue_task_deps d "
            f"JOIN queue_tasks t ON t.id = d.after_id WHERE d.task_id IN ({marks}) "
            "ORDER BY d.task_id, t.id",
            task_ids,
        ).fetchall()
        out: dict[int, list[Dep]] = {}
        for tid, dep, state, result in rows:
            out.setdefault(int(tid), []).append(Dep(int(dep), state, result))
        return out

    def dep_results(self, task_id: int) -> list[tuple[int, str]]:
        """Each dependency's final message, by id: its last done run's `result`, else
        the task's `last_result` (what `queue show` shows)."""
        out = []
        for dep in self.after(task_id):
            row = self.conn.execute(
                "SELECT result FROM queue_runs WHERE task_id = ? AND state = 'done' "
                "ORDER BY id DESC LIMIT 1",
                [dep.id],
            ).fetchone()
            text = row[0] if row and row[0] is not None else dep.last_result
            out.append((dep.id, text or ""))
        return out

    # -- runs --------------------------------------------------------------------------------
    def add_run(self, run: Run) -> Run:
        cols = [c for c in _RUN_COLS if c != "id"]
        row = self.conn.execute(
            f"INSERT INTO queue_runs ({', '.join(cols)}) VALUES "
            f"({', '.join('?' for _ in cols)}) RETURNING id",
            [self._to_db(c, getattr(run, c)) for c in cols],
        ).fetchone()
        assert row is not None
        run.id = int(row[0])
        return run

    def update_run(self, run: Run, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(run, key, value)
        self._update("queue_runs", run.id, changes)

    def runs(self, task_id: int | None = None, since: datetime | None = None) -> list[Run]:
        where, params = [], []
        if task_id is not None:
            where.append("task_id = ?")
            params.append(task_id)
        if since is not None:
            where.append("started_at >= ?")
            params.append(since)
        tail = ("WHERE " + " AND ".join(where)) if where else ""
        return self._runs(f"{tail} ORDER BY id", params)

    def streams_ended_before(self, cutoff: datetime) -> list[Run]:
        """Runs over before `cutoff` whose stream file is still on record."""
        return self._runs("WHERE ended_at < ? AND stream_path IS NOT NULL ORDER BY id", [cutoff])

    def task_costs(self) -> list[tuple[Task, float]]:
        """Each finished task with the weighted tokens its runs spent (what a task of its
        kind is learned to cost)."""
        rows = self.conn.execute(
            f"SELECT task_id, sum({WEIGHTED_TOKENS_SQL}) FROM queue_runs WHERE task_id IN "
            "(SELECT id FROM queue_tasks WHERE state = 'done') GROUP BY task_id "
            "ORDER BY max(ended_at) NULLS FIRST"
        ).fetchall()
        tasks = {t.id: t for t in self.in_state("done")}
        return [(tasks[tid], float(units)) for tid, units in rows if tid in tasks and units]

    def last_run(self, task_id: int) -> Run | None:
        """The task's latest run, if it ever ran."""
        runs = self._runs("WHERE task_id = ? ORDER BY id DESC LIMIT 1", [task_id])
        return runs[0] if runs else None

    def running_runs(self) -> list[Run]:
        return self._runs("WHERE state = 'running' ORDER BY id", [])

    def _runs(self, tail: str, params: list[Any]) -> list[Run]:
        return [Run(**data) for data in self._select("queue_runs", _RUN_COLS, "argv", tail, params)]

    # -- fill's switch ---------------------------------------------------------------------------
    def state(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM queue_state WHERE key = ?", [key]).fetchone()
        if not row or row[0] is None:
            return default
        value, why = safe_json.loads(row[0])
        return default if why is not None else value

    def set_state(self, key: str, value: Any) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO queue_state (key, value) VALUES (?, ?)",
            [key, json.dumps(value)],
        )
