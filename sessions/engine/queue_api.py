"""The engine's queue and fill API: `queue.*`.

Params and results are `sessions.wire`'s (`QueueAddParams`, `Task`, `QueueList`, ...);
`queue.decide` is a dry run: the decisions and reasons, nothing done.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from collectors.windows import FIVE_HOUR
from sessions import wire
from sessions.engine.events import EventBus
from sessions.fill import delegation
from sessions.fill.amount import MAX_USD, parse_amount
from sessions.fill.graph import Dep, GraphError, hold_reason
from sessions.fill.held import deadline_reason
from sessions.fill.night_report import night_report
from sessions.fill.nightly import last_night
from sessions.fill.queue import FINAL_TASK_STATES, Run, Task, schedule_text
from sessions.fill.schedule import (
    RECURRING_KINDS,
    ScheduleError,
    parse_at,
    parse_free_schedule,
    parse_schedule,
)
from sessions.fill.scheduler import Scheduler
from sessions.fill.task_options import PERMISSION_MODES, ToolRuleError, parse_tool_rules
from sessions.fill.tree import subtree_ids
from sessions.fill.triggers import normalized
from sessions.protocol import ApiError


def queue_handlers(api: QueueApi) -> dict[str, Any]:
    return {
        "queue.list": api.list,
        "queue.add": api.add,
        "queue.show": api.show,
        "queue.cancel": api.cancel,
        "queue.retry": api.retry,
        "queue.reprioritise": api.reprioritise,
        "queue.fill": api.fill,
        "queue.decide": api.decide,
        "queue.capacity": api.capacity,
        "reports.night": api.night,
    }


class QueueApi:
    def __init__(self, scheduler: Scheduler, bus: EventBus) -> None:
        self.sched = scheduler
        self.bus = bus

    def _task(self, params: wire.TaskRef) -> Task:
        raw = params.id
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

    def _task_json(self, task: Task) -> wire.Task:
        store = self.sched.store
        runs = store.runs(task.id)
        after = store.after(task.id)
        return wire.from_record(
            task,
            wire.Task,
            schedule_text=schedule_text(task),
            runs=len(runs),
            last_run=runs[-1].to_wire(self._retrying(runs[-1])) if runs else None,
            cost_usd=round(sum(r.total_cost_usd or 0.0 for r in runs), 6),
            after=[_dep(d) for d in after],
            before=[_dep(d) for d in store.before(task.id)],
            waits=self._waits(task, after),
            kind=self._kind(task),
        )

    def _kind(self, task: Task) -> str:
        """Subtask or copy: a template's children are its copies (`sessions.fill.tree`)."""
        if task.parent_id is None:
            return "task"
        parent = self.sched.store.get(task.parent_id)
        return (
            "copy" if parent is not None and parent.schedule_kind in RECURRING_KINDS else "subtask"
        )

    def _waits(self, task: Task, after: list[Dep]) -> str | None:
        """Why an open task cannot start whatever fill does: its deadline passed, or
        the tasks it comes after."""
        if task.state not in ("queued", "deferred"):
            return None
        late = deadline_reason(task, datetime.now(UTC), self.sched._tz())
        return late or hold_reason(after)

    def _retrying(self, run: Run) -> wire.RetryInfo | None:
        return self.sched.runner.retry_info(run.id) if run.state == "running" else None

    async def list(self, params: wire.QueueListParams) -> wire.QueueList:
        tasks = self.sched.store.tasks(include_final=params.all)
        listed = wire.QueueList(
            tasks=[self._task_json(t) for t in tasks], fill=self.sched.fill_state()
        )
        if params.explain:
            listed.reserve, listed.held = self.sched.explain(datetime.now(UTC))
        return listed

    async def show(self, params: wire.TaskRef) -> wire.QueueShow:
        task = self._task(params)
        return wire.QueueShow(
            task=self._task_json(task),
            runs=[r.to_wire(self._retrying(r)) for r in self.sched.store.runs(task.id)],
            occurrences=[t.to_wire() for t in self.sched.store.children(task.id)],
        )

    async def add(self, params: wire.QueueAddParams) -> wire.Task:
        return self.add_task(params)

    def add_task(
        self,
        params: wire.QueueAddParams,
        *,
        team_id: int | None = None,
        not_after: datetime | None = None,
    ) -> wire.Task:
        """`queue.add`; `team_id` and `not_after` make it a team's lead (`team.start`),
        which its subtasks inherit."""
        prompt = params.prompt
        if not prompt.strip():
            raise ApiError("bad_request", "a prompt is required")
        cwd = Path(params.cwd or Path.cwd()).expanduser()
        if not cwd.is_absolute():
            raise ApiError("bad_request", f"the directory must be absolute: {cwd}")
        if not cwd.is_dir():
            raise ApiError("bad_request", f"no such directory: {cwd}")
        sched = self.sched
        now = datetime.now(UTC)
        try:
            tz = sched._tz()
            if params.schedule and not any(
                (params.at, params.cron, params.window, params.on_change, params.on_event)
            ):
                schedule = parse_free_schedule(params.schedule, now, tz, sched.night())
            else:
                schedule = parse_schedule(
                    at=params.at or None,
                    cron=params.cron or None,
                    window=params.window or None,
                    on_change=params.on_change or None,
                    now=now,
                    tz=tz,
                    night=sched.night(),
                    on_event=normalized(params.on_event) if params.on_event else None,
                )
        except ScheduleError as exc:
            raise ApiError("bad_request", str(exc)) from None
        mode = params.permission_mode or None
        if mode is not None and mode not in PERMISSION_MODES:
            raise ApiError(
                "bad_request",
                f"unknown permission mode {mode!r}; choose one of {', '.join(PERMISSION_MODES)}",
            )
        parent: Task | None = None
        asked = params.budget if params.budget and params.budget.strip() else None
        if asked is None and params.budget_usd is not None:
            asked = f"${params.budget_usd:g}"
        if params.parent_id is not None:
            parent = self._parent(params.parent_id)
            try:
                granted = self._child_budget(parent, asked)
            except ValueError as exc:  # `delegation.Refused`, or an amount it cannot read
                raise ApiError("refused", str(exc)) from None
            params = msgspec.structs.replace(params, budget=granted, budget_usd=None)
        elif params.continues:
            raise ApiError("bad_request", "only a background run's subtask can continue it")
        elif params.by_agent:
            # An agent in a person's session has no parent budget to spend out of:
            # `[fill] agent_task_budget` bounds what it queues.
            try:
                granted = delegation.capped_budget(
                    sched.settings.agent_task_budget, asked, sched.usage.capacity
                )
            except ValueError as exc:
                raise ApiError("refused", str(exc)) from None
            params = msgspec.structs.replace(params, budget=granted, budget_usd=None)
        parent_id = parent.id if parent is not None else None
        budget_usd, est_pct, budget, estimate = _amounts(params)
        tools = params.allowed_tools or []
        try:
            # One string is a list as Claude Code reads one: "Bash(git *) Edit" is two
            # rules, never split inside the parentheses.
            if isinstance(tools, str):
                tools = parse_tool_rules(tools)
            elif any(not rule.strip() for rule in tools):
                raise ToolRuleError("a tool rule is empty")
        except ToolRuleError as exc:
            raise ApiError("bad_request", str(exc)) from None
        if parent is not None:
            try:
                tools, mode = delegation.child_permissions(
                    parent.allowed_tools, parent.permission_mode, tools, mode
                )
            except delegation.Refused as exc:
                raise ApiError("refused", str(exc)) from None
        task = Task(
            id=0,
            prompt=prompt,
            cwd=str(cwd),
            worktree=params.worktree,
            priority=params.priority,
            model=_model(params.model),
            model_fallback=_model(params.model_fallback),
            max_turns=params.max_turns,
            budget_usd=budget_usd,
            est_pct=est_pct,
            budget=budget,
            estimate=estimate,
            timeout_s=params.timeout_s,
            allowed_tools=list(tools),
            permission_mode=mode,
            schedule_kind=schedule.kind,
            schedule=schedule.expr,
            not_before=schedule.not_before,
            state="recurring" if schedule.kind in RECURRING_KINDS else "queued",
            parent_id=parent_id,
            # A team's nodes: a subtask is of its parent's team and keeps its deadline.
            team_id=parent.team_id if parent is not None else team_id,
            not_after=parent.not_after if parent is not None else not_after,
        )
        if parent_id is not None and task.state == "recurring":
            raise ApiError("refused", "refused: a subtask runs once; it cannot recur")
        after = list(dict.fromkeys(params.after))
        if parent is not None and params.continues:
            self._continuing(task, parent)
            after = list(dict.fromkeys([parent.id, *after]))
        if after and task.state == "recurring":
            raise ApiError(
                "bad_request",
                "--after does not go with --cron, --on-change or --on: name it on a task",
            )
        # The edges are checked before the task is stored, so a refused `--after`
        # leaves no task behind (its id is not known yet: 0 is no task's).
        try:
            sched.store.add_deps(0, after, dry_run=True)
        except GraphError as exc:
            raise ApiError("bad_request", str(exc)) from None
        task = sched.store.add(task)
        sched.store.add_deps(task.id, after)
        if parent is not None:
            # Its budget now counts against the parent's live run (`Runner._over_limits`).
            sched.runner.forget_limits(parent.id)
        if task.state == "recurring":
            sched.sync_watchers()
        self.bus.publish(wire.QueueEvent(data=wire.QueueChange(task=task.to_wire())))
        sched.wake()
        return self._task_json(task)

    # -- subtasks and what a task may spend (`podium mcp`) ---------------------------------
    def _continuing(self, task: Task, parent: Task) -> None:
        """Make `task` its parent's continuation: its first run resumes the parent's
        Claude session (the one its live run has), so the conversation goes on with
        the results it waited for; it runs after the parent, which must end first."""
        runs = self.sched.store.runs(parent.id)
        session = next((r.claude_session_id for r in reversed(runs) if r.claude_session_id), None)
        if session is None:
            raise ApiError(
                "refused", f"refused: task {parent.id} has no Claude session to continue"
            )
        task.claude_session_id = session
        task.continues_id = parent.id
        task.model = task.model or parent.model

    def _parent(self, task_id: int) -> Task:
        parent = self.sched.store.get(task_id)
        if parent is None:
            raise ApiError("not_found", f"no task {task_id} to add a subtask to")
        if parent.state in FINAL_TASK_STATES:
            raise ApiError("refused", f"refused: task {task_id} is {parent.state}")
        try:
            delegation.check_depth(self._ancestors(parent))
            delegation.check_fan_out(len(self.sched.store.children(parent.id)))
        except delegation.Refused as exc:
            raise ApiError("refused", str(exc)) from None
        return parent

    def _ancestors(self, task: Task) -> int:
        """How many tasks lie above `task` (a loop in hand-edited rows ends the count)."""
        seen = {task.id}
        count = 0
        while task.parent_id is not None and task.parent_id not in seen:
            up = self.sched.store.get(task.parent_id)
            if up is None:
                break
            seen.add(up.id)
            count += 1
            task = up
        return count

    def spent(self, task: Task) -> delegation.Spent:
        """Weighted tokens and dollars of `task`'s runs, a live run's so far included."""
        units = usd = 0.0
        for run in self.sched.store.runs(task.id):
            spent = self.run_spent(run)
            units += spent.units
            usd += spent.usd
        return delegation.Spent(units, usd)

    def run_spent(self, run: Run) -> delegation.Spent:
        """What one run spent: a live run's so far (its stream), an ended one's result."""
        live = self.sched.runner.spend(run.id) if run.state == "running" else None
        if live is not None:
            return delegation.Spent(live.weighted_tokens, live.cost_usd or 0.0)
        return delegation.Spent(run.weighted_tokens(), run.total_cost_usd or 0.0)

    def _child_budget(
        self, parent: Task, asked: str | None, share: float | None = None
    ) -> str | None:
        children = [
            delegation.Child(c.budget, c.state in FINAL_TASK_STATES, self.spent(c))
            for c in self.sched.store.children(parent.id)
        ]
        budget = parent.budget or (f"${parent.budget_usd:g}" if parent.budget_usd else None)
        # A running parent keeps half of what is left for itself when a child names
        # no budget: else its own run would be stopped at once (`Runner._over_limits`).
        if share is None:
            share = 0.5 if parent.state == "running" else 1.0
        return delegation.child_budget(
            budget, self.spent(parent), children, asked, self.sched.usage.capacity, share
        )

    async def capacity(self, params: wire.CapacityParams) -> wire.Capacity:
        """The windows now, the reserve in force, the person's own use and its forecast,
        and with `task_id` what that task may still spend."""
        sched = self.sched
        now = datetime.now(UTC)
        windows = sched.windows(now)
        facts = sched.facts(now, windows)
        human = facts.human
        weeks: dict[str, list[float | None]] = {}
        for name in [w.name for w in facts.windows if w.name != FIVE_HOUR]:
            # Each weekly window's own forecast (`Scheduler.human_use` asked per window).
            use = facts.scoped_human.get(name, human)
            used = use.week_used_pct
            weeks[name] = [
                round(use.forecast_week_pct, 2),
                None if used is None else round(used, 2),
            ]
        answer = wire.Capacity(
            now=now.isoformat(),
            windows=sched.usage.windows(now),
            reserve=sched.reserve(now, windows),
            human=wire.HumanForecast(
                pct_per_hour_now=round(human.pct_per_hour_now, 2),
                next_hours_pct=round(human.forecast_pct_next_hours, 2),
                active_sessions=human.active_sessions,
                weeks=weeks,
            ),
            fill=sched.fill_state(),
        )
        if params.task_id is not None:
            task = self._task(wire.TaskRef(id=params.task_id))
            answer.task = self._budget_left(task)
        return answer

    def _budget_left(self, task: Task) -> wire.TaskBudget:
        spent = self.spent(task)
        budget = task.budget or (f"${task.budget_usd:g}" if task.budget_usd else None)
        left = None
        if budget:
            try:
                left = self._child_budget(task, None, share=1.0)
            except delegation.Refused:
                left = "$0" if parse_amount(budget).kind == "usd" else "0"
        return wire.TaskBudget(
            task_id=task.id,
            budget=budget,
            spent_tokens=round(spent.units, 1),
            spent_usd=round(spent.usd, 6),
            left=left,
            depth=self._ancestors(task),
            children=len(self.sched.store.children(task.id)),
        )

    async def cancel(self, params: wire.CancelParams) -> wire.TreeChange:
        """Cancel the task and every open task under it (subtasks at any depth, a
        template's copies); a running one's run is stopped. Their dependents are held
        (`graph.hold_reason`: "after task 3, which was cancelled"). A background run
        (`by_task`) may cancel only tasks under it."""
        task = self._task(params)
        store = self.sched.store
        tasks = store.tasks()
        # A run's own subtasks: its subtree, not itself.
        under = params.by_task is None or task.id in subtree_ids(tasks, params.by_task)[1:]
        if not under:
            raise ApiError(
                "refused",
                f"refused: task {task.id} is not one of the subtasks task {params.by_task} "
                "queued (or theirs); the person cancels it with `podium queue cancel`",
            )
        tree = subtree_ids(tasks, task.id)
        # A lead that is done may still have subtasks open: cancelling it takes those.
        if task.state in FINAL_TASK_STATES and not any(
            (t := store.get(tid)) is not None and t.state not in FINAL_TASK_STATES for tid in tree
        ):
            raise ApiError("conflict", f"task {task.id} is already {task.state}")
        changed, stopped = [], []
        for tid in tree:
            t = store.get(tid)
            if t is None or t.state in FINAL_TASK_STATES:
                continue
            if await self.stop_runs(tid):
                stopped.append(tid)
            store.update(t, state="cancelled", last_result="cancelled")
            changed.append(tid)
            self.bus.publish(wire.QueueEvent(data=wire.QueueChange(task=t.to_wire())))
        self.sched.sync_watchers()
        fresh = store.get(task.id) or task
        return wire.TreeChange(task=self._task_json(fresh), changed=changed, stopped=stopped)

    async def stop_runs(self, task_id: int) -> bool:
        """Stop the task's live run, if it has one (its pane is killed; the run ends
        `cancelled`); whether there was one."""
        stopped = False
        for run in self.sched.store.running_runs():
            if run.task_id == task_id:
                await self.sched.runner.cancel(run)
                stopped = True
        return stopped

    async def retry(self, params: wire.TaskRef) -> wire.Task:
        """Queue a failed or cancelled task again, as new: a fresh Claude session (its
        prompt and its dependencies' results again, not a resume of what failed), its
        attempts counted from 0. The tasks held after it go on once it is done."""
        task = self._task(params)
        if task.state not in ("failed", "cancelled"):
            raise ApiError(
                "conflict", f"task {task.id} is {task.state}: only a failed or cancelled one"
            )
        if task.schedule_kind in RECURRING_KINDS:
            raise ApiError(
                "conflict", f"task {task.id} is a cancelled template: add it anew to repeat it"
            )
        self.sched.store.update(
            task,
            state="queued",
            attempts=0,
            claude_session_id=None,
            defer_until=None,
            last_result=f"queued again after it {task.state}",
        )
        self.bus.publish(wire.QueueEvent(data=wire.QueueChange(task=task.to_wire())))
        self.sched.wake()
        return self._task_json(task)

    async def reprioritise(self, params: wire.ReprioritiseParams) -> wire.Task:
        task = self._task(params)
        self.sched.store.update(task, priority=params.priority)
        self.sched.wake()
        return self._task_json(task)

    async def fill(self, params: wire.FillParams) -> wire.FillState:
        sched = self.sched
        if params.toggle:
            return sched.set_enabled(not sched.enabled)
        if params.nightly is not None and params.enabled is None:
            return sched.set_nightly(params.nightly)
        if params.enabled is None:
            return sched.fill_state()
        reserve = _reserve(params.reserve_pct)
        until = None
        if params.until:
            try:
                until = parse_at(params.until, sched._tz())
            except ScheduleError as exc:
                raise ApiError("bad_request", str(exc)) from None
            if until <= datetime.now(UTC):
                raise ApiError("bad_request", f"--until {params.until} is already past")
        return sched.set_enabled(params.enabled, reserve_pct=reserve, until=until)

    async def decide(self, params: wire.DecideParams) -> wire.Decided:
        return self.sched.dry_run(_reserve(params.reserve_pct))

    async def night(self, params: wire.NightParams) -> wire.NightReport:
        """The morning report. Without `since`: the last night that began (the [fill]
        night window), to its end or now."""
        sched = self.sched
        now = datetime.now(UTC)
        start, end = last_night(sched.night(), now)
        try:
            tz = sched._tz()
            since = _when(params.since, tz) if params.since else start
            until = _when(params.until, tz) if params.until else None
        except ValueError as exc:
            raise ApiError("bad_request", str(exc)) from None
        if until is None:
            until = min(end, now) if not params.since else now
        if until <= since:
            raise ApiError("bad_request", "the period ends before it starts")
        return night_report(sched.store, sched.conn, since, until)


def _when(text: str, tz: Any) -> datetime:
    """ISO 8601 (a naive one in the [fill] zone) or a date (its midnight there)."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"bad time {text!r}; use YYYY-MM-DD or ISO 8601") from None
    return when if when.tzinfo else when.replace(tzinfo=tz)


def _model(name: str | None) -> str | None:
    """A model name as `claude --model` takes it, or None for the agent's default. It
    goes into argv as `--model=<name>` (never an option of its own), so any text is
    safe; blank is none."""
    return (name.strip() or None) if name else None


def _amounts(
    params: wire.QueueAddParams,
) -> tuple[float | None, float | None, str | None, str | None]:
    """(budget_usd, est_pct, budget, estimate) from the params: `budget` and `estimate`
    are amount specs (`sessions.fill.amount`), kept in their canonical text; a dollar
    budget also becomes `budget_usd` (Claude Code's own --max-budget-usd stops the run),
    and an estimate in % of the 5-hour window `est_pct`, which the scheduler reads."""
    usd, pct = params.budget_usd, params.est_pct
    budget = estimate = None
    if params.budget is not None and params.budget.strip():
        try:
            amount = parse_amount(params.budget)
        except ValueError as exc:
            raise ApiError("bad_request", f"budget: {exc}") from None
        if amount.kind == "usd":
            if usd is not None and usd != amount.value:
                raise ApiError("bad_request", "give the dollars once: --budget or --budget-usd")
            usd = amount.value
        budget = str(amount)
    if params.estimate is not None and params.estimate.strip():
        try:
            amount = parse_amount(params.estimate)
        except ValueError as exc:
            raise ApiError("bad_request", f"estimate: {exc}") from None
        if amount.kind == "usd":
            raise ApiError(
                "bad_request",
                "an estimate is a share of a window (5%5h, 2%week) or tokens (50k), not dollars",
            )
        if amount.kind == "pct" and amount.window == FIVE_HOUR:
            pct = amount.value
        estimate = str(amount)
    if usd is not None and not 0 < usd <= MAX_USD:
        raise ApiError(
            "bad_request", f"the budget must be more than $0 and at most ${MAX_USD:,.0f}"
        )
    if pct is not None and not 0 < pct <= 100:
        raise ApiError("bad_request", "the estimate must be more than 0% and at most 100%")
    return usd, pct, budget, estimate


def _reserve(value: float | None) -> float | None:
    """The `reserve_pct` asked for: a percentage, or None for the configured reserve."""
    if value is None:
        return None
    if not 0 <= value <= 100:
        raise ApiError("bad_request", f"reserve must be 0-100%, not {value:g}")
    return value


def _dep(dep: Dep) -> wire.TaskDep:
    return wire.TaskDep(id=dep.id, state=dep.state, last_result=dep.last_result)
