"""Every command's start against a bare interpreter of the same venv (issue 14).

Goals, each printed with held / not held:

- goal 3: `ls`, `usage`, `report`, `queue ls`, `stage`, `--help`, `--version`
  each ≤ 3× `python -c pass`; `podium hook` and `podium statusline` (with a
  realistic payload on stdin) ≤ 2×;
- goal 2: the engine's start to a usable socket (spawned as `podium` spawns it,
  until a `ping` is answered) ≤ 0.25 s, median of `--starts`;
- goal 5 (its start): the engine's idle RSS after a start ≤ 80 MiB.

Each command runs against a running engine of a private podium in /tmp (data,
runtime and config dirs, its own tmux server, a synthetic Claude history that
`usage ingest` read, sim sessions, queued tasks, limit figures): nothing of the
person's is read or touched. Runs are paired and alternate (command, bare,
command, bare, ...) and the ratio is taken pair by pair, so a machine whose
speed drifts (other work on a shared core) moves both sides of a pair alike;
the median ratio and its min–max are printed with the load average. All it
made in /tmp goes at the end, on Ctrl-C and on SIGTERM too.

    .venv/bin/python bench/commands.py [--runs 15] [--starts 7] [--sessions 3] [--mb 20]
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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from transcripts import generate

from collectors.paths import Paths
from sessions.client import EngineClient

PYTHON = sys.executable
PODIUM = str(Path(PYTHON).with_name("podium"))
BARE = [PYTHON, "-c", "pass"]

COMMANDS: list[tuple[str, list[str], float]] = [
    ("ls", ["ls"], 3.0),
    ("usage", ["usage"], 3.0),
    ("report", ["report"], 3.0),
    ("queue ls", ["queue", "ls"], 3.0),
    ("stage", ["stage"], 3.0),
    ("--help", ["--help"], 3.0),
    ("--version", ["--version"], 3.0),
    ("hook Stop", ["hook", "Stop"], 2.0),
    ("statusline", ["statusline"], 2.0),
]
START_GOAL_S = 0.25
IDLE_GOAL_MIB = 80.0


def hook_payload(cwd: str) -> bytes:
    return json.dumps({"session_id": "bench", "hook_event_name": "Stop", "cwd": cwd}).encode()


def status_payload() -> bytes:
    """What Claude Code gives its statusline command on a plan account."""
    now = int(time.time())
    return json.dumps(
        {
            "session_id": "bench",
            "model": {"id": "claude-opus-4-5", "display_name": "Opus 4.5"},
            "workspace": {"current_dir": "/tmp", "project_dir": "/tmp"},
            "cost": {"total_cost_usd": 0.42, "total_duration_ms": 61000},
            "context_window": {"used_percentage": 12},
            "rate_limits": {
                "five_hour": {"used_percentage": 23, "resets_at": now + 8000},
                "seven_day": {"used_percentage": 41, "resets_at": now + 300000},
            },
        }
    ).encode()


class Private:
    """A podium of its own under `root`: env, paths, and a way to run it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = f"podium-bench-{uuid.uuid4().hex[:8]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PODIUM_", "TMUX"))}
        env.update(
            PODIUM_DATA_DIR=str(root / "data"),
            PODIUM_RUNTIME_DIR=str(root / "run"),
            PODIUM_CONFIG=str(root / "config.toml"),
            PODIUM_TMUX_SOCKET=self.socket,
            PODIUM_SIM_CLAUDE_CONFIG_DIR=str(root / "sim-claude"),
            CLAUDE_CONFIG_DIR=str(root / "claude"),
            TMUX_TMPDIR=str(root / "tmux"),
            PATH=f"{Path(PYTHON).parent}:{os.environ.get('PATH', '')}",
        )
        (root / "tmux").mkdir(mode=0o700)
        self.env = env
        self.paths = Paths(data=root / "data", runtime=root / "run")

    def run(self, *args: str, stdin: bytes = b"") -> str:
        out = subprocess.run([PODIUM, *args], env=self.env, input=stdin, capture_output=True)
        if out.returncode != 0:
            raise RuntimeError(f"podium {' '.join(args)}: {out.stderr.decode().strip()}")
        return out.stdout.decode()

    def engine_pid(self) -> int:
        with EngineClient(self.paths, timeout=10) as client:
            return int(client.call("ping")["pid"])

    def stop(self) -> None:
        subprocess.run([PODIUM, "engine", "stop"], env=self.env, capture_output=True, check=False)

    def kill_tmux(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"],
            env=self.env,
            capture_output=True,
            check=False,
        )


@contextmanager
def private_podium(sessions: int, mb: float) -> Iterator[Private]:
    """A private podium with an engine running, sessions, history, tasks and limits;
    everything it made goes when the block ends, however it ends."""
    root = Path(tempfile.mkdtemp(prefix="pdm-bench-cmds-", dir="/tmp"))
    podium = None
    try:
        podium = Private(root)
        generate(root / "claude", mb)
        podium.run("engine", "start")
        podium.run("usage", "ingest")
        for n in range(sessions):
            podium.run("new", "--agent", "sim", "--name", f"s{n}", "--cwd", str(root))
        for n in range(3):
            podium.run("queue", "add", f"tidy module {n}", "--cwd", str(root))
        podium.run("statusline", stdin=status_payload())  # limit figures for `usage`
        yield podium
    finally:
        if podium is not None:
            podium.kill_tmux()
            podium.stop()
        remove(root)


def remove(root: Path) -> None:
    """Remove `root`, again while it comes back: the sessions' last hooks (they end
    with the tmux server) may still spool into it for a moment."""
    for _ in range(20):
        shutil.rmtree(root, ignore_errors=True)
        time.sleep(0.25)
        if not root.exists():
            return
    print(f"could not remove {root}", file=sys.stderr)


def wall(cmd: list[str], data: bytes, env: dict[str, str]) -> float:
    """Seconds from starting `cmd` to its exit, `data` on its stdin."""
    start = time.perf_counter()
    subprocess.run(cmd, input=data, env=env, stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def paired(argv: list[str], stdin: bytes, env: dict[str, str], runs: int) -> list[float]:
    """`runs` ratios of argv's wall time over a bare interpreter's, pair by pair."""
    wall(argv, stdin, env)  # warm-up: the page cache, the bytecode
    wall(BARE, b"", env)
    ratios = []
    for n in range(runs):
        # Alternate which goes first: neither always runs on a cache the other warmed.
        if n % 2:
            bare, cmd = wall(BARE, b"", env), wall(argv, stdin, env)
        else:
            cmd, bare = wall(argv, stdin, env), wall(BARE, b"", env)
        ratios.append(cmd / bare)
    return ratios


def start_to_socket(podium: Private) -> float:
    """Seconds from spawning the engine (as `podium` does) to its first answered ping."""
    podium.stop()
    log = (podium.root / "data" / "engine.log").open("ab")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [PYTHON, "-m", "sessions.engine"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        env=podium.env,
        cwd="/",
        start_new_session=True,
    )
    log.close()
    while proc.poll() is None:
        try:
            podium.engine_pid()
            return time.perf_counter() - start
        except OSError:
            time.sleep(0.002)
    raise RuntimeError(f"the engine exited with {proc.returncode}; see {podium.root}/data")


def idle_rss_mib(pid: int, settle_s: float = 20.0) -> float:
    """The engine's RSS once its start-up work is done: its CPU time has not grown
    for a second (at most `settle_s`)."""
    deadline = time.monotonic() + settle_s
    last = -1.0
    while time.monotonic() < deadline:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = int(fields[11]) + int(fields[12])
        if cpu == last:
            break
        last = cpu
        time.sleep(1.0)
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def rss_parts_mib(pid: int) -> tuple[float, float]:
    """The engine's anonymous memory (its heap: Python objects, DuckDB's buffers) and
    the resident pages of DuckDB's library (file-backed, clean), in MiB."""
    anon = so = 0
    mapping = ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and not head[0].endswith(":"):
            mapping = head[5] if len(head) > 5 else ""
        elif head[:1] == ["Rss:"] and "_duckdb" in mapping:
            so += int(head[1])
        elif head[:1] == ["Anonymous:"]:
            anon += int(head[1])
    return anon / 1024, so / 1024


def held(ok: bool) -> str:
    return "held" if ok else "NOT HELD"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="pairs per command")
    parser.add_argument("--starts", type=int, default=7, help="engine starts")
    parser.add_argument("--sessions", type=int, default=3, help="sim sessions")
    parser.add_argument("--mb", type=float, default=20.0, help="MB of transcripts")
    args = parser.parse_args()
    # SIGTERM cleans up as Ctrl-C does (the `finally` of private_podium).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores")
    with private_podium(args.sessions, args.mb) as podium:
        print(f"{'command':<12} {'ratio':>6}  {'min–max':>11}  goal  verdict")
        for name, argv, goal in COMMANDS:
            stdin = b""
            if argv[0] == "hook":
                stdin = hook_payload(str(podium.root))
            elif argv[0] == "statusline":
                stdin = status_payload()
            ratios = paired([PODIUM, *argv], stdin, podium.env, args.runs)
            median = statistics.median(ratios)
            print(
                f"{name:<12} {median:5.2f}×  {min(ratios):4.2f}–{max(ratios):4.2f}×  "
                f"≤{goal:g}×  {held(median <= goal)}"
            )
        starts, bares = [], []
        for _ in range(args.starts):
            # Each start paired with a bare interpreter: the goal is in seconds, and
            # the bare start says how loaded the machine was meanwhile.
            starts.append(start_to_socket(podium))
            bares.append(wall(BARE, b"", podium.env))
        start = statistics.median(starts)
        print(
            f"engine start to socket: median {start * 1000:.0f} ms "
            f"({min(starts) * 1000:.0f}–{max(starts) * 1000:.0f}) over {len(starts)}, "
            f"goal ≤ {START_GOAL_S * 1000:.0f} ms: {held(start <= START_GOAL_S)}; "
            f"bare interpreter meanwhile {statistics.median(bares) * 1000:.0f} ms, "
            f"ratio {statistics.median(s / b for s, b in zip(starts, bares, strict=True)):.1f}×"
        )
        pid = podium.engine_pid()
        rss = idle_rss_mib(pid)
        anon, so = rss_parts_mib(pid)
        print(
            f"engine idle RSS after start: {rss:.1f} MiB, goal ≤ {IDLE_GOAL_MIB:g} MiB: "
            f"{held(rss <= IDLE_GOAL_MIB)} (anonymous {anon:.1f} MiB, DuckDB's library "
            f"{so:.1f} MiB resident)"
        )
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")


if __name__ == "__main__":
    main()
