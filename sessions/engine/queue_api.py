"""The engine's queue and fill API: `queue.*`, `reports.runs`.

`queue.list` → `{"tasks": [...]}`; `queue.add {prompt, cwd, priority, worktree, model,
max_turns, budget_usd, allowed_tools, permission_mode, at | cron | window | on_change |
schedule, budget}`; `queue.show {id}` → `{"task", "runs"}`; `queue.cancel {id}`;
`queue.reprioritise {id, priority}`; `queue.fill {toggle: true} | {enabled, reserve_pct,
until}` → `{"enabled", "reserve_pct", "until"}`; `queue.decide {reserve_pct?}` (dry run:
the decisions and reasons, nothing done); `reports.runs {since}`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sessions.engine.protocol import ApiError
from sessions.fill.queue import FINAL_TASK_STATES, Task
from sessions.fill.schedule import ScheduleError, parse_at, parse_free_schedule, parse_schedule

if TYPE_CHECKING:
    from sessions.engine.core import Engine
    from sessions.fill.scheduler import Scheduler

PERMISSION_MODES = ("default", "acceptEdits", "plan", "auto", "dontAsk", "bypassPermissions")
_BUDGET = re.compile(r"^\s*(?:\$\s*(?P<usd>\d+(?:\.\d+)?)|(?P<num>\d+(?:\.\d+)?)\s*(?P<pct>%)?)")


def queue_handlers(engine: Engine) -> dict[str, Any]:
    api = QueueApi(engine)
    return {
        "queue.list": api.list,
        "queue.add": api.add,
        "queue.show": api.show,
        "queue.cancel": api.cancel,
        "queue.reprioritise": api.reprioritise,
        "queue.fill": api.fill,
        "queue.decide": api.decide,
        "reports.runs": api.report_runs,
    }


class QueueApi:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def sched(self) -> Scheduler:
        return self.engine.fill

    def _task(self, params: dict[str, Any]) -> Task:
        raw = params.get("id")
        try:
            task_id = int(str(raw).lstrip("#"))
        except (TypeError, ValueError):
            raise ApiError(
                "bad_request", f"a task id (a number) is required, not {raw!r}"
            ) from None
        task = self.sched.store.get(task_id)
        if task is None:
            raise ApiError("not_found", f"no task {task_id}; `podium queue ls` lists them")
        return task

    def _task_json(self, task: Task) -> dict[str, Any]:
        data = task.to_json()
        runs = self.sched.store.runs(task.id)
        last = runs[-1] if runs else None
        data["runs"] = len(runs)
        data["last_run"] = last.to_json() if last else None
        data["cost_usd"] = round(sum(r.total_cost_usd or 0.0 for r in runs), 6)
        return data

    async def list(self, params: dict[str, Any]) -> dict[str, Any]:
        tasks = self.sched.store.tasks(include_final=bool(params.get("all", True)))
        return {"tasks": [self._task_json(t) for t in tasks], "fill": self.sched.fill_state()}

    async def show(self, params: dict[str, Any]) -> dict[str, Any]:
        task = self._task(params)
        return {
            "task": self._task_json(task),
            "runs": [r.to_json() for r in self.sched.store.runs(task.id)],
            "occurrences": [t.to_json() for t in self.sched.store.children(task.id)],
        }

    async def add(self, params: dict[str, Any]) -> dict[str, Any]:
        prompt = params.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise ApiError("bad_request", "a prompt is required")
        cwd = Path(str(params.get("cwd") or Path.cwd())).expanduser()
        if not cwd.is_absolute():
            raise ApiError("bad_request", f"the directory must be absolute: {cwd}")
        if not cwd.is_dir():
            raise ApiError("bad_request", f"no such directory: {cwd}")
        sched = self.sched
        now = datetime.now(UTC)
        try:
            tz = sched._tz()
            if params.get("schedule") and not any(
                params.get(k) for k in ("at", "cron", "window", "on_change")
            ):
                schedule = parse_free_schedule(str(params["schedule"]), now, tz, sched.night())
            else:
                schedule = parse_schedule(
                    at=_opt_str(params, "at"),
                    cron=_opt_str(params, "cron"),
                    window=_opt_str(params, "window"),
                    on_change=_opt_str(params, "on_change"),
                    now=now,
                    tz=tz,
                    night=sched.night(),
                )
        except ScheduleError as exc:
            raise ApiError("bad_request", str(exc)) from None
        mode = params.get("permission_mode") or None
        if mode is not None and mode not in PERMISSION_MODES:
            raise ApiError(
                "bad_request",
                f"unknown permission mode {mode!r}; choose one of {', '.join(PERMISSION_MODES)}",
            )
        budget_usd, est_pct = _budget(params)
        tools = params.get("allowed_tools") or []
        if isinstance(tools, str):
            tools = tools.split()
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            raise ApiError("bad_request", "allowed_tools must be a list of tool rules")
        task = Task(
            id=0,
            prompt=prompt,
            cwd=str(cwd),
            worktree=bool(params.get("worktree")),
            priority=_int(params, "priority", 0) or 0,
            model=_opt_str(params, "model"),
            max_turns=_int(params, "max_turns", None),
            budget_usd=budget_usd,
            est_pct=est_pct,
            allowed_tools=list(tools),
            permission_mode=mode,
            schedule_kind=schedule.kind,
            schedule=schedule.expr,
            not_before=schedule.not_before,
            state="recurring" if schedule.kind in ("cron", "on_change") else "queued",
        )
        task = sched.store.add(task)
        if task.state == "recurring":
            sched.sync_watchers()
        self.engine.bus.publish("queue", {"task": task.to_json()})
        sched.wake()
        return self._task_json(task)

    async def cancel(self, params: dict[str, Any]) -> dict[str, Any]:
        task = self._task(params)
        if task.state in FINAL_TASK_STATES:
            raise ApiError("conflict", f"task {task.id} is already {task.state}")
        store = self.sched.store
        for tid in [task.id, *(c.id for c in store.children(task.id))]:
            t = store.get(tid)
            if t is None or t.state in FINAL_TASK_STATES:
                continue
            for run in store.running_runs():
                if run.task_id == tid:
                    await self.sched.runner.cancel(run)
            store.update(t, state="cancelled", last_result="cancelled")
        self.sched.sync_watchers()
        fresh = store.get(task.id) or task
        self.engine.bus.publish("queue", {"task": fresh.to_json()})
        return self._task_json(fresh)

    async def reprioritise(self, params: dict[str, Any]) -> dict[str, Any]:
        task = self._task(params)
        priority = _int(params, "priority", None)
        if priority is None:
            raise ApiError("bad_request", "a priority (an integer) is required")
        self.sched.store.update(task, priority=priority)
        self.sched.wake()
        return self._task_json(task)

    async def fill(self, params: dict[str, Any]) -> dict[str, Any]:
        sched = self.sched
        if params.get("toggle"):
            return sched.set_enabled(not sched.enabled)
        if "enabled" not in params:
            return sched.fill_state()
        reserve = _reserve(params)
        until = None
        if params.get("until"):
            try:
                until = parse_at(str(params["until"]), sched._tz())
            except ScheduleError as exc:
                raise ApiError("bad_request", str(exc)) from None
            if until <= datetime.now(UTC):
                raise ApiError("bad_request", f"--until {params['until']} is already past")
        return sched.set_enabled(bool(params["enabled"]), reserve_pct=reserve, until=until)

    async def decide(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.sched.dry_run(_reserve(params))

    async def report_runs(self, params: dict[str, Any]) -> dict[str, Any]:
        since_raw = params.get("since")
        since = None
        if since_raw:
            try:
                since = datetime.combine(date.fromisoformat(str(since_raw)), time(), UTC)
            except ValueError:
                raise ApiError("bad_request", f"bad date {since_raw!r}; use YYYY-MM-DD") from None
        store = self.sched.store
        rows = []
        tasks: dict[int, Task | None] = {}
        for run in store.runs(since=since):
            if run.task_id not in tasks:
                tasks[run.task_id] = store.get(run.task_id)
            task = tasks[run.task_id]
            end = run.ended_at or datetime.now(UTC)
            rows.append(
                {
                    "run_id": run.id,
                    "task_id": run.task_id,
                    "attempt": run.attempt,
                    "prompt": task.prompt if task else "",
                    "outcome": run.state,
                    "started_at": run.started_at.astimezone(UTC).isoformat(),
                    "ended_at": run.ended_at.astimezone(UTC).isoformat() if run.ended_at else None,
                    "duration_s": round((end - run.started_at).total_seconds(), 1),
                    "input_tokens": run.input_tokens,
                    "output_tokens": run.output_tokens,
                    "cache_read_tokens": run.cache_read_tokens,
                    "cache_creation_tokens": run.cache_creation_tokens,
                    "cost_usd": run.total_cost_usd,
                    "num_turns": run.num_turns,
                    "is_error": run.is_error,
                    "api_error_status": run.api_error_status,
                    "terminal_reason": run.terminal_reason,
                    "resets_at": run.resets_at.astimezone(UTC).isoformat()
                    if run.resets_at
                    else None,
                    "result": run.result,
                }
            )
        return {"since": since_raw or None, "runs": rows}


def _opt_str(params: dict[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError("bad_request", f"{key} must be text")
    return value


def _int(params: dict[str, Any], key: str, default: int | None) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError("bad_request", f"{key} must be an integer, not {value!r}") from None


def _budget(params: dict[str, Any]) -> tuple[float | None, float | None]:
    """budget_usd (a number), est_pct, or the tower's free text: '$2', '1.5', '5%'."""
    usd = params.get("budget_usd")
    pct = params.get("est_pct")
    try:
        usd = float(usd) if usd not in (None, "") else None
        pct = float(pct) if pct not in (None, "") else None
    except (TypeError, ValueError):
        raise ApiError("bad_request", "budget_usd and est_pct must be numbers") from None
    text = params.get("budget")
    if isinstance(text, str) and text.strip():
        m = _BUDGET.match(text)
        if m is None:
            raise ApiError(
                "bad_request",
                f"cannot read the budget {text!r}: use dollars ('$2') or a share of the "
                "5-hour window ('5%')",
            )
        if m["usd"]:
            usd = float(m["usd"])
        elif m["pct"]:
            pct = float(m["num"])
        else:
            usd = float(m["num"])
    if usd is not None and usd <= 0:
        raise ApiError("bad_request", "the budget must be more than $0")
    return usd, pct


def _reserve(params: dict[str, Any]) -> float | None:
    """The `reserve_pct` asked for: a percentage, or None for the configured reserve."""
    reserve = params.get("reserve_pct")
    if reserve is None:
        return None
    try:
        value = float(reserve)
    except (TypeError, ValueError):
        raise ApiError("bad_request", f"reserve must be a percentage, not {reserve!r}") from None
    if not 0 <= value <= 100:
        raise ApiError("bad_request", f"reserve must be 0-100%, not {value:g}")
    return value
