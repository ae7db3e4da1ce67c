"""The engine's report methods: `reports.attention|usage|waste|runs|review`, `export.parquet`.

A usage report can scan a year of messages, and an export writes every table: each
runs in a worker thread (`blocking`, `read_report`) on a DuckDB cursor of its own, as transcript
passes do (`sessions/engine/transcripts.py`). A cursor is DuckDB's connection object
for another thread of the same database; these only read (the export writes files,
not rows), so nothing here races the loop's writes, and the loop keeps serving while
a report runs. The cursor is made on the loop thread and closed by the thread that
used it, so a client that goes away mid-report cannot close it under the query.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import duckdb
import msgspec

from collectors.reports import (
    BY_CHOICES,
    ReportError,
    ReportFailed,
    check_tz,
    export_parquet,
    local_tz_name,
    parse_date,
    usage_report,
    waste_report,
)
from collectors.review import review
from collectors.review.digest import build as build_digest
from collectors.windows import window_name
from sessions import wire
from sessions.attention import AttentionBook
from sessions.engine.parts import Blocking
from sessions.fill.queue import QueueStore, Task
from sessions.protocol import ApiError

T = TypeVar("T")

MAX_DAYS = 3660
# How old the last review may be for the tower's usage screen before one is made anew.
LATEST_FRESH = timedelta(hours=6)


def int_param(raw: int | None, key: str, default: int | None, low: int, high: int) -> int | None:
    if raw is None:
        return default
    if not low <= raw <= high:
        raise ApiError("bad_request", f"{key} must be between {low} and {high}")
    return raw


async def read_report(
    conn: duckdb.DuckDBPyConnection,
    blocking: Blocking,
    result: type[T],
    fn: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> T:
    """Run `fn(cursor, *args)` in a worker thread on a fresh cursor; its value as
    `result` (a wire Struct)."""
    cursor = conn.cursor()

    def work() -> T:
        try:
            return fn(cursor, *args, **kwargs)
        finally:
            cursor.close()

    try:
        value = await blocking(work)
    except ReportFailed as exc:
        raise ApiError("failed", str(exc)) from None
    except ReportError as exc:
        raise ApiError("bad_request", str(exc)) from None
    return msgspec.convert(value, result)


class ReportsApi:
    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        attention: AttentionBook,
        queue: QueueStore,
        blocking: Blocking,
        reserve_schedule: Callable[[], Callable[[datetime], float]] = lambda: lambda _when: 0.0,
        model_findings: Callable[[], list[wire.Finding]] = list,
    ) -> None:
        self.conn = conn
        self.attention = attention
        self.queue = queue
        self.blocking = blocking
        # The fill reserve by time (the review judges it against the person's own use).
        self.reserve_schedule = reserve_schedule
        # The latest agent review's findings (`ReviewAgent.latest`).
        self.model_findings = model_findings
        self._latest: wire.LatestReview | None = None

    async def _read(self, result: type[T], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> T:
        return await read_report(self.conn, self.blocking, result, fn, *args, **kwargs)

    def _tz(self, params: wire.UsageReportParams | wire.WasteParams | wire.ReviewParams) -> str:
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
        days = int_param(params.days, "days", None, 1, MAX_DAYS)
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
        window = None
        if params.window:
            try:
                window = window_name(params.window)
            except ValueError as exc:
                raise ApiError("bad_request", str(exc)) from None
        return await self._read(wire.WasteReport, waste_report, window, params.since or None, tz=tz)

    def _review_args(self, params: wire.ReviewParams) -> dict[str, Any]:
        tz = ZoneInfo(self._tz(params))
        start = None
        if params.since:
            try:
                day = parse_date(params.since)
            except ReportError as exc:
                raise ApiError("bad_request", str(exc)) from None
            start = datetime.combine(day, time(), tz) if day else None
        return {"start": start, "tz": tz, "reserve_at": self.reserve_schedule()}

    async def review(self, params: wire.ReviewParams) -> wire.Review:
        """Findings over the log since `since` (default: the last 28 days), then the
        latest agent review's findings (marked as the model's)."""
        computed = await self._read(wire.Review, review, **self._review_args(params))
        model = self.model_findings()
        if model:
            computed = msgspec.structs.replace(computed, findings=[*computed.findings, *model])
        self._latest = wire.LatestReview(review=computed, computed_at=datetime.now(UTC).isoformat())
        return computed

    async def review_latest(self, params: wire.NoParams) -> wire.LatestReview:
        """The last review computed, or a fresh one of the last 28 days when there is
        none from the last `LATEST_FRESH` (the tower's usage screen shows its top)."""
        latest = self._latest
        if latest is not None:
            age = datetime.now(UTC) - datetime.fromisoformat(latest.computed_at)
            if age < LATEST_FRESH:
                return latest
        await self.review(wire.ReviewParams())
        assert self._latest is not None
        return self._latest

    async def review_and_digest(
        self, params: wire.ReviewParams, transcripts: bool = False
    ) -> tuple[wire.Review, dict[str, Any]]:
        """The computed review and the digest an agent reads of it (one worker pass)."""
        args = self._review_args(params)
        zone = args["tz"].key

        def both(cursor: duckdb.DuckDBPyConnection) -> dict[str, Any]:
            result = review(cursor, **args)
            result["digest"] = build_digest(cursor, result, zone=zone, transcripts=transcripts)
            return result

        value = await self._read(dict, both)
        digest = value.pop("digest")
        return msgspec.convert(value, wire.Review), digest

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

    async def report_runs(self, params: wire.SinceParams) -> wire.RunsReport:
        since_raw = params.since
        since = None
        if since_raw:
            try:
                since = datetime.combine(date.fromisoformat(str(since_raw)), time(), UTC)
            except ValueError:
                raise ApiError("bad_request", f"bad date {since_raw!r}; use YYYY-MM-DD") from None
        store = self.queue
        rows = []
        tasks: dict[int, Task | None] = {}
        for run in store.runs(since=since):
            if run.task_id not in tasks:
                tasks[run.task_id] = store.get(run.task_id)
            task = tasks[run.task_id]
            end = run.ended_at or datetime.now(UTC)
            rows.append(
                wire.RunRow(
                    run_id=run.id,
                    task_id=run.task_id,
                    attempt=run.attempt,
                    prompt=task.prompt if task else "",
                    outcome=run.state,
                    started_at=run.started_at.astimezone(UTC).isoformat(),
                    ended_at=run.ended_at.astimezone(UTC).isoformat() if run.ended_at else None,
                    duration_s=round((end - run.started_at).total_seconds(), 1),
                    input_tokens=run.input_tokens,
                    output_tokens=run.output_tokens,
                    cache_read_tokens=run.cache_read_tokens,
                    cache_creation_tokens=run.cache_creation_tokens,
                    cost_usd=run.total_cost_usd,
                    num_turns=run.num_turns,
                    is_error=run.is_error,
                    api_error_status=run.api_error_status,
                    terminal_reason=run.terminal_reason,
                    resets_at=run.resets_at.astimezone(UTC).isoformat() if run.resets_at else None,
                    result=run.result,
                )
            )
        return wire.RunsReport(since=since_raw or None, runs=rows)


def reports_handlers(api: ReportsApi) -> dict[str, Any]:
    return {
        "reports.attention": api.report_attention,
        "reports.usage": api.usage,
        "reports.waste": api.waste,
        "reports.runs": api.report_runs,
        "reports.review": api.review,
        "reports.review_latest": api.review_latest,
        "export.parquet": api.export,
    }
