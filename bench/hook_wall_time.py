"""How long `podium hook EVENT` and `podium statusline` take, against a bare `python -c pass`.

The hook runs inside Claude Code's loop on every event: it must stay within
2x a bare interpreter start. The statusline is timed with a payload carrying
`rate_limits`, alone and chained to a trivial user command (`true`: the cost of
the chain itself). Prints figures; asserts nothing.

    .venv/bin/python bench/hook_wall_time.py [--runs 50]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(argv: list[str], stdin: bytes, env: dict[str, str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, input=stdin, env=env, check=True, capture_output=True)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def describe(name: str, samples: list[float]) -> dict[str, float | str]:
    ordered = sorted(samples)
    return {
        "what": name,
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    podium = str(Path(sys.executable).with_name("podium"))
    payload = json.dumps({"session_id": "bench", "hook_event_name": "Stop", "cwd": "/tmp"}).encode()
    status = json.dumps(
        {
            "session_id": "bench",
            "model": {"id": "claude-opus-4-5", "display_name": "Opus 4.5"},
            "context_window": {"used_percentage": 12},
            "rate_limits": {
                "five_hour": {"used_percentage": 23, "resets_at": int(time.time()) + 8000},
                "seven_day": {"used_percentage": 41, "resets_at": int(time.time()) + 300000},
            },
        }
    ).encode()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "PODIUM_DATA_DIR": data}
        bare = timed([sys.executable, "-c", "pass"], b"", env, args.runs)
        hook = timed([podium, "hook", "Stop"], payload, env, args.runs)
        statusline = timed([podium, "statusline"], status, env, args.runs)
        chained = timed([podium, "statusline", "--chain", "true"], status, env, args.runs)
    rows = [
        describe("python -c pass", bare),
        describe("podium hook Stop", hook),
        describe("podium statusline", statusline),
        describe("statusline --chain true", chained),
    ]
    for row in rows:
        print(f"{row['what']:<24} p50 {row['p50_ms']:>7} ms   p95 {row['p95_ms']:>7} ms")
    ratio = rows[1]["p50_ms"] / rows[0]["p50_ms"]  # type: ignore[operator]
    print(f"hook / bare python (p50): {ratio:.2f}x  (target <= 2x)")


if __name__ == "__main__":
    main()
