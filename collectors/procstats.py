"""CPU and memory of a session's process tree (the pane's process and its descendants).

`scan_trees` runs in a worker thread and returns plain values: cumulative CPU
seconds per process (keyed by pid and start time, so a reused pid is another
process), the tree's resident memory and its size. The engine keeps the
previous scan and turns two of them into a CPU percentage (`cpu_percent`), so
no thread keeps state between ticks.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import psutil

ProcKey = tuple[int, float]


@dataclass(frozen=True)
class TreeScan:
    at: float  # epoch seconds of the scan
    cpu_s: dict[ProcKey, float]  # cumulative user + system CPU seconds per process
    rss_bytes: int  # summed over the tree (shared pages count once per process)
    pid_count: int


def scan_tree(pid: int) -> TreeScan | None:
    """The tree under `pid`, or None when that process is gone."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    cpu: dict[ProcKey, float] = {}
    rss = 0
    for proc in procs:
        try:
            with proc.oneshot():
                times = proc.cpu_times()
                key = (proc.pid, proc.create_time())
                mem = proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue  # ended between the listing and now
        cpu[key] = times.user + times.system
        rss += mem
    return TreeScan(time.time(), cpu, rss, len(cpu))


def scan_trees(pids: Mapping[str, int]) -> dict[str, TreeScan]:
    """One scan per session id; sessions whose process is gone are left out."""
    out: dict[str, TreeScan] = {}
    for session_id, pid in pids.items():
        scan = scan_tree(pid)
        if scan is not None:
            out[session_id] = scan
    return out


def cpu_percent(prev: TreeScan | None, cur: TreeScan) -> float | None:
    """CPU used between two scans, in percent of one core (like `top`; can pass 100).

    A process seen in both counts its difference; one started after the previous
    scan counts all its time. Processes that ended in between are not seen: their
    last moments are lost. None for the first scan."""
    if prev is None:
        return None
    wall = cur.at - prev.at
    if wall <= 0:
        return None
    used = 0.0
    for key, seconds in cur.cpu_s.items():
        before = prev.cpu_s.get(key)
        if before is not None:
            used += max(0.0, seconds - before)
        elif key[1] >= prev.at:
            used += seconds
    return round(used / wall * 100, 2)
