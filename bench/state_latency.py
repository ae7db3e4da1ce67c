"""Hook event → state visible through the engine's API (target p50 ≤ 100 ms, p95 ≤ 300 ms).

Each sample runs the real `podium hook EVENT` command (as Claude Code does)
for a registered session, alternating UserPromptSubmit (→ busy) and Stop
(→ waiting), and times from just before the command starts until the engine's
event stream reports the new state; a second figure polls `sessions.get`, as
the CLI sees it. Prints figures; asserts nothing.

    .venv/bin/python bench/state_latency.py [--runs 100]
"""

from __future__ import annotations

import argparse
import json
import queue
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from _podium import PODIUM, bench_podium, percentiles

from collectors.paths import Paths
from sessions import wire
from sessions.client import EngineClient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    # A Claude session (hooks are its first source) whose "claude" only sleeps: no
    # screen or process fallback second-guesses the hooks, as they would a shell's
    # (which made this bench wait forever for a state the sweep had already undone).
    fake = Path(tempfile.mkdtemp(prefix="pdm-bench-claude-")) / "claude"
    fake.write_text("#!/bin/sh\nexec sleep 3600\n")
    fake.chmod(0o700)
    with bench_podium(PODIUM_AGENTS__CLAUDE_BIN=str(fake)) as podium:
        rec = podium.json("new", "--agent", "claude", "--name", "target")
        paths = Paths(data=podium.data, runtime=Path(podium.env["PODIUM_RUNTIME_DIR"]))
        states: queue.Queue[tuple[float, str]] = queue.Queue()

        def listen() -> None:
            with EngineClient(paths) as client:
                for event in client.events():
                    if isinstance(event, wire.SessionEvent) and event.data.id == rec["id"]:
                        states.put((time.time(), event.data.state))

        threading.Thread(target=listen, daemon=True).start()
        time.sleep(0.5)  # let the subscription settle before the first sample
        hook_env = {**podium.env, "PODIUM_SESSION_ID": rec["id"]}
        stream_ms: list[float] = []
        poll_ms: list[float] = []
        engine_ms: list[float] = []  # from the hook's spool line to the event
        spool = podium.data / "spool"
        with EngineClient(paths) as poller:
            for n in range(args.runs):
                event, want = ("UserPromptSubmit", "busy") if n % 2 == 0 else ("Stop", "waiting")
                payload = json.dumps(
                    {"session_id": "bench-claude", "hook_event_name": event, "cwd": "/tmp"}
                )
                start, wall_start = time.perf_counter(), time.time()
                subprocess.run(
                    [PODIUM, "hook", event], input=payload, text=True, env=hook_env, check=True
                )
                polled = None
                while polled is None:
                    if poller.call("sessions.get", name="target")["state"] == want:
                        polled = time.perf_counter()
                    else:
                        time.sleep(0.002)
                poll_ms.append((polled - start) * 1000)
                while True:
                    at, state = states.get(timeout=10)
                    if state == want:
                        stream_ms.append((at - wall_start) * 1000)
                        break
                last = sorted(spool.glob("hooks-*.jsonl"))[-1].read_text().splitlines()[-1]
                engine_ms.append((at - json.loads(last)["at"]) * 1000)
    rows = (
        ("hook start → event stream", stream_ms),
        ("hook start → sessions.get", poll_ms),
        ("spool line → event stream", engine_ms),
    )
    for label, samples in rows:
        p50, p95, worst = percentiles(samples)
        print(
            f"{label:<27} n={len(samples)}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
            f"max {worst:6.1f} ms"
        )
    print("target: hook event → state visible, p50 ≤ 100 ms, p95 ≤ 300 ms")


if __name__ == "__main__":
    main()
