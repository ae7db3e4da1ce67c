"""The usage log: Claude Code transcripts into `usage_messages`, incrementally.

One pass (`UsageLog.ingest`) looks at every `projects/**/*.jsonl` of the given
config dirs, reads what each file gained since its cursor (`file_offsets`,
shared with the spool; see `collectors.tail`), and upserts the usage rows. The
counting rule is `collectors.transcripts.wins`, applied twice: within what a
pass reads, and against the rows already stored (`ON CONFLICT … DO UPDATE …
WHERE`), so a response whose records are split across passes, files or config
dirs is still counted once, with its winning record. Reading a line twice is
harmless for the same reason: the cursor and the rows are written in one
transaction, and a crash between passes re-reads at worst.

Rows are never deleted: Claude Code deletes transcripts after 30 days, and
this table is then the only history. Cursors of vanished files are dropped.

Rows reach DuckDB in batches, through a scratch NDJSON file that DuckDB reads
itself (converting Python values one by one is the slow part of inserting many
rows from Python; an append's few rows go as list parameters), each batch
written in a thread of its own while the next one is parsed. Big passes (a
first ingest of a long history) also parse in helper processes, one per core
(`collectors.ingest_pool`), hold DuckDB's own checkpoints back until they are
over, and can then give back the memory DuckDB cached while they wrote
(`UsageLog.release_memory`, which the engine runs after answering).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import msgspec

from collectors.ingest_pool import WorkerFailed, WorkerPool
from collectors.prices import PriceTable
from collectors.store import rollback
from collectors.tail import Cursor, CursorStore, NotRegularFile, check_cursor, fingerprint
from collectors.transcripts import (
    Job,
    RangeResult,
    RateLimitSeen,
    Row,
    find_transcripts,
    parse_range_safe,
    plan_ranges,
    projects_dir,
    session_hint,
    wins,
)

log = logging.getLogger("podium.usage")
_encoder = msgspec.json.Encoder()

# Rows written per transaction: bounds memory, and lets writing overlap with parsing.
# DuckDB's cost per transaction (the upsert's conflict check, the commit) is such that
# 20,000 write a 2 GB first ingest 8 % faster than 5,000, for some 10 MB more.
BATCH_ROWS = 20_000
# New bytes from which a pass also parses in helper processes. A helper costs some
# 0.1 s of CPU to start and its results must be copied: paired runs on two cores
# found one a loss at 100 MB (0.28 s against 0.18 s) and a gain from about 500 MB.
PARALLEL_BYTES = 128 << 20
# New bytes from which a pass is big: no automatic checkpoint during it, and DuckDB's
# cache is given back after it (`release_memory`).
BIG_PASS_BYTES = 32 << 20
# Helper processes at most (each costs about 20 MB while a big pass runs).
MAX_HELPERS = 7
# The write-ahead log a big pass may grow before DuckDB checkpoints on its own.
DEFERRED_CHECKPOINT = "1GB"
# DuckDB's memory limit during a big pass (DuckDB's default, 80 % of the machine's
# memory, again as soon as a write needs more).
PASS_MEMORY_LIMIT = "96MB"
# DuckDB's memory limit for a moment after a big pass (`UsageLog.release_memory`).
RELEASE_LIMIT = "64MB"
# Problems a pass reports (its counts stay exact).
MAX_PROBLEMS = 20

COLUMNS: tuple[tuple[str, str], ...] = (
    ("dedupe_key", "VARCHAR"),
    ("ts", "TIMESTAMPTZ"),
    ("claude_session_id", "VARCHAR"),
    ("project", "VARCHAR"),
    ("model", "VARCHAR"),
    ("input_tokens", "BIGINT"),
    ("output_tokens", "BIGINT"),
    ("cache_creation_tokens", "BIGINT"),
    ("cache_creation_1h_tokens", "BIGINT"),
    ("cache_read_tokens", "BIGINT"),
    ("entrypoint", "VARCHAR"),
    ("entrypoint_raw", "VARCHAR"),
    ("is_sidechain", "BOOLEAN"),
    ("message_id", "VARCHAR"),
    ("request_id", "VARCHAR"),
    ("source_path", "VARCHAR"),
    ("cost_usd", "DOUBLE"),
)
_NAMES = ", ".join(name for name, _ in COLUMNS)
_TOKENS = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens")


def _upsert_sql(source: str) -> str:
    """Upsert the rows `source` (a SELECT of every column) yields."""
    updates = ", ".join(f"{name} = excluded.{name}" for name, _ in COLUMNS[1:])
    new_total = " + ".join(f"excluded.{c}" for c in _TOKENS)
    old_total = " + ".join(f"usage_messages.{c}" for c in _TOKENS)
    # The rule of `transcripts.wins`, in SQL: a non-sidechain record beats a
    # sidechain one, then the larger total; on a tie the stored row stays.
    return (
        f"INSERT INTO usage_messages ({_NAMES}) {source} "
        f"ON CONFLICT (dedupe_key) DO UPDATE SET {updates} "
        "WHERE (usage_messages.is_sidechain AND NOT excluded.is_sidechain) "
        "OR (usage_messages.is_sidechain = excluded.is_sidechain "
        f"AND {new_total} > {old_total})"
    )


def _from_file(scratch: str) -> str:
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS)
    path = scratch.replace("'", "''")
    return (
        f"SELECT {_NAMES} FROM read_json('{path}', format = 'newline_delimited', "
        f"columns = {{{columns}}})"
    )


# Rows passed as one list parameter per column: Python values are converted one by
# one (microseconds each), fine for the few rows of an append, too slow for a cold
# pass, which goes through a scratch file instead.
_FROM_LISTS = "SELECT " + ", ".join(f"unnest(?::{kind}[])" for _, kind in COLUMNS)
SMALL_BATCH = 200
ENCODE_ROWS = 1_000


class IngestError(Exception):
    """The log could not be written (e.g. a full disk); the message names the file."""


@dataclass
class PassStats:
    """What one pass did. `lines` and `bad_lines` count what it read, not the log."""

    files: int = 0
    lines: int = 0
    bad_lines: int = 0
    bytes_read: int = 0
    records: int = 0
    torn: int = 0
    # Not regular files (a FIFO, socket or device named *.jsonl): never opened.
    skipped_files: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 0
    stopped: bool = False
    # Usage-limit records' `rate_limit_info`, for the limit log (not this table's).
    rate_limits: list[RateLimitSeen] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "lines": self.lines,
            "bad_lines": self.bad_lines,
            "bytes_read": self.bytes_read,
            "records": self.records,
            "torn_lines": self.torn,
            "skipped_files": self.skipped_files,
            "problems": list(self.problems),
            "seconds": round(self.seconds, 3),
            "workers": self.workers,
        }


@dataclass
class _File:
    """A file being read in this pass: its cursor is saved once all its ranges are in."""

    cursor: Cursor
    size: int
    inode: int
    ranges: int
    done: int = 0
    offset: int | None = None
    failed: bool = False
    # Up to where its ranges are read (they come in order): a pass stopped in the
    # middle of a 700 MB file resumes from there.
    progress: int | None = None


def _partial(files: dict[str, _File]) -> list[Cursor]:
    """Cursors of the big files a pass is in the middle of, at the end of their last
    range read. Their size is -1, which matches no file: the next pass goes on from
    there (the fingerprint still checks the bytes before)."""
    out = []
    for path, state in files.items():
        if state.progress is not None and not state.failed and state.done < state.ranges:
            offset = state.progress
            out.append(Cursor(path, state.inode, -1, offset, fingerprint(path, offset)))
    return out


def totals(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Messages, the four token counts and the estimated cost of the whole log."""
    row = conn.execute(
        "SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), "
        "coalesce(sum(cache_creation_tokens), 0), coalesce(sum(cache_read_tokens), 0), "
        "coalesce(sum(cost_usd), 0) FROM usage_messages"
    ).fetchone()
    assert row is not None
    return {
        "messages": int(row[0]),
        "totals": {
            "input": int(row[1]),
            "output": int(row[2]),
            "cache_creation": int(row[3]),
            "cache_read": int(row[4]),
        },
        "cost_usd": round(float(row[5]), 6),
    }


class UsageLog:
    """Ingest passes over one DuckDB connection (the engine gives it a cursor of its own)."""

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        prices: PriceTable | None = None,
        scratch_dir: Path | None = None,
        workers: int | None = None,
    ) -> None:
        self.conn = conn
        self.prices = prices or PriceTable()
        self.cursors = CursorStore(conn)
        self.scratch_dir = scratch_dir
        # Parsers in all: this process and workers - 1 helper processes. None: one per
        # core when a big pass starts (at most MAX_HELPERS + 1).
        self.workers = workers
        self.reprice()

    # -- prices ---------------------------------------------------------------------
    def reprice(self) -> int:
        """Recompute every stored cost if the price table changed since they were
        computed; returns the number of models repriced."""
        digest = self.prices.digest()
        row = self.conn.execute("SELECT value FROM usage_meta WHERE key = 'prices'").fetchone()
        if row is not None and row[0] == digest:
            return 0
        models = [
            r[0] for r in self.conn.execute("SELECT DISTINCT model FROM usage_messages").fetchall()
        ]
        self.conn.execute("BEGIN TRANSACTION")
        try:
            for model in models:
                price = self.prices.for_model(model)
                where = "model IS NULL" if model is None else "model = ?"
                args = [] if model is None else [model]
                if price is None:
                    self.conn.execute(
                        f"UPDATE usage_messages SET cost_usd = NULL WHERE {where}", args
                    )
                    continue
                self.conn.execute(
                    "UPDATE usage_messages SET cost_usd = (input_tokens * ? + output_tokens * ? "
                    "+ (cache_creation_tokens - cache_creation_1h_tokens) * ? "
                    "+ cache_creation_1h_tokens * ? + cache_read_tokens * ?) / 1000000.0 "
                    f"WHERE {where}",
                    [
                        price.input,
                        price.output,
                        price.cache_write_5m,
                        price.cache_write_1h,
                        price.cache_read,
                        *args,
                    ],
                )
            self.conn.execute(
                "INSERT OR REPLACE INTO usage_meta (key, value) VALUES ('prices', ?)", [digest]
            )
            self.conn.execute("COMMIT")
        except BaseException:
            rollback(self.conn)
            raise
        return len(models)

    def release_memory(self) -> None:
        """After a big pass: give back the memory DuckDB kept from it.

        DuckDB keeps the blocks a pass wrote cached in its buffer pool (up to 80 %
        of the machine's memory by default) and evicts them only when it needs room
        or its limit goes down: a checkpoint moves the new rows from the
        write-ahead log into the file (and out of memory that cannot be evicted),
        then a low limit for a moment evicts the cached blocks. About 50 MB after
        a 2 GB first ingest; some 80 ms, run after the pass has answered. A query
        of another cursor at that very moment has RELEASE_LIMIT (and DuckDB's
        spilling) to work in. Best effort: a checkpoint that cannot run now (a
        transaction of another cursor) or a limit DuckDB cannot reach changes
        nothing.
        """
        try:
            self.conn.execute("CHECKPOINT")
        except duckdb.Error as exc:
            log.debug("no checkpoint after the pass: %s", exc)
        try:
            self.conn.execute(f"SET memory_limit = '{RELEASE_LIMIT}'")
        except duckdb.Error as exc:
            log.debug("cached blocks not all evicted: %s", exc)
        finally:
            with contextlib.suppress(duckdb.Error):
                self.conn.execute("RESET memory_limit")

    def reload(self) -> None:
        """After a failed write: memory holds what the database does not (the cursors
        of files whose rows were not stored). Read it all again, so the next pass
        re-reads what did not land. The one thing this log mirrors is the cursors."""
        self.cursors.reload()

    # -- a pass -----------------------------------------------------------------------
    def ingest(
        self,
        config_dirs: Iterable[Path],
        only: Iterable[str] | None = None,
        stop: threading.Event | None = None,
    ) -> PassStats:
        """Read what the transcripts of `config_dirs` gained since the last pass.

        `only` limits the pass to those paths (files a watcher saw change); a
        path outside the dirs' `projects/` is ignored. `stop` ends the pass
        early, after the batch in hand is written.
        """
        started = time.perf_counter()
        stats = PassStats()
        files: dict[str, _File] = {}
        jobs: list[Job] = []
        wanted = None if only is None else {os.path.abspath(p) for p in only}
        seen: set[Path] = set()
        for config_dir in config_dirs:
            projects = projects_dir(Path(os.path.abspath(config_dir)))
            if projects in seen or not projects.is_dir():
                continue  # a dir named twice (CLAUDE_CONFIG_DIR=a,a) is read once
            seen.add(projects)
            known = self.cursors.under(projects)
            if wanted is None:
                paths = find_transcripts(projects)
                present = set(paths)
                gone = [p for p in known if p not in present]
            else:
                prefix = os.path.join(str(projects), "")
                paths = sorted(p for p in wanted if p.startswith(prefix) and p.endswith(".jsonl"))
                gone = [p for p in paths if p in known and not os.path.exists(p)]
            self.cursors.forget_many(gone)
            for path in paths:
                self._plan(path, known.get(path) or Cursor(path), files, jobs, stats)
        new_bytes = sum(job.end - job.start for job in jobs)
        stats.bytes_read = new_bytes
        try:
            parallel = new_bytes >= PARALLEL_BYTES
            with self._big_pass(new_bytes >= BIG_PASS_BYTES, parallel):
                self._run(jobs, files, stats, stop, parallel=parallel)
        finally:
            stats.seconds = time.perf_counter() - started
        return stats

    @contextlib.contextmanager
    def _big_pass(self, big: bool, parallel: bool) -> Iterator[None]:
        """DuckDB's settings during a big pass. No automatic checkpoint: DuckDB runs
        one in the commit that takes the write-ahead log over 16 MB, which holds up
        the pass (a 2 GB first ingest, some 6 % of it); `release_memory` checkpoints
        once it is over. And a memory limit of PASS_MEMORY_LIMIT, so that DuckDB
        evicts the blocks it writes instead of caching them all (the engine's peak
        on 2 GB, some 35 MB less, no slower); a write that needs more gets it
        (`_write`). Without helpers, one DuckDB thread: as fast on these few rows
        (100 MB: 0.14 s either way) and some 12 MB less at the peak."""
        if not big:
            yield
            return
        settings = {"checkpoint_threshold": DEFERRED_CHECKPOINT, "memory_limit": PASS_MEMORY_LIMIT}
        if not parallel:
            settings["threads"] = "1"
        for setting, value in settings.items():
            with contextlib.suppress(duckdb.Error):
                self.conn.execute(f"SET {setting} = '{value}'")
        try:
            yield
        finally:
            for setting in settings:
                with contextlib.suppress(duckdb.Error):
                    self.conn.execute(f"RESET {setting}")

    def _plan(
        self, path: str, cursor: Cursor, files: dict[str, _File], jobs: list[Job], stats: PassStats
    ) -> None:
        inode, size = cursor.inode, cursor.size
        try:
            st = check_cursor(path, cursor)
        except NotRegularFile as exc:  # a FIFO would block the pass, and engine stop
            stats.skipped_files += 1
            stats.problem(f"{path}: {exc.strerror}")
            return
        if st is None:
            return
        stats.files += 1
        if st.st_ino == inode and st.st_size == size:
            return  # unchanged since the last pass (a torn tail waits for its newline)
        ranges = plan_ranges(path, cursor.offset, st.st_size, session_hint(path))
        files[path] = _File(cursor, st.st_size, st.st_ino, len(ranges))
        jobs.extend(ranges)

    def _helpers(self) -> int:
        if self.workers is not None:
            return self.workers - 1
        # Every core, whatever the load: the parse is split by file and by range, and a
        # busy machine slows a parser on one core as much as a helper on another (the
        # helpers' start-up is hidden behind the in-process parser's first ranges).
        return max(0, min(MAX_HELPERS, (os.cpu_count() or 1) - 1))

    def _results(self, jobs: list[Job], parallel: bool, stats: PassStats) -> Iterator[RangeResult]:
        helpers = min(self._helpers(), len(jobs) - 1)
        if parallel and helpers > 0:
            done = 0
            try:
                with WorkerPool(helpers) as pool:
                    stats.workers = pool.helpers
                    for result in pool.run(jobs):
                        done += 1
                        yield result
                return
            except (WorkerFailed, OSError) as exc:
                log.warning("%s; parsing in this process instead", exc)
                stats.workers = 0
                jobs = jobs[done:]
        for job in jobs:
            yield parse_range_safe(job)

    def _run(
        self,
        jobs: list[Job],
        files: dict[str, _File],
        stats: PassStats,
        stop: threading.Event | None,
        parallel: bool,
    ) -> None:
        batch: dict[str, Row] = {}
        finished: list[Cursor] = []
        # One batch is written (in a thread of its own: DuckDB works without the GIL)
        # while the next one is parsed; batches are written in order.
        with ThreadPoolExecutor(1, thread_name_prefix="usage-write") as writer:
            writing: Future[None] | None = None
            for result in self._results(jobs, parallel, stats):
                stats.lines += result.lines
                stats.bad_lines += result.bad_lines
                stats.torn += int(result.torn)
                stats.records += len(result.rows)
                stats.rate_limits += result.rate_limits
                for text in result.problems:
                    stats.problem(text)
                for row in result.rows:
                    old = batch.get(row.dedupe_key)
                    if old is None or wins(row, old):
                        batch[row.dedupe_key] = row
                state = files[result.path]
                state.done += 1
                state.failed = state.failed or result.failed
                if state.offset is None and (result.failed or state.done == state.ranges):
                    state.offset = result.offset
                if state.done == state.ranges:
                    finished.append(self._cursor_after(result.path, state))
                elif not state.failed:
                    state.progress = result.offset
                if len(batch) >= BATCH_ROWS:
                    if writing is not None:
                        writing.result()
                    writing = writer.submit(self._write, batch, finished + _partial(files))
                    batch, finished = {}, []
                if stop is not None and stop.is_set():
                    stats.stopped = True
                    break
            if writing is not None:
                writing.result()
            self._write(batch, finished + _partial(files))

    def _cursor_after(self, path: str, state: _File) -> Cursor:
        cursor = state.cursor
        cursor.inode = state.inode
        cursor.offset = state.offset if state.offset is not None else cursor.offset
        # A file that failed is tried again next pass: a size that never matches.
        cursor.size = -1 if state.failed else state.size
        cursor.fingerprint = fingerprint(path, cursor.offset)
        return cursor

    def _write(self, batch: dict[str, Row], cursors: list[Cursor]) -> None:
        """Upsert a batch and save the cursors of the files it completes, in one transaction."""
        if not batch and not cursors:
            return
        for row in batch.values():
            row.cost_usd = self.prices.cost(
                row.model,
                row.input_tokens,
                row.output_tokens,
                row.cache_creation_tokens,
                row.cache_creation_1h_tokens,
                row.cache_read_tokens,
            )
        scratch = None
        try:
            if len(batch) > SMALL_BATCH:
                fd, scratch = tempfile.mkstemp(
                    prefix="usage-", suffix=".ndjson", dir=self.scratch_dir
                )
                rows = list(batch.values())
                batch.clear()  # the file has them now: a batch is held once, not twice
                with os.fdopen(fd, "wb") as fh:
                    # In slices: the encoded batch (some 13 MB) is never in memory whole.
                    for at in range(0, len(rows), ENCODE_ROWS):
                        fh.write(_encoder.encode_lines(rows[at : at + ENCODE_ROWS]))
                del rows
        except OSError as exc:
            raise IngestError(
                f"cannot write {exc.filename or scratch or 'a scratch file'}: {exc.strerror or exc}"
            ) from None
        try:
            try:
                self._transaction(batch, scratch, cursors)
            except duckdb.OutOfMemoryException:
                # The limit of a big pass is too low for this log (its index grew
                # past it, say): DuckDB's default limit, and the same write again.
                log.info("usage log: a write needs more than %s; no limit", PASS_MEMORY_LIMIT)
                self.conn.execute("RESET memory_limit")
                self._transaction(batch, scratch, cursors)
        except duckdb.Error as exc:
            raise IngestError(f"cannot write the usage log: {exc}") from None
        finally:
            if scratch:
                with contextlib.suppress(OSError):
                    os.unlink(scratch)

    def _transaction(
        self, batch: dict[str, Row], scratch: str | None, cursors: list[Cursor]
    ) -> None:
        """The rows (from `scratch`, else `batch`) and the cursors, in one transaction."""
        self.conn.execute("BEGIN TRANSACTION")
        try:
            if scratch:
                self.conn.execute(_upsert_sql(_from_file(scratch)))
            elif batch:
                rows = list(batch.values())
                self.conn.execute(
                    _upsert_sql(_FROM_LISTS),
                    [[getattr(row, name) for row in rows] for name, _ in COLUMNS],
                )
            self.cursors.put_many(cursors)
            self.conn.execute("COMMIT")
        except BaseException:
            # A failed COMMIT is rolled back by DuckDB already (ROLLBACK then
            # fails): reload whatever happens, the cursors in memory were not saved.
            rollback(self.conn)
            self.reload()
            raise
