"""The engine's part of the usage log: limit figures in, a sample per window per minute out.

`UsageMonitor` takes limit figures as they come (statusline records and limit
texts from the spool, stream-json lines through the API's `usage.record`),
stores them (`collectors.limit_log`), and on every tick (a minute, aligned to
the clock; `[usage] tick_interval`) reads `.claude.json` and, when turned on,
the usage endpoint, writes one `limit_series` row per window (the freshest
official figure, or an estimate from local tokens when none is fresh) and one
`process_samples` row per live session. File reads, the network and psutil
run in worker threads through `Engine.blocking`; everything else here runs on
the loop thread, like the rest of the engine.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from collectors import paths as podium_paths
from collectors.limit_files import (
    EndpointError,
    claude_json_files,
    fetch_usage,
    oauth_token,
    read_claude_json,
)
from collectors.limit_log import LimitLog, ProcessRow, SeriesRow
from collectors.limits import (
    LIMIT_TEXT,
    BestCapacity,
    LimitSample,
    Point,
    burn_rate,
    calibrate,
    default_capacity,
    estimate,
    is_current,
    observed_s,
    project,
    samples_from_limit_text,
    samples_from_statusline,
)
from collectors.settings import UsageSettings
from collectors.windows import model_pattern, window_length
from sessions import wire
from sessions.engine.events import EventBus
from sessions.engine.parts import Blocking
from sessions.registry import Registry
from sessions.state import FINAL_STATES, State

if TYPE_CHECKING:
    from collectors.procstats import TreeScan

log = logging.getLogger("podium.engine.usage")
BURN_SPAN_S = 3600.0
# The series read for a window's burn and projection: a little over an hour, so that
# a window watched for an hour shows it (`MIN_PROJECTION_S`).
SERIES_SPAN = timedelta(seconds=BURN_SPAN_S + 300)
# A window this used is full: the server rejects requests (figures round to 0.1).
FULL_PCT = 99.5


class UsageMonitor:
    def __init__(
        self,
        *,
        conn: duckdb.DuckDBPyConnection,
        registry: Registry,
        bus: EventBus,
        settings: UsageSettings,
        blocking: Blocking,
        store_failed: Callable[[str, BaseException], None],
        refresh_today: Callable[[], Awaitable[object]],
    ) -> None:
        self.registry = registry
        self.bus = bus
        self.settings = settings
        self.blocking = blocking
        self.store_failed = store_failed
        self.refresh_today = refresh_today
        self.log = LimitLog(conn)
        # window -> (the official figure it came from, capacity in weighted tokens)
        self._calibrated: dict[str, tuple[LimitSample, float]] = {}
        # window -> the highest capacity recent figures implied (what fill plans with)
        self._best: dict[str, BestCapacity] = {}
        self._scans: dict[str, TreeScan] = {}
        self._claude_json_mtimes: dict[Path, int | None] = {}
        self._endpoint_due = 0.0
        self.ticks = 0  # ticks ended, failed or not (`engine status`)

    # -- figures in -------------------------------------------------------------------
    def reload(self) -> None:
        """After a failed write: the figures stored, and what was learned from them."""
        self.log.reload()
        self._calibrated.clear()

    def record(self, samples: list[LimitSample]) -> int:
        """Store figures; tell subscribers when one changed what is known."""
        if not samples:
            return 0
        changed = self.log.record(samples)
        if changed:
            self.bus.publish(
                wire.UsageEvent(
                    data=wire.UsageChange(
                        samples=[wire.from_record(s, wire.LimitSample) for s in changed]
                    )
                )
            )
        return len(samples)

    def on_statusline(self, payload: dict[str, Any], at: datetime | None) -> None:
        self.record(samples_from_statusline(payload, at or datetime.now(UTC)))

    def on_hook(self, event: str, payload: dict[str, Any], at: datetime | None) -> None:
        """A turn that failed on a usage limit says which window is full until when."""
        message = payload.get("last_assistant_message")
        if event == "StopFailure" and isinstance(message, str):
            self.record(samples_from_limit_text(message, at or datetime.now(UTC)))

    def full_until(self, now: datetime) -> datetime | None:
        """When the account can work again by the official figures: the latest reset of
        the windows used up (≥ FULL_PCT) now, or None when none is known to be full.
        A limited session whose limit text names no time takes this one."""
        ends = [
            figure.resets_at
            for window in self.log.windows(now)
            if (figure := self.log.latest(window)) is not None
            and figure.resets_at is not None
            and figure.used_pct >= FULL_PCT
            and is_current(figure, now)
        ]
        return max(ends, default=None)

    # -- the figure to show -----------------------------------------------------------------
    def current(self, window: str, now: datetime) -> tuple[LimitSample | None, float | None]:
        """(figure, age of the official figure behind it in seconds) for `window` now.

        A fresh official figure wins; else an estimate from local tokens (when the
        transcript table is there); else a stale official figure, honest about its age.
        """
        official = self.log.latest(window)
        age = (now - official.ts).total_seconds() if official else None
        current = official is not None and is_current(official, now)
        if current and age is not None and age <= self.settings.fresh_minutes * 60:
            return official, age
        if self.log.has_tokens():
            return self._estimate(window, now, official if current else None), age
        return (official, age) if current else (None, age)

    def _estimate(self, window: str, now: datetime, anchor: LimitSample | None) -> LimitSample:
        pattern = model_pattern(window)
        capacity = self._capacity(window)
        if anchor is not None:
            tokens = self.log.tokens(anchor.ts, now, pattern)
            return estimate(window, now, anchor, tokens, capacity)
        # The window opened at the first use after it last reset (or within its length).
        floor = now - window_length(window)
        last = self.log.latest(window)
        if last is not None and last.resets_at is not None and floor < last.resets_at <= now:
            floor = last.resets_at
        start = self.log.first_use(floor, now, pattern)
        tokens = self.log.tokens(start - timedelta(microseconds=1), now, pattern) if start else 0.0
        return estimate(window, now, None, 0.0, capacity, start, tokens)

    def capacity(self, window: str) -> float:
        """Weighted tokens of a full `window` as fill plans with it: the highest capacity
        recent official figures implied (`BestCapacity`), else `_capacity`'s."""
        latest = self._capacity(window)
        best = self._best.get(window)
        found = best.best(datetime.now(UTC)) if best is not None else None
        return max(latest, found) if found is not None else latest

    def _capacity(self, window: str) -> float:
        """Weighted tokens of a full window: learned from the last official figure whose
        window is known, else the configured or plan default."""
        figure = self.log.latest(window)
        known = self._calibrated.get(window)
        if (
            figure is not None
            and figure.resets_at is not None
            and figure.source != LIMIT_TEXT  # 100% at some moment of the last minute: rough
            and (known is None or known[0] != figure)
        ):
            start = figure.resets_at - window_length(window)
            learned = calibrate(
                self.log.tokens(start, figure.ts, model_pattern(window)), figure.used_pct
            )
            if learned is not None:
                self._calibrated[window] = known = (figure, learned)
                self._best.setdefault(window, BestCapacity()).add(figure.ts, learned)
        if known is not None:
            return known[1]
        s = self.settings
        return default_capacity(window, s.plan, s.five_hour_capacity, s.seven_day_capacity)

    def windows(self, now: datetime | None = None) -> list[wire.UsageWindow]:
        """Every window now: used %, reset, source, age, burn rate, projection at reset
        (only for a window watched for an hour: `collectors.limits.project`)."""
        now = now or datetime.now(UTC)
        out = []
        for window in self.log.windows(now):
            figure, age = self.current(window, now)
            if figure is None:
                continue
            points = self.log.series(window, now - SERIES_SPAN)
            points.append(Point(now, figure.used_pct))
            burn = burn_rate(points, now, BURN_SPAN_S)
            proj = project(figure.used_pct, burn, now, figure.resets_at, observed_s(points, now))
            out.append(
                wire.UsageWindow(
                    window=window,
                    used_pct=figure.used_pct,
                    resets_at=_iso(figure.resets_at),
                    source=figure.source,
                    captured_at=_iso(figure.ts),
                    age_s=round(age, 1) if age is not None else None,
                    estimate=figure.source == "estimate",
                    burn_pct_per_hour=round(burn, 2) if burn is not None else None,
                    projected_pct_at_reset=proj.at_reset_pct,
                    limit_at=_iso(proj.limit_at),
                    detail=figure.detail,
                )
            )
        return out

    # -- the tick ---------------------------------------------------------------------------
    async def run(self) -> None:
        """Tick on the clock (every minute on the minute by default) until cancelled."""
        interval = self.settings.tick_interval
        while True:
            now = time.time()
            due = (now // interval + 1) * interval
            await asyncio.sleep(due - now)
            try:
                await self.tick(datetime.fromtimestamp(due, UTC))
            except asyncio.CancelledError:
                raise
            except duckdb.Error as exc:  # a full disk: one line a minute, caches reloaded
                self.store_failed("the usage tick", exc)
            except Exception:  # one bad tick must not end the series
                log.exception("usage tick failed")
            self.ticks += 1

    async def tick(self, minute: datetime) -> None:
        """Read the polled sources, then write the series and the process stats."""
        await self._poll_claude_json()
        await self._poll_endpoint()
        now = datetime.now(UTC)
        rows = []
        for window in self.log.windows(now):
            figure, age = self.current(window, now)
            if figure is not None:
                age_s = round(age, 1) if age is not None else None
                rows.append(
                    SeriesRow(window, figure.used_pct, figure.resets_at, figure.source, age_s)
                )
        self.log.write_series(minute, rows)
        await self._sample_processes(minute)
        self.bus.publish(
            wire.UsageEvent(
                data=wire.UsageChange(minute=_iso(minute) or "", windows=self.windows(now))
            )
        )
        # The local day may have turned: sessions' usage today starts again.
        await self.refresh_today()

    async def _poll_claude_json(self) -> None:
        for path in claude_json_files(podium_paths.claude_config_dirs()):
            last = self._claude_json_mtimes.get(path)
            read = await self.blocking(read_claude_json, path, last)
            self._claude_json_mtimes[path] = read.mtime_ns
            if read.samples:
                self.record(read.samples)

    async def _poll_endpoint(self) -> None:
        if not self.settings.endpoint or time.monotonic() < self._endpoint_due:
            return
        self._endpoint_due = time.monotonic() + self.settings.endpoint_interval
        dirs = podium_paths.claude_config_dirs()
        token = await self.blocking(oauth_token, dirs)
        if token is None:
            log.warning("usage endpoint is on but no Claude OAuth token was found in %s", dirs)
            return
        try:
            samples = await self.blocking(fetch_usage, self.settings.endpoint_url, token)
        except EndpointError as exc:
            log.warning("%s; next try in %.0fs", exc, self.settings.endpoint_interval)
            return
        self.record(samples)

    async def _sample_processes(self, minute: datetime) -> None:
        pids = {
            rec.id: rec.pid
            for rec in self.registry.listed()
            if rec.pid and State(rec.state) not in FINAL_STATES
        }
        # psutil (~10 ms to import) with the first minute's scan, not at the engine's
        # start: the socket comes first.
        from collectors.procstats import cpu_percent, scan_trees

        scans = await self.blocking(scan_trees, pids) if pids else {}
        rows = [
            ProcessRow(sid, scan.pid_count, cpu_percent(self._scans.get(sid), scan), scan.rss_bytes)
            for sid, scan in scans.items()
        ]
        self._scans = scans
        self.log.write_processes(minute, rows)


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat() if when else None
