"""One view of the world: the live scheduler and the simulator feed `decide` only
through `sessions.fill.inputs`, from what is knowable (never a task's true cost)."""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.settings import FillSettings
from collectors.windows import FIVE_HOUR, SEVEN_DAY, SEVEN_DAY_SONNET
from sessions.fill import inputs, policy
from sessions.fill.queue import QueueStore, Task
from sessions.fill.simulate import parse_scenario, simulate
from tests.unit.test_held import _scheduler
from tests.unit.test_simulate import scenario

REPO = Path(__file__).resolve().parents[2]
# What `decide` is fed, and `decide` itself: only `sessions.fill.inputs` builds or calls them.
POLICY_INPUTS = {"TaskView", "RunningView", "HumanUse", "PolicyConfig", "Window", "decide"}
NOW = datetime(2026, 11, 4, 12, tzinfo=UTC)


@pytest.mark.parametrize("module", ["sessions/fill/scheduler.py", "sessions/fill/simulate.py"])
def test_neither_side_builds_a_policy_input_itself(module: str) -> None:
    tree = ast.parse((REPO / module).read_text())
    used = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "policy"
            and node.attr in POLICY_INPUTS
        ):
            used.add(f"policy.{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module == "sessions.fill.policy":
            used.update(a.name for a in node.names if a.name in POLICY_INPUTS)
    # `policy.Window` may name a type (held figures), never be built: allowed as an annotation.
    annotations = {
        ast.unparse(n.annotation)
        for n in ast.walk(tree)
        if isinstance(n, ast.arg | ast.AnnAssign) and n.annotation is not None
    } | {
        ast.unparse(n.returns)
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef) and n.returns
    }
    built = {u for u in used if not any(u in a for a in annotations)}
    assert built == set(), f"{module} builds {built} itself; go through sessions.fill.inputs"


def test_the_simulator_feeds_decide_only_what_inputs_built(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[inputs.Inputs] = []
    fed: list[tuple[Any, ...]] = []
    real_build, real_decide = inputs.build, policy.decide

    def spy_build(*args: Any) -> inputs.Inputs:
        built.append(real_build(*args))
        return built[-1]

    def spy_decide(*args: Any) -> list[policy.Decision]:
        fed.append(args)
        return real_decide(*args)

    monkeypatch.setattr(inputs, "build", spy_build)
    monkeypatch.setattr(policy, "decide", spy_decide)
    # Each task really costs four times what the person said.
    s = parse_scenario(
        scenario(
            tasks=[
                {"id": "said", "units": 0.1, "minutes": 30},
                {"id": "unsaid", "units": 0.1, "minutes": 30, "estimate": False},
            ],
            estimate_noise=0.0,
        )
    )
    s = replace(s, tasks=tuple(replace(t, units=t.units * 4) for t in s.tasks))
    simulate(s, "podium")
    assert fed and len(fed) == len(built)
    for args, made in zip(fed, built, strict=True):
        assert args[0] is made.now and args[2] is made.config and args[3] is made.queue
        assert args[4] is made.running and args[5] is made.human
    first = built[0].queue
    said = next(t for t in first if t.id == "said")
    unsaid = next(t for t in first if t.id == "unsaid")
    # The estimate is what the person said (10% of the 5-hour window; counted 1.5×
    # until their estimates are learned), not the 40% it will cost; with no estimate
    # and no run yet, the configured default (5%).
    assert said.est_pct == pytest.approx(10 * inputs.UNTRIED)
    assert unsaid.est_pct == pytest.approx(5)


def test_the_estimator_learns_a_kind_from_its_runs_and_a_quantile_above_the_median() -> None:
    e = inputs.Estimator()
    assert e.units("fix", None, 7.0) == 7.0  # nothing known: the default
    for cost in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10):
        e.learn("fix", cost)
    # The latest eight (3..10), at the 75th percentile.
    assert e.units("fix", None, 7.0) == 9
    # The person's own estimate wins; until three estimated tasks finished it counts
    # 1.5×, then as far off as their estimates were (the 75th percentile).
    assert e.units("fix", 2.5, 7.0) == 2.5 * inputs.UNTRIED
    assert e.units("other", None, 7.0) == 7.0  # another kind: the default, not fix's cost
    for real, said in ((2.0, 2.0), (3.0, 2.0), (4.0, 2.0), (1.0, 2.0)):
        e.learn("est", real, said)
    assert e.units("fix", 2.5, 7.0) == pytest.approx(2.5 * 2.0)  # of .5 1 1.5 2
    for _ in range(3):
        e.learn("est", 2.0, 2.0)
    assert e.units("fix", 2.5, 7.0) == pytest.approx(2.5 * 1.5)  # of .5 1 1 1 1 1.5 2


def test_a_templates_copies_are_one_kind_and_a_teams_parts_are_not(tmp_path: Path) -> None:
    """A lead's cheap parts once shared its kind: one costly part raised every other's
    estimate. The kind is the prompt: a template's copies share it, parts do not."""
    sched = _scheduler(tmp_path, FillSettings(tz="UTC"))
    store: QueueStore = sched.store
    tmpl = store.add(Task(0, "nightly audit", "/w", state="recurring", schedule_kind="cron"))
    copy = sched.enqueue_occurrence(tmpl, "test")
    lead = store.add(Task(0, "lead the team", "/w"))
    parts = [store.add(Task(0, f"part {n}", "/w", parent_id=lead.id)) for n in (1, 2)]
    assert copy is not None and copy.parent_id == tmpl.id
    assert inputs.task_kind(copy.prompt) == inputs.task_kind(tmpl.prompt)
    kinds = {inputs.task_kind(t.prompt) for t in (lead, *parts)}
    assert len(kinds) == 3


def test_capacities_as_measured_set_the_window_ratios() -> None:
    knobs = inputs.Knobs(reserve=(policy.ReserveRule(5),), tz=UTC)
    config = inputs.policy_config(
        knobs, {FIVE_HOUR: 100.0, SEVEN_DAY: 500.0, SEVEN_DAY_SONNET: 250.0}
    )
    assert config.ratio(SEVEN_DAY) == pytest.approx(0.2)
    assert config.ratio(SEVEN_DAY_SONNET) == pytest.approx(0.4)


def test_official_use_beyond_fill_counts_as_the_persons_week() -> None:
    knobs = inputs.Knobs(reserve=(policy.ReserveRule(5),), tz=UTC)
    human = policy.HumanUse(0, 0, 0, forecast_week_pct=10, week_used_pct=5)
    facts = inputs.Facts(
        now=NOW,
        windows=[
            inputs.WindowFacts(FIVE_HOUR, 10, NOW + timedelta(hours=2)),
            inputs.WindowFacts(SEVEN_DAY, 30, NOW + timedelta(days=3)),
        ],
        capacity={FIVE_HOUR: 100.0, SEVEN_DAY: 1000.0},
        tasks=[],
        runs=[],
        human=human,
        fill_week_units={SEVEN_DAY: 100.0},  # fill spent 10% of the week
    )
    built = inputs.build(facts, knobs, inputs.Estimator())
    # The local log says 5%; the official 30% less fill's 10% says 20%: the person's.
    assert built.human.week_used_pct == pytest.approx(20)


def test_every_policy_knob_is_a_fill_setting() -> None:
    data = json.loads((REPO / "bench" / "scenarios" / "heavy-human.json").read_text())
    settings = parse_scenario(data).settings
    assert isinstance(settings, FillSettings)
    knobs = inputs.Knobs.from_settings(settings, UTC)
    assert knobs.pause_mode == data["policy"]["pause_mode"]
    assert knobs.weekly_margin_pct == data["policy"]["weekly_margin_pct"]
    assert knobs.max_concurrent == data["policy"]["max_concurrent"]


def test_a_ratio_beyond_any_plan_and_a_forecast_beyond_the_week_are_bounded() -> None:
    # The 5-hour window at the plan's default (millions), the week learned from a few
    # tokens: the "ratio" says a 5-hour window is 2,500 weeks.
    knobs = inputs.Knobs(reserve=(policy.ReserveRule(5),), tz=UTC)
    config = inputs.policy_config(knobs, {FIVE_HOUR: 2_500_000.0, SEVEN_DAY: 1000.0})
    assert config.ratio(SEVEN_DAY) == inputs.RATIO_MAX
    facts = inputs.Facts(
        now=NOW,
        windows=[inputs.WindowFacts(SEVEN_DAY, 20, NOW + timedelta(days=3))],
        capacity={FIVE_HOUR: 100.0, SEVEN_DAY: 1000.0},
        tasks=[],
        runs=[],
        human=policy.HumanUse(0, 0, 0, forecast_week_pct=500.0),
    )
    assert inputs.build(facts, knobs, inputs.Estimator()).human.forecast_week_pct == 80.0
