"""Transcript ingest against ccusage, on a synthetic Claude config dir.

Generates a config dir of about --mb MB (bench/transcripts.py: streaming
duplicates, sidechain replays, subagent files, progress records, a few big
files, torn and bad lines), then times in one run:

1. podium's cold ingest (`podium usage ingest --claude-dir DIR`, a fresh engine)
   and the engine's peak memory (its own, and with its helper processes);
2. `ccusage daily --offline --json` on the same data (CLAUDE_CONFIG_DIR=DIR);
3. after appending one turn to the biggest file and one new small session,
   with the engine watching the config dir as it does for a person: how soon
   the lines are in the log, then `podium report` (the command, start-up
   included) and a forced pass over every file, against ccusage's full
   re-scan; and checks that the four token totals agree.

Prints figures; asserts nothing. ccusage comes from npm into .cache/ccusage
(`npm install ccusage@20.0.24 @ccusage/ccusage-linux-x64@20.0.24`; 20.0.26
ships no linux binary); without npm its figures are skipped.

    .venv/bin/python bench/ingest.py            # small (20 MB)
    .venv/bin/python bench/ingest.py --mb 500   # the real target
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _podium import bench_podium
from transcripts import Generator, append_turn, generate

from collectors.paths import Paths
from sessions.client import EngineClient

REPO = Path(__file__).resolve().parents[1]
CCUSAGE_DIR = REPO / ".cache" / "ccusage"
CCUSAGE_VERSION = "20.0.24"


def ccusage_bin() -> Path | None:
    binary = CCUSAGE_DIR / "node_modules" / "@ccusage" / "ccusage-linux-x64" / "bin" / "ccusage"
    if binary.exists():
        return binary
    if shutil.which("npm") is None:
        return None
    CCUSAGE_DIR.mkdir(parents=True, exist_ok=True)
    if not (CCUSAGE_DIR / "package.json").exists():
        (CCUSAGE_DIR / "package.json").write_text('{"private": true}\n')
    subprocess.run(
        [
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            f"ccusage@{CCUSAGE_VERSION}",
            f"@ccusage/ccusage-linux-x64@{CCUSAGE_VERSION}",
        ],
        cwd=CCUSAGE_DIR,
        check=False,
        capture_output=True,
    )
    return binary if binary.exists() else None


def run_ccusage(binary: Path, config: Path, home: Path) -> tuple[float, float, dict[str, int]]:
    """Wall seconds, peak RSS in MB, and the four totals of `ccusage daily`."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),  # no other agent's data in the report
        "CLAUDE_CONFIG_DIR": str(config),
        "TZ": "UTC",
    }
    binary.chmod(0o755)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(binary), "daily", "--offline", "--json"], env=env, stdout=out, stderr=err
        )
        _, status, rusage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"ccusage failed: {err.read().decode(errors='replace')[-500:]}")
        report = out.read()
    peak = rusage.ru_maxrss / 1024
    totals = json.loads(report)["totals"]
    return (
        seconds,
        peak,
        {
            "input": totals["inputTokens"],
            "output": totals["outputTokens"],
            "cache_creation": totals["cacheCreationTokens"],
            "cache_read": totals["cacheReadTokens"],
        },
    )


def _pss(proc: psutil.Process) -> int:
    """Proportional set size: shared pages (a helper's, just forked) are not counted twice."""
    try:
        return proc.memory_full_info().pss
    except (psutil.AccessDenied, AttributeError):
        return proc.memory_info().rss


class PeakRss:
    """Samples the memory of a process and its children (the ingest helpers) every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak_total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            try:
                total = _pss(self.proc)
                for child in self.proc.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        if "collectors.ingest_worker" in child.cmdline():
                            total += _pss(child)  # not the engine's tmux commands
            except psutil.Error:
                return
            self.peak_total = max(self.peak_total, total)
            self._stop.wait(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def call(paths: Paths, method: str, **params: Any) -> Any:
    with EngineClient(paths, timeout=600) as client:
        return client.call(method, **params)


def wait_for_pass(paths: Paths, done: Any, seconds: float = 120) -> dict[str, Any]:
    """Poll `usage.totals` until `done(totals)`; the totals then."""
    deadline = time.monotonic() + seconds
    while True:
        totals = call(paths, "usage.totals")
        if done(totals) or time.monotonic() > deadline:
            return totals
        time.sleep(0.01)


def cold_podium(config: Path, empty: Path, stack: contextlib.ExitStack) -> dict[str, Any]:
    """A fresh engine (empty data dir, its own Claude dir empty) and one cold ingest."""
    podium = stack.enter_context(bench_podium(CLAUDE_CONFIG_DIR=str(empty)))
    pid = int(podium.json("engine", "status")["pid"])
    idle = vm_hwm_mb(pid)
    t0 = time.perf_counter()
    with PeakRss(pid) as peak:
        result = podium.json("usage", "ingest", "--claude-dir", str(config))
    return {
        "podium": podium,
        "result": result,
        "wall": time.perf_counter() - t0,
        "idle_mb": idle,
        "peak_mb": vm_hwm_mb(pid),
        "with_helpers_mb": peak.peak_total / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=20.0, help="size of the config dir")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, help="where to generate (kept; reused if present)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="cold runs of each tool (the best one counts)"
    )
    args = parser.parse_args()

    root = args.dir or Path(tempfile.mkdtemp(prefix="podium-bench-ingest-", dir="/tmp"))
    config = root / "claude"
    marker = root / f"generated-{args.mb}-{args.seed}"
    started = time.perf_counter()
    if not marker.exists():
        shutil.rmtree(config, ignore_errors=True)
        for old in root.glob("generated-*"):
            old.unlink()
        gen = generate(config, args.mb, args.seed)
        marker.write_text(json.dumps({"files": gen.files, "bytes": gen.bytes}))
    info = json.loads(marker.read_text())
    biggest = max(config.rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    print(
        f"data: {info['bytes'] / 1e6:.0f} MB in {info['files']} files, biggest "
        f"{biggest.stat().st_size / 1e6:.0f} MB (generated in {time.perf_counter() - started:.0f}s)"
    )
    figures: dict[str, Any] = {"mb": round(info["bytes"] / 1e6), "files": info["files"]}
    home = root / "home"
    home.mkdir(exist_ok=True)
    empty = root / "empty-claude"
    empty.mkdir(exist_ok=True)
    binary = ccusage_bin()

    # Cold: both tools, alternating, so that a change in the machine's load hits both.
    colds: list[dict[str, Any]] = []
    cc_runs: list[float] = []
    cc_totals: dict[str, int] | None = None
    stack = contextlib.ExitStack()
    for rep in range(args.repeat):
        if binary is not None:
            cc_s, cc_mb, cc_totals = run_ccusage(binary, config, home)
            cc_runs.append(cc_s)
            figures["ccusage_peak_rss_mb"] = round(cc_mb)
        if rep:
            stack.close()  # the previous engine; the last one stays for the append
            stack = contextlib.ExitStack()
        colds.append(cold_podium(config, empty, stack))
    best = min(colds, key=lambda c: c["wall"])
    cold = colds[-1]["result"]
    figures["podium_cold_s"] = round(best["wall"], 2)
    figures["podium_cold_engine_s"] = min(c["result"]["seconds"] for c in colds)
    figures["podium_cold_runs_s"] = [round(c["wall"], 2) for c in colds]
    figures["engine_idle_rss_mb"] = round(max(c["idle_mb"] for c in colds))
    figures["engine_peak_rss_mb"] = round(max(c["peak_mb"] for c in colds))
    figures["engine_plus_helpers_peak_mb"] = round(max(c["with_helpers_mb"] for c in colds))
    figures["helpers"] = [c["result"]["workers"] for c in colds]
    print(
        f"podium cold ingest: {figures['podium_cold_s']}s with the command, best of "
        f"{args.repeat} (engine pass {figures['podium_cold_engine_s']}s); {cold['lines']} "
        f"lines, {cold['bad_lines']} bad, {cold['messages']} messages; engine peak RSS "
        f"{figures['engine_peak_rss_mb']} MB (idle {figures['engine_idle_rss_mb']} MB); with "
        f"its helper processes (PSS) {figures['engine_plus_helpers_peak_mb']} MB; helpers used "
        f"{[c['result']['workers'] for c in colds]}"
    )
    if binary is not None:
        figures["ccusage_cold_s"] = round(min(cc_runs), 2)
        figures["ccusage_cold_runs_s"] = [round(x, 2) for x in cc_runs]
        figures["totals_equal_cold"] = cc_totals == cold["totals"]
        print(
            f"ccusage daily --offline --json: {figures['ccusage_cold_s']}s, best of "
            f"{args.repeat}; peak RSS {figures['ccusage_peak_rss_mb']} MB"
        )
        print(f"totals podium  {cold['totals']}")
        print(f"       ccusage {cc_totals}  equal: {figures['totals_equal_cold']}")

    with stack:
        podium = colds[-1]["podium"]
        paths = Paths(data=podium.data, runtime=Path(podium.env["PODIUM_RUNTIME_DIR"]))
        # As a person runs it: the engine watching this config dir (its log already
        # holds everything, so its start-up catch-up pass finds nothing new).
        podium.run("engine", "stop")
        podium.env["CLAUDE_CONFIG_DIR"] = str(config)
        podium.run("engine", "start")
        wait_for_pass(paths, lambda t: t["last_pass"] is not None)
        # Past the new watcher's own first full pass (after its first quiet second), so
        # that what follows times the watcher noticing the append.
        time.sleep(2.5)
        before = call(paths, "usage.totals")["messages"]
        # A small append: one turn on the biggest session, one new small session. A seed
        # of its own each run: a kept --dir must not get the same messages again.
        fresh = time.time_ns() % 2**31
        t0 = time.perf_counter()
        append_turn(biggest, seed=fresh)
        before = wait_for_pass(paths, lambda t: t["messages"] > before)["messages"]
        figures["podium_append_seen_s"] = round(time.perf_counter() - t0, 3)
        Generator(config, fresh + 1).session(config, f"proj-new-{fresh}", 20_000, torn_ok=False)
        wait_for_pass(paths, lambda t: t["messages"] > before)
        # What a report costs a person at the terminal after that append: the command,
        # Python's and the CLI's start-up included (best of 5).
        report_runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            podium.json("report")
            report_runs.append(time.perf_counter() - t0)
        figures["podium_report_cli_s"] = round(min(report_runs), 3)
        # And a forced pass over the whole config dir (walk, stat, read what is new).
        t0 = time.perf_counter()
        with EngineClient(paths, timeout=600) as client:
            client.call("usage.ingest", claude_dirs=[str(config)])
        figures["podium_forced_pass_api_s"] = round(time.perf_counter() - t0, 3)
        report = {"totals": call(paths, "usage.totals")["totals"]}
        print(
            f"after an append: in the log {figures['podium_append_seen_s']}s later (the "
            f"watcher); `podium report` then takes {figures['podium_report_cli_s']}s (the "
            f"command, best of 5); a forced pass over all files "
            f"{figures['podium_forced_pass_api_s']}s through the API"
        )
    if binary is not None:
        cc_s, _, cc_totals = run_ccusage(binary, config, home)
        figures["ccusage_rescan_s"] = round(cc_s, 2)
        figures["totals_equal_after_append"] = cc_totals == report["totals"]
        figures["report_speedup"] = round(cc_s / figures["podium_report_cli_s"], 1)
        figures["forced_pass_speedup"] = round(cc_s / figures["podium_forced_pass_api_s"], 1)
        print(
            f"ccusage re-scan {cc_s:.2f}s: {figures['report_speedup']}x `podium report`, "
            f"{figures['forced_pass_speedup']}x a forced pass; totals equal: "
            f"{figures['totals_equal_after_append']}"
        )
    print(json.dumps(figures))
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
