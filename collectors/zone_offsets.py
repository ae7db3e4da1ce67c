"""A time zone's UTC offsets over a span, as an SQL expression: local days without
`timezone()` on every row.

DuckDB's `timezone(tz, ts)` asks ICU for each row; over a year of messages that is
most of a report's time. A zone has few offsets over any real span (two a year
with DST, one without), so the offsets and the instants they change at are found
here once, with zoneinfo (the same tz database), and a row's local time is its
UTC epoch plus the offset a short `CASE` picks. Exact, not an approximation: each
change's instant is found to the microsecond.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

# How far apart offsets are sampled before a change is pinned down by bisection.
# No zone of the tz database changes its offset twice within a day (the closest
# are a few weeks apart, Ramadan pauses of DST), so none is missed.
STEP = timedelta(hours=12)
_MICRO = timedelta(microseconds=1)


def _offset(zone: ZoneInfo, at: datetime) -> timedelta:
    off = at.astimezone(zone).utcoffset()
    return off if off is not None else timedelta(0)


def _change(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first instant in (before, after] whose offset differs from `before`'s."""
    first = _offset(zone, before)
    low, high = before, after
    while high - low > _MICRO:
        mid = low + (high - low) // 2
        if _offset(zone, mid) == first:
            low = mid
        else:
            high = mid
    return high


def offsets(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, timedelta]]:
    """[(from, offset), …] covering [start, end]: the first entry's `from` is `start`,
    each next one is the instant the offset changes."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    out = [(start, _offset(zone, start))]
    at = start
    while at < end:
        step = min(at + STEP, end)
        if _offset(zone, step) != out[-1][1]:
            change = _change(zone, at, step)
            out.append((change, _offset(zone, change)))
            # A second change inside one step is not possible (see STEP), so go on from it.
            at = change
            continue
        at = step
    return out


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def local_micros_sql(column: str, zone: ZoneInfo, start: datetime, end: datetime) -> str:
    """SQL for the local wall-clock time of `column` (a TIMESTAMPTZ between `start` and
    `end`) in `zone`, as microseconds since 1970-01-01 00:00 local: `epoch_us` plus
    the offset in force. Literals only (the instants are exact, and this is built
    from zoneinfo's answers, never from a person's text)."""
    spans = offsets(zone, start, end)
    base = f"epoch_us({column})"
    if len(spans) == 1:
        return f"({base} + {_micros(spans[0][1])})"
    cases = " ".join(
        f"WHEN {base} < {_epoch_us(change)} THEN {_micros(prev)}"
        for (_, prev), (change, _) in pairwise(spans)
    )
    return f"({base} + CASE {cases} ELSE {_micros(spans[-1][1])} END)"


def _epoch_us(at: datetime) -> int:
    return _micros(at - datetime(1970, 1, 1, tzinfo=UTC))
