"""A minute-step simulator of one plan account, its person and a background queue.

`run(scenario, policy, seed)` plays a scenario (`sessions.fill.scenario`)
against a simulated clock: pure and deterministic, no I/O. Units are shares of
capacity: `capacity.five_hour` units fill a 5-hour window, `capacity.seven_day`
the weekly one, `capacity.seven_day_sonnet` Sonnet's week. A 5-hour window
opens at the first use after the last one ended and resets 5 hours later; the
weekly windows reset at `weekly_reset` and every 7 days after (and before).

The person's `history_days` come first, without podium (the log holds them, as
it holds the transcripts that predate podium); then, each minute: windows
reset; the policy decides; the person's sessions and the running tasks consume
their units. If a window is spent the person is blocked (counted) and tasks
stall. A running task consumes its real cost evenly over its minutes; an
interrupted one is queued again with what is left.

`podium` sees only what the live scheduler sees, through the same code
(`sessions.fill.inputs.decide`): the official used % of each window, the
capacities as measured from the local log (`collectors.limits.calibrate`), the
person's local use (sessions on other machines only show in the official
figures), estimates (the task's, else learned from finished runs: never the
real cost), running tasks' spend so far. The baselines: `none` (no fill),
`greedy` (launch whenever no window is spent), `night` (what a careful
person does by hand: launch at night only, while each week stands below the
share of it gone), and `oracle`, which knows the future: every task's real
cost and every minute of the person's use, on every machine; it launches
whatever fits beside what the person will need, an upper mark the others are
measured against (`Result.of_oracle`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from collectors.limits import BestCapacity, calibrate
from collectors.windows import FIVE_HOUR, FIVE_HOURS, SEVEN_DAY, WEEK
from sessions.fill import inputs, policy
from sessions.fill.forecast import Forecast, OfficialGap
from sessions.fill.scenario import HumanSession, Scenario, ScenarioError, SimTask, parse_scenario
from sessions.fill.schedule import Night

POLICIES = ("podium", "none", "greedy", "night", "oracle")
MINUTE = timedelta(minutes=1)
EPS = 1e-9


@dataclass
class _Task:
    spec: SimTask
    left: float
    defer_until: datetime | None = None
    started_at: datetime | None = None
    spent: float = 0.0
    model: str | None = None  # what it runs on (its own model, or its fallback)
    weeks: tuple[str, ...] = (SEVEN_DAY,)
    _facts: tuple[tuple[float, datetime | None], inputs.TaskFacts] | None = None

    def facts(self) -> inputs.TaskFacts:
        """What the queue knows of it (rebuilt only when what it spent or its deferral
        changed)."""
        key = (self.spent, self.defer_until)
        if self._facts is None or self._facts[0] != key:
            spec = self.spec
            self._facts = (
                key,
                inputs.TaskFacts(
                    id=spec.id,
                    priority=spec.priority,
                    kind=spec.kind,
                    # An interrupted task is expected to need what its estimate left.
                    estimate_units=(max(0.0, spec.estimate - self.spent) or None)
                    if spec.estimate is not None
                    else None,
                    model=spec.model,
                    fallback=spec.fallback,
                    not_before=spec.not_before,
                    defer_until=self.defer_until,
                ),
            )
        return self._facts[1]


@dataclass
class Result:
    policy: str
    weekly_utilization: float
    five_hour_utilization: float
    human_blocked_minutes: int
    tasks_done: int
    unused_area: dict[str, float]
    fill_units: float = 0.0
    fill_caused_blocked_minutes: int = 0
    seed: int = 0
    decisions: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "seed": self.seed,
            "weekly_utilization": round(self.weekly_utilization, 4),
            "five_hour_utilization": round(self.five_hour_utilization, 4),
            "human_blocked_minutes": self.human_blocked_minutes,
            "fill_caused_blocked_minutes": self.fill_caused_blocked_minutes,
            "tasks_done": self.tasks_done,
            "fill_units": round(self.fill_units, 3),
            "unused_area": {k: round(v, 1) for k, v in self.unused_area.items()},
        }


def run(
    scenario: Scenario, policy_name: str = "podium", seed: int = 0, baseline: Result | None = None
) -> Result:
    """Simulate `policy_name` on one seed's draw, and count its blocked minutes beyond
    the `none` policy's (`baseline`, when already played on that draw)."""
    drawn = scenario.drawn(seed)
    result = simulate(drawn, policy_name)
    result.seed = seed
    if baseline is None:
        baseline = result if policy_name == "none" else simulate(drawn, "none")
    result.fill_caused_blocked_minutes = max(
        0, result.human_blocked_minutes - baseline.human_blocked_minutes
    )
    return result


@dataclass(frozen=True)
class Row:
    """One policy on one scenario over several seeds."""

    scenario: str
    policy: str
    seeds: int
    weekly_utilization: float  # mean over the seeds
    of_oracle: float | None  # mean of utilization / the oracle's, seed by seed
    worst_of_oracle: float | None
    # Fill's own work as a share of the oracle's fill (mean over the seeds): the
    # stricter figure, as the person's use counts in both utilizations.
    of_oracle_fill: float | None
    fill_caused_blocked_minutes: int  # the worst seed's
    tasks_done: float  # mean

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "policy": self.policy,
            "seeds": self.seeds,
            "weekly_utilization": round(self.weekly_utilization, 4),
            "of_oracle": None if self.of_oracle is None else round(self.of_oracle, 4),
            "worst_of_oracle": None
            if self.worst_of_oracle is None
            else round(self.worst_of_oracle, 4),
            "of_oracle_fill": None
            if self.of_oracle_fill is None
            else round(self.of_oracle_fill, 4),
            "fill_caused_blocked_minutes": self.fill_caused_blocked_minutes,
            "tasks_done": round(self.tasks_done, 2),
        }


def compare(
    scenario: Scenario, policies: Sequence[str] = POLICIES, seeds: Sequence[int] = (1, 2, 3)
) -> list[Row]:
    """Each policy on each seed's draw of `scenario`, set against the oracle's."""
    none = {seed: run(scenario, "none", seed) for seed in seeds}
    oracle = {seed: run(scenario, "oracle", seed, none[seed]) for seed in seeds}
    rows = []
    for name in policies:
        played = {"none": none, "oracle": oracle}.get(name)
        results = [
            played[seed] if played else run(scenario, name, seed, none[seed]) for seed in seeds
        ]
        shares = [
            r.weekly_utilization / oracle[r.seed].weekly_utilization
            for r in results
            if oracle[r.seed].weekly_utilization > 0
        ]
        fills = [
            r.fill_units / oracle[r.seed].fill_units
            for r in results
            if oracle[r.seed].fill_units > 0
        ]
        rows.append(
            Row(
                scenario=scenario.name,
                policy=name,
                seeds=len(results),
                weekly_utilization=sum(r.weekly_utilization for r in results) / len(results),
                of_oracle=sum(shares) / len(shares) if shares else None,
                worst_of_oracle=min(shares) if shares else None,
                of_oracle_fill=sum(fills) / len(fills) if fills else None,
                fill_caused_blocked_minutes=max(r.fill_caused_blocked_minutes for r in results),
                tasks_done=sum(r.tasks_done for r in results) / len(results),
            )
        )
    return rows


def simulate(scenario: Scenario, policy_name: str = "podium") -> Result:
    if policy_name not in POLICIES:
        raise ValueError(f"unknown policy {policy_name!r}; use one of {', '.join(POLICIES)}")
    return _Sim(scenario, policy_name).play()


class _Sim:
    def __init__(self, s: Scenario, policy_name: str) -> None:
        self.s = s
        self.policy = policy_name
        self.names = tuple(s.capacity)
        self.weeks = [n for n in self.names if n != FIVE_HOUR]
        self.begin = s.history_start
        self.first = round(s.history_days * 1440)  # the first measured minute
        self.total = self.first + round(s.days * 1440)
        self.sessions = sorted(s.human, key=lambda h: h.start)
        self.session_weeks = {
            id(h): (FIVE_HOUR, *inputs.model_weeks(h.model, self.names)) for h in self.sessions
        }
        self.knobs = inputs.Knobs.from_settings(s.settings, s.tz)
        self.night = Night.parse(s.settings.night_start, s.settings.night_end, s.tz)
        self.estimator = inputs.Estimator()
        reset = s.weekly_reset
        while reset - WEEK >= self.begin:
            reset -= WEEK
        while reset <= self.begin:
            reset += WEEK
        self.week_reset = reset
        self.used = dict.fromkeys(self.names, 0.0)  # true units in each window now
        self.local = dict.fromkeys(self.names, 0.0)  # what the local log shows of them
        self.fill_week = dict.fromkeys(self.weeks, 0.0)
        self.fill_tonight = 0.0
        self.five_open: datetime | None = None
        self.forecasts = {
            name: Forecast(self.begin, s.tz, s.five_hour, s.capacity[name]) for name in self.weeks
        }
        self.gaps = {name: OfficialGap() for name in self.weeks}
        self.demand = self._demand() if policy_name == "oracle" else {}
        self.now = self.begin
        self.best = {name: BestCapacity() for name in self.names}
        self._capacity: dict[str, float] = dict(s.capacity)
        self._measured_at: datetime | None = None
        self.blocked_at: list[datetime] = []  # minutes the person was blocked (measured)
        self.launched_at: list[datetime] = []  # when each launch happened

    # -- the loop -------------------------------------------------------------------------
    def play(self) -> Result:
        s = self.s
        queue: list[_Task] = []
        running: list[_Task] = []
        done = blocked = 0
        total = fill_total = area5 = area7 = 0.0
        five_shares: list[float] = []
        counts: dict[str, int] = {}
        night_was = False
        upcoming, live = 0, []  # the next session to begin; the sessions begun
        for m in range(self.total):
            now = self.now = self.begin + m * MINUTE
            measuring = m >= self.first
            if m == self.first:
                queue = [_Task(t, t.units) for t in s.tasks]
            if self.five_open is not None and now >= self.five_open + FIVE_HOURS:
                if self.five_open >= s.start:
                    five_shares.append(self.used[FIVE_HOUR] / s.five_hour)
                self.five_open = None
                self.used[FIVE_HOUR] = self.local[FIVE_HOUR] = 0.0
            if now >= self.week_reset:
                for name in self.weeks:
                    self.used[name] = self.local[name] = self.fill_week[name] = 0.0
                    self.forecasts[name].week_start = m
                self.week_reset += WEEK
            in_night = self.night.contains(now)
            if in_night and not night_was:
                self.fill_tonight = 0.0
            night_was = in_night
            while upcoming < len(self.sessions) and self.sessions[upcoming].start <= now:
                live.append(self.sessions[upcoming])
                upcoming += 1
            live = [h for h in live if now < h.start + h.minutes * MINUTE]
            active = live

            if measuring and self.policy != "none":
                for action, task_id, model in self._decide(m, now, queue, running, active, counts):
                    if action == policy.LAUNCH:
                        task = next(t for t in queue if t.spec.id == task_id)
                        queue.remove(task)
                        task.started_at, task.spent = now, 0.0
                        self.launched_at.append(now)
                        task.model = model or task.spec.model
                        task.weeks = inputs.model_weeks(task.model, self.names)
                        running.append(task)
                    elif action == policy.PAUSE:
                        task = next(t for t in running if t.spec.id == task_id)
                        running.remove(task)
                        queue.append(task)

            # Consumption this minute: the person first (their sessions run whatever
            # podium does), then the running tasks in launch order.
            human_local = dict.fromkeys(self.names, 0.0)
            for h in active:
                spends = self.session_weeks[id(h)]
                want = h.units_per_hour / 60
                got = min(want, self._room(spends))
                if got < want - EPS and measuring:
                    blocked += 1
                    self.blocked_at.append(now)
                self._use(spends, got, local=h.local)
                if h.local:
                    for name in spends:
                        human_local[name] += got
                if measuring:
                    total += got
            for task in list(running):
                spends = (FIVE_HOUR, *task.weeks)
                want = min(task.left, task.spec.units / task.spec.minutes)
                got = min(want, self._room(spends))
                self._use(spends, got, local=True)
                task.left -= got
                task.spent += got
                total += got
                fill_total += got
                for name in task.weeks:
                    self.fill_week[name] += got
                if in_night:
                    self.fill_tonight += got
                if task.left <= EPS:
                    running.remove(task)
                    done += 1
                    self.estimator.learn(task.spec.kind, task.spent, task.spec.estimate)
            self._measured()
            for name, forecast in self.forecasts.items():
                forecast.record(human_local[name])
            if (m + 1) % 60 == 0:
                self._official_gaps()
            if measuring:
                area5 += (100 - 100 * self.used[FIVE_HOUR] / s.five_hour) / 60
                area7 += (100 - 100 * self.used[SEVEN_DAY] / s.seven_day) / 60

        if self.five_open is not None and self.five_open >= s.start:
            five_shares.append(self.used[FIVE_HOUR] / s.five_hour)
        return Result(
            policy=self.policy,
            weekly_utilization=total / (s.seven_day * s.days / 7),
            five_hour_utilization=sum(five_shares) / len(five_shares) if five_shares else 0.0,
            human_blocked_minutes=blocked,
            tasks_done=done,
            unused_area={FIVE_HOUR: area5, SEVEN_DAY: area7},
            fill_units=fill_total,
            decisions=counts,
        )

    def _room(self, spends: Sequence[str]) -> float:
        return max(0.0, min(self.s.capacity[n] - self.used[n] for n in spends))

    def _use(self, spends: Sequence[str], units: float, *, local: bool) -> None:
        if units <= EPS:
            return
        if self.five_open is None:
            self.five_open = self.now
        for name in spends:
            self.used[name] += units
            if local:
                self.local[name] += units

    # -- what the log shows ---------------------------------------------------------------
    def _measured(self) -> dict[str, float]:
        """Each window's capacity as the live usage monitor gives it to fill: the highest
        the official figures implied lately (`BestCapacity`), else the plan's figure (the
        scenario's). Measured once a minute, as the monitor's tick."""
        if self._measured_at != self.now:
            self._measured_at = self.now
            for name in self.names:
                official = 100 * self.used[name] / self.s.capacity[name]
                learned = calibrate(self.local[name], official)
                if learned is not None:
                    self.best[name].add(self.now, learned)
                self._capacity[name] = self.best[name].best(self.now) or self.s.capacity[name]
        return self._capacity

    def _official_gaps(self) -> None:
        """Use the official figures show and the local log does not, counted as the
        person's (each hour, as the live forecast reads the limit log)."""
        measured = self._measured()
        for name, forecast in self.forecasts.items():
            official = self.used[name] / self.s.capacity[name] * measured[name]
            extra = self.gaps[name].unexplained(self.week_reset, official, self.local[name])
            forecast.add_recent(extra)

    # -- policies -------------------------------------------------------------------------
    def _decide(
        self,
        m: int,
        now: datetime,
        queue: list[_Task],
        running: list[_Task],
        active: list[HumanSession],
        counts: dict[str, int],
    ) -> list[tuple[str, str | None, str | None]]:
        due = [
            t
            for t in queue
            if (t.spec.not_before is None or t.spec.not_before <= now)
            and (t.defer_until is None or t.defer_until <= now)
        ]
        slots = self.knobs.max_concurrent - len(running)
        if self.policy in ("greedy", "night"):
            spent = any(self.used[n] >= self.s.capacity[n] - EPS for n in self.names)
            if spent or (self.policy == "night" and not self._night_allows(now)):
                return []
            ranked = sorted(due, key=lambda t: -t.spec.priority)
            return [(policy.LAUNCH, t.spec.id, None) for t in ranked[: max(0, slots)]]
        if self.policy == "oracle":
            return self._oracle(m, now, due, running, slots)
        decided = inputs.decide(
            self._facts(m, now, queue, running, active), self.knobs, self.estimator
        )
        for d in decided:
            counts[d.action] = counts.get(d.action, 0) + 1
            if d.action == policy.DEFER and d.until is not None:
                for t in queue:
                    if t.spec.id == d.task_id:
                        t.defer_until = d.until
        return [(d.action, d.task_id, d.model) for d in decided]

    def _facts(
        self,
        m: int,
        now: datetime,
        queue: list[_Task],
        running: list[_Task],
        active: list[HumanSession],
    ) -> inputs.Facts:
        """What the live scheduler would know now: the official figures, the measured
        capacities, the queue with its estimates, the runs' streams, the local log."""
        measured = self._measured()
        windows = [
            inputs.WindowFacts(
                name,
                100 * self.used[name] / self.s.capacity[name],
                (self.five_open + FIVE_HOURS if self.five_open else None)
                if name == FIVE_HOUR
                else self.week_reset,
            )
            for name in self.names
        ]
        local_active = sum(1 for h in active if h.local)
        humans = {}
        for name, forecast in self.forecasts.items():
            forecast.five_hour, forecast.seven_day = measured[FIVE_HOUR], measured[name]
            humans[name] = forecast.human_use(m, now, local_active, self.week_reset)
        return inputs.Facts(
            now=now,
            windows=windows,
            capacity=measured,
            tasks=[t.facts() for t in queue],
            runs=[
                inputs.RunFacts(
                    id=t.spec.id,
                    kind=t.spec.kind,
                    started_at=t.started_at or now,
                    spent_units=t.spent,
                    estimate_units=t.spec.estimate,
                    model=t.model,
                )
                for t in running
            ],
            human=humans[SEVEN_DAY],
            scoped_human={n: h for n, h in humans.items() if n != SEVEN_DAY},
            fill_week_units=dict(self.fill_week),
            fill_tonight_units=self.fill_tonight,
        )

    def _night_allows(self, now: datetime) -> bool:
        """The night baseline, as a careful person runs a queue by hand: at night only,
        and only while each week stands below the share of it gone."""
        if not self.night.contains(now):
            return False
        gone = 1 - (self.week_reset - now) / WEEK
        return all(self.used[n] <= self.s.capacity[n] * gone for n in self.weeks)

    def _demand(self) -> dict[str, list[float]]:
        """The person's use by window, cumulative by minute (the oracle's future)."""
        rate = {n: [0.0] * (self.total + 1) for n in self.names}
        for h in self.sessions:
            a = max(0, int((h.start - self.begin) / MINUTE))
            b = min(self.total, a + h.minutes)
            for name in self.session_weeks[id(h)]:
                series = rate[name]
                for i in range(a, b):
                    series[i + 1] += h.units_per_hour / 60
        for series in rate.values():
            for i in range(1, len(series)):
                series[i] += series[i - 1]
        return rate

    def _oracle(
        self, m: int, now: datetime, due: list[_Task], running: list[_Task], slots: int
    ) -> list[tuple[str, str | None, str | None]]:
        """Launch what fits beside everything the person will use until each window
        resets, knowing every task's real cost."""
        out: list[tuple[str, str | None, str | None]] = []
        five_end = self.five_open + FIVE_HOURS if self.five_open else now + FIVE_HOURS
        ends = {FIVE_HOUR: five_end, **dict.fromkeys(self.weeks, self.week_reset)}
        need = {}
        for name in self.names:
            end = min(self.total, m + int((ends[name] - now) / MINUTE))
            need[name] = self.demand[name][end] - self.demand[name][m]
        committed = dict.fromkeys(self.names, 0.0)
        for t in running:
            for name in (FIVE_HOUR, *t.weeks):
                committed[name] += t.left
        for task in sorted(due, key=lambda t: -t.spec.priority):
            if slots <= 0:
                break
            for model in (task.spec.model, task.spec.fallback):
                if model is None and task.spec.fallback is not None and model != task.spec.model:
                    continue
                spends = (FIVE_HOUR, *inputs.model_weeks(model, self.names))
                fits = all(
                    self.used[n] + committed[n] + task.left + need[n] <= self.s.capacity[n] + EPS
                    for n in spends
                )
                if fits:
                    out.append((policy.LAUNCH, task.spec.id, model))
                    for n in spends:
                        committed[n] += task.left
                    slots -= 1
                    break
                if task.spec.fallback is None:
                    break
        return out


__all__ = [
    "POLICIES",
    "Result",
    "Row",
    "Scenario",
    "ScenarioError",
    "compare",
    "parse_scenario",
    "run",
    "simulate",
]
