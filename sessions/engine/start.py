"""The engine's first steps, before its own modules load (issue 14: start ≤ 0.25 s to
a usable socket).

`python -m sessions.engine` takes the lock, removes a crashed engine's leftovers and
begins opening the store (DuckDB's connect and migrations, ~25 ms, most of it
outside the GIL) in a thread; the engine's modules (~90 ms of imports: asyncio,
the API, the parts) load meanwhile, and the engine picks the connection up when
it opens its data (`Engine.open_data`). Light on purpose: stdlib, the paths, the
store and the lock.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from collectors.paths import Paths, ensure_private_dir
from collectors.store import open_store
from sessions.lifecycle import acquire_lock

log = logging.getLogger("podium.engine")
# Launch spec files older than this were never read: their pane did not start.
STALE_SPEC_SECONDS = 600.0


class StoreOpening:
    """`open_store(path)` running in a thread; `result()` waits for the connection, or
    raises what opening raised (a `StoreError` says what is wrong with the file)."""

    def __init__(self, path: Path) -> None:
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._error: BaseException | None = None
        # A daemon: an engine that fails before it takes the connection still exits.
        self._thread = threading.Thread(
            target=self._open, args=(path,), name="store-open", daemon=True
        )
        self._thread.start()

    def _open(self, path: Path) -> None:
        try:
            self._conn = open_store(path)
        except BaseException as exc:  # handed to the loop's thread by result()
            self._error = exc

    def result(self) -> duckdb.DuckDBPyConnection:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._conn is not None
        return self._conn


@dataclass
class Prepared:
    """What the engine's start did before the engine: the lock's fd (kept open while
    the engine runs) and the store being opened (None: the engine opens it)."""

    lock_fd: int
    store: StoreOpening | None


def prepare(paths: Paths, *, open_store_early: bool = True) -> Prepared:
    """Take the engine lock (`AlreadyRunning` when another engine holds it), make the
    runtime and spool dirs, remove a crashed engine's leftovers, and begin opening
    the store unless told not to."""
    lock_fd = acquire_lock(paths)
    try:
        paths.private_runtime()
        ensure_private_dir(paths.spool, "spool dir")
        remove_scratch(paths)  # a crashed engine's leftovers: we hold the lock now
        store = StoreOpening(paths.db) if open_store_early else None
    except BaseException:
        os.close(lock_fd)
        raise
    return Prepared(lock_fd, store)


def remove_scratch(paths: Paths, now: float | None = None) -> list[str]:
    """Remove what a crashed engine of this data dir left behind (call with the engine
    lock held): transcript ingest's scratch files (`usage-*.ndjson`), DuckDB's
    spill dir (`podium.duckdb.tmp`), and launch spec files (they may hold API keys)
    and failed-launch notes that no one read within STALE_SPEC_SECONDS. Returns what it removed."""
    now = time.time() if now is None else now
    removed: list[str] = []
    found = list(paths.data.glob("usage-*.ndjson"))
    found += [p for p in paths.runtime.glob("launch-*.json") if _older(p, now)]
    # What a failed launch left and no one read (a pane whose status tmux knew).
    found += [p for p in paths.runtime.glob("launch-*.failed") if _older(p, now)]
    for path in found:
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(str(path))
    spill = paths.db.with_name(paths.db.name + ".tmp")
    if spill.is_dir():
        shutil.rmtree(spill, ignore_errors=True)
        removed.append(str(spill))
    if removed:
        log.info("removed %d leftover scratch files: %s", len(removed), ", ".join(removed))
    return removed


def _older(path: Path, now: float) -> bool:
    try:
        return now - path.stat().st_mtime > STALE_SPEC_SECONDS
    except OSError:
        return False
