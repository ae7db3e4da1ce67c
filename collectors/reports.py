"""Reports over the usage log: tokens and cost by time or by kind, the capacity wasted
at each window's reset, the per-minute series, and a Parquet export of every table.

Pure SQL over a DuckDB connection (the engine runs these on a cursor of its own in a
worker thread, so a report over a year of messages never stalls its loop). Results
are plain JSON-able dicts: the engine sends them as they are.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from collectors.report_args import (
    BY_CHOICES,
    ReportError,
    ReportFailed,
    check_tz,
    local_tz_name,
    parse_date,
)
from collectors.windows import FIVE_HOUR, FIVE_HOUR_SECONDS, WEEK_SECONDS, window_seconds
from collectors.zone_offsets import local_micros_sql

__all__ = ["BY_CHOICES", "ReportError", "check_tz", "local_tz_name", "parse_date"]


# What `by` groups on. Times are bucketed in the requested zone, as a person counts
# them: a day is a local day (23 or 25 hours across DST changes). Every time bucket
# is made of whole local days, so rows are grouped by local day number first (the
# zone's offsets come from `zone_offsets`, not from `timezone()` on every row) and
# the few day rows are then labelled and regrouped into weeks or months.
_EPOCH = "DATE '1970-01-01'"
_DAY_LABELS: dict[str, str] = {
    "day": f"strftime({_EPOCH} + CAST(d AS INTEGER), '%Y-%m-%d')",
    # ISO weeks, labelled by their Monday (1970-01-01 was a Thursday: day 3 of its week).
    "week": f"strftime({_EPOCH} + CAST(d - (d + 3) % 7 AS INTEGER), '%Y-%m-%d')",
    "month": f"strftime({_EPOCH} + CAST(d AS INTEGER), '%Y-%m')",
    "day_model": f"strftime({_EPOCH} + CAST(d AS INTEGER), '%Y-%m-%d')",
}
_KINDS: dict[str, str] = {
    "model": "coalesce(model, '?')",
    "project": "coalesce(project, '?')",
    "session": "coalesce(claude_session_id, '?')",
}
_TIME_BUCKETS = frozenset(_DAY_LABELS)
_DAY_US = 86_400_000_000

TOKEN_KEYS = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens")
# Costs are summed as decimals (12 places: far below the cent, each row's value to a
# picodollar): exact, so the sum is the same in whatever order DuckDB's threads add,
# and the same summed once or by day then by month.
_COST = "sum(CAST(cost_usd AS DECIMAL(18, 12)))"
_SUMS = (
    ", ".join(f"sum({k}) AS {k}" for k in TOKEN_KEYS) + f", {_COST} AS cost_usd, "
    "count(*) AS messages, count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced"
)
_RESUMS = ", ".join(f"sum({k}) AS {k}" for k in (*TOKEN_KEYS, "cost_usd", "messages", "unpriced"))


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight of `day` as an aware time (zoneinfo resolves DST gaps)."""
    return datetime.combine(day, time(), tzinfo=zone)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _from_epoch_us(value: int | None) -> datetime | None:
    return (
        None if value is None else datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)
    )


def _grouping_sql(
    conn: duckdb.DuckDBPyConnection, by: str, zone: ZoneInfo, where: str, params: dict[str, Any]
) -> str:
    """The query behind `by`: one row per group, keys first, then the sums."""
    table = f"usage_messages WHERE {where}"
    if by not in _TIME_BUCKETS:
        extra = ""
        if by == "session":
            # A session stays in one project nearly always; its latest one names it.
            # Times as epoch integers: cheaper to compare than TIMESTAMPTZ values.
            extra = (
                "arg_max(project, epoch_us(ts)) AS project, min(epoch_us(ts)) AS first_ts, "
                "max(epoch_us(ts)) AS last_ts, "
            )
        grouped = f"SELECT {_KINDS[by]} AS {by}, {extra}{_SUMS} FROM {table} GROUP BY ALL"
        return (
            f"SELECT * FROM ({grouped}) ORDER BY cost_usd DESC NULLS LAST, "
            f"{' + '.join(TOKEN_KEYS)} DESC, 1"
        )
    span = conn.execute(f"SELECT min(ts), max(ts) FROM {table}", params).fetchone()
    first, last = span if span and span[0] is not None else (datetime.now(UTC),) * 2
    local = local_micros_sql("ts", zone, first, last)
    model = ", coalesce(model, '?') AS model" if by == "day_model" else ""
    days = f"SELECT {local} // {_DAY_US} AS d{model}, {_SUMS} FROM {table} GROUP BY ALL"
    key = "day" if by == "day_model" else by
    keys = f"{key}, model" if model else key
    return (
        f"SELECT {_DAY_LABELS[by]} AS {key}{', model' if model else ''}, {_RESUMS} "
        f"FROM ({days}) GROUP BY ALL ORDER BY {keys}"
    )


# -- tokens and cost -----------------------------------------------------------------------
def usage_report(
    conn: duckdb.DuckDBPyConnection,
    by: str = "day",
    since: date | str | None = None,
    until: date | str | None = None,
    tz: str = "UTC",
) -> dict[str, Any]:
    """Messages, the four token counts, their total and the estimated cost per group.

    `since` and `until` are local days of `tz`, both included. Time buckets come in
    time order; models, projects and sessions costliest first. A message of a model
    the price table does not know has no cost: `unpriced` counts them, so a total that
    leaves them out says so.
    """
    if by not in BY_CHOICES:
        raise ReportError(f"unknown grouping {by!r}; choose one of {', '.join(BY_CHOICES)}")
    zone = check_tz(tz)
    first, last = parse_date(since), parse_date(until)
    if first and last and last < first:
        raise ReportError(f"--until {last} is before --since {first}")
    where, params = ["TRUE"], {}
    if first:
        where.append("ts >= $since")
        params["since"] = day_start(first, zone)
    if last:
        where.append("ts < $until")
        params["until"] = day_start(last + timedelta(days=1), zone)
    sql = _grouping_sql(conn, by, zone, " AND ".join(where), params)
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    rows = []
    for raw in cur.fetchall():
        row: dict[str, Any] = dict(zip(names, raw, strict=True))
        for key in (*TOKEN_KEYS, "messages", "unpriced"):
            row[key] = int(row[key])
        row["tokens"] = sum(row[k] for k in TOKEN_KEYS)
        row["cost_usd"] = None if row["cost_usd"] is None else round(float(row["cost_usd"]), 6)
        for key in ("first_ts", "last_ts"):
            if key in row:
                row[key] = _iso(_from_epoch_us(row[key]))
        rows.append(row)
    total: dict[str, Any] = {k: sum(r[k] for r in rows) for k in (*TOKEN_KEYS, "tokens")}
    total["cost_usd"] = round(sum(r["cost_usd"] or 0.0 for r in rows), 6)
    total["messages"] = sum(r["messages"] for r in rows)
    total["unpriced"] = sum(r["unpriced"] for r in rows)
    return {
        "by": by,
        "tz": tz,
        "since": first.isoformat() if first else None,
        "until": last.isoformat() if last else None,
        "rows": rows,
        "total": total,
    }


# -- waste -----------------------------------------------------------------------------------
# Successive instances of a window reset at least one window length apart (a window
# opens at or after the previous reset), so reset times closer than half a length
# are one instance whose reported reset moved: sources disagree by seconds, and an
# estimate's reset (first message + length) by minutes, before an official one comes.
#
# Instances only ever split between two different reported reset times, so the
# minutes are first summed per (window, reset time): a year of minutes is a million
# rows, its reset times a few thousand, and the windowed part (ordering, `lag`,
# the running count of instances) runs over those few.
_INSTANCES_SQL = f"""
WITH rows AS (
    SELECT "window" AS w, minute, used_pct, resets_at
    FROM limit_series
    WHERE resets_at IS NOT NULL AND minute < resets_at AND {{where}}
), resets AS (
    SELECT w, resets_at, min(minute) AS first_minute, max(minute) AS last_minute,
           count(*) AS minutes, arg_max(used_pct, minute) AS last_pct,
           sum(greatest(0.0, 100.0 - used_pct)) AS area_pct_min,
           CASE WHEN w = '{FIVE_HOUR}' THEN {FIVE_HOUR_SECONDS // 60}
                ELSE {WEEK_SECONDS // 60} END AS len_min
    FROM rows GROUP BY w, resets_at
), marked AS (
    SELECT *, CASE
        WHEN lag(resets_at) OVER (PARTITION BY w ORDER BY resets_at) IS NULL THEN 1
        WHEN resets_at - lag(resets_at) OVER (PARTITION BY w ORDER BY resets_at)
             >= to_minutes(len_min // 2) THEN 1
        ELSE 0 END AS fresh
    FROM resets
), numbered AS (
    SELECT *, sum(fresh) OVER (PARTITION BY w ORDER BY resets_at
                               ROWS UNBOUNDED PRECEDING) AS inst
    FROM marked
)
SELECT w, max(resets_at) AS resets_at, min(first_minute) AS first_minute,
       max(last_minute) AS last_minute, sum(minutes) AS minutes,
       arg_max(last_pct, last_minute) AS last_pct,
       sum(area_pct_min) AS area_pct_min
FROM numbered GROUP BY w, inst ORDER BY w, resets_at
"""

# The whole period per window: every minute of the series counts, including minutes
# with no window open (an estimate of 0% with no reset: nothing used, so everything
# was left), which `idle_minutes` tells apart.
_PERIOD_SQL = """
SELECT "window" AS w, count(*) AS minutes, min(minute) AS first_minute,
       sum(greatest(0.0, 100.0 - used_pct)) AS area_pct_min,
       count(*) FILTER (WHERE resets_at IS NULL OR minute >= resets_at) AS idle_minutes
FROM limit_series WHERE {where} GROUP BY w ORDER BY w
"""


def _window_minutes(window: str) -> int:
    return window_seconds(window) // 60


def _minutes_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() // 60))


def waste_report(
    conn: duckdb.DuckDBPyConnection,
    window: str | None = None,
    since: date | datetime | str | None = None,
    *,
    tz: str = "UTC",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The capacity each window left unused, from the per-minute series `limit_series`.

    `windows`: one row per window instance that ended (its reset is past) since
    `since`: the share unused at its reset (100 minus the last figure before it) and
    the area between the limit and the usage curve over its minutes (%·hours, and in
    window-equivalents: the area of a whole window left unused). `open`: instances
    not yet reset, same figures so far. `total`, per window: the sums over the
    period. Minutes the engine did not run have no row: only covered minutes count,
    and `coverage` says which share of the span they are.
    """
    now = now or datetime.now(UTC)
    now_minute = now.replace(second=0, microsecond=0)
    where, params = ["TRUE"], []
    start: datetime | None = None
    if isinstance(since, datetime):
        start = since
    elif since is not None and since != "":
        day = parse_date(since)  # type: ignore[arg-type]
        assert day is not None
        start = day_start(day, check_tz(tz))
    if start is not None:
        where.append("minute >= ?")
        params.append(start)
    if window:
        where.append('"window" = ?')
        params.append(window)
    clause = " AND ".join(where)
    ended: list[dict[str, Any]] = []
    still_open: list[dict[str, Any]] = []
    per_window: dict[str, dict[str, Any]] = {}
    for w, resets_at, _first, last_min, minutes, last_pct, area in conn.execute(
        _INSTANCES_SQL.format(where=clause), params
    ).fetchall():
        length = _window_minutes(w)
        span_start = resets_at - timedelta(minutes=length)
        if start is not None and start > span_start:
            span_start = start  # the period cuts this instance: expect only its part
        is_ended = resets_at <= now
        span_end = resets_at if is_ended else now_minute + timedelta(minutes=1)
        expected = max(_minutes_between(span_start, span_end), int(minutes))
        row = {
            "window": w,
            "resets_at": _iso(resets_at),
            "unused_at_reset_pct": round(max(0.0, 100.0 - last_pct), 2) if is_ended else None,
            "last_used_pct": round(float(last_pct), 2),
            "last_sample": _iso(last_min),
            "area_pct_hours": round(float(area) / 60, 2),
            "window_equivalents": round(float(area) / (100.0 * length), 4),
            "covered_minutes": int(minutes),
            "expected_minutes": expected,
            "coverage": round(int(minutes) / expected, 4) if expected else None,
        }
        (ended if is_ended else still_open).append(row)
        total = per_window.setdefault(w, _empty_total())
        if is_ended:
            total["windows_ended"] += 1
            total["unused_at_reset_pct"] += row["unused_at_reset_pct"]
    for w, minutes, first_min, area, idle in conn.execute(
        _PERIOD_SQL.format(where=clause), params
    ).fetchall():
        total = per_window.setdefault(w, _empty_total())
        length = _window_minutes(w)
        span_start = start if start is not None else first_min
        expected = max(_minutes_between(span_start, now_minute + timedelta(minutes=1)), minutes)
        total.update(
            area_pct_hours=round(float(area) / 60, 2),
            window_equivalents=round(float(area) / (100.0 * length), 4),
            covered_minutes=int(minutes),
            idle_minutes=int(idle),
            expected_minutes=expected,
            coverage=round(int(minutes) / expected, 4) if expected else None,
        )
    for total in per_window.values():
        n = total["windows_ended"]
        total["unused_at_reset_pct"] = round(total["unused_at_reset_pct"], 2)
        # Whole windows' worth of capacity lost at resets (100% unused = 1).
        total["unused_at_reset_windows"] = round(total["unused_at_reset_pct"] / 100.0, 4)
        total["unused_at_reset_mean_pct"] = (
            round(total["unused_at_reset_pct"] / n, 2) if n else None
        )
    return {
        "window": window,
        "since": start.isoformat() if start else None,
        "now": now.astimezone(UTC).isoformat(),
        "windows": ended,
        "open": still_open,
        "total": dict(sorted(per_window.items())),
    }


def _empty_total() -> dict[str, Any]:
    return {
        "windows_ended": 0,
        "unused_at_reset_pct": 0.0,
        "area_pct_hours": 0.0,
        "window_equivalents": 0.0,
        "covered_minutes": 0,
        "idle_minutes": 0,
        "expected_minutes": 0,
        "coverage": None,
    }


# -- the series ---------------------------------------------------------------------------------
def usage_series(
    conn: duckdb.DuckDBPyConnection,
    hours: float = 24.0,
    window: str | None = None,
    *,
    step: int = 1,
    buckets: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """`limit_series` points of the last `hours`, oldest first; `step` keeps one minute
    in `step` (a week of four windows is 40k points: a plot needs fewer).

    With `buckets`, the span is cut into that many equal slices (a plot's columns)
    and each window has one point per slice it has minutes in: the highest % of the
    slice, at the slice's middle, so a plot of that many columns over the same span
    puts it in the same column. Done in SQL: a year of minutes never leaves DuckDB.
    """
    now = now or datetime.now(UTC)
    start = now - timedelta(hours=hours)
    if buckets:
        return _bucketed_series(conn, hours, window, buckets, start, now)
    sql = (
        'SELECT minute, "window", used_pct, source FROM limit_series WHERE minute >= ?'
        " AND (epoch(minute)::BIGINT // 60) % ? = 0"
    )
    params: list[Any] = [start, max(1, step)]
    if window:
        sql += ' AND "window" = ?'
        params.append(window)
    sql += ' ORDER BY minute, "window"'
    points = [
        {"minute": _iso(m), "window": w, "used_pct": round(float(p), 2), "source": s}
        for m, w, p, s in conn.execute(sql, params).fetchall()
    ]
    return {"hours": hours, "window": window, "step": max(1, step), "points": points}


def _bucketed_series(
    conn: duckdb.DuckDBPyConnection,
    hours: float,
    window: str | None,
    buckets: int,
    start: datetime,
    now: datetime,
) -> dict[str, Any]:
    span_us = int((now - start) / timedelta(microseconds=1))
    # The slice of a minute: as the plot counts it (offset / span × count, floored).
    slice_sql = f"least(?, (epoch_us(minute) - ?) * ? // {span_us})"
    sql = (
        f'SELECT {slice_sql} AS i, "window", max(used_pct), arg_max(source, used_pct) '
        "FROM limit_series WHERE minute >= ? AND minute <= ?"
    )
    start_us = int((start - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
    params: list[Any] = [buckets - 1, start_us, buckets, start, now]
    if window:
        sql += ' AND "window" = ?'
        params.append(window)
    sql += ' GROUP BY ALL ORDER BY i, "window"'
    width = (now - start) / buckets
    points = [
        {
            "minute": _iso(start + width * (int(i) + 0.5)),
            "window": w,
            "used_pct": round(float(p), 2),
            "source": s,
        }
        for i, w, p, s in conn.execute(sql, params).fetchall()
    ]
    return {"hours": hours, "window": window, "step": 1, "buckets": buckets, "points": points}


# -- export --------------------------------------------------------------------------------------
def podium_tables(conn: duckdb.DuckDBPyConnection) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = 'main' "
        "AND NOT temporary ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def export_parquet(
    conn: duckdb.DuckDBPyConnection,
    folder: Path | str,
    force: bool = False,
    tables: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write every table to `folder/<table>.parquet` (DuckDB's own writer).

    The folder is made private (0700): the log holds prompts' metadata and paths.
    Existing files are refused unless `force`; each file is written under a
    temporary name and renamed, so a failed export never leaves half a file where an
    older complete one was.
    """
    target = Path(folder).expanduser()
    if not target.is_absolute():
        raise ReportError(f"the export directory must be an absolute path, not {folder}")
    names = list(tables) if tables is not None else podium_tables(conn)
    if target.exists() and not target.is_dir():
        raise ReportError(f"{target} exists and is not a directory")
    clashes = [n for n in names if (target / f"{n}.parquet").exists()]
    if clashes and not force:
        shown = ", ".join(f"{n}.parquet" for n in clashes[:5])
        more = f" and {len(clashes) - 5} more" if len(clashes) > 5 else ""
        raise ReportFailed(f"{target} already has {shown}{more}; use --force to overwrite")
    try:
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ReportFailed(f"cannot create {target}: {exc.strerror or exc}") from None
    written = []
    # One transaction: the files are one snapshot of the log, even while it grows.
    conn.execute("BEGIN TRANSACTION")
    try:
        for name in names:
            written.append(_export_table(conn, target, name))
    finally:
        conn.execute("ROLLBACK")  # it only read
    return {"dir": str(target), "tables": written}


def _export_table(conn: duckdb.DuckDBPyConnection, target: Path, name: str) -> dict[str, Any]:
    path = target / f"{name}.parquet"
    partial = target / f".{name}.parquet.partial"
    quoted_name = '"' + name.replace('"', '""') + '"'
    literal = "'" + str(partial).replace("'", "''") + "'"
    try:
        conn.execute(f"COPY {quoted_name} TO {literal} (FORMAT parquet)")
        partial.chmod(0o600)
        os.replace(partial, path)
    except (duckdb.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise ReportFailed(f"cannot write {path}: {exc}") from None
    row = conn.execute(f"SELECT count(*) FROM {quoted_name}").fetchone()
    return {"table": name, "path": str(path), "rows": int(row[0]) if row else 0}
