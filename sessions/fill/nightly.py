"""Fill that stays on: the night schedule's switch times (pure: no I/O, no clock).

`podium fill --nightly` (kept in `queue_state`, key `fill_nightly`) or `[fill]
schedule = "night"` has the scheduler switch fill on at each night's start
(`[fill] night_start`, in the `[fill] tz` zone) with `until` the night's end, so
the ordinary `--until` switches it off there. The night it switched on for is
kept (`fill_nightly_night`), so a person who switches fill off during a night is
not overruled until the next one, and an engine started mid-night (a reboot, the
service) switches on for the night it is in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sessions.fill.schedule import Night


def current_night(night: Night, now: datetime) -> tuple[datetime, datetime] | None:
    """(start, end) of the night `now` is in, else None."""
    if not night.contains(now):
        return None
    return last_night(night, now)


def last_night(night: Night, now: datetime) -> tuple[datetime, datetime]:
    """(start, end) of the latest night that began at or before `now` (the one it is
    in, or the one that ended last): what the morning report covers."""
    local = now.astimezone(night.tz)
    start = datetime.combine(local.date(), night.start, tzinfo=night.tz)
    if start > local:
        start -= timedelta(days=1)
    end = datetime.combine(start.date(), night.end, tzinfo=night.tz)
    if end <= start:
        end += timedelta(days=1)
    return start, end


def night_due(
    night: Night, now: datetime, switched_for: str | None
) -> tuple[datetime, datetime] | None:
    """The night to switch fill on for now: the current one, unless it was switched on
    for it already (`switched_for`, the ISO start stored then)."""
    bounds = current_night(night, now)
    if bounds is None or switched_for == bounds[0].isoformat():
        return None
    return bounds


def night_text(night: Night) -> str:
    """'01:00-07:00'."""
    return f"{night.start:%H:%M}-{night.end:%H:%M}"
