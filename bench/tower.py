"""The control tower's speed: start-up, state change to screen, idle CPU.

Targets (issue 5): it starts in under 1 s; a state change reaches the screen
within 300 ms; with 10 sessions the idle tower uses ≤ 3% of one core.

The tower runs for real: `podium tower` in a pane of a private tmux server,
read back with `capture-pane` (polled every 20 ms, so figures carry that
resolution). Prints figures; asserts nothing.

- start-up: from launching `podium tower` to its first frame (the footer), and
  to the first listing of the sessions (engine answered);
- state change: a waiting sim session is sent a prompt (the engine makes it
  busy at once, stamping `state_since`), and the time runs from that stamp to
  the tower's row showing `busy`;
- idle CPU: the tower process (and the tmux clients it runs for its preview)
  over a window, with 10 settled sessions and the preview on.

    .venv/bin/python bench/tower.py [--starts 5] [--changes 20] [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime
from pathlib import Path

import psutil
from _podium import PODIUM, BenchPodium, bench_podium, percentiles

from collectors.paths import Paths
from sessions.client import EngineClient

# Each poll runs a tmux client (a few ms of CPU): polling faster would take a
# core away from the tower being measured on a small machine.
POLL_S = 0.02


def screen(podium: BenchPodium, target: str) -> str:
    return podium.tmux("capture-pane", "-p", "-t", target)


def wait_screen(podium: BenchPodium, target: str, text: str, timeout: float = 20) -> float:
    """time.time() when `text` first shows in the pane."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in screen(podium, target):
            return time.time()
        time.sleep(POLL_S)
    raise RuntimeError(f"{text!r} never showed; screen:\n{screen(podium, target)}")


def launch_tower(podium: BenchPodium, name: str) -> str:
    """Start `podium tower` in a new window; returns the window target."""
    podium.tmux(
        "new-window", "-d", "-t", "=podium:", "-n", name,
        "--", "env", *(f"{k}={v}" for k, v in podium.env.items()), PODIUM, "tower",
    )  # fmt: skip
    return f"=podium:{name}"


def quit_tower(podium: BenchPodium, target: str) -> None:
    podium.tmux("send-keys", "-t", target, "q")
    time.sleep(0.5)
    podium.tmux("kill-window", "-t", target)


def tower_process(podium: BenchPodium, target: str) -> psutil.Process:
    pid = int(podium.tmux("display-message", "-p", "-t", target, "#{pane_pid}").strip())
    proc = psutil.Process(pid)
    for candidate in [proc, *proc.children(recursive=True)]:
        if "tower" in " ".join(candidate.cmdline()):
            return candidate
    return proc


def cpu_seconds(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def bench_startup(podium: BenchPodium, runs: int) -> None:
    paint, listed = [], []
    for n in range(runs):
        start = time.time()
        target = launch_tower(podium, f"start{n}")
        # The usage header's line is in the first frame (the footer's keys come a frame later).
        paint.append(wait_screen(podium, target, "usage") - start)
        listed.append(wait_screen(podium, target, "NAME") - start)
        quit_tower(podium, target)
    for label, samples in (("first frame", paint), ("sessions listed", listed)):
        p50, p95, worst = percentiles([s * 1000 for s in samples])
        print(f"start-up to {label:16} p50 {p50:6.0f} ms  p95 {p95:6.0f} ms  max {worst:6.0f} ms")


def bench_changes(podium: BenchPodium, changes: int) -> None:
    target = launch_tower(podium, "changes")
    wait_screen(podium, target, "NAME")
    paths = Paths(data=podium.data, runtime=Path(podium.env["PODIUM_RUNTIME_DIR"]))
    samples = []
    with EngineClient(paths) as client:
        for n in range(changes):
            podium_wait_state(podium, "target", "waiting")
            # The engine makes the session busy before it answers, stamping state_since.
            client.call("sessions.send", name="target", text=f"[nopermission] [work=1] go {n}")
            shown = wait_row(podium, target, "target", "busy")
            since = client.call("sessions.get", name="target")["state_since"]
            samples.append((shown - datetime.fromisoformat(since).timestamp()) * 1000)
    p50, p95, worst = percentiles(samples)
    print(
        f"state change to screen ({changes} changes)  "
        f"p50 {p50:6.0f} ms  p95 {p95:6.0f} ms  max {worst:6.0f} ms"
    )
    quit_tower(podium, target)


def podium_wait_state(podium: BenchPodium, name: str, state: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(s["name"] == name and s["state"] == state for s in podium.json("ls")):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{name} never became {state}")


def wait_row(podium: BenchPodium, target: str, name: str, state: str) -> float:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for line in screen(podium, target).splitlines():
            if f" {name} " in line and f" {state} " in line:
                return time.time()
        time.sleep(POLL_S)
    raise RuntimeError(f"row {name} never showed {state}")


def bench_idle(podium: BenchPodium, seconds: float) -> None:
    for n in range(9):
        podium.run("new", "--agent", "sim", "--name", f"idle-{n}", "--prompt", "[nopermission] hi")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(s["state"] in ("waiting", "idle") for s in podium.json("ls")):
            break
        time.sleep(0.2)
    target = launch_tower(podium, "idle")
    wait_screen(podium, target, "idle-8")
    time.sleep(3)  # settle: first frames, the first preview capture
    proc = tower_process(podium, target)
    before, t0 = cpu_seconds(proc), time.monotonic()
    time.sleep(seconds)
    used, elapsed = cpu_seconds(proc) - before, time.monotonic() - t0
    sessions = len(podium.json("ls"))
    print(
        f"idle CPU with {sessions} sessions over {elapsed:.0f} s: "
        f"{100 * used / elapsed:.2f}% of one core (preview on, waits ticking)"
    )
    quit_tower(podium, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with bench_podium(PODIUM_SIM_SPEED="10") as podium:
        podium.run("new", "--agent", "sim", "--name", "target", "--prompt", "[nopermission] hi")
        bench_startup(podium, args.starts)
        bench_changes(podium, args.changes)
        bench_idle(podium, args.seconds)


if __name__ == "__main__":
    main()
