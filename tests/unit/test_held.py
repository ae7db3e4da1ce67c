"""Why each open task waits (`sessions.fill.held`), from the fill policy's own decisions,
and what the scheduler sends of it (`queue.list {explain: true}`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from collectors.paths import Paths
from collectors.settings import FillSettings, ReserveRuleSettings, Settings
from collectors.store import open_store
from sessions import wire
from sessions.engine.events import EventBus
from sessions.engine.queue_api import QueueApi
from sessions.fill import policy
from sessions.fill.held import (
    BEHIND,
    CRON,
    DEFERRED,
    FILL_OFF,
    NIGHT,
    ON_CHANGE,
    SCHEDULED,
    why_held,
)
from sessions.fill.queue import QueueStore, Run, Task
from sessions.fill.runner import Runner
from sessions.fill.scheduler import Scheduler

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC
WEEKDAYS = frozenset(range(5))
RULES = (policy.ReserveRule(30, WEEKDAYS, time(9), time(19)), policy.ReserveRule(5))
IDLE = policy.HumanUse(pct_per_hour_now=0, forecast_pct_next_hours=0, active_sessions=0)


def windows(five: float, week: float = 10) -> list[policy.Window]:
    return [
        policy.Window("five_hour", five, NOW + timedelta(hours=2), timedelta(hours=5)),
        policy.Window("seven_day", week, NOW + timedelta(days=6), timedelta(days=7)),
    ]


def task(id: int, **kw: Any) -> Task:
    return Task(id=id, prompt=f"task {id}", cwd="/src/api", **kw)


def decide(tasks: list[Task], five: float, cap: int = 1, running: int = 0) -> list[Any]:
    """The policy's decisions for `tasks`, as the scheduler asks for them."""
    config = policy.PolicyConfig(reserve=RULES, tz=UTC, max_concurrent=cap)
    queue = [
        policy.TaskView(str(t.id), t.priority, t.est_pct or 1.0, t.not_before, t.defer_until)
        for t in tasks
        if t.state in ("queued", "deferred")
    ]
    runs = [policy.RunningView(f"r{n}", NOW, 0.0) for n in range(running)]
    return policy.decide(NOW, windows(five), config, queue, runs, IDLE)


def held(tasks: list[Task], five: float = 10, *, enabled: bool = True, **kw: Any) -> dict:
    ds = decide(tasks, five, **kw)
    cap = kw.get("cap", 1)
    got = why_held(NOW, tasks, ds, enabled=enabled, tz=UTC, max_concurrent=cap)
    return {h.task_id: h for h in got}


def test_tasks_not_due_say_what_they_wait_for() -> None:
    later = NOW + timedelta(hours=12)
    tasks = [
        task(1, schedule_kind="at", schedule="22:00", not_before=later),
        task(2, schedule_kind="window", schedule="night", not_before=NOW + timedelta(hours=15)),
        task(3, state="deferred", defer_until=NOW + timedelta(hours=1), last_result="busy"),
        task(4, state="recurring", schedule_kind="cron", schedule="0 3 * * *", not_before=later),
        task(5, state="recurring", schedule_kind="on_change", schedule="src/**"),
        task(6, state="running"),
        task(7, state="done"),
    ]
    got = held(tasks)
    assert sorted(got) == [1, 2, 3, 4, 5]  # running and done tasks are not held
    assert (got[1].kind, got[1].reason, got[1].until) == (SCHEDULED, "scheduled for 22:00", later)
    assert got[2].kind == NIGHT and got[2].reason == "waits for the night window, from Tue 01:00"
    assert got[3].kind == DEFERRED and got[3].reason == "deferred until 11:00: busy"
    assert got[4].kind == CRON and got[4].reason.endswith("the next at 22:00")
    assert got[5].kind == ON_CHANGE and "src/** in /src/api" in got[5].reason


def test_due_tasks_carry_the_policys_own_reason() -> None:
    # 30% is kept for you on weekdays from 09:00, the window is at 60%: the urgent small
    # task fits, the next one (in priority order) does not; a smaller one after it may
    # use the room it cannot, a bigger one waits behind it.
    tasks = [
        task(1, est_pct=20),
        task(2, est_pct=1, priority=5),
        task(3, est_pct=1),
        task(4, est_pct=25),
    ]
    ds = decide(tasks, five=60, cap=3)
    assert [(d.action, d.task_id) for d in ds] == [("launch", "2"), ("hold", "1"), ("launch", "3")]
    got = held(tasks, five=60, cap=3)
    assert got[2].kind == policy.SPARE and got[2].reason.startswith("starts now: spare capacity")
    assert got[3].kind == policy.SPARE
    first = next(d for d in ds if d.task_id == "1")
    assert got[1].kind == policy.RESERVE and got[1].reason == first.reason
    assert "30% kept for you until 12:00" in got[1].reason
    assert got[4].kind == BEHIND and got[4].reason == f"after task 1, which waits: {first.reason}"


def test_a_limit_defers_and_the_cap_holds_every_due_task() -> None:
    tasks = [task(1), task(2)]
    got = held(tasks, five=100)
    assert {h.kind for h in got.values()} == {policy.LIMIT}
    assert got[1].reason.startswith("five_hour limit reached") and got[1].until is not None
    got = held(tasks, running=1)
    assert [h.kind for h in got.values()] == [policy.CAP, policy.CAP]
    assert got[2].reason == "1 running, the cap is 1"
    # Two slots, two launches: a third waits behind them.
    got = held([*tasks, task(3)], cap=2)
    assert got[3].kind == BEHIND and got[3].reason.startswith("after tasks 1, 2, which start now")


def test_with_fill_off_that_comes_first_then_what_fill_would_do() -> None:
    tasks = [task(1), task(2, not_before=NOW + timedelta(hours=2))]
    got = held(tasks, enabled=False)
    assert [h.kind for h in got.values()] == [FILL_OFF, FILL_OFF]
    assert got[1].reason.startswith("background fill is off")
    assert got[1].reason.endswith("then: it would start now: " + decide(tasks, 10)[0].reason)
    assert got[2].reason.endswith("then: scheduled for 12:00")
    # Behind a task that would start, were fill on: nothing starts now.
    got = held([task(1), task(2)], enabled=False)
    assert got[2].reason.endswith(
        "then: after task 1, which would start now: at most 1 run(s) at once"
    )


# -- the scheduler: the reserve in force and `queue.list {explain: true}` -----------------


class _Usage:
    def __init__(self, five: float) -> None:
        self.five = five

    def windows(self, now: datetime | None = None) -> list[wire.UsageWindow]:
        at = now or datetime.now(UTC)
        return [
            wire.UsageWindow(
                window="five_hour",
                used_pct=self.five,
                resets_at=(at + timedelta(hours=2)).isoformat(),
                source="statusline",
            )
        ]

    def capacity(self, window: str) -> float:
        return 1_000_000.0


def _scheduler(tmp_path: Path, fill: FillSettings) -> Scheduler:
    conn = open_store(tmp_path / "podium.duckdb")
    store = QueueStore(conn)
    settings = Settings()

    async def blocking(fn: Any, *args: Any) -> Any:
        return fn(*args)

    runner = Runner(
        store,
        tmux=None,  # type: ignore[arg-type]
        paths=Paths(data=tmp_path, runtime=tmp_path),
        agents=settings.agents,
        fill=fill,
        tmux_settings=settings.tmux,
        blocking=blocking,
        record_usage=None,  # type: ignore[arg-type]
    )
    return Scheduler(
        store,
        runner,
        conn=conn,
        registry=SimpleNamespace(listed=lambda: []),  # type: ignore[arg-type]
        usage=_Usage(five=10),
        bus=EventBus(),
        settings=fill,
        blocking=blocking,
        spawn=None,  # type: ignore[arg-type]
    )


def test_the_reserve_in_force_says_where_it_comes_from(tmp_path: Path) -> None:
    # Monday 08:00: the 5% rule now, but the window (open until 10:00) reaches into the
    # 30% of working hours, so 30% is kept: what the policy keeps.
    rules = [
        ReserveRuleSettings(five_hour_pct=30.0, days="mon-fri", start="09:00", end="19:00"),
        ReserveRuleSettings(five_hour_pct=5.0),
    ]
    sched = _scheduler(tmp_path, FillSettings(tz="UTC", reserve=rules))
    at = NOW - timedelta(hours=2)
    reserve = sched.reserve(at, sched.windows(at))
    assert (reserve.pct, reserve.now_pct, reserve.source) == (30.0, 5.0, "schedule")
    assert reserve.window_end == (at + timedelta(hours=2)).isoformat()
    assert reserve.rules == [
        wire.ReserveRule(five_hour_pct=30.0, days="mon-fri", start="09:00", end="19:00"),
        wire.ReserveRule(five_hour_pct=5.0),
    ]
    (tmp_path / "b").mkdir()
    sched = _scheduler(tmp_path / "b", FillSettings(tz="UTC", reserve_pct=12.0))
    assert sched.reserve(at, sched.windows(at)).source == "config"
    sched.set_enabled(True, reserve_pct=50.0)  # `podium fill --reserve 50`
    reserve = sched.reserve(at, sched.windows(at))
    assert (reserve.pct, reserve.now_pct, reserve.source, reserve.rules) == (50, 50, "fill", [])


def test_queue_list_explains_only_when_asked(tmp_path: Path) -> None:
    sched = _scheduler(tmp_path, FillSettings(tz="UTC", reserve_pct=20.0))
    api = QueueApi(sched, sched.bus)  # type: ignore[arg-type]
    big = sched.store.add(task(0, est_pct=95.0))
    plain = asyncio.run(api.list(wire.QueueListParams()))
    assert plain.reserve is None and plain.held == []
    listed = asyncio.run(api.list(wire.QueueListParams(explain=True)))
    assert listed.reserve is not None and listed.reserve.pct == 20.0
    [why] = listed.held
    assert why.task_id == big.id and why.kind == FILL_OFF
    sched.set_enabled(True)
    [why] = asyncio.run(api.list(wire.QueueListParams(explain=True))).held
    # 95% does not fit beside the 20% reserve: the policy lets it start when the window
    # is as free as it gets, 10% used is not that.
    assert why.kind == policy.RESERVE and "20% kept for you" in why.reason


@pytest.mark.parametrize("kind", [policy.LIMIT, policy.RESERVE, policy.SPARE])
def test_decisions_on_the_wire_carry_their_kind(kind: str) -> None:
    d = policy.Decision(policy.HOLD, "3", "why", None, kind)
    sched = Scheduler.__new__(Scheduler)
    assert sched._decision_json(d) == wire.Decision(
        action="hold", task_id=3, reason="why", kind=kind
    )


def test_a_guessed_limit_reset_gives_way_to_the_official_one(tmp_path: Path) -> None:
    # A 429 whose reset nobody told: the task waits the 30-minute guess. Then the
    # official figures say the full window resets in 5 minutes: it waits for that.
    sched = _scheduler(tmp_path, FillSettings())
    store = sched.store
    now = datetime.now(UTC)
    task = store.add(Task(id=0, prompt="p", cwd=str(tmp_path)))
    run = store.add_run(Run(id=0, task_id=task.id, attempt=1, state="limited", started_at=now))
    guess = now + timedelta(minutes=30)
    store.update(task, state="deferred", defer_until=guess)
    sched._due(now)
    assert store.get(task.id).defer_until == guess  # nothing official yet: the guess stands
    sched.runner.full_until = lambda at: now + timedelta(minutes=5)
    sched._due(now)
    assert store.get(task.id).defer_until == now + timedelta(minutes=5)
    # A reset the server gave is not second-guessed.
    store.update_run(run, resets_at=now + timedelta(minutes=20))
    store.update(task, defer_until=now + timedelta(minutes=20))
    sched._due(now)
    assert store.get(task.id).defer_until == now + timedelta(minutes=20)


def test_the_night_budget_counts_what_fill_spent_since_the_night_opened(tmp_path: Path) -> None:
    fill = FillSettings(night_start="01:00", night_end="07:00", night_budget_pct=10, tz="UTC")
    sched = _scheduler(tmp_path, fill)
    conn = sched.conn
    conn.execute(
        "INSERT INTO queue_runs (task_id, attempt, state, started_at, claude_session_id) "
        "VALUES (1, 1, 'done', ?, 'fill-run')",
        [datetime(2026, 12, 1, 0, tzinfo=UTC)],
    )
    for hour, tokens in ((0, 500), (2, 700)):  # before the night opened, then in it
        conn.execute(
            "INSERT INTO usage_messages (dedupe_key, ts, claude_session_id, input_tokens, "
            "output_tokens, cache_creation_tokens, cache_creation_1h_tokens, "
            "cache_read_tokens, is_sidechain, source_path) "
            "VALUES (?, ?, 'fill-run', ?, 0, 0, 0, 0, false, 'x.jsonl')",
            [f"k{hour}", datetime(2026, 12, 1, hour, 30, tzinfo=UTC), tokens],
        )
    assert sched.facts(datetime(2026, 12, 1, 3, tzinfo=UTC)).fill_tonight_units == 700
    assert sched.facts(datetime(2026, 12, 1, 12, tzinfo=UTC)).fill_tonight_units == 0
