"""Reports over a real DuckDB file: tokens and cost by time (in a zone, across midnight
and DST) and by kind, waste per window instance from the per-minute series, Parquet
export. Rows are crafted straight into `usage_messages` and `limit_series`."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from collectors.reports import (
    ReportError,
    export_parquet,
    local_tz_name,
    usage_report,
    usage_series,
    waste_report,
)
from collectors.store import open_store

SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-5-20251101"


@pytest.fixture
def conn(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    c = open_store(tmp_path / "podium.duckdb")
    yield c
    c.close()


_n = 0


def message(
    conn: duckdb.DuckDBPyConnection,
    ts: datetime,
    *,
    model: str | None = SONNET,
    session: str = "s1",
    project: str = "/p/a",
    tokens: tuple[int, int, int, int] = (10, 1, 0, 0),
    cost: float | None = 0.01,
) -> None:
    global _n
    _n += 1
    inp, out, cw, cr = tokens
    conn.execute(
        "INSERT INTO usage_messages (dedupe_key, ts, claude_session_id, project, model, "
        "input_tokens, output_tokens, cache_creation_tokens, cache_creation_1h_tokens, "
        "cache_read_tokens, cost_usd, is_sidechain, source_path) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, false, 'x.jsonl')",
        [f"m:{_n}", ts, session, project, model, inp, out, cw, cr, cost],
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- tokens and cost ----------------------------------------------------------------------
def test_days_are_local_days_across_midnight_and_dst(conn):
    # Paris: CET (UTC+1) until 2026-03-29 01:00 UTC, then CEST (UTC+2).
    message(conn, utc(2026, 3, 28, 22, 30))  # 23:30 CET, the 28th
    message(conn, utc(2026, 3, 28, 23, 30))  # 00:30 CET, the 29th
    message(conn, utc(2026, 3, 29, 21, 59))  # 23:59 CEST, still the 29th
    message(conn, utc(2026, 3, 29, 22, 30))  # 00:30 CEST, the 30th
    paris = usage_report(conn, "day", tz="Europe/Paris")
    assert [(r["day"], r["messages"]) for r in paris["rows"]] == [
        ("2026-03-28", 1),
        ("2026-03-29", 2),
        ("2026-03-30", 1),
    ]
    in_utc = usage_report(conn, "day", tz="UTC")
    assert [(r["day"], r["messages"]) for r in in_utc["rows"]] == [
        ("2026-03-28", 2),
        ("2026-03-29", 2),
    ]
    # since/until are local days, both included: the 29th in Paris is 23 hours long.
    only = usage_report(conn, "day", since="2026-03-29", until="2026-03-29", tz="Europe/Paris")
    assert [(r["day"], r["messages"]) for r in only["rows"]] == [("2026-03-29", 2)]
    assert only["total"]["messages"] == 2


def test_weeks_start_on_monday_and_months_in_the_zone(conn):
    message(conn, utc(2026, 3, 29, 21, 0))  # Sunday 23:00 CEST: week of Monday the 23rd
    message(conn, utc(2026, 3, 29, 22, 30))  # Monday 00:30 CEST: the next week
    message(conn, utc(2026, 3, 31, 22, 30))  # 00:30 on April 1st in Paris
    weeks = usage_report(conn, "week", tz="Europe/Paris")["rows"]
    assert [(r["week"], r["messages"]) for r in weeks] == [("2026-03-23", 1), ("2026-03-30", 2)]
    months = usage_report(conn, "month", tz="Europe/Paris")["rows"]
    assert [(r["month"], r["messages"]) for r in months] == [("2026-03", 2), ("2026-04", 1)]
    in_utc = usage_report(conn, "month", tz="UTC")["rows"]
    assert [(r["month"], r["messages"]) for r in in_utc] == [("2026-03", 3)]


def test_token_counts_totals_and_cost(conn):
    at = utc(2026, 5, 1, 12)
    message(conn, at, tokens=(100, 20, 30, 400), cost=0.5)
    message(conn, at, tokens=(1, 2, 3, 4), cost=0.25, model=OPUS)
    message(conn, at, tokens=(5, 5, 0, 0), cost=None, model="mystery-model")
    report = usage_report(conn, "day", tz="UTC")
    (row,) = report["rows"]
    assert row == {
        "day": "2026-05-01",
        "input_tokens": 106,
        "output_tokens": 27,
        "cache_creation_tokens": 33,
        "cache_read_tokens": 404,
        "tokens": 570,
        "cost_usd": 0.75,
        "messages": 3,
        "unpriced": 1,
    }
    assert report["total"]["tokens"] == 570 and report["total"]["cost_usd"] == 0.75
    assert report["total"]["unpriced"] == 1


def test_by_model_project_and_session(conn):
    at = utc(2026, 5, 1, 12)
    message(conn, at, model=SONNET, session="s1", project="/p/a", cost=0.1)
    message(conn, at + timedelta(hours=1), model=OPUS, session="s1", project="/p/a", cost=2.0)
    message(conn, at, model=SONNET, session="s2", project="/p/b", cost=0.3)
    message(conn, at, model=None, session="s3", project="/p/b", cost=None)
    models = usage_report(conn, "model")["rows"]
    # Costliest first; a message without a model is '?', its cost unknown: last.
    assert [(r["model"], r["messages"], r["cost_usd"]) for r in models] == [
        (OPUS, 1, 2.0),
        (SONNET, 2, 0.4),
        ("?", 1, None),
    ]
    projects = usage_report(conn, "project")["rows"]
    assert [(r["project"], r["messages"]) for r in projects] == [("/p/a", 2), ("/p/b", 2)]
    sessions = usage_report(conn, "session")["rows"]
    first = sessions[0]
    assert (first["session"], first["project"], first["messages"]) == ("s1", "/p/a", 2)
    assert first["first_ts"] == at.isoformat()
    assert first["last_ts"] == (at + timedelta(hours=1)).isoformat()
    assert [r["session"] for r in sessions] == ["s1", "s2", "s3"]
    day_model = usage_report(conn, "day_model")["rows"]
    assert {(r["day"], r["model"]) for r in day_model} == {
        ("2026-05-01", SONNET),
        ("2026-05-01", OPUS),
        ("2026-05-01", "?"),
    }


def test_bad_arguments_are_one_line_errors(conn):
    with pytest.raises(ReportError, match="unknown time zone 'Mars/Olympus'"):
        usage_report(conn, "day", tz="Mars/Olympus")
    with pytest.raises(ReportError, match="unknown grouping"):
        usage_report(conn, "hour")
    with pytest.raises(ReportError, match="bad date"):
        usage_report(conn, "day", since="yesterday")
    with pytest.raises(ReportError, match="before"):
        usage_report(conn, "day", since="2026-05-02", until="2026-05-01")


def test_an_empty_log_is_an_empty_report(conn):
    report = usage_report(conn, "session")
    assert report["rows"] == [] and report["total"]["tokens"] == 0


def test_local_tz_name_is_a_zone(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    assert local_tz_name() == "America/New_York"
    monkeypatch.setenv("TZ", "not a zone")
    assert local_tz_name()  # falls back to /etc/localtime or UTC, never raises


# -- waste ------------------------------------------------------------------------------------
def series(
    conn: duckdb.DuckDBPyConnection,
    start: datetime,
    minutes: int,
    pct: Any,
    resets_at: datetime | None,
    window: str = "five_hour",
    source: str = "statusline",
) -> None:
    rows = [
        (start + timedelta(minutes=i), window, pct(i) if callable(pct) else pct, resets_at, source)
        for i in range(minutes)
    ]
    conn.executemany(
        'INSERT INTO limit_series (minute, "window", used_pct, resets_at, source, age_s) '
        "VALUES (?, ?, ?, ?, ?, 0)",
        rows,
    )


R1 = utc(2026, 11, 28, 15)  # a full window, 10:00-15:00, every minute logged
R2 = utc(2026, 11, 28, 20, 30)  # 15:30-20:30, with a gap (engine stopped)
R3 = utc(2026, 11, 29, 2)  # still open at NOW
NOW = utc(2026, 11, 28, 22, 0, 30)


@pytest.fixture
def waste_log(conn: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    series(conn, R1 - timedelta(hours=5), 300, lambda i: i * 0.2, R1)  # 0 .. 59.8 %
    series(conn, R1, 30, 0.0, None, source="estimate")  # no window open: idle
    series(conn, R2 - timedelta(hours=5), 120, 30.0, R2)  # 15:30-17:29
    # 19:30-20:29: another source, its reset 40 s off: still the same instance.
    series(conn, R2 - timedelta(hours=1), 60, 30.0, R2 + timedelta(seconds=40), source="endpoint")
    series(conn, utc(2026, 11, 28, 21), 61, 10.0, R3)  # 21:00-22:00, open
    series(conn, utc(2026, 11, 28, 21), 61, 50.0, utc(2026, 12, 3), window="seven_day")
    return conn


def test_waste_per_ended_window_with_a_gap_and_an_open_one(waste_log):
    report = waste_report(waste_log, "five_hour", now=NOW)
    first, second = report["windows"]
    assert first == {
        "window": "five_hour",
        "resets_at": R1.isoformat(),
        "unused_at_reset_pct": 40.2,
        "last_used_pct": 59.8,
        "last_sample": (R1 - timedelta(minutes=1)).isoformat(),
        # sum over i of (100 - 0.2 i), i < 300 = 21030 %·min
        "area_pct_hours": 350.5,
        "window_equivalents": 0.701,
        "covered_minutes": 300,
        "expected_minutes": 300,
        "coverage": 1.0,
    }
    assert second["resets_at"] == (R2 + timedelta(seconds=40)).isoformat()
    assert second["unused_at_reset_pct"] == 70.0
    assert (second["covered_minutes"], second["expected_minutes"]) == (180, 300)
    assert second["coverage"] == 0.6
    assert second["area_pct_hours"] == 210.0  # only covered minutes: 180 x 70 %
    assert second["window_equivalents"] == 0.42
    (still_open,) = report["open"]
    assert still_open["resets_at"] == R3.isoformat()
    assert still_open["unused_at_reset_pct"] is None
    assert (still_open["covered_minutes"], still_open["expected_minutes"]) == (61, 61)
    total = report["total"]["five_hour"]
    assert total["windows_ended"] == 2
    assert total["unused_at_reset_pct"] == 110.2
    assert total["unused_at_reset_windows"] == 1.102
    assert total["unused_at_reset_mean_pct"] == 55.1
    # The period: both windows, the idle half hour (100% unused) and the open hour.
    assert total["area_pct_hours"] == round((21030 + 12600 + 3000 + 61 * 90) / 60, 2)
    assert total["window_equivalents"] == round((21030 + 12600 + 3000 + 61 * 90) / 30000, 4)
    assert (total["covered_minutes"], total["idle_minutes"]) == (571, 30)
    assert total["expected_minutes"] == 12 * 60 + 1  # 10:00 to 22:00 included
    assert set(report["total"]) == {"five_hour"}


def test_waste_since_cuts_windows_and_all_windows_by_default(waste_log):
    report = waste_report(waste_log, since=utc(2026, 11, 28, 12), now=NOW)
    first = report["windows"][0]
    assert (first["covered_minutes"], first["expected_minutes"], first["coverage"]) == (
        180,
        180,
        1.0,
    )
    assert set(report["total"]) == {"five_hour", "seven_day"}
    week = report["total"]["seven_day"]
    assert week["windows_ended"] == 0 and week["unused_at_reset_mean_pct"] is None
    assert week["window_equivalents"] == round(61 * 50 / (100 * 7 * 24 * 60), 4)
    # A date is a local day of the zone given.
    by_day = waste_report(waste_log, "five_hour", since=date(2026, 11, 28), tz="UTC", now=NOW)
    assert len(by_day["windows"]) == 2


def test_waste_of_an_empty_series(conn):
    report = waste_report(conn, now=NOW)
    assert report == {**report, "windows": [], "open": [], "total": {}}


def test_series_points(waste_log):
    out = usage_series(waste_log, hours=2, window="seven_day", now=NOW)
    assert len(out["points"]) == 61
    assert out["points"][0] == {
        "minute": utc(2026, 11, 28, 21).isoformat(),
        "window": "seven_day",
        "used_pct": 50.0,
        "source": "statusline",
    }
    thinned = usage_series(waste_log, hours=2, step=10, now=NOW)
    assert {p["minute"][14:16] for p in thinned["points"]} <= {"00", "10", "20", "30", "40", "50"}


# -- export ------------------------------------------------------------------------------------
def test_export_writes_readable_parquet_and_refuses_to_overwrite(conn, tmp_path: Path):
    message(conn, utc(2026, 5, 1, 12), tokens=(7, 8, 9, 10))
    series(conn, utc(2026, 5, 1, 12), 3, 5.0, utc(2026, 5, 1, 15))
    out = tmp_path / "export" / "inner"
    result = export_parquet(conn, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    written = {t["table"]: t for t in result["tables"]}
    assert {"usage_messages", "limit_series", "sessions", "schema_migrations"} <= set(written)
    assert written["limit_series"]["rows"] == 3
    reader = duckdb.connect()
    rows = reader.execute(
        f"SELECT input_tokens, cache_read_tokens FROM read_parquet('{out}/usage_messages.parquet')"
    ).fetchall()
    assert rows == [(7, 10)]
    count = reader.execute(f"SELECT count(*) FROM read_parquet('{out}/limit_series.parquet')")
    assert count.fetchone() == (3,)
    assert not list(out.glob(".*partial"))
    with pytest.raises(ReportError, match=r"already has .*--force"):
        export_parquet(conn, out)
    message(conn, utc(2026, 5, 2, 12))
    again = export_parquet(conn, out, force=True)
    assert {t["table"]: t["rows"] for t in again["tables"]}["usage_messages"] == 2
    with pytest.raises(ReportError, match="absolute"):
        export_parquet(conn, "relative/dir")


def test_the_cli_offers_exactly_the_groupings_the_sql_has() -> None:
    from collectors import reports

    # The CLI checks `--by` against `report_args` without importing DuckDB.
    assert {*reports._DAY_LABELS, *reports._KINDS} == set(reports.BY_CHOICES)
    assert len(reports.BY_CHOICES) == len(reports._DAY_LABELS) + len(reports._KINDS)


def test_bucketed_series_is_what_a_plot_of_that_width_shows(conn) -> None:
    """Per slice, the highest % of each window: the columns a plot of `buckets`
    columns draws from every minute, drawn from far fewer points."""
    import random

    from tui.widgets.usage_plot import PlotData, columns

    rng = random.Random(5)
    now = NOW + timedelta(seconds=17)
    start = now - timedelta(hours=168)
    minutes = [NOW - timedelta(minutes=m) for m in range(0, 168 * 60 + 30)]
    rows = [
        (m, w, round(rng.uniform(0, 100), 2))
        for m in minutes
        for w in ("five_hour", "seven_day")
        if rng.random() < 0.9  # gaps: minutes the engine did not run
    ]
    conn.execute(
        'INSERT INTO limit_series (minute, "window", used_pct, source) '
        "SELECT unnest(?::TIMESTAMPTZ[]), unnest(?::VARCHAR[]), unnest(?::DOUBLE[]), 'estimate'",
        [list(c) for c in zip(*rows, strict=True)],
    )
    for width in (37, 137, 1000):
        out = usage_series(conn, hours=168, buckets=width, now=now)
        assert out["buckets"] == width
        for w in ("five_hour", "seven_day"):
            raw = [(m, p) for m, ww, p in rows if ww == w]
            sliced = [
                (datetime.fromisoformat(p["minute"]), p["used_pct"])
                for p in out["points"]
                if p["window"] == w
            ]
            assert len(sliced) <= width
            every_minute = columns(PlotData(raw, start, now), width)
            # As the screen draws them: each point stands for its slice.
            cut = PlotData(sliced, start, now, slice=(now - start) / width)
            assert columns(cut, width) == every_minute
            assert columns(PlotData(sliced, start, now), width) == every_minute
            # Read for a narrower terminal than the plot: steps, no gaps.
            wider = columns(cut, width * 3 + 1)
            assert None not in wider[3:-3]


# The instances query as it was, row by row over every minute: the reference.
_ROW_BY_ROW = """
WITH rows AS (
    SELECT "window" AS w, minute, used_pct, resets_at,
           CASE WHEN "window" = 'five_hour' THEN 300 ELSE 10080 END AS len_min
    FROM limit_series WHERE resets_at IS NOT NULL AND minute < resets_at
), marked AS (
    SELECT *, CASE
        WHEN lag(resets_at) OVER (PARTITION BY w ORDER BY resets_at, minute) IS NULL THEN 1
        WHEN resets_at - lag(resets_at) OVER (PARTITION BY w ORDER BY resets_at, minute)
             >= to_minutes(len_min // 2) THEN 1
        ELSE 0 END AS fresh
    FROM rows
), numbered AS (
    SELECT *, sum(fresh) OVER (PARTITION BY w ORDER BY resets_at, minute
                               ROWS UNBOUNDED PRECEDING) AS inst
    FROM marked
)
SELECT w, max(resets_at), min(minute), max(minute), count(*), arg_max(used_pct, minute),
       sum(greatest(0.0, 100.0 - used_pct))
FROM numbered GROUP BY w, inst ORDER BY 1, 2
"""


def test_instances_summed_per_reset_time_equal_the_row_by_row_query(conn) -> None:
    """Reset times that move by seconds (sources) and minutes (estimates) within one
    instance, gaps, minutes past their reset, minutes with no window open."""
    import random

    from collectors.reports import _INSTANCES_SQL

    rng = random.Random(9)
    rows = []
    for window, length in (("five_hour", 300), ("seven_day", 10080), ("seven_day_opus", 10080)):
        reset = utc(2026, 1, 1) + timedelta(minutes=rng.randrange(length))
        minute = reset - timedelta(minutes=length)
        end = utc(2026, 3, 1)
        pct = 0.0
        while minute < end:
            if minute >= reset:  # the next instance: at least one length later
                reset = minute + timedelta(minutes=length + rng.choice((0, 0, 37, 600)))
                pct = 0.0
            pct = min(100.0, pct + rng.choice((0.0, 0.0, 0.37, 1.1)))
            roll = rng.random()
            reported = reset + timedelta(seconds=rng.choice((0, 0, 3, -4)))
            if roll < 0.05:
                reported = reset + timedelta(minutes=rng.randrange(-90, 90))  # an estimate
            if roll < 0.2 and minute.minute % 7 == 0:
                minute += timedelta(minutes=rng.randrange(1, 200))  # the engine was off
                continue
            rows.append((minute, window, round(pct, 2), None if roll > 0.97 else reported))
            minute += timedelta(minutes=rng.choice((1, 1, 1, 3)))
    conn.execute(
        'INSERT INTO limit_series (minute, "window", used_pct, resets_at, source) '
        "SELECT unnest(?::TIMESTAMPTZ[]), unnest(?::VARCHAR[]), unnest(?::DOUBLE[]), "
        "unnest(?::TIMESTAMPTZ[]), 'estimate'",
        [list(c) for c in zip(*rows, strict=True)],
    )
    expected = conn.execute(_ROW_BY_ROW).fetchall()
    got = conn.execute(_INSTANCES_SQL.format(where="TRUE")).fetchall()
    assert len(expected) > 100
    assert [r[:6] for r in got] == [r[:6] for r in expected]
    # Sums of doubles, added in another order: equal to far below the 0.01 shown.
    assert [r[6] for r in got] == pytest.approx([r[6] for r in expected], rel=1e-12)
