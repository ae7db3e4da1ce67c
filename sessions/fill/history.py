"""The human's own use, read from the usage log for the fill policy's forecast.

The usage log (`usage_messages`) holds every response of every Claude session
on this machine, podium's background runs included; the human's use is the
rest. A background run is known by its Claude session id in `queue_runs`
(a resumed run keeps it), so the forecast never mistakes fill's own spending
for the person's, and fill never backs off from itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from collectors.limit_log import WEIGHTED_TOKENS_SQL
from collectors.windows import WEEK
from sessions.fill.forecast import Forecast

if TYPE_CHECKING:
    from datetime import tzinfo

    import duckdb

# A week of same-kind days back, plus the day the week-ago copy of "the next
# few hours" reaches into.
HISTORY = timedelta(days=8)
MINUTE = timedelta(minutes=1)


def human_minutes(
    conn: duckdb.DuckDBPyConnection, since: datetime, until: datetime
) -> dict[int, float]:
    """Weighted tokens of the human's messages in [since, until), by minute after `since`."""
    rows = conn.execute(
        f"SELECT CAST(floor((epoch(ts) - epoch(?::TIMESTAMPTZ)) / 60) AS BIGINT) AS m, "
        f"sum({WEIGHTED_TOKENS_SQL}) FROM usage_messages "
        "WHERE ts >= ? AND ts < ? AND (claude_session_id IS NULL OR claude_session_id NOT IN "
        "(SELECT claude_session_id FROM queue_runs WHERE claude_session_id IS NOT NULL)) "
        "GROUP BY m",
        [since, since, until],
    ).fetchall()
    return {int(m): float(total) for m, total in rows if total}


def forecast_from_log(
    conn: duckdb.DuckDBPyConnection,
    now: datetime,
    tz: tzinfo,
    five_hour_capacity: float,
    seven_day_capacity: float,
    week_reset: datetime | None,
) -> tuple[Forecast, int, datetime]:
    """The human's last `HISTORY` as a `Forecast`, the minute that is now, and the
    weekly reset to forecast up to (a week on when the log knows none)."""
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    start = minute - HISTORY
    used = human_minutes(conn, start, minute)
    forecast = Forecast(start, tz, five_hour_capacity, seven_day_capacity)
    total = int((minute - start) / MINUTE)
    for m in range(total):
        forecast.record(used.get(m, 0.0))
    if week_reset is None or week_reset <= minute:
        week_reset = minute + WEEK
        forecast.week_start = total  # no weekly window known: nothing used of it yet
    else:
        opened = week_reset - WEEK
        forecast.week_start = max(0, int((opened - start) / MINUTE))
    return forecast, total, week_reset
