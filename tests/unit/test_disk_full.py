"""A full disk loses nothing once space is back; a crash stores no hook event twice.

A write that fails (ENOSPC at COMMIT: DuckDB rolls the transaction back itself) must
leave no in-memory cursor or cache ahead of the database: the next pass re-reads
what did not land, and the totals equal those of a fresh ingest of the same files.
The full disk is a real one (a small tmpfs) where this process may mount one, and
an injected one (COMMIT fails as DuckDB's does) everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import pytest

from collectors.paths import Paths
from collectors.settings import Settings
from collectors.store import open_store
from collectors.usage_log import IngestError, UsageLog, totals
from sessions.engine import core, start
from sessions.fill.queue import QueueStore, Run
from sessions.fill.runner import Runner
from sessions.registry import SessionRecord
from tests.unit.test_ingest import append, project, rec, write

ENOSPC = 'Could not write file "podium.duckdb.wal": No space left on device'

# A Claude session id: hooks carry a UUID, and podium keeps no other kind.
CLAUDE_ID = "0b7c5d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e"


class FullDisk:
    """A DuckDB connection whose writes fail, while `full`, as on a full disk: an
    explicit transaction's COMMIT is rolled back and raises (as DuckDB does when it
    cannot write its WAL); a write outside a transaction raises."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self._conn = conn
        self.full = False
        self._in_tx = False

    def execute(self, sql: str, *args: Any) -> Any:
        head = sql.lstrip().split(None, 1)[0].upper()
        if head == "BEGIN":
            self._in_tx = True
        elif head in ("COMMIT", "ROLLBACK"):
            in_tx, self._in_tx = self._in_tx, False
            if head == "COMMIT" and self.full and in_tx:
                self._conn.execute("ROLLBACK")
                raise duckdb.TransactionException(f"Failed to commit: {ENOSPC}")
        elif self.full and not self._in_tx and head in ("INSERT", "UPDATE", "DELETE"):
            raise duckdb.IOException(ENOSPC)
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "16m") -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
            capture_output=True,
            timeout=10,
        )
    except OSError:
        pytest.skip("cannot run mount")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=10)


def fill(folder: Path) -> Path:
    """Fill the file system of `folder`; returns the file to remove to free it."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as fh:
        for size in (1 << 16, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * size)
    return filler


class Disk:
    """The data dir's disk: `fill()` makes writes fail, `free()` gives space back."""

    def __init__(self, data: Path, kind: str) -> None:
        self.data, self.kind = data, kind
        self.conns: list[FullDisk] = []
        self.real: list[duckdb.DuckDBPyConnection] = []
        self.filler: Path | None = None

    def connect(self, conn: duckdb.DuckDBPyConnection) -> Any:
        if self.kind == "tmpfs":
            self.real.append(conn)
            return conn
        wrapped = FullDisk(conn)
        self.conns.append(wrapped)
        return wrapped

    def fill(self) -> None:
        if self.kind == "tmpfs":
            # The write-ahead log first: a commit fits in the unused end of its last
            # page without asking the full disk for more, so whether a write fails
            # would hang on how many bytes the migrations happened to log.
            for conn in self.real:
                conn.execute("CHECKPOINT")
            self.filler = fill(self.data)
        for conn in self.conns:
            conn.full = True

    def free(self) -> None:
        if self.filler is not None:
            self.filler.unlink()
        for conn in self.conns:
            conn.full = False


@pytest.fixture(params=["injected", "tmpfs"])
def disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Disk]:
    data = tmp_path / "data"
    if request.param == "tmpfs":
        with tmpfs(data):
            yield Disk(data, "tmpfs")
    else:
        data.mkdir()
        yield Disk(data, "injected")


# -- transcripts ------------------------------------------------------------------------------


def test_transcripts_written_on_a_full_disk_are_read_again_once_space_is_back(disk, tmp_path):
    claude = tmp_path / "claude"
    a = write(project(claude) / "a.jsonl", rec("m1", "r1", 10, 1), rec("m2", "r2", 20, 2))
    b = write(project(claude, "-other") / "b.jsonl", rec("m3", "r3", 30, 3))
    conn = open_store(disk.data / "podium.duckdb")
    log = UsageLog(disk.connect(conn), workers=0, scratch_dir=disk.data)
    log.ingest([claude])

    # More lines while the disk is full: new responses, and a larger record of m2.
    append(a, rec("m4", "r4", 40, 4), rec("m2", "r2", 20, 9))
    append(b, rec("m5", "r5", 50, 5))
    write(project(claude) / "c.jsonl", rec("m6", "r6", 60, 6))
    disk.fill()
    for _ in range(2):
        with pytest.raises(IngestError, match="No space left on device"):
            log.ingest([claude])
    disk.free()
    log.ingest([claude])  # the same log object: no restart

    fresh = open_store(tmp_path / "fresh.duckdb")
    UsageLog(fresh, workers=0).ingest([claude])
    assert totals(conn) == totals(fresh)
    assert totals(conn)["messages"] == 6
    conn.close()
    fresh.close()


# -- the spool ----------------------------------------------------------------------------------


def spool_file(data: Path) -> Path:
    day = datetime.now(UTC).strftime("%Y%m%d")
    path = data / "spool" / f"hooks-{day}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def hook_lines(path: Path, first: int, count: int) -> None:
    with path.open("a") as fh:
        for n in range(first, first + count):
            record = {
                "kind": "hook",
                "at": time.time(),
                "podium_session": None,
                "event": "PreToolUse",
                # Some bulk, as real payloads have: more than a page of WAL per batch.
                "payload": {"session_id": f"claude-{n}", "n": n, "tool_input": "x" * 3000},
            }
            fh.write(json.dumps(record) + "\n")


def stored(conn: Any) -> list[int]:
    rows = conn.execute("SELECT payload FROM hook_events").fetchall()
    return sorted(json.loads(r[0])["n"] for r in rows)


def make_engine(data: Path, runtime: Path, connect: Any = None) -> core.Engine:
    engine = core.Engine(Paths(data=data, runtime=runtime), Settings())
    if connect is None:
        engine.open_data()
        return engine
    real = core.open_store
    core.open_store = lambda path: connect(real(path))  # type: ignore[assignment]
    try:
        engine.open_data()
    finally:
        core.open_store = real  # type: ignore[assignment]
    return engine


def test_hook_lines_stay_in_the_spool_until_they_are_stored(disk, tmp_path, caplog):
    spool = spool_file(disk.data)
    hook_lines(spool, 0, 5)
    engine = make_engine(disk.data, tmp_path / "run", disk.connect)
    assert engine.read_spool() == 5
    hook_lines(spool, 5, 4)
    disk.fill()
    caplog.set_level(logging.ERROR, logger="podium.engine")
    for _ in range(2):
        engine.read_spool()  # fails, cleanly
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2 and all("No space left" in r.getMessage() for r in errors)
    assert all("\n" not in r.getMessage() and r.exc_info is None for r in errors)
    disk.free()
    engine.read_spool()
    assert stored(engine.conn) == list(range(9))
    assert (engine.hook_stats["events"], engine.hook_stats["bad"]) == (9, 0)
    engine.conn.close()


def test_a_record_that_cannot_be_stored_is_passed_over_not_retried_for_ever(tmp_path, monkeypatch):
    # A write that fails on what one line holds (not on the disk) would fail again
    # on every retry: the batch is redone one record at a time and that line is
    # counted bad, the lines around it stored.
    monkeypatch.setattr(core, "SPOOL_BATCH", 3)
    data = tmp_path / "data"
    hook_lines(spool_file(data), 0, 10)
    engine = make_engine(data, tmp_path / "run")
    real = engine.apply_spool_record

    def apply(record: dict[str, Any]) -> None:
        real(record)  # written in the transaction first, so the rollback must undo it
        if record["payload"]["n"] == 4:
            raise duckdb.ConversionException("cannot convert this record's value")

    monkeypatch.setattr(engine, "apply_spool_record", apply)
    engine.read_spool()
    assert stored(engine.conn) == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    assert (engine.hook_stats["events"], engine.hook_stats["bad"]) == (9, 1)
    assert engine.read_spool() == 0 and stored(engine.conn) == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    # Read again from the database, the cursor is past every line.
    again = make_engine(data, tmp_path / "run")
    assert again.read_spool() == 0
    engine.conn.close()
    again.conn.close()


def test_a_state_change_that_was_not_stored_is_not_kept_in_memory(tmp_path):
    data = tmp_path / "data"
    disk = Disk(data, "injected")
    engine = make_engine(data, tmp_path / "run", disk.connect)
    rec = SessionRecord("s1", "api", "claude", ["claude"], "/tmp", "sock", state="busy")
    engine.registry.insert(rec)
    seen: list[str] = []
    engine.bus.listen(
        lambda event, payload: seen.append(payload["state"]) if event == "session" else None
    )
    with spool_file(data).open("a") as fh:
        line = {"kind": "hook", "at": time.time(), "podium_session": "s1", "event": "Stop"}
        fh.write(json.dumps({**line, "payload": {"session_id": CLAUDE_ID}}) + "\n")
    disk.fill()
    engine.read_spool()
    # Rolled back: the session is busy again in memory, its item is not open, and
    # subscribers were told so after they had been told it waited.
    assert (rec.state, rec.claude_session_id) == ("busy", None)
    assert engine.registry.get("s1") is rec and engine.attention.open_item("s1") is None
    assert seen[-1] == "busy"
    disk.free()
    engine.read_spool()
    assert (rec.state, rec.claude_session_id) == ("waiting", CLAUDE_ID)
    assert engine.attention.open_item("s1") is not None
    row = engine.conn.execute("SELECT state, claude_session_id FROM sessions").fetchone()
    assert row == ("waiting", CLAUDE_ID)
    engine.conn.close()


def test_a_usage_tick_on_a_full_disk_is_one_logged_line_and_reloads(tmp_path, caplog):
    data = tmp_path / "data"
    disk = Disk(data, "injected")
    engine = make_engine(data, tmp_path / "run", disk.connect)
    engine.usage.settings = msgspec.structs.replace(engine.usage.settings, tick_interval=0.5)
    rec = SessionRecord("s1", "api", "claude", ["claude"], "/tmp", "sock", state="busy")
    rec.pid = os.getpid()
    engine.registry.insert(rec)  # the tick writes its process row
    reloads: list[int] = []
    real = engine.usage.reload
    engine.usage.reload = lambda: (reloads.append(1), real())[1]  # type: ignore[method-assign]
    disk.fill()
    caplog.set_level(logging.ERROR)

    async def two_ticks() -> None:
        task = asyncio.create_task(engine.usage.run())
        while len(reloads) < 2 and not task.done():
            await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(two_ticks(), 20))
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2 and all(r.exc_info is None for r in errors)
    assert all("the usage tick failed" in r.getMessage() for r in errors)
    engine.conn.close()


def test_a_background_runs_stream_read_on_a_full_disk_is_read_again(tmp_path):
    conn = open_store(tmp_path / "podium.duckdb")
    store = QueueStore(conn)
    stream = tmp_path / "run-1.jsonl"
    limit = {
        "type": "rate_limit_event",
        "rate_limit_info": {"status": "allowed", "rateLimitType": "five_hour", "utilization": 0.4},
    }
    result = {"type": "result", "subtype": "success", "result": "done"}
    stream.write_text(json.dumps(limit) + "\n" + json.dumps(result) + "\n")
    store.add_run(Run(0, 1, 1, "running", datetime.now(UTC), stream_path=str(stream)))
    recorded: list[Any] = []
    full = [True]

    def record(samples: list[Any]) -> None:
        if full[0]:
            raise duckdb.IOException(ENOSPC)
        recorded.extend(samples)

    settings = Settings()
    runner = Runner(
        store,
        tmux=None,  # type: ignore[arg-type]
        paths=Paths(tmp_path, tmp_path),
        agents=settings.agents,
        fill=settings.fill,
        tmux_settings=settings.tmux,
        blocking=None,  # type: ignore[arg-type]
        record_usage=record,
    )
    [run] = store.running_runs()
    with pytest.raises(duckdb.IOException):
        runner._read(run)
    full[0] = False
    [run] = store.running_runs()  # each round reads the runs again
    assert runner._read(run) == result  # not lost with the failed write
    assert [s.window for s in recorded] == ["five_hour"]
    assert store.running_runs()[0].stream_offset == stream.stat().st_size
    conn.close()


CRASH = """
import os, sys
from pathlib import Path
from sessions.engine import core
from sessions.fill.queue import QueueStore, Run
from sessions.fill.runner import Runner
from sessions.registry import SessionRecord
from collectors.paths import Paths
from collectors.settings import Settings

core.SPOOL_BATCH = 7
engine = core.Engine(Paths(data=Path(sys.argv[1]), runtime=Path(sys.argv[2])), Settings())
engine.open_data()
real, seen = engine.apply_spool_record, [0]

def apply(record):
    real(record)
    seen[0] += 1
    if seen[0] == int(sys.argv[3]):
        os._exit(9)  # killed in the middle of a batch: nothing after it runs

engine.apply_spool_record = apply
engine.read_spool()
"""


def test_a_crash_during_catch_up_stores_no_hook_event_twice(tmp_path):
    data, runtime = tmp_path / "data", tmp_path / "run"
    hook_lines(spool_file(data), 0, 30)
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH, str(data), str(runtime), "18"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert crashed.returncode == 9, crashed.stderr
    engine = make_engine(data, runtime)
    assert stored(engine.conn) == list(range(14))  # two batches of 7 landed, then the crash
    engine.read_spool()  # the restarted engine catches up
    assert stored(engine.conn) == list(range(30))
    engine.conn.close()


# -- scratch files ------------------------------------------------------------------------------


def test_a_crashed_engines_scratch_files_are_removed_at_start(tmp_path):
    paths = Paths(data=tmp_path / "data", runtime=tmp_path / "run")
    paths.data.mkdir()
    paths.runtime.mkdir()
    scratch = paths.data / "usage-k2j3.ndjson"
    scratch.write_text("{}\n")
    spill = paths.data / "podium.duckdb.tmp"
    spill.mkdir()
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"x")
    stale = paths.runtime / "launch-abc.json"
    stale.write_text("{}")
    old = time.time() - start.STALE_SPEC_SECONDS - 5
    os.utime(stale, (old, old))
    unread = paths.runtime / "launch-abc.failed"  # a failed start no one asked about
    unread.write_text("127\ncannot start 'x'\n")
    os.utime(unread, (old, old))
    fresh = paths.runtime / "launch-def.json"  # a pane about to start reads it
    fresh.write_text("{}")
    keep = paths.data / "podium.duckdb"
    keep.write_bytes(b"")

    start.remove_scratch(paths)
    assert not scratch.exists() and not spill.exists() and not stale.exists()
    assert not unread.exists()
    assert fresh.exists() and keep.exists()
