"""TEMPORARY stand-in for `sessions.fill.policy` (feat-policy), used only while that
module is missing: the scheduler imports the real policy first. It launches the
most urgent eligible task when fewer than `max_concurrent` run, and holds otherwise.
Delete this file once the policy branch is merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Window:
    name: str
    used_pct: float
    resets_at: datetime | None
    length: Any
    estimate: bool = False


@dataclass(frozen=True)
class ReserveRule:
    five_hour_pct: float
    days: Any = None
    start: Any = None
    end: Any = None


@dataclass(frozen=True)
class TaskView:
    id: int
    priority: int
    est_pct: float
    not_before: datetime | None = None
    defer_until: datetime | None = None


@dataclass(frozen=True)
class RunningView:
    id: int
    started_at: datetime
    spent_pct: float


@dataclass(frozen=True)
class HumanUse:
    pct_per_hour_now: float
    forecast_pct_next_hours: Any
    active_sessions: int


@dataclass(frozen=True)
class PolicyConfig:
    reserve: Any
    tz: Any
    max_concurrent: int = 1
    pause_mode: str = "finish"
    weekly_margin_pct: float = 2.0


@dataclass(frozen=True)
class Decision:
    action: str
    task_id: int | None
    reason: str
    until: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def decide(
    now: datetime,
    windows: list[Window],
    config: PolicyConfig,
    queue: list[TaskView],
    running: list[RunningView],
    human: HumanUse,
) -> list[Decision]:
    free = config.max_concurrent - len(running)
    ready = [
        t
        for t in queue
        if (t.not_before is None or t.not_before <= now)
        and (t.defer_until is None or t.defer_until <= now)
    ]
    ready.sort(key=lambda t: (-t.priority, t.id))
    out = [
        Decision("launch", t.id, "interim policy: a run slot is free")
        for t in ready[: max(free, 0)]
    ]
    out += [
        Decision("hold", t.id, "interim policy: no free run slot") for t in ready[max(free, 0) :]
    ]
    return out
