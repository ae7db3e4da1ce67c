"""The engine's side of the usage log: ingest passes over Claude Code's transcripts.

A pass (`collectors.usage_log.UsageLog.ingest`) runs in a worker thread, so a
first ingest of a long history never blocks the loop. It writes through a
DuckDB *cursor* of the engine's connection: DuckDB's own connection object for
another thread of the same database (MVCC; each cursor has its own
transactions). Only that cursor writes `usage_messages`, `usage_meta` and the
transcripts' rows of `file_offsets`, and only one pass runs at a time (an
asyncio lock), so no row is ever written from two threads; the loop's
connection only reads the log. This is the one exception to "threads never
write shared state", and it is DuckDB's documented way to use one database
from several threads.

When passes run: once at start (catching up on what Claude Code wrote while no
engine ran); whenever watchfiles reports a changed `*.jsonl` under a config
dir's `projects/` (debounced: appended lines are in the log within about a
second); when a watcher starts (`projects/` appeared, or the watch failed and is
tried again), a full pass once its watches are in place, for what was written
in between; every RESCAN_SECONDS as a safety net (missed events, a config dir
that appears later); and on request (`usage.ingest`).

After a pass that read lines (or when the local day or a session's Claude
session id changed), `today` is counted again: each listed session's tokens and
cost of the local day, from `usage_messages` of its Claude session ids (the
current one, and those its hooks named before a resume). A session whose figures
changed is published again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import watchfiles

from collectors.limits import TRANSCRIPT, LimitSample, samples_from_rate_limit_info
from collectors.paths import claude_config_dirs
from collectors.prices import price_table
from collectors.report_args import check_tz, local_tz_name
from collectors.reports import TOKEN_KEYS, day_start
from collectors.settings import PriceSettings
from collectors.transcripts import projects_dir
from collectors.usage_log import BIG_PASS_BYTES, IngestError, PassStats, UsageLog, totals
from sessions import wire
from sessions.engine.events import EventBus
from sessions.engine.parts import Blocking
from sessions.protocol import ApiError
from sessions.registry import Registry, SessionRecord

log = logging.getLogger("podium.usage")

RESCAN_SECONDS = 60.0
DEBOUNCE_MS = 200
# How long the watch thread waits for an event before it reports a quiet spell; the
# first such report tells that a new watcher's watches are in place.
QUIET_TIMEOUT_MS = 1000


def _worth_a_pass(change: watchfiles.Change, path: str) -> bool:
    """A transcript changed, or something was added (a directory: a new project, or
    `projects/` itself; inotify may miss files created at once inside a new one)."""
    return (path.endswith(".jsonl") and "/projects/" in path) or change == watchfiles.Change.added


@dataclass(frozen=True)
class Today:
    """A session's usage of the local day: all four token counts, and the estimated
    cost (None when no message of the day has a known price)."""

    tokens: int
    cost_usd: float | None


Pairs = frozenset[tuple[str, str]]


def _today_rows(
    cursor: duckdb.DuckDBPyConnection,
    ids: dict[str, str | None],
    known: Pairs | None,
    since: datetime,
) -> tuple[Pairs, dict[str, Today]]:
    """The (podium id, Claude session id) pairs of the sessions in `ids` (podium id →
    current Claude session id), from their hooks unless `known`, and `Today` of each
    session with a Claude session id. Runs in a worker thread on its own cursor."""
    try:
        pairs = known
        if pairs is None:
            found = {(sid, cid) for sid, cid in ids.items() if cid}
            if ids:
                found |= set(
                    cursor.execute(
                        "SELECT DISTINCT session_id, claude_session_id FROM hook_events "
                        "WHERE claude_session_id IS NOT NULL "
                        "AND list_contains($ids, session_id)",
                        {"ids": list(ids)},
                    ).fetchall()
                )
            pairs = frozenset(found)
        claude_ids = sorted({cid for _, cid in pairs})
        sums: dict[str, tuple[int, float | None]] = {}
        if claude_ids:
            tokens = " + ".join(TOKEN_KEYS)
            for cid, used, cost in cursor.execute(
                f"SELECT claude_session_id, coalesce(sum({tokens}), 0), sum(cost_usd) "
                "FROM usage_messages WHERE ts >= $since "
                "AND list_contains($ids, claude_session_id) GROUP BY 1",
                {"since": since, "ids": claude_ids},
            ).fetchall():
                sums[cid] = (int(used), None if cost is None else float(cost))
    finally:
        cursor.close()
    out: dict[str, Today] = {}
    for sid, cid in sorted(pairs):
        used, cost = sums.get(cid, (0, None))
        old = out.get(sid)
        if old is not None:
            used += old.tokens
            if old.cost_usd is not None:
                cost = old.cost_usd + (cost or 0.0)
        out[sid] = Today(used, None if cost is None else round(cost, 6))
    return pairs, out


class TranscriptIngest:
    """Keeps `usage_messages` up to date with the transcripts of the configured dirs."""

    def __init__(
        self,
        *,
        conn: duckdb.DuckDBPyConnection,
        registry: Registry,
        bus: EventBus,
        blocking: Blocking,
        publish_session: Callable[[SessionRecord], None],
        today: dict[str, Today],
        prices: PriceSettings,
        scratch_dir: Path,
        record_limits: Callable[[list[LimitSample]], object] = lambda samples: None,
    ) -> None:
        self.conn = conn
        self.registry = registry
        self.bus = bus
        self.blocking = blocking
        self.publish_session = publish_session
        # Each listed session's tokens and cost of the local day, as of the last
        # pass; the engine's own dict, which it shows in every session.
        self.today = today
        self.prices = prices
        self.scratch_dir = scratch_dir
        # The limit log's `UsageMonitor.record`: the usage-limit records a pass read.
        self.record_limits = record_limits
        self.dirs = claude_config_dirs()
        self.last_pass: wire.Ingested | None = None
        self._today_key: tuple[date, dict[str, str | None]] | None = None
        self._today_pairs: Pairs | None = None
        self._today_lock = asyncio.Lock()  # the tick and a pass may both ask
        self._lock = asyncio.Lock()
        self._stop = threading.Event()  # ends a pass early (engine shutdown)
        self._watch_stop = asyncio.Event()
        self._cursor: duckdb.DuckDBPyConnection | None = None
        self._log: UsageLog | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._running: asyncio.Future[Any] | None = None  # the pass in its thread

    def start(self) -> None:
        # Made on the loop thread, used only by the pass in the worker thread.
        self._cursor = self.conn.cursor()
        self._tasks = [
            asyncio.create_task(self._rescan_loop(), name="usage-rescan"),
            asyncio.create_task(self._watch_loop(), name="usage-watch"),
        ]

    async def close(self) -> None:
        """Stop watching, let a running pass end after its batch, close the cursor."""
        self._stop.set()
        self._watch_stop.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._running is not None:
            # Cancelling the task that awaited it does not stop the thread: wait for it.
            await asyncio.wait([self._running])
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    # -- passes -----------------------------------------------------------------------
    async def ingest(
        self, dirs: list[Path] | None = None, only: list[str] | None = None
    ) -> wire.Ingested:
        """One pass; returns what it read plus the totals of the whole log."""
        async with self._lock:
            if self._cursor is None or self._stop.is_set():
                raise ApiError("stopping", "the engine is stopping")
            self._running = asyncio.ensure_future(
                self.blocking(self._pass, dirs or self.dirs, only)
            )
            try:
                stats, whole = await asyncio.shield(self._running)
            except IngestError as exc:
                log.error("usage ingest failed: %s", exc)
                raise ApiError("ingest_failed", f"{exc}; the engine keeps running") from None
            finally:
                if self._running.done():
                    self._running = None
        if stats.bytes_read >= BIG_PASS_BYTES:
            # After the answer: whoever waits for this pass does not wait for this.
            self._tasks = [t for t in self._tasks if not t.done()]
            self._tasks.append(asyncio.create_task(self._release(), name="usage-release"))
        for problem in stats.problems:
            log.warning("transcript: %s", problem)
        if stats.rate_limits:
            self._record_limits(stats)
        result = msgspec.convert({**stats.as_dict(), **whole}, wire.Ingested)
        self.last_pass = result
        if stats.lines:
            self.bus.publish(
                wire.UsageLogEvent(
                    data=msgspec.convert(
                        {"lines": stats.lines, "records": stats.records, **whole},
                        wire.UsageLogPass,
                    )
                )
            )
        await self.refresh_today(force=bool(stats.lines))
        return result

    def _record_limits(self, stats: PassStats) -> None:
        """The usage-limit records' windows (a Sonnet week, say, that refused a session
        podium did not start) as limit samples of source `transcript`, at their time.
        A full disk loses them, not the pass: the transcripts' rows are stored."""
        samples = [
            sample
            for seen in stats.rate_limits
            for sample in samples_from_rate_limit_info(seen.info, seen.ts, TRANSCRIPT)
        ]
        try:
            self.record_limits(samples)
        except duckdb.Error as exc:
            log.warning("transcript: %d limit figure(s) not stored: %s", len(samples), exc)

    async def _release(self) -> None:
        """Give back the memory a big pass left in DuckDB (`UsageLog.release_memory`)."""
        async with self._lock:
            if self._cursor is None or self._stop.is_set() or self._log is None:
                return
            self._running = asyncio.ensure_future(self.blocking(self._log.release_memory))
            try:
                await asyncio.shield(self._running)
            finally:
                if self._running.done():
                    self._running = None

    async def refresh_today(self, *, force: bool = False) -> None:
        """Count `today` again when asked (`force`: new lines were read), or when the
        local day or a session's Claude session id changed; publish the sessions
        whose figures changed."""
        async with self._today_lock:
            await self._refresh_today(force)

    async def _refresh_today(self, force: bool) -> None:
        tz = check_tz(local_tz_name())
        day = datetime.now(tz).date()
        ids = {rec.id: rec.claude_session_id for rec in self.registry.listed()}
        key = (day, ids)
        if not force and key == self._today_key:
            return
        # The hooks' Claude ids are read again only when a session's id (or the list
        # of sessions) changed: a busy session makes a pass every second or so.
        known = self._today_pairs if key == self._today_key else None
        self._today_key = key
        cursor = self.conn.cursor()
        pairs, fresh = await self.blocking(_today_rows, cursor, ids, known, day_start(day, tz))
        self._today_pairs = pairs
        old = dict(self.today)
        self.today.clear()
        self.today.update(fresh)
        for rec in self.registry.listed():
            if old.get(rec.id) != fresh.get(rec.id):
                self.publish_session(rec)

    def _pass(self, dirs: list[Path], only: list[str] | None) -> tuple[PassStats, dict[str, Any]]:
        # Worker thread: every database call here goes through the pass's own cursor.
        assert self._cursor is not None
        if self._log is None:
            prices = price_table(self.prices.models)
            self._log = UsageLog(self._cursor, prices, scratch_dir=self.scratch_dir)
        stats = self._log.ingest(dirs, only, self._stop)
        return stats, totals(self._cursor)

    async def _logged_pass(self, only: list[str] | None = None) -> None:
        try:
            result = await self.ingest(only=only)
        except ApiError:
            return  # logged already; the next pass tries again
        except Exception:  # a bug must not end the watching: log it, try again later
            log.exception("usage ingest pass failed")
            return
        if result.lines and only is None:
            log.info(
                "usage log: read %d lines of %d files in %.1f s (%d bad); %d messages",
                result.lines,
                result.files,
                result.seconds,
                result.bad_lines,
                result.messages,
            )

    # -- when passes run -----------------------------------------------------------------
    def _roots(self) -> list[Path]:
        """What to watch: each dir's `projects/`, or the dir itself until that exists."""
        roots = []
        for folder in self.dirs:
            projects = projects_dir(folder)
            if projects.is_dir():
                roots.append(projects)
            elif folder.is_dir():
                roots.append(folder)
        return roots

    async def _rescan_loop(self) -> None:
        await self._logged_pass()
        roots = self._roots()
        while not self._stop.is_set():
            await asyncio.sleep(RESCAN_SECONDS)
            await self._logged_pass()
            if self._roots() != roots:
                roots = self._roots()
                self._watch_stop.set()  # the watcher starts again on the new roots

    async def _watch_loop(self) -> None:
        while not self._stop.is_set():
            self._watch_stop = asyncio.Event()
            roots = self._roots()
            if not roots:
                await self._wait(self._watch_stop)
                continue
            # Lines written before the watch was in place raise no event: the first
            # answer of a new watcher (changes, or the quiet timeout, which comes only
            # once the watches exist) is a full pass over what its roots hold.
            caught_up = False
            try:
                async for changes in watchfiles.awatch(
                    *roots,
                    watch_filter=_worth_a_pass,
                    debounce=DEBOUNCE_MS,
                    step=50,
                    stop_event=self._watch_stop,
                    recursive=True,
                    rust_timeout=QUIET_TIMEOUT_MS,
                    yield_on_timeout=True,
                ):
                    if not changes and caught_up:
                        continue
                    paths = sorted({path for _, path in changes})
                    only = paths if caught_up and all(p.endswith(".jsonl") for p in paths) else None
                    caught_up = True
                    await self._logged_pass(only=only)
                    if self._roots() != roots:
                        break  # `projects/` appeared: watch it alone
            except (OSError, RuntimeError) as exc:
                # A watched dir removed under us, or inotify exhausted: the rescan
                # loop still catches up; try watching again after it.
                log.warning("watching transcripts failed: %s", exc)
                await self._wait(self._watch_stop)

    @staticmethod
    async def _wait(event: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), RESCAN_SECONDS)

    # -- API --------------------------------------------------------------------------
