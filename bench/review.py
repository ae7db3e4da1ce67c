"""`podium review` on a big log, as a person runs it: the whole command, timed.

Generates a synthetic Claude config dir (bench/transcripts.py; reused from --dir),
ingests it into a private podium, then runs `podium review --json` over the whole
period (the loop detector reads every transcript of the period again) `--runs`
times, and prints the median with min–max, the findings and the load average.

    .venv/bin/python bench/review.py                     # 500 MB, 3 runs
    .venv/bin/python bench/review.py --mb 50 --runs 2    # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _podium import bench_podium
from reports import prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=500.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, help="where to generate (kept; reused if present)")
    args = parser.parse_args()
    keep = args.dir is not None
    root = args.dir or Path(tempfile.mkdtemp(prefix="podium-bench-review-", dir="/tmp"))
    try:
        root.mkdir(parents=True, exist_ok=True)
        info = prepare(root, args.mb, args.seed)
        print(f"data: {info['bytes'] / 1e6:.0f} MB in {info['files']} files")
        empty = root / "empty-claude"
        empty.mkdir(exist_ok=True)
        with bench_podium(CLAUDE_CONFIG_DIR=str(empty), TZ="UTC") as podium:
            started = time.perf_counter()
            podium.json("usage", "ingest", "--claude-dir", str(root / "claude"))
            print(f"ingested in {time.perf_counter() - started:.1f} s")
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                review = json.loads(podium.run("review", "--since", "2000-01-01", "--json"))
                times.append(time.perf_counter() - started)
            ms = sorted(t * 1000 for t in times)
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(
                f"podium review: {statistics.median(ms):.0f} ms ({ms[0]:.0f}–{ms[-1]:.0f}), "
                f"{len(review['findings'])} findings "
                f"({', '.join(sorted({f['kind'] for f in review['findings']}))}); load {load}"
            )
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
