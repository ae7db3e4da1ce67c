"""A throwaway podium for benchmarks: private data dir, runtime dir and tmux server.

Not a test fixture: benchmarks print figures and assert nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PODIUM = str(Path(sys.executable).with_name("podium"))


@dataclass
class BenchPodium:
    env: dict[str, str]
    data: Path
    socket: str

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


@contextmanager
def bench_podium(**extra_env: str) -> Iterator[BenchPodium]:
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
        podium.run("engine", "start")
        yield podium
    finally:
        subprocess.run([PODIUM, "engine", "stop"], env=env, capture_output=True, check=False)
        podium.tmux("kill-server")
        shutil.rmtree(root, ignore_errors=True)


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p95 and max of `samples`."""
    ordered = sorted(samples)
    p95 = ordered[max(0, round(len(ordered) * 0.95) - 1)]
    return ordered[len(ordered) // 2], p95, ordered[-1]
