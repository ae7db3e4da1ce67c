"""The fill scheduler: the engine's loop that spends spare capacity on the queue.

Every `[fill] interval` seconds, and at once when a task is added, a run ends
or fill is switched, one round:
1. recurring templates whose cron time came queue a new task; deferred tasks
   whose time passed are queued again; night-window tasks outside the night
   wait for its next start; fill switches itself off at its `--until` time;
2. only when fill is on (off by default; the switch is kept in DuckDB so it
   survives a restart): usage windows, the human's use, the queue and the live
   runs go to the pure policy `decide`, and its decisions are carried out
   (launch, pause, defer; hold does nothing). Each decision is logged with
   its reason and published as a `fill` event when it differs from the last round.
`dry_run` asks the policy the same question without acting.
On-change templates each get a watchfiles task on their directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

import duckdb
import watchfiles

from collectors.settings import FillSettings
from collectors.windows import FIVE_HOUR, SEVEN_DAY, WEEK
from sessions import wire
from sessions.engine.events import EventBus
from sessions.engine.parts import Blocking, Spawn
from sessions.fill import inputs, policy
from sessions.fill.graph import waiting_on
from sessions.fill.held import past_deadline, why_held
from sessions.fill.history import MINUTE, LogForecast, fill_tokens
from sessions.fill.night_report import night_report, summary
from sessions.fill.nightly import current_night, night_due, night_text
from sessions.fill.queue import QueueStore, Run, Task
from sessions.fill.runner import SERVER_WAIT, LaunchFailed, LaunchWaits, Runner
from sessions.fill.schedule import Cron, Night, ScheduleError, glob_matches, window_span, zone
from sessions.fill.spend import RunSpend
from sessions.fill.triggers import Trigger, Triggers, head_of, parse_trigger
from sessions.registry import Registry
from sessions.state import FINAL_STATES
from sessions.tmux import PaneInfo

log = logging.getLogger("podium.fill")
# How often old run streams are looked for (they age by days).
PRUNE_EVERY = timedelta(hours=1)


class Usage(Protocol):
    """What fill reads of the usage monitor (`sessions.engine.usage.UsageMonitor`)."""

    def windows(self, now: datetime | None = None) -> list[wire.UsageWindow]: ...

    def capacity(self, window: str) -> float: ...


class Scheduler:
    def __init__(
        self,
        store: QueueStore,
        runner: Runner,
        *,
        conn: duckdb.DuckDBPyConnection,
        registry: Registry,
        usage: Usage,
        bus: EventBus,
        settings: FillSettings,
        blocking: Blocking,
        spawn: Spawn,
        notify: Callable[[str, str], object] = lambda title, body: None,
    ) -> None:
        self.store = store
        # Where the morning report's summary goes when a nightly or --until fill ends
        # (the engine's alerts: `EngineCues.notify`).
        self.notify = notify
        self.runner = runner
        self.runner.on_change.append(self._run_ended)
        self.runner.on_retry.append(self._run_retrying)
        self.conn = conn
        self.registry = registry
        self.usage = usage
        self.bus = bus
        self.blocking = blocking
        self.spawn = spawn
        self.settings = settings
        self._wake = asyncio.Event()
        self._last: list[tuple[str, Any, str]] = []
        self._watchers: dict[int, asyncio.Task[None]] = {}
        # Templates queued by podium's own events (`--on`): sessions' turns and tasks'
        # ends from the bus, idleness, resets and commits each round.
        self._templates: list[tuple[int, Trigger]] | None = None
        self.triggers = Triggers(
            self._event_templates, self._fire_template, settings.on_change_debounce
        )
        bus.listen(self.triggers.on_event)
        self.rounds = 0
        self._pruned_at: datetime | None = None
        # The forecasts read from the log, by weekly window.
        self._forecasts: dict[str, LogForecast] = {}
        # Learned task costs, rebuilt from the queue's runs when one ends.
        self._estimator: inputs.Estimator | None = None

    # -- the switch ---------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return bool(self.store.state("fill_enabled", False))

    @property
    def nightly(self) -> str | None:
        """Where the night schedule comes from ("fill": `podium fill --nightly`, "config":
        `[fill] schedule`), or None when fill is not switched by the night."""
        if self.store.state("fill_nightly", False):
            return "fill"
        return "config" if self.settings.schedule == "night" else None

    def set_nightly(self, on: bool) -> wire.FillState:
        """`podium fill --nightly` / `--no-nightly`: kept in the store, so an engine
        restart keeps it. Switching it on inside a night switches fill on now."""
        self.store.set_state("fill_nightly", on)
        log.info("nightly fill %s", "on" if on else "off")
        self.wake()
        return self.fill_state()

    def fill_state(self) -> wire.FillState:
        enabled = self.enabled
        return wire.FillState(
            enabled=enabled,
            reserve_pct=self.reserve_pct(),
            until=self.store.state("fill_until"),
            source=self.store.state("fill_source") if enabled else None,
            since=self.store.state("fill_since") if enabled else None,
            nightly=self.nightly is not None,
            nightly_from=self.nightly,
            night=night_text(self.night()),
        )

    def set_enabled(
        self,
        enabled: bool,
        *,
        reserve_pct: float | None = None,
        until: datetime | None = None,
        source: str = "you",
    ) -> wire.FillState:
        was_on = self.enabled
        self.store.set_state("fill_enabled", enabled)
        # Overrides belong to one fill: switching on or off clears what was not given.
        self.store.set_state("fill_reserve_pct", reserve_pct if enabled else None)
        self.store.set_state("fill_until", until.isoformat() if enabled and until else None)
        if enabled:
            self.store.set_state("fill_source", source)
            if not was_on:  # a fill that goes on (a new --until, say) keeps its start
                self.store.set_state("fill_since", datetime.now(UTC).isoformat())
        self._last = []
        log.info("fill %s", "on" if enabled else "off")
        state = self.fill_state()
        self.bus.publish(
            wire.FillEvent(
                data=wire.FillChange(
                    kind="switch",
                    enabled=state.enabled,
                    reserve_pct=state.reserve_pct,
                    until=state.until,
                )
            )
        )
        self.wake()
        return self.fill_state()

    def reserve_pct(self) -> float | None:
        """One reserve for all times (`podium fill --reserve`, or config), else None."""
        value = self.store.state("fill_reserve_pct")
        return float(value) if value is not None else self.settings.reserve_pct

    def knobs(self, flat: float | None = None) -> inputs.Knobs:
        """The policy's knobs from `[fill]`; one reserve share (`flat`, or the fill's
        or config's override) replaces the reserve schedule."""
        return inputs.Knobs.from_settings(
            self.settings, self._tz(), flat if flat is not None else self.reserve_pct()
        )

    def reserve_schedule(self) -> Callable[[datetime], float]:
        """The reserve fill keeps at a time under today's settings, as a pure function
        (the review calls it in a worker thread; the knobs are read here, on the loop)."""
        return inputs.reserve_schedule(self.knobs())

    # -- the loop -----------------------------------------------------------------------------
    async def start(self) -> None:
        """After the engine opened the store: adopt live runs, then run the loops."""
        await self.runner.recover()
        if self.settings.enabled and not self.enabled:
            self.set_enabled(True, source="config")  # [fill] enabled: on at every start
        self.spawn(self.runner.run(), "fill-runs")
        self.spawn(self._loop(), "fill-scheduler")
        self.sync_watchers()

    def wake(self) -> None:
        self._wake.set()

    def after_sweep(self, panes: list[PaneInfo], taken: float) -> None:
        """The engine's sweep saw these panes (its `list-panes` began at monotonic `taken`)."""
        self.runner.after_sweep(panes, taken)

    def watchers(self) -> list[asyncio.Task[None]]:
        return list(self._watchers.values())

    async def _loop(self) -> None:
        while True:
            try:
                await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("fill round failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.interval)

    async def round(self) -> list[dict[str, Any]]:
        """One scheduling round; returns the decisions (acted on only when fill is on)."""
        self.rounds += 1
        now = datetime.now(UTC)
        self._due(now)
        await self._tick_triggers(now)
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            await self.prune_streams(now)
        self._switch_nightly(now)
        until = self.store.state("fill_until")
        if self.enabled and until and datetime.fromisoformat(until) <= now:
            since = self.store.state("fill_since")
            self.set_enabled(False)
            if since:
                self._morning_report(datetime.fromisoformat(since), now)
        if not self.enabled:
            return []
        decisions = self.decide(now)
        for d in decisions:
            await self._act(d)
        self._publish(decisions, now)
        return [self._decision_json(d) for d in decisions]

    def dry_run(self, reserve_pct: float | None = None) -> wire.Decided:
        """What a round would decide now, acting on nothing; `reserve_pct` tries a reserve."""
        now = datetime.now(UTC)
        decisions = self.decide(now, reserve_pct)
        fill = self.fill_state()
        if reserve_pct is not None:
            fill.reserve_pct = reserve_pct
        return wire.Decided(
            now=now.isoformat(),
            fill=fill,
            windows=self.usage.windows(now),
            decisions=[self._decision_json(d) for d in decisions],
        )

    def explain(self, now: datetime) -> tuple[wire.Reserve, list[wire.Held]]:
        """The reserve in force, and why each open task is not running: the policy's
        own reasons for this moment, asked as a round would (also while fill is off)."""
        windows = self.windows(now)
        decisions = self.decide(now, windows=windows)
        open_tasks = self.store.tasks(include_final=False)
        held = why_held(
            now,
            open_tasks,
            decisions,
            enabled=self.enabled,
            tz=self._tz(),
            max_concurrent=self.settings.max_concurrent,
            deps=self.store.deps_of([t.id for t in open_tasks]),
        )
        return self.reserve(now, windows), [
            wire.Held(
                task_id=h.task_id,
                kind=h.kind,
                reason=h.reason,
                until=h.until.astimezone(UTC).isoformat() if h.until else None,
            )
            for h in held
        ]

    def reserve(self, now: datetime, windows: list[policy.Window]) -> wire.Reserve:
        """The share of the 5-hour window kept for you, as `decide` computes it, and
        where it comes from."""
        pct, now_pct, end = inputs.reserve_now(self.knobs(), now, windows)
        if self.store.state("fill_reserve_pct") is not None:
            source: Literal["fill", "config", "schedule"] = "fill"
        elif self.settings.reserve_pct is not None:
            source = "config"
        else:
            source = "schedule"
        rules = [
            wire.ReserveRule(five_hour_pct=r.five_hour_pct, days=r.days, start=r.start, end=r.end)
            for r in self.settings.reserve
        ]
        return wire.Reserve(
            pct=pct,
            now_pct=now_pct,
            window_end=end.astimezone(UTC).isoformat(),
            source=source,
            rules=rules if source == "schedule" else [],
        )

    def _switch_nightly(self, now: datetime) -> None:
        """Fill on at a night's start (until its end), once per night (`nightly`)."""
        if self.nightly is None:
            return
        due = night_due(self.night(), now, self.store.state("fill_nightly_night"))
        if due is None:
            return
        self.store.set_state("fill_nightly_night", due[0].isoformat())
        if not self.enabled:
            self.set_enabled(True, until=due[1], source="nightly")

    def _morning_report(self, since: datetime, until: datetime) -> None:
        """A fill that ended at its time: what it did, as a desktop notification."""
        try:
            report = night_report(self.store, self.conn, since, until)
            self.notify("podium: background fill ended", summary(report))
        except Exception:
            log.exception("the morning report failed")

    # -- schedules ----------------------------------------------------------------------------
    def _tz(self) -> Any:
        try:
            return zone(self.settings.tz)
        except ScheduleError:
            return UTC

    def night(self) -> Night:
        return Night.parse(self.settings.night_start, self.settings.night_end, self._tz())

    def _due(self, now: datetime) -> None:
        """Cron occurrences, deferrals that ran out, night tasks outside the night."""
        for tmpl in self.store.in_state("recurring"):
            if tmpl.schedule_kind == "cron" and tmpl.not_before and tmpl.not_before <= now:
                self.enqueue_occurrence(tmpl, f"cron {tmpl.schedule}")
                nxt = Cron.parse(tmpl.schedule or "").next_after(now, self._tz())
                self.store.update(tmpl, not_before=nxt)
        official = None
        for task in self.store.in_state("deferred"):
            if task.defer_until is None or task.defer_until <= now:
                self.store.update(task, state="queued")
                continue
            # A limit whose reset nobody told waits a guess (`UNKNOWN_RESET`); once
            # the official figures tell when the full window resets, it waits for that.
            last = self.store.last_run(task.id)
            if last is not None and last.state == "limited" and last.resets_at is None:
                official = official or self.runner.full_until(now)
                if official is not None and official < task.defer_until:
                    log.info(
                        "task %d: the official figures say the limit resets %s",
                        task.id,
                        official.isoformat(),
                    )
                    self.store.update(task, defer_until=official)
        night = self.night()
        for task in self.store.in_state("queued"):
            span = window_span(task.schedule, night)
            if task.schedule_kind == "window" and not span.contains(now):
                start = span.next_start(now)
                if task.not_before != start:
                    self.store.update(task, not_before=start)

    def enqueue_occurrence(self, tmpl: Task, why: str) -> Task | None:
        """Queue one run of a recurring task, unless one is still waiting or running."""
        # A paused copy is open too: its person holds it, and no other copy goes meanwhile.
        open_states = ("queued", "running", "deferred", "paused")
        if any(c.state in open_states for c in self.store.children(tmpl.id)):
            log.info("task %d: %s, but its last occurrence is still open", tmpl.id, why)
            return None
        child = Task(
            **{
                **asdict(tmpl),
                "id": 0,
                "state": "queued",
                "parent_id": tmpl.id,
                "schedule_kind": "now",
                "schedule": None,
                "not_before": None,
                "defer_until": None,
                "attempts": 0,
                "claude_session_id": None,
                "last_result": None,
                "worktree_path": None,
            }
        )
        child = self.store.add(child)
        log.info("task %d: %s, queued task %d", tmpl.id, why, child.id)
        self.bus.publish(wire.QueueEvent(data=wire.QueueChange(task=child.to_wire())))
        self.wake()
        return child

    # -- podium's own events ---------------------------------------------------------------------
    def _event_templates(self) -> list[tuple[int, Trigger]]:
        """The live `--on` templates and their triggers (one that no longer reads is
        logged and left out). Kept between reads: every bus event asks for them, and
        templates change only when one is added or cancelled (`sync_watchers`)."""
        if self._templates is None:
            self._templates = self._read_event_templates()
        return self._templates

    def _read_event_templates(self) -> list[tuple[int, Trigger]]:
        out = []
        for tmpl in self.store.in_state("recurring"):
            if tmpl.schedule_kind != "on_event":
                continue
            try:
                out.append((tmpl.id, parse_trigger(tmpl.schedule or "")))
            except ScheduleError as exc:
                log.warning("task %d: its event cannot be read: %s", tmpl.id, exc)
        return out

    def _fire_template(self, template_id: int, why: str) -> None:
        # Called from inside the bus's publish: only schedule the queueing.
        asyncio.get_running_loop().call_soon(self._queue_occurrence, template_id, why)

    def _queue_occurrence(self, template_id: int, why: str) -> None:
        tmpl = self.store.get(template_id)
        if tmpl is not None and tmpl.state == "recurring":
            self.enqueue_occurrence(tmpl, why)

    async def _tick_triggers(self, now: datetime) -> None:
        templates = self._event_templates()
        if not templates:
            return
        heads = {}
        for tid, trigger in templates:
            if trigger.kind == "commit":
                heads[tid] = await self.blocking(head_of, trigger.target)
        sessions = [(r.name, r.state, r.state_since) for r in self.registry.listed()]
        windows = [(w.window, float(w.used_pct), w.resets_at) for w in self.usage.windows(now)]
        self.triggers.tick(now, sessions, windows, heads)

    def sync_watchers(self) -> None:
        """One watchfiles task per live on-change template; none for cancelled ones.
        The `--on` templates are read again too."""
        self._templates = None
        wanted = {
            t.id: t for t in self.store.in_state("recurring") if t.schedule_kind == "on_change"
        }
        for tid in list(self._watchers):
            if tid not in wanted:
                self._watchers.pop(tid).cancel()
        for tid, tmpl in wanted.items():
            if tid not in self._watchers:
                self._watchers[tid] = asyncio.create_task(self._watch(tmpl), name=f"watch-{tid}")

    async def _watch(self, tmpl: Task) -> None:
        root = Path(tmpl.cwd)
        pattern = tmpl.schedule or "**"
        debounce = int(self.settings.on_change_debounce * 1000)
        log.info("task %d: watching %s for %s", tmpl.id, root, pattern)
        try:
            async for changes in watchfiles.awatch(root, debounce=max(debounce, 50), step=50):
                rels = []
                for _change, path in changes:
                    with contextlib.suppress(ValueError):
                        rels.append(Path(path).relative_to(root).as_posix())
                hit = next((r for r in rels if glob_matches(pattern, r)), None)
                if hit is not None:
                    fresh = self.store.get(tmpl.id)
                    if fresh is None or fresh.state != "recurring":
                        return
                    self.enqueue_occurrence(fresh, f"{hit} changed")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("task %d: watching %s failed", tmpl.id, root)

    # -- the policy ---------------------------------------------------------------------------
    def window_facts(self, now: datetime) -> list[inputs.WindowFacts]:
        """The usage windows now, as the log shows them."""
        return [
            inputs.WindowFacts(
                name=w.window,
                used_pct=float(w.used_pct),
                resets_at=datetime.fromisoformat(w.resets_at) if w.resets_at else None,
                estimate=w.estimate,
            )
            for w in self.usage.windows(now)
        ]

    def windows(self, now: datetime) -> list[policy.Window]:
        """The usage windows now, as the policy takes them."""
        return inputs.windows(self.window_facts(now))

    def decide(
        self,
        now: datetime,
        reserve_pct: float | None = None,
        windows: list[policy.Window] | None = None,
    ) -> list[policy.Decision]:
        """The policy's decisions for now, from what the queue, the runs' streams and
        the usage log know (`sessions.fill.inputs`)."""
        facts = self.facts(now, windows)
        return inputs.decide(facts, self.knobs(reserve_pct), self.estimator())

    def facts(self, now: datetime, windows: list[policy.Window] | None = None) -> inputs.Facts:
        """What is knowable now, as `inputs.build` takes it."""
        found = self.window_facts(now)
        if windows is not None:
            # The caller's figures (one read of the monitor for a whole answer).
            found = [
                inputs.WindowFacts(w.name, w.used_pct, w.resets_at, w.estimate) for w in windows
            ]
        names = [w.name for w in found] or [FIVE_HOUR, SEVEN_DAY]
        capacity = {name: self.usage.capacity(name) for name in {*names, FIVE_HOUR, SEVEN_DAY}}
        resets = {w.name: w.resets_at for w in found}

        def measured(window: str) -> float:
            return capacity.get(window) or self.usage.capacity(window)

        active = sum(1 for r in self.registry.listed() if r.state not in FINAL_STATES)
        weeks = [n for n in capacity if n != FIVE_HOUR]
        humans = {
            name: self.human_use(now, active, resets.get(name), name, capacity) for name in weeks
        }
        fill_week = {}
        for name in weeks:
            reset = resets.get(name)
            if reset is not None and reset > now:
                fill_week[name] = fill_tokens(self.conn, reset - WEEK, now, name)
        night = self.night()
        this_night = current_night(night, now)
        tonight = (
            fill_tokens(self.conn, this_night[0], now)
            if this_night is not None and self.settings.night_budget_pct is not None
            else 0.0
        )
        # A task that comes after others is offered to the policy only once they are
        # all done (`--after`); until then `held.py` says which it waits on. A task past
        # its deadline (`not_after`: its team's `--until`) is never offered again.
        due = self.store.in_state("queued", "deferred")
        deps = self.store.deps_of([t.id for t in due])
        tasks = [
            inputs.TaskFacts(
                id=str(t.id),
                priority=t.priority,
                kind=inputs.task_kind(t.prompt),
                estimate_units=t.estimate_units(measured),
                model=t.model,
                fallback=t.model_fallback,
                not_before=t.not_before,
                defer_until=t.defer_until,
            )
            for t in due
            if not waiting_on(deps.get(t.id, [])) and not past_deadline(t, now)
        ]
        runs = []
        for r in self.store.running_runs():
            task = self.store.get(r.task_id)
            runs.append(
                inputs.RunFacts(
                    id=str(r.task_id),
                    kind=inputs.task_kind(task.prompt) if task else "",
                    started_at=r.started_at,
                    spent_units=_weighted(self.runner.spend(r.id)),
                    estimate_units=task.estimate_units(measured) if task else None,
                    # The model it runs on (its fallback, maybe): the weeks it spends.
                    # Runs from before migration 0013 have none: the task's model.
                    model=r.model or (task.model if task else None),
                )
            )
        return inputs.Facts(
            now=now,
            windows=found,
            capacity=capacity,
            tasks=tasks,
            runs=runs,
            human=humans[SEVEN_DAY],
            scoped_human={n: h for n, h in humans.items() if n != SEVEN_DAY},
            fill_week_units=fill_week,
            fill_tonight_units=tonight,
        )

    def estimator(self) -> inputs.Estimator:
        """What finished tasks cost, by kind (rebuilt when a run ends)."""
        if self._estimator is None:
            estimator = inputs.Estimator()
            for task, units in self.store.task_costs():
                estimator.learn(
                    inputs.task_kind(task.prompt),
                    units,
                    task.estimate_units(self.usage.capacity),
                )
            self._estimator = estimator
        return self._estimator

    def human_use(
        self,
        now: datetime,
        active: int,
        week_reset: datetime | None,
        window: str = SEVEN_DAY,
        capacity: dict[str, float] | None = None,
    ) -> policy.HumanUse:
        """The person's use of weekly `window` and its forecast, from the usage log
        (background runs left out; `LogForecast` keeps it between rounds)."""
        cap = capacity or {}
        forecast, minute, reset = self._forecasts.setdefault(window, LogForecast(window)).at(
            self.conn,
            now,
            zone(self.settings.tz),
            cap.get(FIVE_HOUR) or self.usage.capacity(FIVE_HOUR),
            cap.get(window) or self.usage.capacity(window),
            week_reset,
        )
        return forecast.human_use(minute, forecast.start + minute * MINUTE, active, reset)

    async def prune_streams(self, now: datetime) -> int:
        """Delete the stream files of runs that ended over `keep_streams_days` ago.

        The run's row keeps its figures; only `stream_path` is cleared, so `queue
        log` says the stream is gone. Files are deleted in a worker thread; the
        store is only touched here, on the engine's loop."""
        cutoff = now - timedelta(days=self.settings.keep_streams_days)
        runs = self.store.streams_ended_before(cutoff)
        if not runs:
            return 0
        deleted = await self.blocking(_delete_streams, runs)
        for run in runs:
            if run.id in deleted:
                self.store.update_run(run, stream_path=None)
        log.info(
            "deleted %d run stream(s) older than %d days",
            len(deleted),
            self.settings.keep_streams_days,
        )
        return len(deleted)

    async def _act(self, d: Any) -> None:
        # The policy names tasks by string id; the queue's ids are integers.
        task = self.store.get(int(d.task_id)) if d.task_id is not None else None
        if d.action == "launch" and task is not None and task.state in ("queued", "deferred"):
            try:
                # On the fallback model when the policy chose it (its own model's week
                # has no room); None: the task's own model.
                await self.runner.start(task, model=d.model)
            except LaunchWaits as exc:
                log.info("task %d waits: %s", task.id, exc)
                until = datetime.now(UTC) + SERVER_WAIT
                self.store.update(task, state="deferred", defer_until=until, last_result=str(exc))
                self.bus.publish(wire.QueueEvent(data=wire.QueueChange(task=task.to_wire())))
            except LaunchFailed as exc:
                log.warning("task %d failed to start: %s", task.id, exc)
                self.store.update(task, state="failed", last_result=str(exc))
                self.bus.publish(wire.QueueEvent(data=wire.QueueChange(task=task.to_wire())))
        elif d.action == "defer" and task is not None and task.state in ("queued", "deferred"):
            self.store.update(task, state="deferred", defer_until=d.until)
        elif d.action == "pause" and task is not None and task.state == "running":
            for run in self.store.running_runs():
                if run.task_id == task.id:
                    await self.runner.cancel(run)
            # Back in the queue; it resumes its Claude session when launched again.
            run_sid = next(
                (
                    r.claude_session_id
                    for r in reversed(self.store.runs(task.id))
                    if r.claude_session_id
                ),
                None,
            )
            self.store.update(
                task, state="queued", claude_session_id=run_sid, last_result=f"paused: {d.reason}"
            )

    def _decision_json(self, d: Any) -> wire.Decision:
        until = getattr(d, "until", None)
        return wire.Decision(
            action=d.action,
            # The policy names tasks by string id; the wire by the queue's integer id.
            task_id=int(d.task_id) if d.task_id is not None else None,
            reason=d.reason,
            until=until.isoformat() if isinstance(until, datetime) else until,
            kind=d.kind,
            model=d.model,
        )

    def _publish(self, decisions: list[Any], now: datetime) -> None:
        key = [(d.action, d.task_id, d.reason) for d in decisions]
        if key == self._last:
            return
        self._last = key
        for d in decisions:
            log.info("fill: %s task %s: %s", d.action, d.task_id, d.reason)
        self.bus.publish(
            wire.FillEvent(
                data=wire.FillChange(
                    kind="decisions",
                    at=now.isoformat(),
                    decisions=[self._decision_json(d) for d in decisions],
                )
            )
        )

    def _run_ended(self, run: Run) -> None:
        self._estimator = None  # a finished run teaches what its kind of task costs
        for forecast in self._forecasts.values():
            forecast.invalidate()  # and its messages are fill's, not the person's
        task = self.store.get(run.task_id)
        self.bus.publish(
            wire.QueueEvent(
                data=wire.QueueChange(run=run.to_wire(), task=task.to_wire() if task else None)
            )
        )
        self.wake()

    def _run_retrying(self, run: Run) -> None:
        """A live run entered Claude Code's retry loop, retried again or got through."""
        task = self.store.get(run.task_id)
        retry = self.runner.retry_info(run.id)
        self.bus.publish(
            wire.QueueEvent(
                data=wire.QueueChange(run=run.to_wire(retry), task=task.to_wire() if task else None)
            )
        )


def _weighted(spend: RunSpend | None) -> float:
    """Weighted tokens a run's stream showed so far (0 before its first response)."""
    return float(spend.weighted_tokens) if spend is not None else 0.0


def _delete_streams(runs: list[Run]) -> set[int]:
    """Delete the runs' stream files (blocking); the ids of those now gone."""
    gone = set()
    for run in runs:
        try:
            stream = Path(run.stream_path or "")
            stream.unlink(missing_ok=True)
            # The prompt the run read on stdin (`Runner`), kept beside its stream.
            if stream.suffix == ".jsonl":
                stream.with_suffix(".prompt").unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot delete the stream of run %d: %s", run.id, exc)
            continue
        gone.add(run.id)
    return gone
