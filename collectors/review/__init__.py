"""`podium review`: how well the capacity was spent, from the log, and what to change.

Each detector module (`waste`, `runaway`, `attention`, `fill`, `models`) reads the
log through one `Context` and returns `Finding`s; `review` runs them all, orders the
findings by what is at stake, and adds the figures the HTML page draws. Pure reads on
a DuckDB connection or cursor (the engine runs it in a worker thread, like reports).
A detector that fails is named in `problems`; the others still report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import duckdb

from collectors.reports import waste_report
from collectors.review import attention, fill, models, runaway, waste
from collectors.review.context import Context
from collectors.review.fill import ReserveAt
from collectors.review.finding import Finding

DEFAULT_DAYS = 28


def review(
    conn: duckdb.DuckDBPyConnection,
    *,
    start: datetime | None = None,
    tz: tzinfo = UTC,
    now: datetime | None = None,
    reserve_at: ReserveAt = lambda _when: 0.0,
    transcripts: Callable[[], Iterable[Path]] | None = None,
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    start = start or now - timedelta(days=DEFAULT_DAYS)
    ctx = Context.load(conn, start, now, tz)
    files = transcripts or (lambda: runaway.period_transcripts(ctx))
    detectors: list[tuple[str, Callable[[], list[Finding]]]] = [
        ("waste", lambda: waste.findings(ctx)),
        ("runaway", lambda: runaway.findings(ctx, files)),
        ("attention", lambda: attention.findings(ctx)),
        ("fill", lambda: fill.findings(ctx, reserve_at)),
        ("models", lambda: models.findings(ctx)),
    ]
    found: list[Finding] = []
    problems: list[str] = []
    for name, detect in detectors:
        try:
            found.extend(detect())
        except duckdb.Error as exc:
            problems.append(f"{name}: {str(exc).splitlines()[0]}")
    found.sort(key=lambda f: f.weight, reverse=True)
    return {
        "since": start.astimezone(UTC).isoformat(),
        "now": now.astimezone(UTC).isoformat(),
        "findings": [f.as_dict() for f in found],
        "problems": problems,
        "usd_per_pct": {w: round(v, 4) for w, v in ctx.usd_per_pct.items()},
        "daily": daily_split(ctx),
        "attention_heatmap": [[round(m, 1) for m in row] for row in attention.heatmap(ctx)],
        "series": hourly_series(ctx),
        "resets": [
            {
                "window": r["window"],
                "resets_at": r["resets_at"],
                "unused_pct": r["unused_at_reset_pct"],
            }
            for r in waste_report(conn, None, start, now=now)["windows"]
        ],
    }


def hourly_series(ctx: Context) -> dict[str, list[list[Any]]]:
    """Each window's highest figure per hour of the period: [ISO hour, used %]."""
    out: dict[str, list[list[Any]]] = {}
    for window, hour, pct in ctx.conn.execute(
        """
        SELECT "window", date_trunc('hour', minute) AS h, max(used_pct)
        FROM limit_series WHERE minute >= ? AND minute <= ? GROUP BY 1, 2 ORDER BY 1, 2
        """,
        [ctx.start, ctx.now],
    ).fetchall():
        out.setdefault(window, []).append([hour.astimezone(UTC).isoformat(), round(pct, 2)])
    return out


def daily_split(ctx: Context) -> list[dict[str, Any]]:
    """Per local day: dollars (list price) and tokens of the person and of the background."""
    rows = ctx.conn.execute(
        """
        SELECT CAST(timezone(?, ts) AS DATE) AS day, list_contains(?, claude_session_id) AS bg,
               coalesce(sum(cost_usd), 0),
               sum(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens)
        FROM usage_messages WHERE ts >= ? AND ts <= ? GROUP BY day, bg ORDER BY day
        """,
        [ctx.zone_name, list(ctx.background), ctx.start, ctx.now],
    ).fetchall()
    days: dict[str, dict[str, Any]] = {}
    for day, is_background, usd, tokens in rows:
        row = days.setdefault(
            str(day),
            {
                "day": str(day),
                "person_usd": 0.0,
                "background_usd": 0.0,
                "person_tokens": 0,
                "background_tokens": 0,
            },
        )
        who = "background" if is_background else "person"
        row[f"{who}_usd"] = round(float(usd), 4)
        row[f"{who}_tokens"] = int(tokens or 0)
    return list(days.values())
