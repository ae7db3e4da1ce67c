"""The fill policy against the bench scenarios: one row per policy × scenario.

Targets (issue 6, item 7), on scenarios whose backlog exceeds the spare
capacity: podium causes no blocked minutes and uses ≥ 90% of the week; greedy
shows blocked minutes (so the metric bites). Prints figures; asserts nothing.

    .venv/bin/python bench/fill_sim.py [--json] [SCENARIO.json …]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sessions.fill.simulate import POLICIES, parse_scenario, run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenarios", nargs="*", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    paths = args.scenarios or sorted((REPO / "bench" / "scenarios").glob("*.json"))
    rows = []
    for path in paths:
        scenario = parse_scenario(json.loads(path.read_text()))
        for policy in POLICIES:
            rows.append({"scenario": path.stem, **run(scenario, policy).as_json()})
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    heads = ["scenario", "policy", "weekly", "5-hour", "blocked min", "fill-caused", "tasks"]
    print("| " + " | ".join([*heads, "unused wk %·h"]) + " |")
    print("|" + "---|" * 8)
    for r in rows:
        print(
            f"| {r['scenario']} | {r['policy']} | {r['weekly_utilization']:.2f} "
            f"| {r['five_hour_utilization']:.2f} | {r['human_blocked_minutes']} "
            f"| {r['fill_caused_blocked_minutes']} | {r['tasks_done']} "
            f"| {r['unused_area']['seven_day']:.0f} |"
        )


if __name__ == "__main__":
    main()
