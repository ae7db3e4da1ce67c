"""The simulator: window rules, blocked-minute accounting, baselines, and the targets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sessions.fill.simulate import ScenarioError, _Sim, compare, parse_scenario, run, simulate

REPO = Path(__file__).resolve().parents[2]


def scenario(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "start": "2026-11-02T00:00:00Z",
        "days": 1,
        "capacity": {"five_hour": 1.0, "seven_day": 6.0},
        "weekly_reset": "2026-11-09T00:00:00Z",
        "reserve": [{"five_hour_pct": 5}],
        "human": [],
        "tasks": [],
    }
    return {**base, **kw}


def test_a_five_hour_window_opens_at_first_use_and_resets_five_hours_later() -> None:
    # 1.2 units/h from 09:30: the window (opened at 09:30) is spent at 10:20;
    # the human is blocked until 11:00, when the session ends. A second
    # session at 14:00 finds the same window spent until 14:30, then a new one.
    s = parse_scenario(
        scenario(
            human=[
                {"start": "2026-11-02T09:30:00Z", "minutes": 90, "units_per_hour": 1.2},
                {"start": "2026-11-02T14:00:00Z", "minutes": 60, "units_per_hour": 0.6},
            ]
        )
    )
    r = simulate(s, "none")
    assert r.human_blocked_minutes == 40 + 30
    # Two windows opened: the first full, the second with 30 minutes at 0.6/h.
    assert r.five_hour_utilization == pytest.approx((1.0 + 0.3) / 2)
    assert r.weekly_utilization == pytest.approx(1.3 / (6.0 / 7))


def test_a_spent_weekly_window_blocks_until_its_reset() -> None:
    # The week resets at 12:00: 0.5 units of a 0.5-unit week are gone by 10:30
    # (and the 20 minutes after the reset use 1/3 of the new week).
    s = parse_scenario(
        scenario(
            capacity={"five_hour": 10.0, "seven_day": 0.5},
            weekly_reset="2026-11-02T12:00:00Z",
            human=[{"start": "2026-11-02T10:00:00Z", "minutes": 140, "units_per_hour": 1.0}],
        )
    )
    r = simulate(s, "none")
    assert r.human_blocked_minutes == 90  # 10:30-12:00


def _small() -> dict[str, Any]:
    """One work morning, a backlog bigger than the spare capacity of the day."""
    return scenario(
        days=1,
        weekly_reset="2026-11-03T00:00:00Z",
        capacity={"five_hour": 1.0, "seven_day": 2.0},
        reserve=[
            {"days": "mon-fri", "from": "09:00", "to": "19:00", "five_hour_pct": 40},
            {"five_hour_pct": 5},
        ],
        human=[{"start": "2026-11-02T09:30:00Z", "minutes": 120, "units_per_hour": 0.18}],
        tasks=[{"id": "t", "count": 12, "units": 0.3, "minutes": 40, "priority": 1}],
        policy={"max_concurrent": 2, "pause_mode": "interrupt"},
    )


def test_none_greedy_and_podium_on_a_small_scenario() -> None:
    s = parse_scenario(_small())
    none, greedy, podium = (run(s, p) for p in ("none", "greedy", "podium"))
    assert none.tasks_done == 0 and none.human_blocked_minutes == 0
    # Greedy fills the window before the human comes and blocks them.
    assert greedy.fill_caused_blocked_minutes > 0
    assert greedy.tasks_done > 0
    # podium does work too, but never at the human's expense.
    assert podium.fill_caused_blocked_minutes == 0
    assert podium.tasks_done > 0
    assert podium.weekly_utilization > none.weekly_utilization


def test_the_simulation_is_deterministic() -> None:
    s = parse_scenario(_small())
    assert simulate(s, "podium").as_json() == simulate(s, "podium").as_json()


def test_bad_scenarios_say_which_key() -> None:
    with pytest.raises(ScenarioError, match="start"):
        parse_scenario({"days": 1})
    with pytest.raises(ScenarioError, match="days"):
        parse_scenario(scenario(reserve=[{"days": "someday", "five_hour_pct": 5}]))
    with pytest.raises(ScenarioError, match="time zone"):
        parse_scenario(scenario(start="2026-11-02T00:00:00"))


def test_recurring_human_sessions_and_task_copies_expand() -> None:
    s = parse_scenario(
        scenario(
            days=7,
            tz="Europe/Berlin",
            human=[{"days": "mon-fri", "at": "09:30", "minutes": 60, "units_per_hour": 0.1}],
            tasks=[{"id": "x", "count": 3, "units": 0.1, "minutes": 10}],
        )
    )
    assert len(s.human) == 5
    assert s.human[0].start.isoformat() == "2026-11-02T09:30:00+01:00"
    assert [t.id for t in s.tasks] == ["x-1", "x-2", "x-3"]


SCENARIOS = sorted((REPO / "bench" / "scenarios").glob("*.json"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_targets_hold_on_every_bench_scenario(path: Path) -> None:
    """Issue 15's targets, with live-like inputs and estimate noise: fill blocks the
    person for 0 minutes, and reaches 0.90 of the oracle's utilization where history
    exists (0.75 without). One seed here; bench/fill_sim.py plays three."""
    s = parse_scenario(json.loads(path.read_text()))
    [row] = compare(s, ["podium"], [1])
    assert row.fill_caused_blocked_minutes == 0
    assert row.of_oracle is not None
    assert row.of_oracle >= (0.90 if s.history_days > 0 else 0.75)


def test_greedy_blocks_the_person_on_the_normal_week() -> None:
    # The metric bites: launching whenever the windows have room blocks the person.
    s = parse_scenario(json.loads((REPO / "bench" / "scenarios" / "normal-week.json").read_text()))
    assert run(s, "greedy", 1).fill_caused_blocked_minutes > 0


def test_the_oracle_knows_the_future_and_the_night_baseline_waits_for_night() -> None:
    s = parse_scenario(_small())
    oracle, night = run(s, "oracle"), run(s, "night")
    assert oracle.fill_caused_blocked_minutes == 0
    assert oracle.fill_units >= run(s, "podium").fill_units
    # Everything the night baseline ran, it launched in the night window (01:00-07:00).
    sim = _Sim(s, "night")
    sim.play()
    assert night.tasks_done > 0 and sim.launched_at
    assert all(1 <= at.hour < 7 for at in sim.launched_at)


def test_seeds_draw_other_costs_and_the_same_seed_the_same() -> None:
    s = parse_scenario({**_small(), "estimate_noise": 0.4, "human_jitter_minutes": 15})
    one, again, two = s.drawn(1), s.drawn(1), s.drawn(2)
    assert one == again and one != two
    # The estimate stays what the person said; only the real cost moves.
    assert [t.estimate for t in one.tasks] == [t.estimate for t in s.tasks]
    assert [t.units for t in one.tasks] != [t.units for t in s.tasks]


def test_history_before_podium_is_played_but_not_measured() -> None:
    base = {**_small(), "capacity": {"five_hour": 1.0, "seven_day": 6.0}}
    # The same morning session every day for a week before podium: no fill then,
    # and none of those sessions count in the figures.
    daily = [{"at": "09:30", "minutes": 120, "units_per_hour": 0.18}]
    with_history = parse_scenario({**base, "human": daily, "history_days": 7})
    without = parse_scenario({**base, "human": daily})
    a, b = run(with_history, "none"), run(without, "none")
    assert a.weekly_utilization == pytest.approx(b.weekly_utilization)
    assert a.human_blocked_minutes == b.human_blocked_minutes == 0
