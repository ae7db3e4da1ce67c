"""The fill policy: one pure function from the state of the account to decisions.

`decide(now, windows, config, queue, running, human)` says, for this moment,
which queued tasks to launch, which running ones to pause, which to defer until
a limit resets, or why it holds. It reads no clock and does no I/O: the live
scheduler and the simulator (`sessions.fill.simulate`) call it alike, so what
the simulator measures is what runs.

Three budgets, in this order:
- a limited window (used >= 100) defers every due task until its reset (a
  model's week only the tasks that spend it, unless they may run on another
  model: `TaskView.fallback`);
- the 5-hour window keeps the human's reserve (the config's rule for the local
  time, the highest one over what is left of the window) plus the human's
  forecast use, and pauses fill when the human is busy and that is threatened;
- each weekly window a task spends (the week of all models, and its model's
  week where the account reports one) is paced: fill may launch while the
  window stands below a line that rises from the week's start to `100 - margin
  - forecast human use until the reset`, and never past that ceiling, so spare
  capacity is spread over the week's 5-hour windows and spent by the reset (in
  the last window everything spare), never before the human needs it.
The night window may have a budget of its own (`PolicyConfig.night_budget_pct`).

Its inputs are built by `sessions.fill.inputs`, the one place that turns what
is knowable (the queue, the runs' streams, the log, the settings) into them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from collectors.windows import FIVE_HOUR, FIVE_HOURS, SEVEN_DAY

LAUNCH = "launch"
HOLD = "hold"
PAUSE = "pause"
DEFER = "defer"


@dataclass(frozen=True)
class Window:
    """One usage window now."""

    name: str  # "five_hour" | "seven_day" | model-scoped
    used_pct: float  # 0..100
    resets_at: datetime | None
    length: timedelta  # 5 h or 7 d
    estimate: bool = False


@dataclass(frozen=True)
class ReserveRule:
    """First matching rule wins; a rule without days/from/to matches always."""

    five_hour_pct: float
    days: frozenset[int] | None = None  # 0=Mon..6=Sun
    start: time | None = None  # local wall clock, in `tz`
    end: time | None = None


@dataclass(frozen=True)
class TaskView:
    """A queued task as the policy sees it."""

    id: str
    priority: int  # higher runs first; ties keep the queue's order
    est_pct: float  # expected cost in % of the 5-hour window
    not_before: datetime | None = None
    defer_until: datetime | None = None
    # The weekly windows its model spends (the 5-hour one is spent by all).
    windows: tuple[str, ...] = (SEVEN_DAY,)
    # Another model it may run on when its own model's week has no room, and the
    # weekly windows that one spends.
    fallback: str | None = None
    fallback_windows: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunningView:
    """A running task."""

    id: str
    started_at: datetime
    spent_pct: float
    # Its expected total cost (% of the 5-hour window), when known: what is left
    # of it is counted as already spoken for.
    est_pct: float | None = None
    windows: tuple[str, ...] = (SEVEN_DAY,)


@dataclass(frozen=True)
class HumanUse:
    """What the log says about the human's own use (the past only)."""

    pct_per_hour_now: float  # recent burn by the human's sessions (% of 5-hour / h)
    forecast_pct_next_hours: float  # expected human use over the next few hours (% of 5-hour)
    active_sessions: int  # human sessions busy/waiting right now
    # Expected human use from now until the weekly reset, in % of the weekly window.
    forecast_week_pct: float = 0.0
    # The human's own use since the weekly window opened (% of the weekly window),
    # when the log can tell it from fill's; pacing then spreads fill evenly.
    week_used_pct: float | None = None
    # The most the person is forecast to use in each coming hour until the weekly
    # reset (% of the 5-hour window): where fill will find room, and where not.
    hours_ahead: tuple[float, ...] = ()
    # The same two figures for a model's week (`seven_day_sonnet`…): window ->
    # (forecast until its reset, used so far), each in % of that window.
    scoped: Mapping[str, tuple[float, float | None]] = field(default_factory=dict)

    def week(self, name: str) -> tuple[float, float | None]:
        """(forecast use until the reset, use so far) of weekly window `name`."""
        if name == SEVEN_DAY:
            return self.forecast_week_pct, self.week_used_pct
        return self.scoped.get(name, (0.0, None))


@dataclass(frozen=True)
class PolicyConfig:
    reserve: tuple[ReserveRule, ...]
    tz: tzinfo
    max_concurrent: int = 1
    pause_mode: str = "finish"  # "finish" | "interrupt"
    weekly_margin_pct: float = 2.0
    # What 1% of the 5-hour window costs in % of the weekly window (5-hour
    # capacity / weekly capacity, as measured); task estimates are in 5-hour %.
    weekly_per_five_hour: float = 0.125
    # The same ratio for a model's week, by window name (missing: as the week's).
    per_five_hour: Mapping[str, float] = field(default_factory=dict)
    # Within this much of the weekly reset, spend everything spare.
    spend_all_within: timedelta = FIVE_HOURS
    # The night window (local wall clock in `tz`) and the most fill may spend in
    # one night, in % of the weekly window (None: no budget of its own).
    night_start: time | None = None
    night_end: time | None = None
    night_budget_pct: float | None = None

    def ratio(self, window: str) -> float:
        """% of weekly `window` that 1% of the 5-hour window costs."""
        if window == SEVEN_DAY:
            return self.weekly_per_five_hour
        return self.per_five_hour.get(window, self.weekly_per_five_hour)


# What a decision comes from (`Decision.kind`): the background screen says why a task
# waits by it, the reason says it in words.
LIMIT = "limit"  # a window is used up: everything waits for its reset
BUSY = "busy"  # you are working and fill's share would eat your reserve
IDLE = "idle"  # nothing is due
CAP = "cap"  # as many runs as `max_concurrent` allows are running
RESERVE = "reserve"  # the 5-hour window has no room beyond what is kept for you
PACING = "pacing"  # the week's spare capacity is spread over its windows
NIGHT_BUDGET = "night_budget"  # fill spent tonight's budget
SPARE = "spare"  # room for the task: launch


@dataclass(frozen=True)
class Decision:
    action: str  # "launch" | "hold" | "pause" | "defer"
    task_id: str | None
    reason: str
    until: datetime | None = None
    kind: str = ""  # LIMIT, BUSY, IDLE, CAP, RESERVE, PACING, NIGHT_BUDGET or SPARE
    # A launch on another model than the task's own (its fallback).
    model: str | None = None


def decide(
    now: datetime,
    windows: Sequence[Window],
    config: PolicyConfig,
    queue: Sequence[TaskView],
    running: Sequence[RunningView],
    human: HumanUse,
    fill_tonight_pct: float = 0.0,
) -> list[Decision]:
    """Decide launches, pauses, deferrals, or why to hold, for `now`.

    `fill_tonight_pct` is what fill spent since the night window opened (% of
    the weekly window), for the night's budget."""
    due, next_due = _due_tasks(now, queue)

    limited = [w for w in windows if w.used_pct >= 100 and w.name in (FIVE_HOUR, SEVEN_DAY)]
    if limited:
        # Launching into a spent window only stalls the task: wait for the reset.
        # Without a known reset, look again soon rather than guess a far one.
        until = max(w.resets_at or now + timedelta(minutes=30) for w in limited)
        names = ", ".join(w.name for w in limited)
        # In the person's zone, as the other reasons: a reset is at most a week ahead.
        reason = f"{names} limit reached; resets {until.astimezone(config.tz):%a %H:%M}"
        return [Decision(DEFER, t.id, reason, until, LIMIT) for t in due] or [
            Decision(HOLD, None, reason, until, LIMIT)
        ]

    by_name = {w.name: w for w in windows}
    five = by_name.get(FIVE_HOUR)
    decisions: list[Decision] = []

    # What the running tasks still need counts as already spent. One that has
    # spent its estimate is not done: a quarter more is kept for it.
    def remaining(r: RunningView) -> float:
        est = r.est_pct or 0.0
        return max(est - r.spent_pct, 0.25 * max(est, r.spent_pct))

    active = sorted(running, key=lambda r: r.started_at)
    committed = sum(remaining(r) for r in active)
    # By weekly window: what the running tasks that spend it still need (5-hour %).
    committed_in = {name: 0.0 for name in by_name}
    for r in active:
        for name in r.windows:
            committed_in[name] = committed_in.get(name, 0.0) + remaining(r)

    five_used = five.used_pct if five else 0.0
    five_end = five_hour_end(now, windows)
    reserve = reserve_pct(config, now, five_end)
    reserve_now = reserve_pct(config, now, now)
    hours_left = max(0.0, (five_end - now).total_seconds() / 3600)
    human_need = max(human.forecast_pct_next_hours, human.pct_per_hour_now * hours_left)
    five_cap = 100.0 - reserve - human_need
    weeks = [w for w in windows if w.name != FIVE_HOUR and w.name in committed_in]

    # Pause: the human is busy and the fill's share would eat their reserve, or
    # the reserve is being eaten right now (an estimate was wrong), or a week
    # would be left with less than the human is forecast to need.
    threatened = (
        human.active_sessions > 0 and (five_used + committed + human_need > 100.0 - reserve_now)
    ) or five_used >= 100.0 - reserve_now
    short_week = next(
        (
            w
            for w in weeks
            if w.used_pct + config.ratio(w.name) * committed_in.get(w.name, 0.0)
            > 100.0 - config.weekly_margin_pct - human.week(w.name)[0]
            and committed_in.get(w.name, 0.0) > 0
        ),
        None,
    )
    if active and (threatened or short_week is not None):
        why = (
            f"your reserve is threatened: 5-hour at {five_used:.0f}%, "
            f"{reserve_now:.0f}% kept for you, you need ~{human_need:.0f}%"
            if threatened
            else f"{_label(short_week.name)} at {short_week.used_pct:.0f}% would leave you "
            "less than your forecast use"
            if short_week is not None
            else ""
        )
        # Whatever the pause mode, fill never runs the person out of a window: when
        # what the runs still need and what the person needs pass the limit itself,
        # runs stop (they resume later) rather than finish.
        over_five = human.active_sessions > 0 and five_used + committed + human_need > 100.0
        over_week = short_week is not None and (
            short_week.used_pct
            + config.ratio(short_week.name) * committed_in.get(short_week.name, 0.0)
            + human.week(short_week.name)[0]
            > 100.0
        )
        if config.pause_mode == "interrupt" or over_five or over_week:
            # Newest first: least work is lost, and the oldest is nearest its end.
            limit = 100.0 - reserve_now if config.pause_mode == "interrupt" else 100.0
            left = five_used + committed
            for r in reversed(active):
                decisions.append(Decision(PAUSE, r.id, why, kind=BUSY))
                left -= remaining(r)
                if threatened and not over_week and left + human_need <= limit:
                    break
        return [*decisions, Decision(HOLD, _first(due), f"{why}; launching nothing", kind=BUSY)]

    if not due:
        why = "no task is due" if queue else "the queue is empty"
        return [Decision(HOLD, None, why, next_due, IDLE)]

    slots = config.max_concurrent - len(active)
    if slots <= 0:
        return [
            Decision(
                HOLD,
                _first(due),
                f"{len(active)} running, the cap is {config.max_concurrent}",
                kind=CAP,
            )
        ]

    tonight = _night_budget_left(now, config, fill_tonight_pct)
    stopped = False  # a task waits for room: only smaller ones may pass it
    for task in due:
        if slots <= 0:
            break
        # A task bigger than any window could hold would never start: let it
        # start when the window is as free as it gets; pausing guards the rest.
        cost = min(task.est_pct, max(0.0, 100.0 - reserve))
        # No room at all (the reserve and the forecast take the whole window): hold.
        if five_cap <= 0 or five_used + committed + cost > five_cap:
            free = max(0.0, five_cap - five_used - committed)
            if not stopped:
                decisions.append(
                    Decision(
                        HOLD,
                        task.id,
                        f"5-hour reserve: {reserve:.0f}% kept for you until "
                        f"{five_end.astimezone(config.tz):%H:%M} plus ~{human_need:.0f}% "
                        f"forecast; {free:.0f}% free, the task needs ~{task.est_pct:.0f}%",
                        kind=RESERVE,
                    )
                )
                stopped = True
            # A smaller task may still fit the room this one cannot use (it gets the
            # next window first all the same: it comes first in the order).
            continue
        if tonight is not None and config.weekly_per_five_hour * (committed + cost) > tonight:
            if stopped:
                break
            decisions.append(
                Decision(
                    HOLD,
                    task.id,
                    f"night budget: fill spent {fill_tonight_pct:.1f}% of the week tonight, "
                    f"the budget is {config.night_budget_pct:g}%",
                    kind=NIGHT_BUDGET,
                )
            )
            break
        # Its own model's weeks, else its fallback's.
        routes = [(None, task.windows)]
        if task.fallback:
            routes.append((task.fallback, task.fallback_windows))
        held: list[tuple[Decision, str, bool]] = []
        for model, spends in routes:
            blocked = _week_blocks(now, task, spends, by_name, committed_in, cost, config, human)
            if blocked is not None:
                held.append(blocked)
                continue
            decisions.append(
                Decision(
                    LAUNCH,
                    task.id,
                    "spare capacity: "
                    + ", ".join(
                        [
                            f"5-hour {five_used:.0f}%",
                            *(
                                _week_state(now, by_name[n], config, human)
                                for n in spends
                                if n in by_name
                            ),
                        ]
                    )
                    + (f"; on {model}, its fallback" if model else ""),
                    kind=SPARE,
                    model=model,
                )
            )
            committed += cost
            for name in spends:
                committed_in[name] = committed_in.get(name, 0.0) + cost
            slots -= 1
            break
        if len(held) < len(routes):
            continue
        if all(window != SEVEN_DAY for _d, window, _room in held):
            # Only a model's week stops it: tasks on other models do not compete for
            # that week, so they need not wait behind it.
            decisions.append(held[0][0])
            continue
        if not stopped:
            # Its own model's reason (the fallback's, when there is one, is the same or less).
            decisions.append(held[0][0])
        if all(room for _d, _w, room in held):
            # The week's room is too small for it before the reset: a smaller one may fit.
            stopped = True
            continue
        break  # ahead of the week's line: every task is
    return decisions


def _week_blocks(
    now: datetime,
    task: TaskView,
    spends: Sequence[str],
    by_name: Mapping[str, Window],
    committed_in: Mapping[str, float],
    cost: float,
    config: PolicyConfig,
    human: HumanUse,
) -> tuple[Decision, str, bool] | None:
    """Why the weekly windows `spends` cannot take `task` now (a hold, or a deferral
    when a model's week is spent), which window says so and whether it is for want of
    room (True) or for being ahead of the week's line (False); None when they can."""
    for name in spends:
        week = by_name.get(name)
        if week is None:
            continue
        if week.used_pct >= 100:
            until = week.resets_at or now + timedelta(minutes=30)
            return (
                Decision(
                    DEFER,
                    task.id,
                    f"{_label(name)} limit reached; resets {until.astimezone(config.tz):%a %H:%M}",
                    until,
                    LIMIT,
                ),
                name,
                True,
            )
        ratio = config.ratio(name)
        spoken = week.used_pct + ratio * committed_in.get(name, 0.0)
        need = ratio * cost
        target, ceiling, gone, line_until = _weekly_line(now, week, config, human, spoken)
        if spoken + need > ceiling:
            return (
                Decision(
                    HOLD,
                    task.id,
                    f"{_label(name)} pacing: {week.used_pct:.1f}% used; {ceiling:.1f}% is all "
                    "fill may reach before the reset (the rest is your forecast use and the "
                    "margin); "
                    f"the task needs ~{need:.1f}%",
                    kind=PACING,
                ),
                name,
                True,
            )
        # Below the line fill may launch (it overshoots by one task at most);
        # ahead of it, it waits until the line passes where the week stands.
        if spoken > target:
            when = f", at {line_until.astimezone(config.tz):%a %H:%M}" if line_until else ""
            return (
                Decision(
                    HOLD,
                    task.id,
                    f"{_label(name)} pacing: fill is ahead of the week's line ({spoken:.1f}% "
                    f"used or spoken for, the line is at {target:.1f}% with {gone:.0%} of the "
                    f"week gone); it launches when the line passes {spoken:.1f}%{when}",
                    until=line_until,
                    kind=PACING,
                ),
                name,
                False,
            )
    return None


def _week_state(now: datetime, week: Window, config: PolicyConfig, human: HumanUse) -> str:
    target, _ceiling, _gone, _until = _weekly_line(now, week, config, human, week.used_pct)
    return f"{_label(week.name)} {week.used_pct:.1f}% of {target:.1f}% paced"


def _label(window: str) -> str:
    """How a reason names a weekly window: `weekly`, `weekly sonnet`."""
    if window == SEVEN_DAY:
        return "weekly"
    return "weekly " + window.removeprefix(SEVEN_DAY + "_")


def _night_budget_left(now: datetime, config: PolicyConfig, spent_pct: float) -> float | None:
    """What is left of tonight's budget (% of the week), or None outside the night
    or without a budget."""
    if config.night_budget_pct is None or config.night_start is None or config.night_end is None:
        return None
    clock = now.astimezone(config.tz).time().replace(tzinfo=None)
    if not _in_span(clock, config.night_start, config.night_end):
        return None
    return max(0.0, config.night_budget_pct - spent_pct)


# Fill catches up once what it has left to spend passes this share of the room
# the coming hours leave it.
CATCH_UP = 0.8


@functools.lru_cache(maxsize=64)
def _room_ahead(
    hour: datetime, ahead: tuple[float, ...], reserve: tuple[ReserveRule, ...], tz: tzinfo
) -> float:
    """The % of the 5-hour window fill could take over the coming hours: each hour's
    fifth of what its reserve and the person's forecast use leave."""
    config = PolicyConfig(reserve=reserve, tz=tz)
    return sum(
        max(0.0, (100.0 - _rule_pct(config, hour + timedelta(hours=i))) / 5 - used)
        for i, used in enumerate(ahead)
    )


_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_days(spec: str) -> frozenset[int]:
    """`mon-fri`, `sat,sun`, `mon`: weekday numbers, 0 = Monday (ValueError if unreadable)."""
    out: set[int] = set()
    for part in spec.lower().split(","):
        ends = [p.strip()[:3] for p in part.split("-")]
        if any(e not in _DAY_NAMES for e in ends) or len(ends) > 2:
            raise ValueError(f"days: cannot read {spec!r} (use e.g. mon-fri or sat,sun)")
        a, b = _DAY_NAMES.index(ends[0]), _DAY_NAMES.index(ends[-1])
        out.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(out)


def five_hour_end(now: datetime, windows: Sequence[Window]) -> datetime:
    """When the 5-hour window resets: its reset, or 5 hours from now when none is open
    (the next one opens with the next use)."""
    five = next((w for w in windows if w.name == FIVE_HOUR), None)
    return five.resets_at if five and five.resets_at else now + FIVE_HOURS


def reserve_pct(config: PolicyConfig, start: datetime, end: datetime) -> float:
    """The highest reserve any rule asks for between `start` and `end` (local time).

    The whole rest of the window counts: fill spent at 08:00 in a window that is
    still open at 09:30 is gone when the 09:00 reserve begins.
    """
    points = [start]
    if end > start:
        local_start = start.astimezone(config.tz)
        local_end = end.astimezone(config.tz)
        day: date = local_start.date()
        while day <= local_end.date():
            # Rules change only at their own edges and at midnight (days).
            edges = {time(0, 0)}
            for rule in config.reserve:
                edges.update(t for t in (rule.start, rule.end) if t is not None)
            for edge in edges:
                at = datetime.combine(day, edge, tzinfo=config.tz)
                if local_start < at < local_end:
                    points.append(at)
            day += timedelta(days=1)
    return max(_rule_pct(config, p) for p in points)


def _rule_pct(config: PolicyConfig, at: datetime) -> float:
    local = at.astimezone(config.tz)
    clock = local.time().replace(tzinfo=None)
    for rule in config.reserve:
        if rule.days is not None and local.weekday() not in rule.days:
            continue
        if not _in_span(clock, rule.start, rule.end):
            continue
        return rule.five_hour_pct
    return 0.0


def _in_span(clock: time, start: time | None, end: time | None) -> bool:
    if start is None and end is None:
        return True
    if start is not None and end is not None and end <= start:  # over midnight
        return clock >= start or clock < end
    return (start is None or clock >= start) and (end is None or clock < end)


def _weekly_line(
    now: datetime, week: Window, config: PolicyConfig, human: HumanUse, stands_at: float
) -> tuple[float, float, float, datetime | None]:
    """Where fill may bring weekly window `week` now: (the line, the ceiling, the
    share of the week gone, when the line passes `stands_at`).

    Fill's budget for the week is what the human leaves: the ceiling, 100 -
    margin - their forecast use until the reset. The line starts at the human's
    use so far and rises with the share of the week gone to the ceiling, so
    fill is spread over the week's 5-hour windows (falling behind at busy
    hours, catching up at quiet ones) and, in the last window, everything spare
    is spent. Without the human's use so far, all use counts as theirs: fill
    lags more mid-week but never borrows from the human, and catches up at the
    end.
    """
    forecast, used_so_far = human.week(week.name)
    ceiling = 100.0 - config.weekly_margin_pct - forecast
    if week.resets_at is None:
        # Unknown reset: allow one 5-hour window's share of the spare budget.
        share = min(1.0, FIVE_HOURS / week.length)
        return ceiling * share, ceiling, share, None
    left = week.resets_at - now
    # When what fill has left to spend is near all the room the coming hours will
    # leave it (the person busy until the reset, say, in a crunch before it), a
    # steady pace would leave it unspent at the reset: fill catches up.
    behind = bool(human.hours_ahead) and ceiling - stands_at > CATCH_UP * config.ratio(
        week.name
    ) * _room_ahead(
        now.replace(minute=0, second=0, microsecond=0), human.hours_ahead, config.reserve, config.tz
    )
    if left <= config.spend_all_within or behind:
        return ceiling, ceiling, 1.0, None
    gone = min(1.0, max(0.0, 1.0 - left / week.length))
    human_so_far = min(used_so_far or 0.0, week.used_pct)
    spare = max(0.0, ceiling - human_so_far)
    target = human_so_far + spare * gone
    until: datetime | None = None
    if spare > 0 and stands_at > target:
        # The line passes `stands_at` when this share of the week is gone; in the
        # last window everything goes anyway.
        share = (stands_at - human_so_far) / spare
        opened = week.resets_at - week.length
        until = min(
            opened + week.length * min(1.0, share), week.resets_at - config.spend_all_within
        )
    return target, ceiling, gone, until


def _due_tasks(now: datetime, queue: Sequence[TaskView]) -> tuple[list[TaskView], datetime | None]:
    """Due tasks, highest priority first (ties keep queue order), and when the next is due."""
    due: list[TaskView] = []
    later: list[datetime] = []
    for task in queue:
        waits = [t for t in (task.not_before, task.defer_until) if t is not None and t > now]
        if waits:
            later.append(max(waits))
        else:
            due.append(task)
    due.sort(key=lambda t: -t.priority)
    return due, min(later) if later else None


def _first(tasks: Sequence[TaskView]) -> str | None:
    return tasks[0].id if tasks else None
