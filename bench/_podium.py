"""A throwaway podium for benchmarks: private data dir, runtime dir and tmux server.

Not a test fixture: benchmarks print figures and assert nothing. Everything a
throwaway podium makes is under one folder in /tmp, removed when it ends, once
its engine has exited (an engine still shutting down writes its log and removes
its socket: removing the folder under it left empty folders behind).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from collectors.paths import Paths
from sessions.lifecycle import lock_holder

PODIUM = str(Path(sys.executable).with_name("podium"))


@dataclass
class BenchPodium:
    env: dict[str, str]
    data: Path
    socket: str

    @property
    def paths(self) -> Paths:
        return Paths(data=self.data, runtime=Path(self.env["PODIUM_RUNTIME_DIR"]))

    def run(self, *args: str, input: str | None = None) -> str:
        out = subprocess.run(
            [PODIUM, *args], env=self.env, input=input, capture_output=True, text=True
        )
        if out.returncode != 0:
            raise RuntimeError(f"podium {' '.join(args)}: {out.stderr.strip()}")
        return out.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json"))

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        ).stdout

    def engine_pid(self) -> int | None:
        pid = lock_holder(self.paths)
        return pid if pid and pid > 0 else None

    def stop(self) -> None:
        """Stop the engine and wait until its process is gone; end its tmux server."""
        pid = self.engine_pid()
        subprocess.run([PODIUM, "engine", "stop"], env=self.env, capture_output=True, check=False)
        if pid is not None:
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(pid)
                try:
                    proc.wait(10)
                except psutil.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        self.tmux("kill-server")


def remove_tree(root: Path) -> None:
    """Remove `root`, trying again for a moment if something still writes into it."""
    for _ in range(20):
        shutil.rmtree(root, ignore_errors=True)
        if not root.exists():
            return
        time.sleep(0.05)


@contextmanager
def podium_dirs(**extra_env: str) -> Iterator[BenchPodium]:
    """A podium with fresh dirs and no engine running yet (the first command starts it)."""
    root = Path(tempfile.mkdtemp(prefix="pdm-bench-", dir="/tmp"))
    socket = f"podium-bench-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PODIUM_", "TMUX"))}
    env.update(
        PODIUM_DATA_DIR=str(root / "data"),
        PODIUM_RUNTIME_DIR=str(root / "run"),
        PODIUM_TMUX_SOCKET=socket,
        PODIUM_CONFIG=str(root / "config.toml"),
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        **extra_env,
    )
    podium = BenchPodium(env, root / "data", socket)
    try:
        yield podium
    finally:
        podium.stop()
        remove_tree(root)


@contextmanager
def bench_podium(**extra_env: str) -> Iterator[BenchPodium]:
    """A podium whose engine runs."""
    with podium_dirs(**extra_env) as podium:
        podium.run("engine", "start")
        yield podium


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p95 and max of `samples`."""
    ordered = sorted(samples)
    p95 = ordered[max(0, round(len(ordered) * 0.95) - 1)]
    return ordered[len(ordered) // 2], p95, ordered[-1]
