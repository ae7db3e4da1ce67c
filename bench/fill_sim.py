"""The fill policy against the bench scenarios: one row per scenario × policy.

Each scenario is played on several seeds (each draws the tasks' real costs off
their estimates and moves the person's sessions a little); the table gives the
mean weekly utilization, its share of the oracle's (the policy that knows the
future: the mark to reach), the worst seed's share, fill's own work as a share
of the oracle's fill (the stricter figure: the person's use is in both
utilizations), and the worst seed's blocked minutes caused by fill. Targets
(issue 15): podium causes 0 blocked minutes, and reaches >= 0.90 of the oracle
where history exists (>= 0.75 without). Prints figures; asserts nothing.

    .venv/bin/python bench/fill_sim.py [--seeds N] [--json] [SCENARIO.json | DIR …]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sessions.fill.simulate import POLICIES, compare, parse_scenario  # noqa: E402


def _paths(given: list[Path]) -> list[Path]:
    paths = given or [REPO / "bench" / "scenarios"]
    out: list[Path] = []
    for path in paths:
        out += sorted(path.glob("*.json")) if path.is_dir() else [path]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenarios", nargs="*", type=Path)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    began = time.perf_counter()
    for path in _paths(args.scenarios):
        data = json.loads(path.read_text())
        data.setdefault("name", path.stem)
        scenario = parse_scenario(data)
        rows += compare(scenario, POLICIES, range(1, args.seeds + 1))
    took = time.perf_counter() - began
    if args.json:
        print(json.dumps([r.as_json() for r in rows], indent=2))
        return
    heads = [
        "scenario",
        "policy",
        "weekly",
        "of oracle",
        "worst seed",
        "fill of oracle's",
        "fill-caused blocked min",
        "tasks",
    ]
    print("| " + " | ".join(heads) + " |")
    print("|" + "---|" * len(heads))
    for r in rows:
        share = "" if r.of_oracle is None else f"{r.of_oracle:.2f}"
        worst = "" if r.worst_of_oracle is None else f"{r.worst_of_oracle:.2f}"
        fill = "" if r.of_oracle_fill is None else f"{r.of_oracle_fill:.2f}"
        print(
            f"| {r.scenario} | {r.policy} | {r.weekly_utilization:.2f} | {share} | {worst} "
            f"| {fill} "
            f"| {r.fill_caused_blocked_minutes} | {r.tasks_done:.1f} |"
        )
    print(f"\n{len(rows)} rows, {args.seeds} seed(s) each, in {took:.1f} s")


if __name__ == "__main__":
    main()
