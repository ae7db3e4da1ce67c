"""The engine's usage methods, `usage.*`: the windows now, limit figures of a
headless run, a transcript pass and the log's totals, the per-minute series.

The work is the usage monitor's (`usage.py`), the transcript passes'
(`transcripts.py`) and, for the series, a read on a cursor of its own in a
worker thread (`reports_api.read_report`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import msgspec

from collectors.limits import LimitSample, samples_from_stream_json_line
from collectors.reports import usage_series
from collectors.usage_log import totals
from sessions import wire
from sessions.engine.parts import Blocking
from sessions.engine.reports_api import int_param, read_report
from sessions.engine.transcripts import TranscriptIngest
from sessions.engine.usage import UsageMonitor
from sessions.protocol import ApiError

MAX_SERIES_HOURS = 24 * 400
# More slices than a terminal has columns is never needed.
MAX_BUCKETS = 2000


class UsageApi:
    def __init__(
        self,
        monitor: UsageMonitor,
        transcripts: TranscriptIngest,
        conn: duckdb.DuckDBPyConnection,
        blocking: Blocking,
    ) -> None:
        self.monitor = monitor
        self.transcripts = transcripts
        self.conn = conn
        self.blocking = blocking

    async def windows(self, params: wire.NoParams) -> wire.UsageWindows:
        """Every window now."""
        now = datetime.now(UTC)
        return wire.UsageWindows(now=now.isoformat(), windows=self.monitor.windows(now))

    async def record(self, params: wire.RecordParams) -> wire.Recorded:
        """Stream-json lines of a headless run (`{"lines": [obj, ...]}`), whose
        `rate_limit_event`s and limit results become samples of source
        `headless`/`limit_text`."""
        samples: list[LimitSample] = []
        for obj in params.lines:
            if isinstance(obj, dict):
                samples += samples_from_stream_json_line(obj)
        return wire.Recorded(samples=self.monitor.record(samples))

    async def ingest(self, params: wire.IngestParams) -> wire.Ingested:
        raw = params.claude_dirs or params.claude_dir
        if isinstance(raw, str):
            raw = [raw]
        if raw is not None and not all(raw):
            raise ApiError("bad_request", "claude_dirs must be a list of directories")
        dirs = None
        if raw:
            dirs = [Path(d).expanduser().absolute() for d in raw]
            for folder in dirs:
                if not folder.is_dir():
                    raise ApiError("bad_request", f"no such directory: {folder}")
        return await self.transcripts.ingest(dirs)

    async def totals(self, params: wire.NoParams) -> wire.UsageTotals:
        # The loop's connection reads what passes have committed.
        return msgspec.convert(
            {
                **totals(self.conn),
                "claude_dirs": [str(d) for d in self.transcripts.dirs],
                "last_pass": self.transcripts.last_pass,
            },
            wire.UsageTotals,
            from_attributes=True,
        )

    async def series(self, params: wire.SeriesParams) -> wire.Series:
        """The per-minute series (`limit_series`) of the last `hours`; with `buckets`,
        the highest % per slice of the span (what a plot of that many columns shows)."""
        hours = int_param(params.hours, "hours", 24, 1, MAX_SERIES_HOURS)
        step = int_param(params.step, "step", 1, 1, 24 * 60)
        buckets = int_param(params.buckets, "buckets", None, 1, MAX_BUCKETS)
        return await read_report(
            self.conn,
            self.blocking,
            wire.Series,
            usage_series,
            float(hours or 24),
            params.window or None,
            step=step or 1,
            buckets=buckets,
        )


def usage_handlers(api: UsageApi) -> dict[str, Any]:
    return {
        "usage.windows": api.windows,
        "usage.record": api.record,
        "usage.ingest": api.ingest,
        "usage.totals": api.totals,
        "usage.series": api.series,
    }
