"""`podium simulate` as a real process: a shipped scenario, JSON out, targets met."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import PODIUM, REPO


def test_podium_simulate_prints_the_figures_as_json() -> None:
    scenario = REPO / "bench" / "scenarios" / "night-queue.json"
    args = ["--scenario", str(scenario), "--policy", "podium", "--seeds", "1", "--json"]
    out = subprocess.run(
        [*PODIUM, "simulate", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr
    [row] = json.loads(out.stdout)
    assert row["scenario"] == "night-queue" and row["policy"] == "podium" and row["seeds"] == 1
    assert row["fill_caused_blocked_minutes"] == 0
    # Against the oracle that knows the future, with live-like inputs.
    assert row["of_oracle"] >= 0.90
    assert 0 < row["of_oracle_fill"] <= 1.2


def test_podium_simulate_plays_a_directory_with_every_policy(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.json").write_text(
            json.dumps(
                {
                    "start": "2026-11-02T00:00:00Z",
                    "days": 1,
                    "capacity": {"five_hour": 1.0, "seven_day": 2.0},
                    "human": [{"at": "09:30", "minutes": 60, "units_per_hour": 0.3}],
                    "tasks": [{"id": "t", "count": 6, "units": 0.2, "minutes": 30}],
                }
            )
        )
    out = subprocess.run(
        [*PODIUM, "simulate", "--scenario", str(tmp_path), "--seeds", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()]
    played = {(r[0], r[1]) for r in rows if r and r[0] in ("a", "b")}
    assert played == {(s, p) for s in "ab" for p in ("podium", "none", "greedy", "night", "oracle")}
    assert "2 seed(s) each" in out.stdout


def test_podium_simulate_reports_a_bad_scenario_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"days": 7}))
    out = subprocess.run(
        [*PODIUM, "simulate", "--scenario", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 1
    assert out.stderr.strip() == f"podium: {bad}: missing key 'start'; fix the scenario"
