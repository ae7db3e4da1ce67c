"""The person's own use, read from the usage log for the fill policy's forecast.

The usage log (`usage_messages`) holds every response of every Claude session
on this machine, podium's background runs included, and the transcripts from
before podium ran (Claude Code keeps about 30 days; podium ingests them on its
first start); the person's use is the rest. A background run is known by its
Claude session id in `queue_runs` (a resumed run keeps it), so the forecast
never mistakes fill's own spending for the person's, and fill never backs off
from itself. Use the official figures show beyond the local log's (another
machine, claude.ai) is added to the person's, hour by hour (`OfficialGap`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from collectors.limit_log import WEIGHTED_TOKENS_SQL
from collectors.windows import SEVEN_DAY, WEEK, model_pattern
from sessions.fill.forecast import Forecast, OfficialGap

if TYPE_CHECKING:
    from datetime import tzinfo

    import duckdb

# Four weeks of the same weekday back, plus the day the oldest copy of "the next
# few hours" reaches into.
HISTORY = timedelta(days=29)
MINUTE = timedelta(minutes=1)
_FILL_SESSIONS = "SELECT claude_session_id FROM queue_runs WHERE claude_session_id IS NOT NULL"


def _model_clause(window: str) -> tuple[str, list[str]]:
    pattern = model_pattern(window)
    return (" AND model LIKE ?", [pattern]) if pattern else ("", [])


def human_minutes(
    conn: duckdb.DuckDBPyConnection, since: datetime, until: datetime, window: str = SEVEN_DAY
) -> dict[int, float]:
    """Weighted tokens of the person's messages in [since, until) that count towards
    `window`, by minute after `since`."""
    where, params = _model_clause(window)
    rows = conn.execute(
        f"SELECT CAST(floor((epoch(ts) - epoch(?::TIMESTAMPTZ)) / 60) AS BIGINT) AS m, "
        f"sum({WEIGHTED_TOKENS_SQL}) FROM usage_messages "
        "WHERE ts >= ? AND ts < ? AND (claude_session_id IS NULL OR claude_session_id NOT IN "
        f"({_FILL_SESSIONS})){where} GROUP BY m",
        [since, since, until, *params],
    ).fetchall()
    return {int(m): float(total) for m, total in rows if total}


def fill_tokens(
    conn: duckdb.DuckDBPyConnection, since: datetime, until: datetime, window: str = SEVEN_DAY
) -> float:
    """Weighted tokens podium's background runs spent in [since, until) towards `window`."""
    where, params = _model_clause(window)
    row = conn.execute(
        f"SELECT coalesce(sum({WEIGHTED_TOKENS_SQL}), 0) FROM usage_messages "
        f"WHERE ts >= ? AND ts < ? AND claude_session_id IN ({_FILL_SESSIONS}){where}",
        [since, until, *params],
    ).fetchone()
    return float(row[0]) if row else 0.0


def log_begins(conn: duckdb.DuckDBPyConnection, since: datetime) -> datetime | None:
    """The first message the log holds after `since` (its history begins there)."""
    row = conn.execute("SELECT min(ts) FROM usage_messages WHERE ts >= ?", [since]).fetchone()
    return row[0] if row and row[0] is not None else None


def _official_by_hour(
    conn: duckdb.DuckDBPyConnection, window: str, since: datetime, until: datetime
) -> dict[int, tuple[float, datetime]]:
    """The last official figure of `window` in each hour after `since`: (used %, reset)."""
    rows = conn.execute(
        "SELECT CAST(floor((epoch(ts) - epoch(?::TIMESTAMPTZ)) / 3600) AS BIGINT) AS h, "
        "arg_max(used_pct, ts), arg_max(resets_at, ts) FROM limit_samples "
        "WHERE \"window\" = ? AND source NOT IN ('estimate', 'limit_text') "
        "AND ts >= ? AND ts < ? AND resets_at IS NOT NULL GROUP BY h",
        [since, window, since, until],
    ).fetchall()
    return {int(h): (float(pct), reset) for h, pct, reset in rows}


def _local_total(
    conn: duckdb.DuckDBPyConnection, window: str, since: datetime, until: datetime
) -> dict[int, float]:
    """Weighted tokens of every message (fill's too) towards `window`, by minute."""
    where, params = _model_clause(window)
    rows = conn.execute(
        f"SELECT CAST(floor((epoch(ts) - epoch(?::TIMESTAMPTZ)) / 60) AS BIGINT) AS m, "
        f"sum({WEIGHTED_TOKENS_SQL}) FROM usage_messages WHERE ts >= ? AND ts < ?{where} "
        "GROUP BY m",
        [since, since, until, *params],
    ).fetchall()
    return {int(m): float(total) for m, total in rows if total}


def forecast_from_log(
    conn: duckdb.DuckDBPyConnection,
    now: datetime,
    tz: tzinfo,
    five_hour_capacity: float,
    seven_day_capacity: float,
    week_reset: datetime | None,
    window: str = SEVEN_DAY,
) -> tuple[Forecast, int, datetime]:
    """The person's last `HISTORY` of use towards weekly `window` as a `Forecast`, the
    minute that is now, and the weekly reset to forecast up to (a week on when the log
    knows none). `seven_day_capacity` is that window's capacity."""
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    start = minute - HISTORY
    used = human_minutes(conn, start, minute, window)
    begins = log_begins(conn, start)
    history_from = 0
    if begins is not None:
        # The log covers the whole day its first message is on: a person's first
        # session that day is the first use, not the first thing known.
        local = begins.astimezone(tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        history_from = max(0, int((midnight - start) / MINUTE))
    forecast = Forecast(start, tz, five_hour_capacity, seven_day_capacity, history_from)
    total = int((minute - start) / MINUTE)
    official = _official_by_hour(conn, window, start, minute)
    local = _local_total(conn, window, start, minute) if official else {}
    gap = OfficialGap()
    local_in_week = 0.0
    week_of: datetime | None = None
    for m in range(total):
        forecast.record(used.get(m, 0.0))
        local_in_week += local.get(m, 0.0)
        if (m + 1) % 60 == 0 and (m // 60) in official:
            pct, reset = official[m // 60]
            if reset != week_of:
                # A new weekly window: the local count starts again at its opening.
                week_of = reset
                opened = int((reset - WEEK - start) / MINUTE)
                local_in_week = sum(v for k, v in local.items() if opened <= k <= m)
            extra = gap.unexplained(reset, pct * seven_day_capacity / 100, local_in_week)
            forecast.add_recent(extra)
    if week_reset is None or week_reset <= minute:
        week_reset = minute + WEEK
        forecast.week_start = total  # no weekly window known: nothing used of it yet
    else:
        opened = week_reset - WEEK
        forecast.week_start = max(0, int((opened - start) / MINUTE))
    return forecast, total, week_reset


# A forecast read in full this often; between, only the new minutes are read (a
# full read of 29 days costs tens of milliseconds of the engine's loop).
REBUILD = timedelta(minutes=15)


class LogForecast:
    """One weekly window's forecast from the log, kept between rounds: read in full
    every `REBUILD` (and when the weekly reset or the zone change), else brought up
    to date with the minutes since. Late-ingested messages and the official
    figures' hourly gap are caught up at the next full read; capacities apply at
    once (they only turn the series into percentages)."""

    def __init__(self, window: str = SEVEN_DAY) -> None:
        self.window = window
        self._built: tuple[Forecast, int, datetime] | None = None
        self._full_at: datetime | None = None
        self._key: tuple[object, ...] | None = None

    def invalidate(self) -> None:
        self._built = None

    def at(
        self,
        conn: duckdb.DuckDBPyConnection,
        now: datetime,
        tz: tzinfo,
        five_hour_capacity: float,
        capacity: float,
        week_reset: datetime | None,
    ) -> tuple[Forecast, int, datetime]:
        """`forecast_from_log`'s answer for `now`."""
        minute = now.astimezone(UTC).replace(second=0, microsecond=0)
        key = (week_reset, str(tz))
        built = self._built
        if (
            built is None
            or self._key != key
            or self._full_at is None
            or minute - self._full_at >= REBUILD
            or minute < built[0].start + built[1] * MINUTE
        ):
            self._built = forecast_from_log(
                conn, now, tz, five_hour_capacity, capacity, week_reset, self.window
            )
            self._full_at, self._key = minute, key
            return self._built
        forecast, total, reset = built
        forecast.five_hour, forecast.seven_day = five_hour_capacity, capacity
        last = forecast.start + total * MINUTE
        if minute > last:
            used = human_minutes(conn, last, minute, self.window)
            new = int((minute - last) / MINUTE)
            for m in range(new):
                forecast.record(used.get(m, 0.0))
            self._built = (forecast, total + new, reset)
        return self._built
