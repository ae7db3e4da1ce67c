"""Local days without `timezone()` per row: the report's day buckets (offsets from
`zone_offsets`, grouped by day number, then labelled and regrouped) equal the plain
per-row query that asks DuckDB's `timezone()` for every message, on random messages
across DST changes and in zones with odd offsets."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

from collectors.reports import usage_report
from collectors.store import open_store
from collectors.zone_offsets import offsets

ZONES = [
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "America/St_Johns",  # -3:30, with DST
    "Asia/Kathmandu",  # +5:45
    "Asia/Kolkata",  # +5:30
    "Australia/Lord_Howe",  # +10:30, a 30-minute DST
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Apia",  # skipped 2011-12-30 whole: a 24-hour change
    "Africa/Casablanca",  # DST paused for Ramadan: changes weeks apart
    "Europe/Dublin",  # "negative DST" in the tz database
]

# The old query, row by row: what a report said before, the reference.
_LOCAL = "timezone($tz, ts)"
_REFERENCE_KEYS = {
    "day": f"strftime(CAST({_LOCAL} AS DATE), '%Y-%m-%d') AS day",
    "week": f"strftime(CAST(date_trunc('week', {_LOCAL}) AS DATE), '%Y-%m-%d') AS week",
    "month": f"strftime({_LOCAL}, '%Y-%m') AS month",
    "day_model": (
        f"strftime(CAST({_LOCAL} AS DATE), '%Y-%m-%d') AS day, coalesce(model, '?') AS model"
    ),
}


def reference(conn: duckdb.DuckDBPyConnection, by: str, tz: str) -> list[tuple[Any, ...]]:
    rows = conn.execute(
        f"SELECT {_REFERENCE_KEYS[by]}, sum(input_tokens), sum(output_tokens), "
        "sum(cache_creation_tokens), sum(cache_read_tokens), "
        "sum(CAST(cost_usd AS DECIMAL(18, 12))), count(*), "
        "count(*) FILTER (WHERE cost_usd IS NULL) "
        "FROM usage_messages GROUP BY ALL ORDER BY ALL",
        {"tz": tz},
    ).fetchall()
    keys = 2 if by == "day_model" else 1
    return [
        (
            *r[:keys],
            *(int(x) for x in r[keys : keys + 4]),
            None if r[keys + 4] is None else round(float(r[keys + 4]), 6),
            int(r[keys + 5]),
            int(r[keys + 6]),
        )
        for r in rows
    ]


def report_rows(conn: duckdb.DuckDBPyConnection, by: str, tz: str) -> list[tuple[Any, ...]]:
    keys = ["day", "model"] if by == "day_model" else [by]
    fields = [
        "input_tokens",
        "output_tokens",
        "cache_creation_tokens",
        "cache_read_tokens",
        "cost_usd",
        "messages",
        "unpriced",
    ]
    rows = usage_report(conn, by, tz=tz)["rows"]
    return sorted(tuple(r[k] for k in [*keys, *fields]) for r in rows)


def changes(zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    return [at for at, _ in offsets(zone, start, end)[1:]]


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """Random messages over 2010–2027, with some a microsecond either side of every
    offset change of every zone tested (where a bucket is most easily wrong)."""
    conn = open_store(Path(tmp_path_factory.mktemp("zones")) / "podium.duckdb")
    rng = random.Random(14)
    start, end = datetime(2010, 1, 1, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC)
    span = int((end - start).total_seconds())
    times = [start + timedelta(seconds=rng.randrange(span)) for _ in range(4000)]
    for name in ZONES:
        for at in changes(ZoneInfo(name), start, end):
            times += [at - timedelta(microseconds=1), at, at + timedelta(microseconds=1)]
    models = ["claude-sonnet-4-5", "claude-opus-4-5", None]
    rows = [
        [
            f"m:{i}",
            ts,
            f"s{rng.randrange(30)}",
            f"/p/{rng.randrange(5)}",
            rng.choice(models),
            *(rng.randrange(10_000) for _ in range(4)),
            None if rng.random() < 0.05 else rng.random() * 3,
        ]
        for i, ts in enumerate(times)
    ]
    columns = list(zip(*rows, strict=True))
    conn.execute(
        "INSERT INTO usage_messages (dedupe_key, ts, claude_session_id, project, model, "
        "input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, cost_usd, "
        "cache_creation_1h_tokens, is_sidechain, source_path) "
        "SELECT unnest(?::VARCHAR[]), unnest(?::TIMESTAMPTZ[]), unnest(?::VARCHAR[]), "
        "unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::BIGINT[]), unnest(?::BIGINT[]), "
        "unnest(?::BIGINT[]), unnest(?::BIGINT[]), unnest(?::DOUBLE[]), 0, false, 'x'",
        [list(c) for c in columns],
    )
    yield conn
    conn.close()


# DuckDB's ICU has its own copy of the tz database: for Casablanca it stops
# predicting Morocco's Ramadan changes after 2026-09 (it says UTC+0 where the
# system's tzdata, which zoneinfo and `--since` read, says UTC+1). There the
# reference is Python's own per-row answer (below), not ICU's.
ICU_DIFFERS = {"Africa/Casablanca"}


@pytest.mark.parametrize("tz", sorted(set(ZONES) - ICU_DIFFERS))
@pytest.mark.parametrize("by", ["day", "week", "month", "day_model"])
def test_buckets_equal_the_per_row_query(log: duckdb.DuckDBPyConnection, by: str, tz: str) -> None:
    expected = sorted(reference(log, by, tz))
    assert len(expected) > 50
    assert report_rows(log, by, tz) == expected


@pytest.mark.parametrize("tz", ZONES)
def test_days_equal_zoneinfo_row_by_row(log: duckdb.DuckDBPyConnection, tz: str) -> None:
    zone = ZoneInfo(tz)
    counts: dict[str, int] = {}
    for (ts,) in log.execute("SELECT ts FROM usage_messages").fetchall():
        day = ts.astimezone(zone).date().isoformat()
        counts[day] = counts.get(day, 0) + 1
    got = {r["day"]: r["messages"] for r in usage_report(log, "day", tz=tz)["rows"]}
    assert got == counts


def test_every_change_is_found_to_the_microsecond() -> None:
    for name in ZONES:
        zone = ZoneInfo(name)
        found = changes(zone, datetime(2010, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
        for at in found:
            before = (at - timedelta(microseconds=1)).astimezone(zone).utcoffset()
            assert before != at.astimezone(zone).utcoffset(), (name, at)
    paris = changes(ZoneInfo("Europe/Paris"), datetime(2026, 1, 1, tzinfo=UTC),
                    datetime(2027, 1, 1, tzinfo=UTC))  # fmt: skip
    assert paris == [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)]
    # Apia skipped a whole day: one change of 24 hours.
    apia = offsets(ZoneInfo("Pacific/Apia"), datetime(2011, 12, 1, tzinfo=UTC),
                   datetime(2012, 1, 15, tzinfo=UTC))  # fmt: skip
    assert [off for _, off in apia] == [timedelta(hours=-10), timedelta(hours=14)]


def test_a_zone_with_no_change_in_the_span_needs_no_case() -> None:
    kathmandu = offsets(ZoneInfo("Asia/Kathmandu"), datetime(2026, 1, 1, tzinfo=UTC),
                        datetime(2026, 12, 31, tzinfo=UTC))  # fmt: skip
    assert kathmandu == [(datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=5, minutes=45))]


def test_since_and_until_are_local_days_in_the_new_buckets(log: duckdb.DuckDBPyConnection) -> None:
    # Lord Howe changes by 30 minutes on 2026-04-05 (02:00 local): both ends are local.
    report = usage_report(log, "day", since="2026-04-04", until="2026-04-06",
                          tz="Australia/Lord_Howe")  # fmt: skip
    full = {r["day"]: r for r in usage_report(log, "day", tz="Australia/Lord_Howe")["rows"]}
    assert [r["day"] for r in report["rows"]] == [
        d for d in ("2026-04-04", "2026-04-05", "2026-04-06") if d in full
    ]
    for row in report["rows"]:
        assert row == full[row["day"]]
