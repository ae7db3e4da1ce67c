"""What a report request may say, checked before any query: grouping, zone, dates.

Light on purpose (no DuckDB): the `podium report` command checks its arguments
with these before it asks the engine, and a command's start-up is what a person
waits for at the terminal.
"""

from __future__ import annotations

import os
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ReportError(Exception):
    """A report cannot be made as asked; the message says what to change."""


class ReportFailed(ReportError):
    """A report or export asked for rightly that cannot be made (files in the way, a
    directory that cannot be written): a failure, not bad usage."""


# What `by` may group on (collectors.reports holds the SQL behind each).
BY_CHOICES: tuple[str, ...] = ("day", "week", "month", "model", "project", "session", "day_model")


def check_tz(tz: str) -> ZoneInfo:
    """The zone named `tz`, or a one-line error (an IANA name is needed: DuckDB and
    zoneinfo both read the tz database, abbreviations like CEST are ambiguous)."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(
            f"unknown time zone {tz!r}; use an IANA name such as Europe/Paris or UTC"
        ) from None


def local_tz_name() -> str:
    """The IANA name of this machine's zone: $TZ, else what /etc/localtime links to."""
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            ZoneInfo(env)
            return env
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return "UTC"
    marker = "zoneinfo/"
    if marker in target:
        name = target.split(marker, 1)[1]
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return "UTC"


def parse_date(text: str | date | None) -> date | None:
    if text is None or text == "":
        return None
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise ReportError(f"bad date {text!r}; use YYYY-MM-DD") from None
