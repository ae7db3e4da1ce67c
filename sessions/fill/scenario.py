"""Scenario files of the fill simulator (`bench/scenarios/*.json`).

A scenario is one plan account over `days` (after `history_days` of the
person's use before podium ran, which the log holds as transcripts do): its
capacities (units that fill each window: `five_hour`, `seven_day`, and a
model's week such as `seven_day_sonnet`), the weekly reset, the `[fill]`
settings by their real names (`reserve` and `policy`, validated as the config
file is), the person's sessions (on this machine, or `"machine": "other"`:
claude.ai or another computer, seen only in the official figures), and the
backlog. A task's `units` is what the person expects it to cost (its
`--estimate`, unless `"estimate": false`); what it really costs differs by
`estimate_noise` (the spread of a log-normal factor, drawn per seed).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from collectors.settings import FillSettings
from collectors.windows import FIVE_HOUR, SEVEN_DAY, window_name
from sessions.fill.policy import parse_days

MINUTE = timedelta(minutes=1)


class ScenarioError(ValueError):
    """A scenario file that cannot be simulated; the message says which key."""


@dataclass(frozen=True)
class HumanSession:
    start: datetime
    minutes: int
    units_per_hour: float
    model: str | None = None
    local: bool = True  # on this machine (in the local log), or elsewhere


@dataclass(frozen=True)
class SimTask:
    id: str
    units: float  # what it really costs
    minutes: int
    priority: int = 0
    not_before: datetime | None = None
    estimate: float | None = None  # what the person said it costs (`--estimate`)
    model: str | None = None
    fallback: str | None = None
    # Copies of one scenario task (`fix-1`, `fix-2`) are the same kind of task.
    kind: str = ""


@dataclass(frozen=True)
class Scenario:
    start: datetime  # when podium starts: the measured span begins
    days: float
    capacity: Mapping[str, float]
    weekly_reset: datetime
    settings: FillSettings
    tz: tzinfo
    human: tuple[HumanSession, ...]
    tasks: tuple[SimTask, ...]
    history_days: float = 0.0
    estimate_noise: float = 0.0
    human_jitter_minutes: int = 0
    name: str = ""

    @property
    def five_hour(self) -> float:
        return self.capacity[FIVE_HOUR]

    @property
    def seven_day(self) -> float:
        return self.capacity[SEVEN_DAY]

    @property
    def history_start(self) -> datetime:
        return self.start - timedelta(days=self.history_days)

    def drawn(self, seed: int) -> Scenario:
        """This scenario as one seed draws it: each task's real cost off its estimate by
        `estimate_noise`, each session's start moved by up to `human_jitter_minutes`.
        Seed 0 is the scenario as written."""
        if seed == 0 or (self.estimate_noise <= 0 and self.human_jitter_minutes <= 0):
            return self
        rng = random.Random(seed)
        tasks = tuple(
            replace(t, units=t.units * math.exp(rng.gauss(0.0, self.estimate_noise)))
            if self.estimate_noise > 0
            else t
            for t in self.tasks
        )
        jitter = self.human_jitter_minutes
        human = tuple(
            replace(h, start=h.start + rng.randint(-jitter, jitter) * MINUTE) if jitter else h
            for h in self.human
        )
        return replace(self, tasks=tasks, human=human)


def parse_scenario(data: Mapping[str, Any]) -> Scenario:
    """A scenario from its JSON object; `ScenarioError` names the bad key."""
    try:
        tz = ZoneInfo(str(data.get("tz", "UTC")))
        start = _when(data["start"], "start")
        days = float(data.get("days", 7))
        history_days = float(data.get("history_days", 0))
        capacity = _capacity(data.get("capacity", {}))
        if days <= 0 or history_days < 0:
            raise ScenarioError("days must be positive and history_days not negative")
        weekly_reset = _when(data.get("weekly_reset", data["start"]), "weekly_reset")
        settings = _settings(data, tz)
        begin = start - timedelta(days=history_days)
        end = start + timedelta(days=days)
        human = tuple(h for item in data.get("human", []) for h in _sessions(item, begin, end, tz))
        tasks = tuple(t for item in data.get("tasks", []) for t in _tasks(item))
        noise = float(data.get("estimate_noise", 0.0))
        jitter = int(data.get("human_jitter_minutes", 0))
        if noise < 0 or jitter < 0:
            raise ScenarioError("estimate_noise and human_jitter_minutes must not be negative")
    except KeyError as exc:
        raise ScenarioError(f"missing key {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise ScenarioError(str(exc)) from None
    return Scenario(
        start=start,
        days=days,
        capacity=capacity,
        weekly_reset=weekly_reset,
        settings=settings,
        tz=tz,
        human=human,
        tasks=tasks,
        history_days=history_days,
        estimate_noise=noise,
        human_jitter_minutes=jitter,
        name=str(data.get("name", "")),
    )


def _capacity(cap: Mapping[str, Any]) -> dict[str, float]:
    out = {FIVE_HOUR: float(cap.get(FIVE_HOUR, 1.0)), SEVEN_DAY: float(cap.get(SEVEN_DAY, 6.0))}
    for key, value in cap.items():
        name = window_name(str(key))
        out[name] = float(value)
    if any(v <= 0 or not math.isfinite(v) for v in out.values()):
        raise ScenarioError("capacity: every window's capacity must be a positive number")
    return out


def _settings(data: Mapping[str, Any], tz: tzinfo) -> FillSettings:
    """The scenario's `[fill]` settings, read as the config file's are."""
    table: dict[str, Any] = dict(data.get("policy", {}))
    if "reserve" in data:
        table["reserve"] = data["reserve"]
    table.setdefault("tz", str(tz))
    try:
        return msgspec.convert(table, FillSettings, strict=False)
    except msgspec.ValidationError as exc:
        raise ScenarioError(f"policy: {exc}") from None


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


def _sessions(
    item: Mapping[str, Any], start: datetime, end: datetime, tz: tzinfo
) -> list[HumanSession]:
    """One session (`start`), or one a day (`at` local time, on `days`)."""
    minutes, rate = int(item["minutes"]), float(item["units_per_hour"])
    model = str(item["model"]) if item.get("model") else None
    machine = str(item.get("machine", "local"))
    if machine not in ("local", "other"):
        raise ScenarioError(f"human.machine: {machine!r} is not local or other")
    local = machine == "local"
    if "start" in item:
        return [HumanSession(_when(item["start"], "human.start"), minutes, rate, model, local)]
    at = time.fromisoformat(item["at"])
    days = _days(item.get("days", "mon-sun"))
    out = []
    day = start.astimezone(tz).date() - timedelta(days=1)
    while datetime.combine(day, time(0), tzinfo=tz) < end:
        when = datetime.combine(day, at, tzinfo=tz)
        if day.weekday() in days and when + minutes * MINUTE > start and when < end:
            out.append(HumanSession(when, minutes, rate, model, local))
        day += timedelta(days=1)
    return out


def _tasks(item: Mapping[str, Any]) -> list[SimTask]:
    """One task, or `count` copies of it (ids `<id>-1`…)."""
    not_before = item.get("not_before")
    units = float(item["units"])
    declared = item.get("estimate", True)
    task = SimTask(
        id=str(item["id"]),
        units=units,
        minutes=max(1, int(item["minutes"])),
        priority=int(item.get("priority", 0)),
        not_before=_when(not_before, "tasks.not_before") if not_before else None,
        estimate=units if declared is True else (float(declared) if declared else None),
        model=str(item["model"]) if item.get("model") else None,
        fallback=str(item["model_fallback"]) if item.get("model_fallback") else None,
        kind=str(item["id"]),
    )
    if task.units <= 0 or not math.isfinite(task.units):
        raise ScenarioError(f"tasks: {task.id} needs positive units")
    count = int(item.get("count", 1))
    if count == 1:
        return [task]
    return [replace(task, id=f"{task.id}-{n}") for n in range(1, count + 1)]
