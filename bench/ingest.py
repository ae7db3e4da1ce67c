"""Cold transcript ingest against ccusage: goals 1 and 5 of issue 14, held or not.

For each size (`--mb 100 500 2000`), on a generated Claude config dir
(bench/transcripts.py: streaming duplicates, sidechain replays, subagent files,
progress records, files over 100 MB, torn and bad lines), runs `--repeat`
paired runs, ccusage and podium alternately (the order swaps every run, so a
change in the machine's load hits both):

- podium cold: a fresh data dir, no engine running, and the person's first
  command, `podium usage ingest --claude-dir DIR`, timed from start to exit
  (the engine's start counted); the engine's peak memory (VmHWM) and, sampled
  every 10 ms, the engine's plus its helper processes' resident memory (the
  peak is the larger of the two);
- `ccusage daily --offline --json` (CLAUDE_CONFIG_DIR=DIR): wall time and peak
  RSS.

Every run checks the four token totals against ccusage's and against the
generator's own count (an independent one), and the message count against the
generator's. Once per bench: an idle engine's memory, and whether memory
returns to idle after a pass. Once per size: a small append beside the big
history, read by a pass over everything (through the API: the pass, not the
command's start).

Prints medians with min-max, the load average, each goal with held / not held,
and one JSON line of figures. Removes everything it made in /tmp (not a kept
`--dir`), also on Ctrl-C. ccusage comes from npm into .cache/ccusage
(`npm install ccusage@20.0.24 @ccusage/ccusage-linux-x64@20.0.24`; 20.0.26
ships no linux binary).

    .venv/bin/python bench/ingest.py --mb 100 500 2000 --repeat 5
    .venv/bin/python bench/ingest.py --mb 500 --dir /tmp/ingest-data   # keep the data
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _podium import BenchPodium, podium_dirs, remove_tree
from transcripts import Generator, generate

from sessions.client import EngineClient

REPO = Path(__file__).resolve().parents[1]
CCUSAGE_DIR = REPO / ".cache" / "ccusage"
CCUSAGE_VERSION = "20.0.24"
MIB = 2**20
# Goals of issue 14.
COLD_RATIO = 0.8
IDLE_MIB = 80
PEAK_MIB_2GB = 250
# "Returns to idle": within this much of the idle engine's memory.
IDLE_SLACK_MIB = 8


def ccusage_bin() -> Path | None:
    binary = CCUSAGE_DIR / "node_modules" / "@ccusage" / "ccusage-linux-x64" / "bin" / "ccusage"
    if not binary.exists() and shutil.which("npm") is not None:
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
    if not binary.exists():
        return None
    binary.chmod(0o755)
    return binary


def load() -> float:
    return round(os.getloadavg()[0], 2)


# -- data ---------------------------------------------------------------------------------


@dataclass
class DataSet:
    mb: int
    config: Path
    files: int
    bytes: int
    expected: dict[str, int]
    messages: int
    generated_s: float | None


def data_set(root: Path, mb: int, seed: int) -> DataSet:
    """The config dir of `mb` MB under `root` (generated unless a kept one is there)."""
    folder = root / f"claude-{mb}mb-seed{seed}"
    marker = folder / "expected.json"
    generated_s = None
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        gen = generate(folder / "claude", mb, seed)
        generated_s = round(time.perf_counter() - started, 1)
        info = {
            "files": gen.files,
            "bytes": gen.bytes,
            "expected": gen.expected.as_dict(),
            "messages": gen.expected.messages,
        }
        marker.write_text(json.dumps(info))
    info = json.loads(marker.read_text())
    # Both tools read from the page cache, not the disk: read it all once first.
    for path in (folder / "claude").rglob("*.jsonl"):
        with path.open("rb") as fh:
            while fh.read(8 << 20):
                pass
    return DataSet(
        mb,
        folder / "claude",
        info["files"],
        info["bytes"],
        info["expected"],
        info["messages"],
        generated_s,
    )


# -- the two tools --------------------------------------------------------------------------


def run_ccusage(binary: Path, config: Path, home: Path) -> dict[str, Any]:
    """Wall seconds, peak RSS and the four totals of `ccusage daily`."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),  # no other agent's data in the report
        "CLAUDE_CONFIG_DIR": str(config),
        "TZ": "UTC",
    }
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(binary), "daily", "--offline", "--json"], env=env, stdout=out, stderr=err
        )
        _, status, rusage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"ccusage failed: {err.read().decode(errors='replace')[-500:]}")
        totals = json.loads(out.read())["totals"]
    return {
        "s": seconds,
        "peak_mib": rusage.ru_maxrss / 1024,  # KiB; the process and its children
        "totals": {
            "input": totals["inputTokens"],
            "output": totals["outputTokens"],
            "cache_creation": totals["cacheCreationTokens"],
            "cache_read": totals["cacheReadTokens"],
        },
    }


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _helpers(pid: int) -> list[int]:
    """The engine's ingest helper processes (not its tmux commands)."""
    found = []
    children: list[str] = []
    # Per thread: the helpers are started from the pass's threads.
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            children += (task / "children").read_text().split()
    for child in children:
        with contextlib.suppress(OSError):
            if b"collectors.ingest_worker" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
    return found


class Memory:
    """Samples the engine of `podium` (once it exists) and its helpers every 10 ms:
    the largest sum of their resident memory at one moment, and each one's own peak."""

    def __init__(self, podium: BenchPodium) -> None:
        self.podium = podium
        self.pid: int | None = None
        self.together_kib = 0
        self.helper_peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.pid is None:
                self.pid = self.podium.engine_pid()
            if self.pid is not None:
                total = _status_kib(self.pid, "VmRSS:")
                for helper in _helpers(self.pid):
                    total += _status_kib(helper, "VmRSS:")
                    peak = _status_kib(helper, "VmHWM:")
                    self.helper_peaks[helper] = max(self.helper_peaks.get(helper, 0), peak)
                self.together_kib = max(self.together_kib, total)
            self._stop.wait(0.005 if self.pid is None else 0.01)

    def __enter__(self) -> Memory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def settled_rss_mib(pid: int, seconds: float = 4.0) -> float:
    """The engine's resident memory once it stops falling (DuckDB and the allocator
    give memory back a little after a pass), within `seconds`."""
    deadline = time.monotonic() + seconds
    time.sleep(1.0)  # the engine releases memory just after it has answered
    last = _status_kib(pid, "VmRSS:")
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = _status_kib(pid, "VmRSS:")
        if now >= last:
            break
        last = now
    return min(last, _status_kib(pid, "VmRSS:")) / 1024


def run_podium(data: DataSet, empty: Path) -> dict[str, Any]:
    """One cold ingest: fresh dirs, no engine; the person's first command."""
    with podium_dirs(CLAUDE_CONFIG_DIR=str(empty)) as podium, Memory(podium) as memory:
        started = time.perf_counter()
        result = podium.json("usage", "ingest", "--claude-dir", str(data.config))
        seconds = time.perf_counter() - started
        pid = podium.engine_pid()
        assert pid is not None
        engine_peak = _status_kib(pid, "VmHWM:")
        after = settled_rss_mib(pid)
    return {
        "s": seconds,
        "pass_s": result["seconds"],
        "workers": result["workers"],
        "engine_peak_mib": engine_peak / 1024,
        # The engine's peak and every helper's, as if all at once: an upper bound.
        "bound_mib": (engine_peak + sum(memory.helper_peaks.values())) / 1024,
        # A sample can miss the engine's own peak, which its VmHWM does not.
        "together_mib": max(memory.together_kib, engine_peak) / 1024,
        "after_mib": after,
        "totals": result["totals"],
        "messages": result["messages"],
        "lines": result["lines"],
        "bad_lines": result["bad_lines"],
    }


def wait_idle(podium: BenchPodium) -> float:
    """Start the engine, wait for its start-up pass; its resident memory then."""
    podium.run("engine", "start")
    with EngineClient(podium.paths, timeout=60) as client:
        deadline = time.monotonic() + 60
        while client.call("usage.totals")["last_pass"] is None and time.monotonic() < deadline:
            time.sleep(0.05)
    pid = podium.engine_pid()
    assert pid is not None
    return settled_rss_mib(pid)


def idle_engine_mib(empty: Path) -> float:
    """A fresh engine's resident memory once its start-up pass (nothing to read) is done."""
    with podium_dirs(CLAUDE_CONFIG_DIR=str(empty)) as podium:
        return wait_idle(podium)


def warm_checks(data: DataSet, root: Path, empty: Path) -> dict[str, Any]:
    """An engine that holds the whole set: its memory after the pass; then the same
    engine started again, a new small session in a second config dir, and one pass
    over both (every file walked and checked): its time, and the engine's memory after
    it, what an engine holding this history idles at (a fresh engine loads DuckDB's
    index of the log only once it writes)."""
    extra = root / "append-claude"
    remove_tree(extra)
    gen = Generator(extra, seed=int(time.time()))
    gen.session(extra, "proj-new", 20_000, torn_ok=False)
    with podium_dirs(CLAUDE_CONFIG_DIR=str(empty)) as podium:
        podium.json("usage", "ingest", "--claude-dir", str(data.config))
        pid = podium.engine_pid()
        assert pid is not None
        after = settled_rss_mib(pid)
        podium.run("engine", "stop")
        wait_idle(podium)
        with EngineClient(podium.paths, timeout=600) as client:
            started = time.perf_counter()
            result = client.call("usage.ingest", claude_dirs=[str(data.config), str(extra)])
            seconds = time.perf_counter() - started
        pid = podium.engine_pid()
        assert pid is not None
        idle = settled_rss_mib(pid)
    remove_tree(extra)
    want = {k: data.expected[k] + v for k, v in gen.expected.as_dict().items()}
    return {
        "append_s": round(seconds, 3),
        "exact": result["totals"] == want,
        "after_mib": round(after),
        "idle_with_history_mib": round(idle),
    }


# -- figures ------------------------------------------------------------------------------


@dataclass
class SizeFigures:
    data: DataSet
    podium: list[dict[str, Any]] = field(default_factory=list)
    ccusage: list[dict[str, Any]] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)


def spread(values: list[float], digits: int = 2) -> str:
    if not values:
        return "-"
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}-{max(values):.{digits}f})"
    )


def check(fig: SizeFigures, run: dict[str, Any], cc: dict[str, Any] | None) -> None:
    want = fig.data.expected
    if run["totals"] != want:
        fig.mismatches.append(f"podium {run['totals']} != generator {want}")
    if run["messages"] != fig.data.messages:
        fig.mismatches.append(f"podium {run['messages']} messages != {fig.data.messages}")
    if cc is not None and cc["totals"] != want:
        fig.mismatches.append(f"ccusage {cc['totals']} != generator {want}")


def measure(data: DataSet, repeat: int, binary: Path | None, root: Path) -> SizeFigures:
    fig = SizeFigures(data)
    empty = root / "empty-claude"
    home = root / "home"
    for rep in range(repeat):
        fig.loads.append(load())
        cc = None
        if binary is not None and rep % 2 == 0:
            cc = run_ccusage(binary, data.config, home)
        run = run_podium(data, empty)
        if binary is not None and rep % 2 == 1:
            cc = run_ccusage(binary, data.config, home)
        fig.podium.append(run)
        if cc is not None:
            fig.ccusage.append(cc)
        check(fig, run, cc)
        ratio = f"{run['s'] / cc['s']:.2f}x" if cc else "-"
        print(
            f"  {data.mb} MB run {rep + 1}: podium {run['s']:.2f}s (pass {run['pass_s']:.2f}s, "
            f"{run['workers']} helpers, {run['together_mib']:.0f} MiB), ccusage "
            f"{cc['s'] if cc else float('nan'):.2f}s ({cc['peak_mib'] if cc else 0:.0f} MiB): "
            f"{ratio}; load {fig.loads[-1]}",
            flush=True,
        )
    return fig


def summary(fig: SizeFigures) -> dict[str, Any]:
    p, c = fig.podium, fig.ccusage
    out: dict[str, Any] = {
        "mb": round(fig.data.bytes / 1e6),
        "files": fig.data.files,
        "generated_s": fig.data.generated_s,
        "load": [min(fig.loads), max(fig.loads)],
        "podium_s": [round(r["s"], 3) for r in p],
        "podium_pass_s": [r["pass_s"] for r in p],
        "helpers": [r["workers"] for r in p],
        "engine_peak_mib": round(max(r["engine_peak_mib"] for r in p)),
        "with_helpers_peak_mib": round(max(r["together_mib"] for r in p)),
        "with_helpers_bound_mib": round(max(r["bound_mib"] for r in p)),
        "after_pass_mib": round(max(r["after_mib"] for r in p)),
        "exact": not fig.mismatches,
    }
    if c:
        out["ccusage_s"] = [round(r["s"], 3) for r in c]
        out["ccusage_peak_mib"] = round(min(r["peak_mib"] for r in c))
        out["ratios"] = [round(a["s"] / b["s"], 3) for a, b in zip(p, c, strict=True)]
        out["ratio_median"] = round(statistics.median(out["ratios"]), 3)
    return out


def report(figs: list[SizeFigures], idle: float, appends: dict[int, Any]) -> dict[str, Any]:
    sizes = [summary(f) for f in figs]
    for fig, s in zip(figs, sizes, strict=True):
        print(
            f"{s['mb']} MB, {s['files']} files (load {s['load'][0]}-{s['load'][1]}): podium cold "
            f"{spread([r['s'] for r in fig.podium])}s (pass "
            f"{spread([r['pass_s'] for r in fig.podium])}s, helpers {s['helpers']}), ccusage "
            f"{spread([r['s'] for r in fig.ccusage])}s; podium/ccusage per pair "
            f"{spread(s.get('ratios', []))}"
        )
        print(
            f"  memory: engine peak {s['engine_peak_mib']} MiB, with helpers "
            f"{s['with_helpers_peak_mib']} MiB (bound {s['with_helpers_bound_mib']}), after "
            f"the pass {s['after_pass_mib']} MiB; ccusage {s.get('ccusage_peak_mib', '-')} MiB"
        )
        if s["mb"] in appends:
            a = appends[s["mb"]]
            print(
                f"  an engine holding it: {a['after_mib']} MiB after the pass, "
                f"{a['idle_with_history_mib']} MiB started again and after a small pass (a "
                f"new session beside it; the pass over everything: {a['append_s']:.3f}s)"
            )
        for problem in fig.mismatches[:5]:
            print(f"  TOTALS DIFFER: {problem}")
        if not fig.mismatches:
            print("  totals: podium = ccusage = the generator's count, every run")

    def held(ok: bool | None) -> str:
        return "not measured" if ok is None else ("held" if ok else "NOT HELD")

    have_cc = all("ratio_median" in s for s in sizes)
    goal1 = all(s["ratio_median"] <= COLD_RATIO for s in sizes) if have_cc else None
    print(
        f"goal 1 (cold ingest <= {COLD_RATIO}x ccusage, median of paired runs, at every "
        f"size): {held(goal1)}: "
        + ", ".join(f"{s['mb']} MB {s.get('ratio_median', '-')}x" for s in sizes)
    )
    big = [s for s in sizes if s["mb"] >= 1900]
    peak_ok = all(s["with_helpers_peak_mib"] <= PEAK_MIB_2GB for s in big) if big else None
    vs_cc = (
        all(s["with_helpers_peak_mib"] <= s["ccusage_peak_mib"] for s in sizes) if have_cc else None
    )
    # Back to idle: the engine's memory after the pass against the same engine started
    # again on the same log (what the history itself costs is not the pass's).
    back = all(
        a["after_mib"] <= a["idle_with_history_mib"] + IDLE_SLACK_MIB for a in appends.values()
    )
    parts = [idle <= IDLE_MIB, peak_ok, vs_cc, back]
    goal5 = None if None in parts else all(parts)
    print(
        f"goal 5 (memory): {held(goal5)}: idle {idle:.0f} MiB (<= {IDLE_MIB}: "
        f"{held(idle <= IDLE_MIB)}); peak at 2 GB <= {PEAK_MIB_2GB} MiB: {held(peak_ok)}; "
        f"peak <= ccusage's at every size: {held(vs_cc)}; back to idle (within "
        f"{IDLE_SLACK_MIB} MiB of the engine started again on the same log) after a pass: "
        f"{held(back)}"
    )
    return {
        "idle_mib": round(idle),
        "sizes": sizes,
        "appends": appends,
        "goal1": goal1,
        "goal5": goal5,
        "exact": all(s["exact"] for s in sizes),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[100], help="sizes of the sets")
    parser.add_argument("--repeat", type=int, default=5, help="paired runs per size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, help="where the sets are generated (kept, reused)")
    args = parser.parse_args()
    # A `kill` cleans up as Ctrl-C does: the `finally` blocks stop engines, remove dirs.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    scratch = Path(tempfile.mkdtemp(prefix="podium-bench-ingest-", dir="/tmp"))
    try:
        data_root = args.dir or scratch
        data_root.mkdir(parents=True, exist_ok=True)
        (scratch / "empty-claude").mkdir()
        (scratch / "home").mkdir()
        binary = ccusage_bin()
        if binary is None:
            print("ccusage could not be installed (npm): its side is skipped")
        idle = idle_engine_mib(scratch / "empty-claude")
        figs: list[SizeFigures] = []
        appends: dict[int, Any] = {}
        for mb in args.mb:
            data = data_set(data_root, mb, args.seed)
            made = f", generated in {data.generated_s}s" if data.generated_s is not None else ""
            print(f"{data.bytes / 1e6:.0f} MB in {data.files} files{made}", flush=True)
            figs.append(measure(data, args.repeat, binary, scratch))
            a = warm_checks(data, scratch, scratch / "empty-claude")
            appends[round(data.bytes / 1e6)] = a
            if not a["exact"]:
                figs[-1].mismatches.append("totals after the append differ from the count")
            if args.dir is None:
                remove_tree(data.config.parent)  # the next size needs the room
        figures = report(figs, idle, appends)
        print(json.dumps(figures))
        return 0 if figures["exact"] else 1
    finally:
        remove_tree(scratch)


if __name__ == "__main__":
    sys.exit(main())
