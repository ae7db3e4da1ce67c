"""State changes → visible through the engine's API, driven by hooks and by the watchdog.

Hooks (target p50 ≤ 100 ms, p95 ≤ 300 ms): each sample runs the real `podium
hook EVENT` command (as Claude Code does) for a registered session, alternating
UserPromptSubmit (→ busy) and Stop (→ waiting), and times from just before the
command starts until the engine's event stream reports the new state; a second
figure polls `sessions.get`, as the CLI sees it.

Watchdog (target p95 ≤ 2 s): a stand-in "claude" draws Claude Code's busy
screen and, on Esc, its "Interrupted" prompt, which no hook reports. Each
sample makes the session busy by hook, presses Esc in its pane and times from
the key until the event stream says `idle`.

Prints figures; asserts nothing.

    .venv/bin/python bench/state_latency.py [--runs 100] [--watchdog-runs 20]
"""

from __future__ import annotations

import argparse
import json
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _podium import PODIUM, bench_podium, percentiles

from collectors.paths import Paths
from sessions import wire
from sessions.client import EngineClient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--watchdog-runs", type=int, default=20)
    args = parser.parse_args()
    hooks(args.runs)
    if args.watchdog_runs:
        watchdog(args.watchdog_runs)


# Claude Code 2.1.328's bottom lines: the input box and the hint line under it.
_RULE = "─" * 60
_SCREENS = {
    "busy": f"✻ Working… (3s)\n\n{_RULE}\n❯ \n{_RULE}\n  ⏸ manual mode on · esc to interrupt",
    "esc": (
        "  ⎿  Interrupted · What should Claude do instead?\n\n"
        f"{_RULE}\n❯ \n{_RULE}\n  ⏸ manual mode on · ? for shortcuts"
    ),
}
# The stand-in: draws the busy screen on "b", the interrupted one on Esc.
_STANDIN = f"""
import os, sys, termios, tty
screens = {_SCREENS!r}
def draw(name):
    sys.stdout.write("\\x1b[2J\\x1b[H" + screens[name].replace("\\n", "\\r\\n"))
    sys.stdout.flush()
tty.setraw(0)
draw("esc")
while True:
    key = os.read(0, 1)
    if key == b"b":
        draw("busy")
    elif key == b"\\x1b":
        draw("esc")
"""


def watchdog(runs: int) -> None:
    """Esc in a hooked session's pane → `idle` from the watchdog, timed from the key."""
    with stand_in(_STANDIN) as fake, bench_podium(PODIUM_AGENTS__CLAUDE_BIN=str(fake)) as podium:
        rec = podium.json("new", "--agent", "claude", "--name", "target")
        paths = Paths(data=podium.data, runtime=Path(podium.env["PODIUM_RUNTIME_DIR"]))
        states = _listen(paths, rec["id"])
        hook_env = {**podium.env, "PODIUM_SESSION_ID": rec["id"]}
        samples: list[float] = []
        for _ in range(runs):
            podium.tmux("send-keys", "-t", rec["pane_id"], "b")
            _hook(hook_env, "UserPromptSubmit")
            _wait_for(states, "busy")
            time.sleep(0.5)  # busy for a while, as a turn is
            pressed = time.time()
            podium.tmux("send-keys", "-t", rec["pane_id"], "Escape")
            at = _wait_for(states, "idle")
            samples.append((at - pressed) * 1000)
    p50, p95, worst = percentiles(samples)
    print(
        f"{'Esc → watchdog → event':<27} n={len(samples)}  p50 {p50:6.1f} ms  "
        f"p95 {p95:6.1f} ms  max {worst:6.1f} ms"
    )
    print("target: a screen no hook reports → state visible, p95 ≤ 2 s")


@contextmanager
def stand_in(script: str | None) -> Iterator[Path]:
    """A "claude" that runs `script` (Python), or only sleeps; its folder goes when the
    block ends, Ctrl-C included (the bench used to leave one in /tmp per run)."""
    with tempfile.TemporaryDirectory(prefix="pdm-bench-claude-", dir="/tmp") as name:
        folder = Path(name)
        fake = folder / "claude"
        if script is None:
            fake.write_text("#!/bin/sh\nexec sleep 3600\n")
        else:
            (folder / "standin.py").write_text(script)
            fake.write_text(f"#!/bin/sh\nexec {sys.executable} {folder / 'standin.py'}\n")
        fake.chmod(0o700)
        yield fake


def _listen(paths: Paths, session_id: str) -> queue.Queue[tuple[float, str]]:
    states: queue.Queue[tuple[float, str]] = queue.Queue()

    def listen() -> None:
        with EngineClient(paths) as client:
            for event in client.events():
                if isinstance(event, wire.SessionEvent) and event.data.id == session_id:
                    states.put((time.time(), event.data.state))

    threading.Thread(target=listen, daemon=True).start()
    time.sleep(0.5)  # let the subscription settle before the first sample
    return states


def _hook(env: dict[str, str], event: str) -> None:
    payload = json.dumps({"session_id": "bench-claude", "hook_event_name": event, "cwd": "/tmp"})
    subprocess.run([PODIUM, "hook", event], input=payload, text=True, env=env, check=True)


def _wait_for(states: queue.Queue[tuple[float, str]], want: str) -> float:
    while True:
        at, state = states.get(timeout=30)
        if state == want:
            return at


def hooks(runs: int) -> None:
    # A Claude session (hooks are its first source) whose "claude" only sleeps: no
    # screen or process fallback second-guesses the hooks, as they would a shell's
    # (which made this bench wait forever for a state the sweep had already undone).
    with stand_in(None) as fake, bench_podium(PODIUM_AGENTS__CLAUDE_BIN=str(fake)) as podium:
        rec = podium.json("new", "--agent", "claude", "--name", "target")
        paths = Paths(data=podium.data, runtime=Path(podium.env["PODIUM_RUNTIME_DIR"]))
        states = _listen(paths, rec["id"])
        hook_env = {**podium.env, "PODIUM_SESSION_ID": rec["id"]}
        stream_ms: list[float] = []
        poll_ms: list[float] = []
        engine_ms: list[float] = []  # from the hook's spool line to the event
        spool = podium.data / "spool"
        with EngineClient(paths) as poller:
            for n in range(runs):
                event, want = ("UserPromptSubmit", "busy") if n % 2 == 0 else ("Stop", "waiting")
                start, wall_start = time.perf_counter(), time.time()
                _hook(hook_env, event)
                polled = None
                while polled is None:
                    if poller.call("sessions.get", name="target")["state"] == want:
                        polled = time.perf_counter()
                    else:
                        time.sleep(0.002)
                poll_ms.append((polled - start) * 1000)
                at = _wait_for(states, want)
                stream_ms.append((at - wall_start) * 1000)
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
    # SIGTERM unwinds as Ctrl-C does: bench_podium and stand_in remove what they made.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    main()
