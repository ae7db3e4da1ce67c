"""`podium simulate` as a real process: a shipped scenario, JSON out, targets met."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import PODIUM, REPO


def test_podium_simulate_prints_the_figures_as_json() -> None:
    scenario = REPO / "bench" / "scenarios" / "night-queue.json"
    out = subprocess.run(
        [*PODIUM, "simulate", "--scenario", str(scenario), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    assert set(figures) >= {
        "weekly_utilization",
        "five_hour_utilization",
        "human_blocked_minutes",
        "fill_caused_blocked_minutes",
        "tasks_done",
        "unused_area",
    }
    assert figures["policy"] == "podium"
    assert figures["fill_caused_blocked_minutes"] == 0
    assert figures["weekly_utilization"] >= 0.90


def test_podium_simulate_reports_a_bad_scenario_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"days": 7}))
    out = subprocess.run(
        [*PODIUM, "simulate", "--scenario", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 1
    assert out.stderr.strip() == f"podium: {bad}: missing key 'start'; fix the scenario"
