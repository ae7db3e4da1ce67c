"""Engine CPU with N quiet sessions (target: ≤ 2% of one core with 20).

Starts N sessions (half `sim` agents that finish one turn and then sit at
their prompt, half plain shells), waits until every one has settled, then
measures the engine's CPU time (its own plus the tmux clients it ran and
reaped) and the tmux server's over a window. Prints figures; asserts nothing.

    .venv/bin/python bench/engine_cpu.py [--sessions 20] [--seconds 60]
"""

from __future__ import annotations

import argparse
import time

import psutil
from _podium import bench_podium


def cpu_seconds(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--sweep-max", type=float, help="engine.sweep_max_interval (default: the config's)"
    )
    args = parser.parse_args()
    extra = {"PODIUM_ENGINE__SWEEP_MAX_INTERVAL": str(args.sweep_max)} if args.sweep_max else {}
    with bench_podium(PODIUM_SIM_SPEED="20", **extra) as podium:
        for n in range(args.sessions):
            if n % 2:
                podium.run("new", "--agent", "shell", "--name", f"shell-{n}")
            else:
                podium.run(
                    "new", "--agent", "sim", "--name", f"sim-{n}", "--prompt", "[nopermission] hi"
                )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = [s["state"] for s in podium.json("ls")]
            if all(s in ("waiting", "idle") for s in states):
                break
            time.sleep(0.5)
        print(f"{args.sessions} sessions settled: {sorted(set(states))}")
        status = podium.json("engine", "status")
        engine = psutil.Process(status["pid"])
        server_pid = int(podium.tmux("display-message", "-p", "#{pid}").strip())
        server = psutil.Process(server_pid)
        time.sleep(5)  # let the sweep reach its quiet interval
        e0, s0, t0 = cpu_seconds(engine), cpu_seconds(server), time.monotonic()
        time.sleep(args.seconds)
        e1, s1, t1 = cpu_seconds(engine), cpu_seconds(server), time.monotonic()
        rss = engine.memory_info().rss / 2**20
        watch = podium.json("engine", "status")["watch"]
    wall = t1 - t0
    print(
        f"engine: {100 * (e1 - e0) / wall:.2f}% of one core over {wall:.0f} s "
        f"(target ≤ 2%), RSS {rss:.0f} MiB"
    )
    print(f"tmux server: {100 * (s1 - s0) / wall:.2f}% of one core")
    print(f"sweep: {watch}")


if __name__ == "__main__":
    main()
