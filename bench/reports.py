"""`podium report` against ccusage 20.0.24, every `--by`, as a person runs them.

Issue 14, goal 4: reports ≥ 20× faster than ccusage at 500 MB for every `--by`,
including `day` with a time zone. Generates a synthetic Claude config dir
(bench/transcripts.py; reused from --dir when it is there), ingests it into a
private podium (data dir, runtime dir and tmux server of its own), then runs each
podium command and ccusage's matching one in turn (A B A B …: a change in the
machine's load hits both), the whole process timed from outside (start-up
included; the engine is warm, the log ingested). Prints per case the medians
with min–max, the median of the pairs' ratios, held / not held, the load
average; checks every report's four token totals against the generator's count
(and ccusage's `daily`). Cleans up after itself, on Ctrl-C too; a --dir is kept.

    .venv/bin/python bench/reports.py                       # 500 MB, 7 pairs
    .venv/bin/python bench/reports.py --mb 20 --runs 3      # a quick look
    .venv/bin/python bench/reports.py --dir /tmp/podium-bench-500
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _podium import PODIUM, BenchPodium, bench_podium
from ingest import ccusage_bin
from transcripts import generate

GOAL = 20.0
ZONE = "Europe/Paris"
# (label, podium report arguments, ccusage arguments): ccusage's nearest command.
CASES: list[tuple[str, list[str], list[str]]] = [
    ("day", ["--by", "day"], ["daily"]),
    (f"day --tz {ZONE}", ["--by", "day", "--tz", ZONE], ["daily", "--timezone", ZONE]),
    ("week", ["--by", "week"], ["weekly"]),
    ("month", ["--by", "month"], ["monthly"]),
    ("session", ["--by", "session"], ["session"]),
    ("model", ["--by", "model"], ["claude", "daily", "--breakdown"]),
    ("project", ["--by", "project"], ["claude", "daily", "--instances"]),
]
KINDS = ("input", "output", "cache_creation", "cache_read")


def wall(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from start to exit of `argv`, its output thrown away."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = proc.communicate()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {err.decode(errors='replace')[-400:]}")
    return seconds


def podium_totals(podium: BenchPodium, args: list[str]) -> dict[str, int]:
    total = podium.json("report", *args)["total"]
    return {k: total[f"{k}_tokens"] for k in KINDS}


def ccusage_totals(argv: list[str], env: dict[str, str]) -> dict[str, int]:
    out = subprocess.run([*argv, "--json"], env=env, capture_output=True, check=True).stdout
    t = json.loads(out)["totals"]
    return {
        "input": t["inputTokens"],
        "output": t["outputTokens"],
        "cache_creation": t["cacheCreationTokens"],
        "cache_read": t["cacheReadTokens"],
    }


def spread(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return f"{statistics.median(ms):7.1f} ms ({ms[0]:.0f}–{ms[-1]:.0f})"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def prepare(root: Path, mb: float, seed: int) -> dict[str, Any]:
    """The config dir under `root` (generated once for a size and seed) and its counts."""
    marker = root / f"generated-{mb}-{seed}.json"
    if not marker.exists():
        shutil.rmtree(root / "claude", ignore_errors=True)
        for old in root.glob("generated-*"):
            old.unlink()
        gen = generate(root / "claude", mb, seed)
        info = {"files": gen.files, "bytes": gen.bytes, "expected": gen.expected.as_dict()}
        marker.write_text(json.dumps(info))
    return json.loads(marker.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=500.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=7, help="pairs per case")
    parser.add_argument("--dir", type=Path, help="where to generate (kept; reused if present)")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C: the finally blocks stop the engine and remove /tmp files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    binary = ccusage_bin()
    if binary is None:
        sys.exit("ccusage could not be installed (npm?): nothing to compare with")
    binary.chmod(0o755)
    keep = args.dir is not None
    root = args.dir or Path(tempfile.mkdtemp(prefix="podium-bench-reports-", dir="/tmp"))
    try:
        root.mkdir(parents=True, exist_ok=True)
        run(root, args, binary)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def run(root: Path, args: argparse.Namespace, binary: Path) -> None:
    info = prepare(root, args.mb, args.seed)
    print(f"data: {info['bytes'] / 1e6:.0f} MB in {info['files']} files; load average {load()}")
    home, empty = root / "home", root / "empty-claude"
    home.mkdir(exist_ok=True)
    empty.mkdir(exist_ok=True)
    # TZ=UTC for both: a case without --tz then means the same days for both.
    cc_env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),  # no other agent's data in ccusage's report
        "CLAUDE_CONFIG_DIR": str(root / "claude"),
        "TZ": "UTC",
    }
    with bench_podium(CLAUDE_CONFIG_DIR=str(empty), TZ="UTC") as podium:
        ingested = podium.json("usage", "ingest", "--claude-dir", str(root / "claude"))
        print(f"ingested {ingested['messages']} messages from {ingested['files']} files")
        expected = info["expected"]
        cc_daily = ccusage_totals([str(binary), "daily", "--offline"], cc_env)
        totals_ok = cc_daily == expected
        print(f"ccusage daily totals {'equal' if totals_ok else 'DIFFER from'} the generator's")
        held_all = True
        rows = []
        for label, p_args, c_args in CASES:
            got = podium_totals(podium, p_args)
            exact = got == expected
            totals_ok &= exact
            a_argv = [PODIUM, "report", *p_args]
            b_argv = [str(binary), *c_args, "--offline", "--json"]
            wall(a_argv, podium.env)  # warm-up, not counted
            wall(b_argv, cc_env)
            a_runs, b_runs = [], []
            for _ in range(args.runs):
                a_runs.append(wall(a_argv, podium.env))
                b_runs.append(wall(b_argv, cc_env))
            ratios = [b / a for a, b in zip(a_runs, b_runs, strict=True)]
            ratio = statistics.median(ratios)
            held = ratio >= GOAL
            held_all &= held
            rows.append((label, a_runs, b_runs, ratio, min(ratios), max(ratios), held, exact))
        print(f"\n{'--by':22} {'podium':>24} {'ccusage':>24}   faster   totals")
        for label, a_runs, b_runs, ratio, low, high, held, exact in rows:
            verdict = "held" if held else "not held"
            check = "exact" if exact else "DIFFER"
            print(
                f"{label:22} {spread(a_runs):>24} {spread(b_runs):>24}  "
                f"{ratio:5.1f}× ({low:.1f}–{high:.1f}) {verdict:8}  {check}"
            )
    print(f"\nload average after: {load()}")
    print(f"goal 4 (≥ {GOAL:.0f}× ccusage, every --by): {'held' if held_all else 'not held'}")
    print(f"totals: {'exact in every report' if totals_ok else 'NOT EXACT'}")


if __name__ == "__main__":
    main()
