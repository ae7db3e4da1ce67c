"""Screen-only agents: screen change → state visible (target ≤ 1.5 s).

A person types into a pane directly (tmux send-keys, not `podium send`, which
would mark the session busy itself). For a plain shell, each sample times the
command's start → `busy` and its end → `idle`; for the stand-in agent started
with `--no-hooks`, a turn's start → `busy` and its end → `waiting`. Times are
taken from the engine's event stream. Prints figures; asserts nothing.

    .venv/bin/python bench/screen_latency.py [--runs 10]
"""

from __future__ import annotations

import argparse
import queue
import threading
import time
from pathlib import Path

from _podium import BenchPodium, bench_podium, percentiles

from collectors.paths import Paths
from sessions import wire
from sessions.client import EngineClient


def listen(podium: BenchPodium, session_id: str) -> queue.Queue[tuple[float, str]]:
    """States of one session, as the event stream delivers them, with arrival times."""
    states: queue.Queue[tuple[float, str]] = queue.Queue()
    paths = Paths(data=podium.data, runtime=Path(podium.env["PODIUM_RUNTIME_DIR"]))

    def run() -> None:
        with EngineClient(paths) as client:
            for event in client.events():
                if isinstance(event, wire.SessionEvent) and event.data.id == session_id:
                    states.put((time.monotonic(), event.data.state))

    threading.Thread(target=run, daemon=True).start()
    time.sleep(0.3)
    return states


def wait_state(states: queue.Queue[tuple[float, str]], want: str, timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while True:
        at, state = states.get(timeout=max(0.01, deadline - time.monotonic()))
        if state == want:
            return at


def type_line(podium: BenchPodium, pane: str, text: str) -> float:
    podium.tmux("send-keys", "-t", pane, "-l", "--", text)
    deadline = time.monotonic() + 5
    while text not in podium.tmux("capture-pane", "-p", "-t", pane) and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.monotonic()
    podium.tmux("send-keys", "-t", pane, "Enter")
    return start


def bench_shell(podium: BenchPodium, runs: int) -> tuple[list[float], list[float]]:
    podium.env["PS1"] = "bench$ "
    rec = podium.json("new", "--agent", "shell", "--name", "sh", "--cmd", "bash --norc")
    states = listen(podium, rec["id"])
    busy, idle = [], []
    time.sleep(6)  # let the sweep back off: the worst case for a quiet engine
    for _ in range(runs):
        start = type_line(podium, rec["pane_id"], "sleep 2")
        busy.append(wait_state(states, "busy") - start)
        idle.append(wait_state(states, "idle") - (start + 2.0))
        time.sleep(3)
    return busy, idle


def bench_sim(podium: BenchPodium, runs: int) -> tuple[list[float], list[float]]:
    rec = podium.json("new", "--agent", "sim", "--name", "sim", "--no-hooks")
    states = listen(podium, rec["id"])
    wait_state(states, "idle")
    busy, done = [], []
    for n in range(runs):
        start = type_line(podium, rec["pane_id"], f"[nopermission] [work=3] turn {n}")
        busy.append(wait_state(states, "busy") - start)
        done.append(wait_state(states, "waiting") - (start + 3.0))
        time.sleep(2)
    return busy, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with bench_podium(PODIUM_SIM_SPEED="1") as podium:
        shell_busy, shell_idle = bench_shell(podium, args.runs)
        sim_busy, sim_done = bench_sim(podium, args.runs)
    rows = (
        ("shell: command starts → busy", shell_busy),
        ("shell: command ends → idle", shell_idle),
        ("sim --no-hooks: turn starts → busy", sim_busy),
        ("sim --no-hooks: turn ends → waiting", sim_done),
    )
    for label, samples in rows:
        p50, p95, worst = percentiles([s * 1000 for s in samples])
        print(
            f"{label:<38} n={len(samples)}  p50 {p50:6.0f} ms  p95 {p95:6.0f} ms  "
            f"max {worst:6.0f} ms"
        )
    print("target: screen-only agents ≤ 1.5 s")


if __name__ == "__main__":
    main()
