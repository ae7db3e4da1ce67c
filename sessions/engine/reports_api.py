"""The engine's report methods: `reports.usage`, `reports.waste`, `usage.series`,
`export.parquet`.

A report can scan a year of messages, and an export writes every table: each runs
in a worker thread (`Engine.blocking`) on a DuckDB cursor of its own, as transcript
passes do (`sessions/engine/transcripts.py`). A cursor is DuckDB's connection object
for another thread of the same database; these only read (the export writes files,
not rows), so nothing here races the loop's writes, and the loop keeps serving while
a report runs. The cursor is made on the loop thread and closed by the thread that
used it, so a client that goes away mid-report cannot close it under the query.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import msgspec

from collectors.reports import (
    BY_CHOICES,
    ReportError,
    check_tz,
    export_parquet,
    local_tz_name,
    parse_date,
    usage_report,
    usage_series,
    waste_report,
)
from sessions import wire
from sessions.attention import AttentionBook
from sessions.engine.parts import Blocking
from sessions.engine.protocol import ApiError

T = TypeVar("T")

MAX_DAYS = 3660
MAX_SERIES_HOURS = 24 * 400


def _int(raw: int | None, key: str, default: int | None, low: int, high: int) -> int | None:
    if raw is None:
        return default
    if not low <= raw <= high:
        raise ApiError("bad_request", f"{key} must be between {low} and {high}")
    return raw


class ReportsApi:
    def __init__(
        self, conn: duckdb.DuckDBPyConnection, attention: AttentionBook, blocking: Blocking
    ) -> None:
        self.conn = conn
        self.attention = attention
        self.blocking = blocking

    async def _read(self, result: type[T], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> T:
        """Run `fn(cursor, *args)` in a worker thread on a fresh cursor; its value as
        `result` (a wire Struct)."""
        cursor = self.conn.cursor()

        def work() -> T:
            try:
                return fn(cursor, *args, **kwargs)
            finally:
                cursor.close()

        try:
            value = await self.blocking(work)
        except ReportError as exc:
            raise ApiError("bad_request", str(exc)) from None
        return msgspec.convert(value, result)

    def _tz(self, params: wire.UsageReportParams | wire.WasteParams) -> str:
        tz = params.tz or local_tz_name()
        try:
            check_tz(tz)
        except ReportError as exc:
            raise ApiError("bad_request", str(exc)) from None
        return tz

    async def usage(self, params: wire.UsageReportParams) -> wire.UsageReport:
        """Tokens and cost grouped `by` (day|week|month|model|project|session|day_model)
        over [since, until], or the last `days` days (then by day and model unless
        `by` says otherwise: what the control tower plots)."""
        tz = self._tz(params)
        days = _int(params.days, "days", None, 1, MAX_DAYS)
        by = params.by or ("day_model" if days else "day")
        if by not in BY_CHOICES:
            choices = ", ".join(BY_CHOICES)
            raise ApiError("bad_request", f"unknown grouping {by!r}; choose one of {choices}")
        try:
            since: date | None = parse_date(params.since or None)
            until = parse_date(params.until or None)
        except ReportError as exc:
            raise ApiError("bad_request", str(exc)) from None
        if days:
            if since is not None:
                raise ApiError("bad_request", "give either days or since, not both")
            today = datetime.now(check_tz(tz)).date()
            since = today - timedelta(days=days - 1)
        return await self._read(wire.UsageReport, usage_report, by, since, until, tz)

    async def waste(self, params: wire.WasteParams) -> wire.WasteReport:
        """Capacity each window left unused at its reset, and the area over the period."""
        tz = self._tz(params)
        return await self._read(
            wire.WasteReport, waste_report, params.window or None, params.since or None, tz=tz
        )

    async def series(self, params: wire.SeriesParams) -> wire.Series:
        """The per-minute series (`limit_series`) of the last `hours`."""
        hours = _int(params.hours, "hours", 24, 1, MAX_SERIES_HOURS)
        step = _int(params.step, "step", 1, 1, 24 * 60)
        return await self._read(
            wire.Series, usage_series, float(hours or 24), params.window or None, step=step or 1
        )

    async def export(self, params: wire.ExportParams) -> wire.Exported:
        """Every table to `dir/<table>.parquet`; existing files only with `force`."""
        folder = params.dir or None
        if folder is None:
            raise ApiError("bad_request", "dir is required (an absolute path)")
        path = Path(folder)
        if not path.is_absolute():
            raise ApiError("bad_request", f"dir must be an absolute path, not {folder}")
        return await self._read(wire.Exported, export_parquet, path, params.force)

    async def report_attention(self, params: wire.SinceParams) -> wire.AttentionReport:
        since_raw = params.since
        since = None
        if since_raw:
            try:
                since = date.fromisoformat(str(since_raw))
            except ValueError:
                raise ApiError("bad_request", f"bad date {since_raw!r}; use YYYY-MM-DD") from None
        return wire.AttentionReport(
            since=since.isoformat() if since else None,
            days=[wire.AttentionDay(**day) for day in self.attention.report(since)],
        )


def reports_handlers(api: ReportsApi) -> dict[str, Any]:
    return {
        "reports.attention": api.report_attention,
        "reports.usage": api.usage,
        "reports.waste": api.waste,
        "usage.series": api.series,
        "export.parquet": api.export,
    }
