"""Process activity of a pane: is the program in it (or anything it started) doing work?

The last source of state, for agents whose screen profile says nothing and for
shells (a shell that runs a command has a child process). A pane's process tree
is its `pane_pid` (the agent itself: `sessions.launch` execs it) and every
descendant. Busy means CPU time spent since the previous sample (user + system,
including the reaped children's share, so a command that came and went between
two samples still counts) above a threshold, or, where the profile says so,
any child process at all.

Cheap on purpose, since it runs every sweep for the panes that need it: one
pass per sample over only the trees asked for (Linux reads each process's
`/proc/<pid>/task/<tid>/children`; elsewhere one psutil scan of the process
table), and psutil `Process` objects are kept between samples. `sample` runs
in the engine's worker thread and only returns values; the meter's cache is
its own, and sweeps never overlap, so one thread at a time uses it (the lock
makes that a rule rather than a hope).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

_PROC_CHILDREN = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


@dataclass(frozen=True)
class Activity:
    """One pane's process tree at one sample."""

    cpu: float | None  # share of one core since the previous sample; None on the first
    children: int  # descendants of the pane's process

    def busy(self, threshold: float, *, children_busy: bool = False) -> bool | None:
        """Busy, quiet, or None when a first sample cannot tell yet."""
        if children_busy and self.children:
            return True
        if self.cpu is None:
            return None
        return self.cpu >= threshold


class ActivityMeter:
    """CPU time and descendants of pane process trees, sample after sample."""

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}
        self._last: dict[int, tuple[float, float]] = {}  # root pid -> (monotonic, cpu s)
        self._lock = threading.Lock()
        self.samples = 0

    def sample(self, roots: Iterable[int]) -> dict[int, Activity]:
        """Activity of the tree under each root pid; roots that are gone are left out.

        Roots not asked for this time are forgotten: the next sample of one is a first.
        """
        with self._lock:
            roots = list(dict.fromkeys(roots))
            self.samples += 1
            tree_of = self._trees(roots)
            now = time.monotonic()
            out: dict[int, Activity] = {}
            used: set[int] = set()
            for root in roots:
                pids = tree_of.get(root)
                if pids is None:
                    continue
                total = sum(self._cpu(pid) for pid in pids)
                used.update(pids)
                before = self._last.get(root)
                share = None
                if before is not None and now > before[0]:
                    # A descendant reaped outside the tree takes its time along: never < 0.
                    share = max(0.0, total - before[1]) / (now - before[0])
                self._last[root] = (now, total)
                out[root] = Activity(cpu=share, children=len(pids) - 1)
            self._last = {r: v for r, v in self._last.items() if r in out}
            self._procs = {p: proc for p, proc in self._procs.items() if p in used}
            return out

    def _cpu(self, pid: int) -> float:
        # psutil (~10 ms to import) loads with the first sample, not with the engine:
        # its start goes to the socket first.
        import psutil

        proc = self._procs.get(pid)
        try:
            if proc is None:
                proc = self._procs[pid] = psutil.Process(pid)
            t = proc.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            self._procs.pop(pid, None)
            return 0.0
        return t.user + t.system + t.children_user + t.children_system

    def _trees(self, roots: list[int]) -> dict[int, list[int]]:
        """root -> [root, descendants…] for the roots that still exist."""
        if not roots:
            return {}
        if _PROC_CHILDREN:
            return {r: tree for r in roots if (tree := _tree_from_proc(r)) is not None}
        # One scan of the process table for every root (psutil: as in `_cpu`).
        import psutil

        parent_of: dict[int, list[int]] = {}
        present: set[int] = set()
        for proc in psutil.process_iter(["ppid"]):
            present.add(proc.pid)
            parent_of.setdefault(proc.info["ppid"] or 0, []).append(proc.pid)
        out = {}
        for root in roots:
            if root not in present:
                continue
            tree, todo = [root], [root]
            while todo:
                kids = parent_of.get(todo.pop(), [])
                tree += kids
                todo += kids
            out[root] = tree
        return out


def _tree_from_proc(root: int) -> list[int] | None:
    """`root` and its descendants from /proc's children files, None when `root` is gone.

    A process's children are listed per thread (the one that forked them), so
    every task of a multi-threaded agent is read.
    """
    tree, todo, seen = [root], [root], {root}
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            if pid == root:
                return None
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                    kids = [int(x) for x in fh.read().split()]
            except OSError:  # the thread ended meanwhile
                continue
            kids = [k for k in kids if k not in seen]  # a reused pid must not loop
            seen.update(kids)
            tree += kids
            todo += kids
    return tree
