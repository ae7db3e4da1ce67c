"""A minute-step simulator of one plan account, its human and a background queue.

`simulate(scenario, policy)` runs the real `decide` (or a `none`/`greedy`
baseline) against a simulated clock: pure and deterministic, no I/O. Units are
shares of capacity: `capacity.five_hour` units fill a 5-hour window,
`capacity.seven_day` the weekly one. A 5-hour window opens at the first use
after the last one ended and resets 5 hours later; the weekly window resets at
`weekly_reset` and every 7 days after (and, before it, 7 days earlier).

Each minute: windows reset; the policy decides from what the log would show
(the past, the windows now, the human's sessions active now); then the human's
sessions and the running tasks consume their units. If a window is spent the
human is blocked (counted) and tasks stall. A running task consumes its units
evenly over its minutes; an interrupted one is requeued with what is left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from collectors.windows import FIVE_HOUR, FIVE_HOURS, SEVEN_DAY, WEEK
from sessions.fill.forecast import Forecast
from sessions.fill.policy import (
    DEFER,
    LAUNCH,
    PAUSE,
    PolicyConfig,
    ReserveRule,
    RunningView,
    TaskView,
    Window,
    decide,
    parse_days,
)

POLICIES = ("podium", "none", "greedy")
MINUTE = timedelta(minutes=1)
EPS = 1e-9


class ScenarioError(ValueError):
    """A scenario file that cannot be simulated; the message says which key."""


@dataclass(frozen=True)
class HumanSession:
    start: datetime
    minutes: int
    units_per_hour: float


@dataclass(frozen=True)
class SimTask:
    id: str
    units: float
    minutes: int
    priority: int = 0
    not_before: datetime | None = None


@dataclass(frozen=True)
class Scenario:
    start: datetime
    days: float
    five_hour: float
    seven_day: float
    weekly_reset: datetime
    config: PolicyConfig
    human: tuple[HumanSession, ...]
    tasks: tuple[SimTask, ...]


@dataclass
class _Task:
    spec: SimTask
    left: float
    defer_until: datetime | None = None
    started_at: datetime | None = None
    spent: float = 0.0
    view: TaskView | None = None  # rebuilt only when `left` or `defer_until` change

    def as_view(self, five_hour: float) -> TaskView:
        if self.view is None:
            self.view = TaskView(
                self.spec.id,
                self.spec.priority,
                100 * self.left / five_hour,
                self.spec.not_before,
                self.defer_until,
            )
        return self.view


@dataclass
class Result:
    policy: str
    weekly_utilization: float
    five_hour_utilization: float
    human_blocked_minutes: int
    tasks_done: int
    unused_area: dict[str, float]
    fill_caused_blocked_minutes: int = 0
    decisions: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "weekly_utilization": round(self.weekly_utilization, 4),
            "five_hour_utilization": round(self.five_hour_utilization, 4),
            "human_blocked_minutes": self.human_blocked_minutes,
            "fill_caused_blocked_minutes": self.fill_caused_blocked_minutes,
            "tasks_done": self.tasks_done,
            "unused_area": {k: round(v, 1) for k, v in self.unused_area.items()},
        }


def run(scenario: Scenario, policy: str = "podium") -> Result:
    """Simulate `policy`, and count its blocked minutes beyond the `none` policy's."""
    result = simulate(scenario, policy)
    baseline = result if policy == "none" else simulate(scenario, "none")
    result.fill_caused_blocked_minutes = max(
        0, result.human_blocked_minutes - baseline.human_blocked_minutes
    )
    return result


def simulate(scenario: Scenario, policy: str = "podium") -> Result:
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; use one of {', '.join(POLICIES)}")
    s = scenario
    minutes = round(s.days * 24 * 60)
    queue = [_Task(t, t.units) for t in s.tasks]
    running: list[_Task] = []
    done = 0
    five_open: datetime | None = None
    used5 = used7 = total = 0.0
    five_shares: list[float] = []
    week_reset = s.weekly_reset
    while week_reset - WEEK >= s.start:
        week_reset -= WEEK
    while week_reset <= s.start:
        week_reset += WEEK
    blocked = 0
    area5 = area7 = 0.0
    counts: dict[str, int] = {}
    forecast = Forecast(s.start, s.config.tz, s.five_hour, s.seven_day)
    sessions = sorted(s.human, key=lambda h: h.start)

    for m in range(minutes):
        now = s.start + m * MINUTE
        if five_open is not None and now >= five_open + FIVE_HOURS:
            five_shares.append(used5 / s.five_hour)
            five_open, used5 = None, 0.0
        if now >= week_reset:
            used7 = 0.0
            forecast.week_start = m
            week_reset += WEEK
        active = [h for h in sessions if h.start <= now < h.start + h.minutes * MINUTE]

        if policy != "none":
            windows = [
                Window(
                    FIVE_HOUR,
                    100 * used5 / s.five_hour,
                    five_open + FIVE_HOURS if five_open else None,
                    FIVE_HOURS,
                ),
                Window(SEVEN_DAY, 100 * used7 / s.seven_day, week_reset, WEEK),
            ]
            due = [
                t
                for t in queue
                if (t.spec.not_before is None or t.spec.not_before <= now)
                and (t.defer_until is None or t.defer_until <= now)
            ]
            if policy == "greedy":
                spent = used5 >= s.five_hour - EPS or used7 >= s.seven_day - EPS
                slots = s.config.max_concurrent - len(running)
                ranked = sorted(due, key=lambda t: -t.spec.priority)
                decisions = [] if spent else [(LAUNCH, t.spec.id) for t in ranked[:slots]]
            else:
                views = [t.as_view(s.five_hour) for t in queue]
                runs = [
                    RunningView(
                        t.spec.id,
                        t.started_at or now,
                        100 * t.spent / s.five_hour,
                        100 * (t.spent + t.left) / s.five_hour,
                    )
                    for t in running
                ]
                human = forecast.human_use(m, now, len(active), week_reset)
                decided = decide(now, windows, s.config, views, runs, human)
                for d in decided:
                    counts[d.action] = counts.get(d.action, 0) + 1
                    if d.action == DEFER and d.until is not None:
                        for t in queue:
                            if t.spec.id == d.task_id:
                                t.defer_until, t.view = d.until, None
                decisions = [(d.action, d.task_id) for d in decided]
            for action, task_id in decisions:
                if action == LAUNCH:
                    task = next(t for t in queue if t.spec.id == task_id)
                    queue.remove(task)
                    task.started_at, task.spent = now, 0.0
                    running.append(task)
                elif action == PAUSE and s.config.pause_mode == "interrupt":
                    task = next(t for t in running if t.spec.id == task_id)
                    running.remove(task)
                    task.view = None
                    queue.append(task)

        # Consumption this minute: the human first (their sessions run whatever
        # podium does), then the running tasks in launch order.
        room = min(s.five_hour - used5, s.seven_day - used7)
        want_human = sum(h.units_per_hour / 60 for h in active)
        served_human = min(want_human, max(0.0, room))
        if active and served_human < want_human - EPS:
            blocked += 1
        room -= served_human
        use = served_human
        for task in list(running):
            want = min(task.left, task.spec.units / task.spec.minutes)
            got = min(want, max(0.0, room))
            room -= got
            use += got
            task.left -= got
            task.spent += got
            if task.left <= EPS:
                running.remove(task)
                done += 1
        if use > EPS and five_open is None:
            five_open = now
        used5 += use
        used7 += use
        total += use
        forecast.record(served_human)
        area5 += (100 - 100 * used5 / s.five_hour) / 60
        area7 += (100 - 100 * used7 / s.seven_day) / 60

    if five_open is not None:
        five_shares.append(used5 / s.five_hour)
    return Result(
        policy=policy,
        weekly_utilization=total / (s.seven_day * s.days / 7),
        five_hour_utilization=sum(five_shares) / len(five_shares) if five_shares else 0.0,
        human_blocked_minutes=blocked,
        tasks_done=done,
        unused_area={FIVE_HOUR: area5, SEVEN_DAY: area7},
        decisions=counts,
    )


# -- scenario files ---------------------------------------------------------


def parse_scenario(data: Mapping[str, Any]) -> Scenario:
    """A scenario from its JSON object; `ScenarioError` names the bad key."""
    try:
        tz = ZoneInfo(str(data.get("tz", "UTC")))
        start = _when(data["start"], "start")
        days = float(data.get("days", 7))
        cap = data.get("capacity", {})
        five, seven = float(cap.get(FIVE_HOUR, 1.0)), float(cap.get(SEVEN_DAY, 6.0))
        if five <= 0 or seven <= 0 or days <= 0:
            raise ScenarioError("capacity and days must be positive")
        weekly_reset = _when(data.get("weekly_reset", data["start"]), "weekly_reset")
        reserve = tuple(_rule(r) for r in data.get("reserve", []))
        opts = data.get("policy", {})
        config = PolicyConfig(
            reserve=reserve,
            tz=tz,
            max_concurrent=int(opts.get("max_concurrent", 1)),
            pause_mode=str(opts.get("pause_mode", "finish")),
            weekly_margin_pct=float(opts.get("weekly_margin_pct", 2.0)),
            weekly_per_five_hour=five / seven,
        )
        end = start + timedelta(days=days)
        human = tuple(h for item in data.get("human", []) for h in _sessions(item, start, end, tz))
        tasks = tuple(t for item in data.get("tasks", []) for t in _tasks(item))
    except KeyError as exc:
        raise ScenarioError(f"missing key {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise ScenarioError(str(exc)) from None
    return Scenario(start, days, five, seven, weekly_reset, config, human, tasks)


def _when(value: Any, key: str) -> datetime:
    at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ScenarioError(f"{key}: give a time zone (e.g. a trailing Z)")
    return at


def _days(spec: str) -> frozenset[int]:
    try:
        return parse_days(spec)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None


def _rule(item: Mapping[str, Any]) -> ReserveRule:
    return ReserveRule(
        five_hour_pct=float(item["five_hour_pct"]),
        days=_days(item["days"]) if "days" in item else None,
        start=time.fromisoformat(item["from"]) if "from" in item else None,
        end=time.fromisoformat(item["to"]) if "to" in item else None,
    )


def _sessions(
    item: Mapping[str, Any], start: datetime, end: datetime, tz: tzinfo
) -> list[HumanSession]:
    """One session (`start`), or one a day (`at` local time, on `days`)."""
    minutes, rate = int(item["minutes"]), float(item["units_per_hour"])
    if "start" in item:
        return [HumanSession(_when(item["start"], "human.start"), minutes, rate)]
    at = time.fromisoformat(item["at"])
    days = _days(item.get("days", "mon-sun"))
    out = []
    day = start.astimezone(tz).date() - timedelta(days=1)
    while datetime.combine(day, time(0), tzinfo=tz) < end:
        when = datetime.combine(day, at, tzinfo=tz)
        if day.weekday() in days and when + minutes * MINUTE > start and when < end:
            out.append(HumanSession(when, minutes, rate))
        day += timedelta(days=1)
    return out


def _tasks(item: Mapping[str, Any]) -> list[SimTask]:
    """One task, or `count` copies of it (ids `<id>-1`…)."""
    not_before = item.get("not_before")
    task = SimTask(
        id=str(item["id"]),
        units=float(item["units"]),
        minutes=max(1, int(item["minutes"])),
        priority=int(item.get("priority", 0)),
        not_before=_when(not_before, "tasks.not_before") if not_before else None,
    )
    if task.units <= 0:
        raise ScenarioError(f"tasks: {task.id} needs positive units")
    count = int(item.get("count", 1))
    if count == 1:
        return [task]
    return [replace(task, id=f"{task.id}-{n}") for n in range(1, count + 1)]


__all__ = ["POLICIES", "Result", "Scenario", "ScenarioError", "parse_scenario", "run", "simulate"]
