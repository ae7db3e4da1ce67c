"""What the fill policy sees, built one way for the live scheduler and the simulator.

`policy.decide` is pure: what it is fed decides what it does. Its inputs are
built here and nowhere else, from what is knowable at that minute, so what
`podium simulate` measures is what `podium fill` does:
- a task's cost is the person's own estimate (`queue add --estimate 5%5h`),
  else what earlier runs of the same kind cost (`Estimator`), else the
  configured default; never its true cost;
- a running task's spend is what its stream shows so far;
- the ratio between windows is their capacities as measured (`capacity`);
- every knob is a setting (`Knobs.from_settings`; the simulator's scenarios
  give the same `[fill]` settings by the same names);
- the person's use and its forecast come from `sessions.fill.forecast`; their
  use of the week so far is at least what the official figure shows beyond
  fill's own (another machine, claude.ai).
`tests/unit/test_fill_inputs.py` proves the scheduler and the simulator build
none of `decide`'s inputs themselves.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta, tzinfo

from collectors.settings import FillSettings
from collectors.windows import FIVE_HOUR, SEVEN_DAY, model_windows, window_length
from sessions.fill import policy

# Runs of one kind an estimate is learned from (the latest), and the share of
# them it covers: a quantile above the median, as a task that costs more than
# expected eats the person's reserve and one that costs less only waits.
LEARN_FROM = 8
LEARN_QUANTILE = 0.75
# Estimated tasks to finish before the person's estimates are trusted as learned,
# and what an estimate counts meanwhile (the spread of estimates is unknown yet).
TRUST_AFTER = 3
UNTRIED = 1.5
# The share of a weekly window one 5-hour window's capacity may be (`policy_config`).
RATIO_MIN, RATIO_MAX = 1 / 30, 1 / 2


@dataclass(frozen=True)
class Knobs:
    """Every knob of the policy, as `[fill]` settings name them."""

    reserve: tuple[policy.ReserveRule, ...]
    tz: tzinfo
    max_concurrent: int = 1
    pause_mode: str = "finish"
    weekly_margin_pct: float = 2.0
    spend_all_within: timedelta = timedelta(hours=5)
    night_start: time | None = None
    night_end: time | None = None
    night_budget_pct: float | None = None
    default_estimate_pct: float = 5.0

    @classmethod
    def from_settings(
        cls, settings: FillSettings, tz: tzinfo, flat_reserve: float | None = None
    ) -> Knobs:
        """The knobs of `[fill]`; `flat_reserve` (a fill's `--reserve`, or
        `reserve_pct`) replaces the reserve schedule with one share."""
        flat = flat_reserve if flat_reserve is not None else settings.reserve_pct
        if flat is not None:
            reserve: tuple[policy.ReserveRule, ...] = (policy.ReserveRule(five_hour_pct=flat),)
        else:
            reserve = tuple(
                policy.ReserveRule(
                    five_hour_pct=rule.five_hour_pct,
                    days=policy.parse_days(rule.days) if rule.days else None,
                    start=time.fromisoformat(rule.start) if rule.start else None,
                    end=time.fromisoformat(rule.end) if rule.end else None,
                )
                for rule in settings.reserve
            )
        return cls(
            reserve=reserve,
            tz=tz,
            max_concurrent=settings.max_concurrent,
            pause_mode=settings.pause_mode,
            weekly_margin_pct=settings.weekly_margin_pct,
            spend_all_within=timedelta(hours=settings.spend_all_within_hours),
            night_start=time.fromisoformat(settings.night_start),
            night_end=time.fromisoformat(settings.night_end),
            night_budget_pct=settings.night_budget_pct,
            default_estimate_pct=settings.default_estimate_pct,
        )


@dataclass(frozen=True)
class WindowFacts:
    """A usage window now, as the log shows it."""

    name: str
    used_pct: float
    resets_at: datetime | None
    estimate: bool = False


@dataclass(frozen=True)
class TaskFacts:
    """A queued task as the queue knows it."""

    id: str
    priority: int
    kind: str  # what counts as "the same task" for a learned estimate (`task_kind`)
    estimate_units: float | None = None  # the person's own estimate, in capacity units
    model: str | None = None
    fallback: str | None = None
    not_before: datetime | None = None
    defer_until: datetime | None = None


@dataclass(frozen=True)
class RunFacts:
    """A running task: what its stream showed it spend so far."""

    id: str
    kind: str
    started_at: datetime
    spent_units: float
    estimate_units: float | None = None
    model: str | None = None


@dataclass(frozen=True)
class Facts:
    """Everything knowable at one minute that the policy is asked about."""

    now: datetime
    windows: Sequence[WindowFacts]
    # Capacity units (weighted tokens live) of a full window, as measured.
    capacity: Mapping[str, float]
    tasks: Sequence[TaskFacts]
    runs: Sequence[RunFacts]
    # The person's use and its forecast (`Forecast.human_use`), by weekly window for
    # the model-scoped ones.
    human: policy.HumanUse
    scoped_human: Mapping[str, policy.HumanUse] = field(default_factory=dict)
    # Fill's own use since each weekly window opened, and since tonight's night
    # window opened (capacity units).
    fill_week_units: Mapping[str, float] = field(default_factory=dict)
    fill_tonight_units: float = 0.0


@dataclass(frozen=True)
class Inputs:
    """`policy.decide`'s arguments."""

    now: datetime
    windows: list[policy.Window]
    config: policy.PolicyConfig
    queue: list[policy.TaskView]
    running: list[policy.RunningView]
    human: policy.HumanUse
    fill_tonight_pct: float = 0.0

    def decide(self) -> list[policy.Decision]:
        return policy.decide(
            self.now,
            self.windows,
            self.config,
            self.queue,
            self.running,
            self.human,
            self.fill_tonight_pct,
        )


_ESTIMATORS = itertools.count()


class Estimator:
    """What a task is expected to cost, in capacity units: the person's estimate,
    scaled by how far their estimates were off before; else learned from finished
    runs of the same kind; else the configured default share of the 5-hour window
    (`[fill] default_estimate_pct`; a task that costs more is paused before it
    runs the person out of a window).

    Both sides are taken above the median (`LEARN_QUANTILE`): a task that costs
    more than expected eats the person's reserve, one that costs less only waits.
    Until `TRUST_AFTER` estimated tasks have finished, an estimate counts
    `UNTRIED` times what it says."""

    def __init__(self) -> None:
        self._by_kind: dict[str, list[float]] = {}
        self._all: list[float] = []
        self._ratios: list[float] = []  # real cost / the person's estimate
        self._learned: dict[str, float | None] = {}
        self._bias: float | None = None
        self.lessons = 0  # finished tasks learned from: what a cached view depends on
        self.token = next(_ESTIMATORS)  # this estimator among all (ids are reused)

    def learn(self, kind: str, units: float, estimate: float | None = None) -> None:
        """A task of `kind` finished having cost `units` (its estimate was `estimate`)."""
        if units <= 0:
            return
        self._by_kind.setdefault(kind, []).append(units)
        self._all.append(units)
        if estimate is not None and estimate > 0:
            self._ratios.append(units / estimate)
        self._learned.clear()
        self._bias = None
        self.lessons += 1

    def learned(self, kind: str) -> float | None:
        """The learned cost of `kind`; None while no task of its kind finished (other
        kinds say little: a chore costs what it costs, not what a migration did)."""
        if kind not in self._learned:
            runs = self._by_kind.get(kind, [])
            self._learned[kind] = _quantile(runs[-LEARN_FROM:])
        return self._learned[kind]

    def bias(self) -> float:
        """How much more than their estimates the person's tasks cost."""
        if self._bias is None:
            found = _quantile(self._ratios[-LEARN_FROM * 2 :])
            self._bias = (
                found if found is not None and len(self._ratios) >= TRUST_AFTER else UNTRIED
            )
        return self._bias

    def units(self, kind: str, declared: float | None, default: float) -> float:
        if declared is not None and declared > 0:
            return declared * self.bias()
        learned = self.learned(kind)
        return learned if learned is not None else default


def _quantile(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(LEARN_QUANTILE * len(ordered)))]


def task_kind(prompt: str) -> str:
    """ "The same task" for a learned estimate: tasks with the same prompt. The
    occurrences of a recurring template are copies of its prompt; a subtask has its
    own (grouping by parent, as this once did, counted a team's parts as one task)."""
    return "prompt:" + hashlib.sha256(prompt.encode("utf-8", "replace")).hexdigest()[:16]


@functools.cache
def model_weeks(model: str | None, present: tuple[str, ...]) -> tuple[str, ...]:
    """The weekly windows a run on `model` spends (`model_windows`), of those the
    account reports (`present`); the week of all models always."""
    return tuple(w for w in model_windows(model) if w == SEVEN_DAY or w in present)


def policy_config(knobs: Knobs, capacity: Mapping[str, float]) -> policy.PolicyConfig:
    """The policy's config: the knobs, and the window ratios from measured capacities."""
    five = capacity.get(FIVE_HOUR, 0.0)
    # Within what plans are: a week holds between 2 and 30 five-hour windows. A
    # ratio outside comes from a window measured against one left at the plan's
    # default (its figures too small to learn from), not from the plan.
    ratios = {
        name: min(RATIO_MAX, max(RATIO_MIN, five / cap))
        for name, cap in capacity.items()
        if name != FIVE_HOUR and cap > 0 and five > 0
    }
    return policy.PolicyConfig(
        reserve=knobs.reserve,
        tz=knobs.tz,
        max_concurrent=knobs.max_concurrent,
        pause_mode=knobs.pause_mode,
        weekly_margin_pct=knobs.weekly_margin_pct,
        weekly_per_five_hour=ratios.get(SEVEN_DAY, policy.PolicyConfig.weekly_per_five_hour),
        per_five_hour=ratios,
        spend_all_within=knobs.spend_all_within,
        night_start=knobs.night_start,
        night_end=knobs.night_end,
        night_budget_pct=knobs.night_budget_pct,
    )


def reserve_now(
    knobs: Knobs, now: datetime, windows: Sequence[policy.Window]
) -> tuple[float, float, datetime]:
    """(reserve over what is left of the 5-hour window, reserve now, the window's end),
    as `decide` computes them."""
    config = policy.PolicyConfig(reserve=knobs.reserve, tz=knobs.tz)
    end = policy.five_hour_end(now, windows)
    return policy.reserve_pct(config, now, end), policy.reserve_pct(config, now, now), end


def reserve_schedule(knobs: Knobs) -> Callable[[datetime], float]:
    """The reserve the knobs keep at a time, as `decide` counts it at that moment."""
    config = policy.PolicyConfig(reserve=knobs.reserve, tz=knobs.tz)
    return lambda when: policy.reserve_pct(config, when, when)


def windows(facts: Sequence[WindowFacts]) -> list[policy.Window]:
    """The windows as the policy takes them."""
    return [
        policy.Window(w.name, w.used_pct, w.resets_at, window_length(w.name), w.estimate)
        for w in facts
    ]


def build(facts: Facts, knobs: Knobs, estimator: Estimator) -> Inputs:
    """`decide`'s inputs from what is knowable now."""
    cap5 = facts.capacity.get(FIVE_HOUR) or 1.0
    present = tuple(w.name for w in facts.windows)
    default = knobs.default_estimate_pct * cap5 / 100

    def pct(units: float) -> float:
        return 100 * units / cap5

    queue = [_task_view(t, cap5, present, estimator, default) for t in facts.tasks]
    running = [
        policy.RunningView(
            id=r.id,
            started_at=r.started_at,
            spent_pct=pct(r.spent_units),
            est_pct=pct(estimator.units(r.kind, r.estimate_units, default)),
            windows=model_weeks(r.model, present),
        )
        for r in facts.runs
    ]
    by_name = {w.name: w for w in facts.windows}

    def used_so_far(name: str, human: policy.HumanUse) -> float | None:
        """The person's use of weekly window `name` so far: the local log's, or what
        the official figure shows beyond fill's own, whichever is more."""
        week = by_name.get(name)
        cap = facts.capacity.get(name)
        if week is None or not cap or week.estimate:
            return human.week_used_pct
        official = week.used_pct - 100 * facts.fill_week_units.get(name, 0.0) / cap
        return max(human.week_used_pct or 0.0, official)

    def forecast(name: str, human: policy.HumanUse) -> float:
        """The forecast of the rest of the week, at most what is left of it: the
        person cannot use more (a capacity measured from a few tokens can make a
        forecast of several weeks)."""
        week = by_name.get(name)
        left = 100.0 - week.used_pct if week is not None else 100.0
        return min(human.forecast_week_pct, max(0.0, left))

    scoped = {
        name: (forecast(name, h), used_so_far(name, h))
        for name, h in facts.scoped_human.items()
        if name in by_name
    }
    human = replace(
        facts.human,
        forecast_week_pct=forecast(SEVEN_DAY, facts.human),
        week_used_pct=used_so_far(SEVEN_DAY, facts.human),
        scoped=scoped,
    )
    cap7 = facts.capacity.get(SEVEN_DAY) or 1.0
    return Inputs(
        now=facts.now,
        windows=windows(facts.windows),
        config=policy_config(knobs, facts.capacity),
        queue=queue,
        running=running,
        human=human,
        fill_tonight_pct=100 * facts.fill_tonight_units / cap7,
    )


# TaskViews by what they are made of: a queue of a hundred tasks is asked about
# every round, and a task's view changes only with it, the capacity or a lesson.
_VIEWS: dict[tuple[object, ...], policy.TaskView] = {}


def _task_view(
    t: TaskFacts, cap5: float, present: tuple[str, ...], estimator: Estimator, default: float
) -> policy.TaskView:
    key = (t, cap5, present, estimator.token, estimator.lessons, default)
    view = _VIEWS.get(key)
    if view is None:
        if len(_VIEWS) > 20_000:
            _VIEWS.clear()
        view = _VIEWS[key] = policy.TaskView(
            id=t.id,
            priority=t.priority,
            est_pct=100 * estimator.units(t.kind, t.estimate_units, default) / cap5,
            not_before=t.not_before,
            defer_until=t.defer_until,
            windows=model_weeks(t.model, present),
            fallback=t.fallback,
            fallback_windows=model_weeks(t.fallback, present) if t.fallback else (),
        )
    return view


def decide(facts: Facts, knobs: Knobs, estimator: Estimator) -> list[policy.Decision]:
    """The policy's decisions for what is knowable now."""
    return build(facts, knobs, estimator).decide()
