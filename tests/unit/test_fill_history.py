"""The live fill forecast reads the human's use from a real DuckDB usage log, and
leaves podium's own background runs out of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from collectors.limits import TOKEN_WEIGHTS
from collectors.store import open_store
from sessions.fill.history import MINUTE, LogForecast, forecast_from_log, human_minutes

# Thursday 2026-11-26, 09:00 UTC; yesterday was a weekday too.
NOW = datetime(2026, 11, 26, 9, 0, 20, tzinfo=UTC)
FIVE, SEVEN = 100_000.0, 1_000_000.0
OUT = TOKEN_WEIGHTS["output"]


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = open_store(tmp_path / "podium.duckdb")
    yield c
    c.close()


def _message(conn: duckdb.DuckDBPyConnection, ts: datetime, session: str, weighted: float) -> None:
    key = f"m:{session}:{ts.isoformat()}"
    conn.execute(
        "INSERT INTO usage_messages (dedupe_key, ts, claude_session_id, input_tokens, "
        "output_tokens, cache_creation_tokens, cache_creation_1h_tokens, cache_read_tokens, "
        "is_sidechain, source_path) VALUES (?, ?, ?, 0, ?, 0, 0, 0, false, 'x.jsonl')",
        [key, ts, session, round(weighted / OUT)],
    )


def _background_run(conn: duckdb.DuckDBPyConnection, session: str) -> None:
    conn.execute(
        "INSERT INTO queue_runs (task_id, attempt, state, started_at, claude_session_id) "
        "VALUES (1, 1, 'done', ?, ?)",
        [NOW - timedelta(days=1), session],
    )


def _hour_of_use(conn: duckdb.DuckDBPyConnection, start: datetime, session: str, per_min: float):
    for i in range(60):
        _message(conn, start + timedelta(minutes=i, seconds=5), session, per_min)


def test_human_minutes_leave_background_runs_out(conn: duckdb.DuckDBPyConnection) -> None:
    yesterday_ten = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    _hour_of_use(conn, yesterday_ten, "human", 100 * OUT)
    _hour_of_use(conn, yesterday_ten, "fill", 5000 * OUT)
    _background_run(conn, "fill")
    since = yesterday_ten - timedelta(minutes=30)
    used = human_minutes(conn, since, NOW)
    assert sorted(used) == list(range(30, 90))  # by minute after `since`, [since, until)
    assert set(used.values()) == {100 * OUT}


def test_the_next_hours_follow_yesterday_and_now_is_the_last_quarter_hour(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    # Yesterday 10:00–11:00 the person spent 6% of a 5-hour window; fill spent far more.
    _hour_of_use(conn, datetime(2026, 11, 25, 10, 0, tzinfo=UTC), "human", 100 * OUT)
    _hour_of_use(conn, datetime(2026, 11, 25, 10, 0, tzinfo=UTC), "fill", 5000 * OUT)
    _background_run(conn, "fill")
    # This morning: busy for the last ten minutes.
    for i in range(10):
        _message(conn, NOW - timedelta(minutes=10 - i), "human2", 150 * OUT)
    week_reset = NOW + timedelta(days=2)
    forecast, minute, reset = forecast_from_log(conn, NOW, UTC, FIVE, SEVEN, week_reset)
    human = forecast.human_use(minute, NOW.replace(second=0), 2, reset)
    assert human.forecast_pct_next_hours == pytest.approx(100 * 60 * 100 * OUT / FIVE)
    assert human.pct_per_hour_now == pytest.approx(100 * 10 * 150 * OUT * 4 / FIVE)
    assert human.active_sessions == 2
    # The week opened five days ago: both hours of use are in it, fill's are not.
    used = 60 * 100 * OUT + 10 * 150 * OUT
    assert human.week_used_pct == pytest.approx(100 * used / SEVEN)
    assert human.forecast_week_pct > 0  # the 10:00 hour comes round again before the reset


def test_without_a_known_weekly_reset_nothing_of_the_week_is_counted_as_used(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    _hour_of_use(conn, datetime(2026, 11, 25, 10, 0, tzinfo=UTC), "human", 100 * OUT)
    forecast, minute, reset = forecast_from_log(conn, NOW, UTC, FIVE, SEVEN, None)
    assert reset == NOW.replace(second=0) + timedelta(days=7)
    human = forecast.human_use(minute, NOW.replace(second=0), 0, reset)
    assert human.week_used_pct == 0
    assert human.forecast_pct_next_hours > 0


def test_an_empty_log_forecasts_nothing(conn: duckdb.DuckDBPyConnection) -> None:
    forecast, minute, reset = forecast_from_log(conn, NOW, UTC, FIVE, SEVEN, None)
    human = forecast.human_use(minute, NOW.replace(second=0), 0, reset)
    assert (human.pct_per_hour_now, human.forecast_pct_next_hours, human.forecast_week_pct) == (
        0,
        0,
        0,
    )


# -- history before podium, weighted to recent weeks, cautious when short -----------

SAT = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)  # the Saturday before NOW (a Thursday)


def _weekly(conn: duckdb.DuckDBPyConnection, week_reset: datetime) -> float:
    forecast, minute, reset = forecast_from_log(conn, NOW, UTC, FIVE, SEVEN, week_reset)
    return forecast.human_use(minute, NOW.replace(second=0), 0, reset).forecast_week_pct


def test_transcripts_from_weeks_before_podium_forecast_the_weekend(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    # Three Saturday mornings of work, the oldest 19 days back: podium never ran then,
    # the log holds them as it holds ingested transcripts. The week resets on Monday.
    for weeks in (1, 2, 3):
        _hour_of_use(conn, SAT - timedelta(weeks=weeks - 1), f"sat{weeks}", 100 * OUT)
    # Weighted to recent weeks, 1 : 1/2 : 1/4 of the same hour each week: one hour.
    assert _weekly(conn, datetime(2026, 11, 30, tzinfo=UTC)) == pytest.approx(
        100 * 60 * 100 * OUT / SEVEN
    )


def test_recent_weeks_weigh_more(conn: duckdb.DuckDBPyConnection) -> None:
    # The last Saturday 3 hours' worth, the two before it none: 3 / (1 + 1/2 + 1/4).
    _hour_of_use(conn, SAT, "recent", 300 * OUT)
    _message(conn, SAT - timedelta(weeks=3), "old", 1.0)  # the log began 3 weeks ago
    got = _weekly(conn, datetime(2026, 11, 30, tzinfo=UTC))
    assert got == pytest.approx(100 * 60 * 300 * OUT / SEVEN / 1.75)


def test_with_little_history_the_forecast_is_cautious(conn: duckdb.DuckDBPyConnection) -> None:
    # The log began yesterday: its busiest day, for each day left, plus a quarter.
    _hour_of_use(conn, datetime(2026, 11, 25, 10, 0, tzinfo=UTC), "h", 100 * OUT)
    reset = NOW.replace(second=0) + timedelta(days=2)
    day = 60 * 100 * OUT
    assert _weekly(conn, reset) == pytest.approx(100 * day * 2 * 1.25 / SEVEN)


def test_use_only_the_official_figures_show_counts_as_the_persons(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    # Last Saturday the weekly figure rose from 10% to 15% while the local log saw
    # nothing: claude.ai or another machine. It comes round this Saturday.
    reset_then = datetime(2026, 11, 23, tzinfo=UTC)
    _message(conn, SAT - timedelta(weeks=3), "old", 1.0)
    for hour, pct in ((9, 10.0), (10, 12.0), (11, 15.0)):
        conn.execute(
            "INSERT INTO limit_samples VALUES (?, 'seven_day', ?, ?, 'statusline', NULL)",
            [SAT.replace(hour=hour, minute=30), pct, reset_then],
        )
    got = _weekly(conn, datetime(2026, 11, 30, tzinfo=UTC))
    # The first figure is the baseline (its 10% was used at some unknown time); the
    # 5% after it appeared in those hours, a week ago only (the two weeks before had
    # none): weighted 1 of 1.75.
    assert got == pytest.approx(5 / 1.75, rel=0.01)


def test_a_kept_forecast_reads_only_the_new_minutes_and_agrees_with_a_full_read(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    _hour_of_use(conn, datetime(2026, 11, 25, 10, 0, tzinfo=UTC), "h", 100 * OUT)
    kept = LogForecast()
    reset = NOW + timedelta(days=2)
    kept.at(conn, NOW, UTC, FIVE, SEVEN, reset)
    # Five minutes on, the person worked in them: brought up to date, not read again.
    later = NOW + timedelta(minutes=5)
    for i in range(4):
        _message(conn, NOW + timedelta(minutes=i + 1), "h2", 200 * OUT)
    forecast, minute, _ = kept.at(conn, later, UTC, FIVE, SEVEN, reset)
    full, full_minute, _ = forecast_from_log(conn, later, UTC, FIVE, SEVEN, reset)
    # The same minute of the clock, though the kept series began five minutes earlier.
    assert forecast.start + minute * MINUTE == full.start + full_minute * MINUTE
    got = forecast.human_use(minute, later.replace(second=0), 1, reset)
    want = full.human_use(full_minute, later.replace(second=0), 1, reset)
    assert got.pct_per_hour_now == pytest.approx(want.pct_per_hour_now)
    assert got.pct_per_hour_now > 0
    assert got.week_used_pct == pytest.approx(want.week_used_pct)
    assert got.forecast_pct_next_hours == pytest.approx(want.forecast_pct_next_hours)


def test_the_hours_ahead_show_where_the_person_will_leave_no_room(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    for weeks in (1, 2):
        _hour_of_use(conn, SAT - timedelta(weeks=weeks - 1), f"sat{weeks}", 100 * OUT)
    reset = datetime(2026, 11, 30, tzinfo=UTC)
    forecast, minute, _ = forecast_from_log(conn, NOW, UTC, FIVE, SEVEN, reset)
    ahead = forecast.human_use(minute, NOW.replace(second=0), 0, reset).hours_ahead
    assert len(ahead) == 87  # Thursday 09:00 to Monday 00:00, hour by hour
    # Saturday 10:00 is 49 hours from Thursday 09:00: the most of that hour, all others 0.
    assert ahead[49] == pytest.approx(100 * 60 * 100 * OUT / FIVE)
    assert sum(ahead) == pytest.approx(ahead[49])
