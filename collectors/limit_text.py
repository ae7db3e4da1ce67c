"""The reset time and the window in Claude Code's usage-limit messages.

The texts seen in the wild (the reference and Claude Code 2.1.328):
- `You've hit your 5-hour limit · resets 6pm (UTC)`
- `You've hit your session limit · resets 9:50pm (Asia/Saigon)`
- `You've hit your weekly limit · resets Dec 2, 6pm (Europe/Paris)`
- `You've hit your Opus limit · resets 7pm (UTC)` (and `Sonnet`: the model-scoped weeks)
- `You've hit your limit · resets 7pm (UTC)` (overage: no plan window)
- `5-hour limit reached ∙ resets 3pm` (no zone: the local one)
- `Claude AI usage limit reached|1785985200` (epoch seconds)

A clock time without a date is the next such time after the message was seen.

It lives in `collectors` because the usage log records these texts as limit
samples; the engine's state changes read them too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from collectors.windows import FIVE_HOUR, SEVEN_DAY, SEVEN_DAY_OPUS, SEVEN_DAY_SONNET

_EPOCH = re.compile(r"limit reached\|(\d{9,11})\b")
_RESETS = re.compile(
    r"resets\s+(?:(?P<month>[A-Z][a-z]{2})\w*\s+(?P<day>\d{1,2}),?\s+(?:at\s+)?)?"
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>am|pm)?"
    r"(?:\s*\((?P<zone>[A-Za-z_+\-/0-9]+)\))?",
    re.IGNORECASE,
)
# Model-scoped first: "Opus weekly limit" is the Opus week, not the whole week.
_WINDOW_WORDS = (
    (re.compile(r"\bopus\b[\w\s.-]*?\blimit", re.I), SEVEN_DAY_OPUS),
    (re.compile(r"\bsonnet\b[\w\s.-]*?\blimit", re.I), SEVEN_DAY_SONNET),
    (re.compile(r"\b(?:5-hour|five-hour|session)\s+limit", re.I), FIVE_HOUR),
    (re.compile(r"\bweekly\s+limit", re.I), SEVEN_DAY),
    # The oldest wording only ever meant the 5-hour window.
    (re.compile(r"usage limit reached\|\d", re.I), FIVE_HOUR),
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _zone(name: str | None) -> tzinfo | None:
    if not name:
        return datetime.now().astimezone().tzinfo
    if name.upper() in ("UTC", "GMT", "Z"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_reset(text: str, seen_at: datetime | None = None) -> datetime | None:
    """When the limit in `text` resets (aware UTC datetime), or None when it does not say."""
    seen_at = seen_at or datetime.now(UTC)
    epoch = _EPOCH.search(text)
    if epoch:
        return datetime.fromtimestamp(int(epoch.group(1)), UTC)
    match = _RESETS.search(text)
    if match is None:
        return None
    zone = _zone(match.group("zone"))
    if zone is None:
        return None
    hour, minute = int(match.group("hour")), int(match.group("minute") or 0)
    ampm = (match.group("ampm") or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    local_seen = seen_at.astimezone(zone)
    if match.group("month"):
        month_name = match.group("month").lower()[:3]
        if month_name not in _MONTHS:
            return None
        month, day = _MONTHS.index(month_name) + 1, int(match.group("day"))
        try:
            when = local_seen.replace(
                month=month, day=day, hour=hour, minute=minute, second=0, microsecond=0
            )
        except ValueError:
            return None
        if when < local_seen - timedelta(days=1):  # "Jan 2" seen on Dec 30
            when = when.replace(year=when.year + 1)
        return when.astimezone(UTC)
    when = local_seen.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if local_seen - timedelta(minutes=1) < when <= local_seen:
        # The message shows the reset to the minute, cut short: "7:04pm" for 19:04:47,
        # seen at 19:04:44. It resets within that minute, not tomorrow.
        return (when + timedelta(minutes=1)).astimezone(UTC)
    if when <= local_seen:
        when += timedelta(days=1)
    return when.astimezone(UTC)


def limit_window(text: str) -> str | None:
    """The plan window a limit message names (`five_hour`, `seven_day`, `seven_day_opus`,
    `seven_day_sonnet`), or None (an API-key 429, or the overage limit)."""
    for pattern, window in _WINDOW_WORDS:
        if pattern.search(text):
            return window
    return None
