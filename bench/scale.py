"""A year of history and 50 sessions: the tower, `podium ls` and the usage screen.

Issue 14, goal 6: with a year of history (300k+ responses in `usage_messages`,
500k `limit_samples`, and the per-minute `limit_series` a year of running
writes, ≈ 1M rows) and 50 sessions, the tower's first frame ≤ 300 ms, `podium
ls` unchanged (against the same sessions with no history), the usage screen's
charts ≤ 200 ms to draw.

A private podium (data dir, runtime dir, tmux server) gets 50 stand-in agents
(half `sim` agents that finish a turn and wait, half shells), then its store is
copied twice with the engine stopped: as it is ("bare") and with the year
written in (bench/year.py: real tables and migrations). The engine is started
on one copy, then the other, in turn:

- `podium ls`: the whole command, paired rounds bare / year;
- the engine's queries behind the screens (`usage.windows`, `usage.series`,
  `reports.usage` for the last 7 days and for the year, `reports.waste`);
- the tower (`podium tower` in a pane of the private server, read back with
  `capture-pane` every 20 ms, as bench/tower.py does): launch to first frame,
  and `u` to the usage screen's first chart drawn.

Prints medians with min–max, load average, held / not held. Removes everything
it made in /tmp, on Ctrl-C too.

    .venv/bin/python bench/scale.py [--sessions 50] [--runs 7] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _podium import PODIUM, BenchPodium, bench_podium
from tower import POLL_S, launch_tower, wait_screen
from year import write_year

from collectors.paths import Paths
from sessions.client import EngineClient

FIRST_FRAME_MS = 300.0
CHARTS_MS = 200.0
# `podium ls` is unchanged when the year costs it less than this (noise on a shared
# two-core machine is a few ms).
LS_SLACK = 1.10
# The usage screen's first plot's top line: the charts are drawn. With no history
# the screen says so under the same heading, drawn in the same frame.
CHART_MARK = "100% ┤"
NO_CHART_MARK = "Used % per window"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def spread(ms: list[float]) -> str:
    s = sorted(ms)
    return f"{statistics.median(s):7.1f} ms ({s[0]:.0f}–{s[-1]:.0f})"


def wall_ms(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - started) * 1000


def make_sessions(podium: BenchPodium, count: int) -> None:
    for n in range(count):
        if n % 2:
            podium.run("new", "--agent", "shell", "--name", f"shell-{n}")
        else:
            prompt = "[nopermission] hi"
            podium.run("new", "--agent", "sim", "--name", f"sim-{n}", "--prompt", prompt)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        states = [s["state"] for s in podium.json("ls")]
        if len(states) == count and all(s in ("waiting", "idle") for s in states):
            return
        time.sleep(0.5)
    raise RuntimeError(f"sessions never settled: {sorted(set(states))}")


def use_store(podium: BenchPodium, copy: Path) -> None:
    """Restart the engine on `copy` of the store (the live file is replaced)."""
    podium.run("engine", "stop")
    live = podium.data / "podium.duckdb"
    for stale in podium.data.glob("podium.duckdb*"):
        stale.unlink()
    shutil.copyfile(copy, live)
    live.chmod(0o600)
    podium.run("engine", "start")
    podium.json("ls")  # answered: the engine serves


def client(podium: BenchPodium) -> EngineClient:
    return EngineClient(Paths(data=podium.data, runtime=Path(podium.env["PODIUM_RUNTIME_DIR"])))


def engine_queries(podium: BenchPodium, runs: int) -> dict[str, list[float]]:
    """Round trips of the calls behind the tower's header and usage screen."""
    tz = "Europe/Paris"
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("usage.windows", "usage.windows", {}),
        ("usage.series 7 days", "usage.series", {"hours": 168}),
        ("usage.series 7 days, 120 slices", "usage.series", {"hours": 168, "buckets": 120}),
        ("reports.usage last 7 days", "reports.usage", {"days": 7, "tz": tz}),
        ("reports.waste (all)", "reports.waste", {"tz": tz}),
        ("reports.usage --by day, a year", "reports.usage", {"by": "day", "tz": tz}),
        ("reports.usage --by session", "reports.usage", {"by": "session", "tz": tz}),
    ]
    out: dict[str, list[float]] = {}
    with client(podium) as c:
        c.sock.settimeout(600)
        for label, method, params in calls:
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                try:
                    c.call(method, **params)
                except Exception as exc:  # an older engine without `buckets`: say so, go on
                    print(f"  {label}: {exc}")
                    break
                times.append((time.perf_counter() - started) * 1000)
            if times:
                out[label] = times
    return out


def tower_times(
    podium: BenchPodium, runs: int, tag: str, mark: str
) -> tuple[list[float], list[float]]:
    """(launch → first frame, `u` → `mark` on the usage screen) in ms, `runs` times each."""
    first, charts = [], []
    for n in range(runs):
        start = time.time()
        target = launch_tower(podium, f"{tag}{n}")
        first.append((wait_screen(podium, target, "usage") - start) * 1000)
        wait_screen(podium, target, "NAME")
        # Let the first listing's frames go by (the tower also reads the usage screen's
        # data ahead then: a person who presses u in the first moments waits for it).
        time.sleep(0.3)
        pressed = time.time()
        podium.tmux("send-keys", "-t", target, "u")
        charts.append((wait_screen(podium, target, mark, timeout=60) - pressed) * 1000)
        podium.tmux("kill-window", "-t", target)
    return first, charts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--samples", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=7, help="`podium ls` runs per round")
    parser.add_argument("--rounds", type=int, default=3, help="bare / year rounds")
    parser.add_argument("--towers", type=int, default=5, help="tower starts per store")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"load average before: {load()}")
    root: Path | None = None
    socket: Path | None = None
    try:
        with bench_podium(PODIUM_SIM_SPEED="20") as podium:
            root = podium.data.parent
            tmux_dir = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
            socket = tmux_dir / podium.socket
            bench(podium, args)
    finally:
        if root is not None:
            sweep(root)
        if socket is not None:
            socket.unlink(missing_ok=True)  # tmux leaves it when its server is killed
    print(f"load average after: {load()}")


def sweep(root: Path) -> None:
    """Remove `root` again until it stays gone: a stand-in agent's last hook can
    write to the spool after its tmux server was killed and the folder removed."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        shutil.rmtree(root, ignore_errors=True)
        time.sleep(0.5)
        if not root.exists():
            return


def bench(podium: BenchPodium, args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    make_sessions(podium, args.sessions)
    print(f"{args.sessions} sessions settled in {time.perf_counter() - t0:.0f} s")
    podium.run("engine", "stop")
    bare, year = podium.data / "bench-bare.duckdb", podium.data / "bench-year.duckdb"
    shutil.copyfile(podium.data / "podium.duckdb", bare)
    shutil.copyfile(bare, year)
    t0 = time.perf_counter()
    counts = write_year(year, datetime.now(UTC), messages=args.messages, samples=args.samples)
    print(f"a year written in {time.perf_counter() - t0:.0f} s: {counts}")
    podium.run("engine", "start")
    run(podium, args, bare, year)


def run(podium: BenchPodium, args: argparse.Namespace, bare: Path, year: Path) -> None:
    ls: dict[str, list[float]] = {"bare": [], "year": []}
    ratios = []
    argv = [PODIUM, "ls"]
    for n in range(args.rounds):
        medians = {}
        stores = [("bare", bare), ("year", year)]
        # The engine on the year last: the queries and the tower below use it.
        for name, copy in stores if n % 2 == 0 or n == args.rounds - 1 else stores[::-1]:
            use_store(podium, copy)
            wall_ms(argv, podium.env)  # warm-up
            runs = [wall_ms(argv, podium.env) for _ in range(args.runs)]
            ls[name] += runs
            medians[name] = statistics.median(runs)
        ratios.append(medians["year"] / medians["bare"])
    print(f"\npodium ls, {args.sessions} sessions, no history   {spread(ls['bare'])}")
    print(f"podium ls, {args.sessions} sessions, a year         {spread(ls['year'])}", flush=True)
    # The engine is on the year now (the last store of the last round).
    queries = engine_queries(podium, args.runs)
    print(f"engine calls with a year (round trip, {args.runs} each):")
    for label, times in queries.items():
        print(f"  {label:36} {spread(times)}", flush=True)
    first_year, charts_year = tower_times(podium, args.towers, "year", CHART_MARK)
    print(f"tower first frame, a year                    {spread(first_year)}")
    print(f"usage screen's charts drawn, a year          {spread(charts_year)}", flush=True)
    use_store(podium, bare)
    first_bare, charts_bare = tower_times(podium, args.towers, "bare", NO_CHART_MARK)
    print(f"tower first frame, no history                {spread(first_bare)}")
    print(f"usage screen shown, no history               {spread(charts_bare)}")
    print(f"(screen read every {POLL_S * 1000:.0f} ms: tower figures carry that resolution)")
    # Every run of both stores pooled: a round's median of 7 moves with the machine's
    # load more than the year could move it (the rounds' own ratios are printed too).
    ratio = statistics.median(ls["year"]) / statistics.median(ls["bare"])
    print(f"podium ls year/bare per round: {', '.join(f'{r:.2f}' for r in ratios)}")
    held = {
        "tower first frame ≤ 300 ms": statistics.median(first_year) <= FIRST_FRAME_MS,
        f"podium ls unchanged (year/bare {ratio:.2f}, ≤ {LS_SLACK})": ratio <= LS_SLACK,
        "usage charts ≤ 200 ms": statistics.median(charts_year) <= CHARTS_MS,
    }
    print(f"load average: {load()}")
    for goal, ok in held.items():
        print(f"goal 6, {goal}: {'held' if ok else 'not held'}")


if __name__ == "__main__":
    main()
