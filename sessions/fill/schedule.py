"""When a queued task may run: `--at` times, 5-field cron, the night window, change globs.

Pure functions; every parser raises `ScheduleError` whose message says what
did not parse and what would. Times are aware datetimes; a time written
without a zone is in `tz` (the fill settings' zone, else the system's).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError


class ScheduleError(ValueError):
    """A schedule that does not parse; the message names the input and the fix."""


def zone(name: str) -> tzinfo:
    """The zone named in settings ("" = the system's)."""
    if not name:
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"unknown time zone {name!r}; use a name such as Europe/Paris"
        ) from None


# -- --at ---------------------------------------------------------------------------------
def parse_at(text: str, tz: tzinfo) -> datetime:
    """An ISO date-time (or HH:MM, the next such time) as an aware datetime."""
    raw = text.strip()
    if re.fullmatch(r"\d{1,2}:\d{2}", raw):
        return next_clock(raw, datetime.now(tz), tz)
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise ScheduleError(
            f"cannot read the time {text!r}: use ISO 8601 such as 2026-05-01T02:30 "
            "(zone optional) or HH:MM"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=tz)


def parse_clock(text: str) -> time:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ScheduleError(f"cannot read the clock time {text!r}: use HH:MM, e.g. 06:30")
    return time(int(m[1]), int(m[2]))


def next_clock(text: str, now: datetime, tz: tzinfo) -> datetime:
    """The next `HH:MM` in `tz` after `now` (today or tomorrow)."""
    clock = parse_clock(text)
    local = now.astimezone(tz)
    when = datetime.combine(local.date(), clock, tzinfo=tz)
    return when if when > local else datetime.combine(local.date() + timedelta(1), clock, tz)


# -- the night and day windows ------------------------------------------------------------
# "night": `[fill] night_start`–`night_end`, for long research, tests, heavy compute;
# "day": the hours outside it, when the person is about (reviews, decisions).
WINDOWS = ("night", "day")


@dataclass(frozen=True)
class Night:
    """A daily window [start, end) in a zone; it may cross midnight."""

    start: time
    end: time
    tz: tzinfo

    @classmethod
    def parse(cls, start: str, end: str, tz: tzinfo) -> Night:
        return cls(parse_clock(start), parse_clock(end), tz)

    def contains(self, when: datetime) -> bool:
        t = when.astimezone(self.tz).time()
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def next_start(self, now: datetime) -> datetime:
        """`now` when inside the window, else the window's next start."""
        if self.contains(now):
            return now
        local = now.astimezone(self.tz)
        when = datetime.combine(local.date(), self.start, tzinfo=self.tz)
        return when if when > local else when + timedelta(days=1)

    def day(self) -> Night:
        """The day window: the hours outside this one, [end, start) in the same zone."""
        return Night(self.end, self.start, self.tz)


def check_window(name: str) -> str:
    if name not in WINDOWS:
        raise ScheduleError(
            f"unknown window {name!r}; the windows podium knows are 'night' and 'day'"
        )
    return name


def window_span(name: str | None, night: Night) -> Night:
    """The daily span a `--window` task runs in: the night itself, or its day."""
    return night.day() if name == "day" else night


# -- cron ---------------------------------------------------------------------------------
# Parsing and matching are cronsim's (Debian cron's rules); podium adds the 5-field
# check, the zone and messages that name the field that does not parse.
_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
# A matching date must turn up within this many years (cronsim's own horizon is 50).
_CHECK_FROM = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cron:
    """A 5-field cron expression (minute hour day-of-month month day-of-week).

    Fields take `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, and
    month and weekday names (jan…dec, sun…sat; 7 is Sunday too). As in Debian's cron,
    when both day fields are restricted (neither starts with `*`) a day matching
    either one matches. Times are the zone's wall clock: a time that a DST change
    skips runs at the first minute after the gap, a repeated one runs once.
    """

    expr: str

    @classmethod
    def parse(cls, expr: str) -> Cron:
        parts = expr.split()
        if len(parts) != 5:
            raise ScheduleError(
                f"cron expression {expr!r} has {len(parts)} field(s); it needs 5: "
                "minute hour day-of-month month day-of-week, e.g. '30 2 * * 1-5'"
            )
        try:
            CronSim(expr, _CHECK_FROM)
        except CronSimError:
            raise ScheduleError(_why(parts, expr)) from None
        return cls(" ".join(parts))

    def next_after(self, now: datetime, tz: tzinfo) -> datetime:
        """The first matching minute strictly after `now`, in `tz`."""
        try:
            return next(CronSim(self.expr, now.astimezone(tz)))
        except (StopIteration, CronSimError):
            raise ScheduleError(f"cron expression {self.expr!r} never matches a date") from None


def _why(parts: list[str], expr: str) -> str:
    """Which field, and which item of it, cronsim refused (each one tried alone)."""
    for index, part in enumerate(parts):
        for item in part.split(","):
            alone = ["*"] * 5
            alone[index] = item
            try:
                CronSim(" ".join(alone), _CHECK_FROM)
            except CronSimError:
                name, low, high = _FIELDS[index]
                if not item:
                    return f"cron {expr!r}: empty item in the {name} field"
                if item.isdigit():
                    return f"cron {expr!r}: {name} {int(item)} is outside {low}-{high}"
                return (
                    f"cron {expr!r}: {item!r} is not a valid {name}; use {low}-{high}, "
                    "*, a-b with a <= b, */n or a-b/n with n > 0, a,b"
                    + (", jan-dec" if index == 3 else ", sun-sat" if index == 4 else "")
                )
    # Every field parses alone: together they name no date (Feb 31).
    return f"cron expression {expr!r} never matches a date"


# -- --on-change globs ----------------------------------------------------------------------
def check_glob(pattern: str) -> str:
    """A glob relative to the task's directory (`*`, `?`, `[…]`, `**` for any depth)."""
    if not pattern.strip():
        raise ScheduleError("the --on-change glob is empty; give one such as 'src/**/*.py'")
    if "\x00" in pattern:
        raise ScheduleError("the --on-change glob holds a NUL character")
    path = PurePosixPath(pattern)
    if path.is_absolute() or ".." in path.parts:
        raise ScheduleError(
            f"the glob {pattern!r} must be relative to the task's directory, without '..'"
        )
    depth = 0
    for ch in pattern:
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
    if depth:
        raise ScheduleError(f"the glob {pattern!r} has a '[' that is never closed")
    for part in path.parts:
        if "**" in part and part != "**":
            raise ScheduleError(
                f"the glob {pattern!r}: '**' must be a whole path part, as in 'src/**/*.py'"
            )
    return pattern


def glob_matches(pattern: str, relpath: str) -> bool:
    """Whether `relpath` (posix, relative) matches `pattern`; `**` spans any depth."""
    regex = _glob_regex(pattern)
    return regex.fullmatch(relpath) is not None


def _glob_regex(pattern: str) -> re.Pattern[str]:
    pieces = []
    parts = PurePosixPath(pattern).parts
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            pieces.append(".*" if last else "(?:.*/)?")
        else:
            # fnmatch's `*` crosses `/`: keep it within one path part.
            body = fnmatch.translate(part).removeprefix("(?s:").removesuffix(")\\Z")
            body = body.replace(".*", "[^/]*")
            pieces.append(body + ("" if last else "/"))
    return re.compile("".join(pieces), re.S)


# -- a task's schedule as a whole -------------------------------------------------------------
# Kinds of templates that queue a task per occurrence (state `recurring`).
RECURRING_KINDS = ("cron", "on_change", "on_event")


@dataclass(frozen=True)
class Schedule:
    kind: str  # now | at | cron | window | on_change | on_event
    expr: str | None = None
    not_before: datetime | None = None


def parse_schedule(
    *,
    at: str | None,
    cron: str | None,
    window: str | None,
    on_change: str | None,
    now: datetime,
    tz: tzinfo,
    night: Night,
    on_event: str | None = None,
) -> Schedule:
    """The one schedule a `queue add` asked for; at most one of the five may be given."""
    given = [
        k
        for k, v in (
            ("--at", at),
            ("--cron", cron),
            ("--window", window),
            ("--on-change", on_change),
            ("--on", on_event),
        )
        if v
    ]
    if len(given) > 1:
        raise ScheduleError(f"give one schedule, not {' and '.join(given)}")
    if at:
        return Schedule("at", at, parse_at(at, tz))
    if cron:
        c = Cron.parse(cron)
        return Schedule("cron", cron, c.next_after(now, tz))
    if window:
        check_window(window)
        return Schedule("window", window, window_span(window, night).next_start(now))
    if on_change:
        return Schedule("on_change", check_glob(on_change))
    if on_event:
        # Checked by the caller (`sessions.fill.triggers.parse_trigger`, which needs
        # this module's ScheduleError): stored as given.
        return Schedule("on_event", on_event.strip())
    return Schedule("now")


def parse_free_schedule(text: str, now: datetime, tz: tzinfo, night: Night) -> Schedule:
    """The tower's one-line schedule: 'night', 'day', a 5-field cron, 'change:GLOB' or a
    time."""
    raw = text.strip()
    if not raw:
        return Schedule("now")
    if raw in WINDOWS:
        return parse_schedule(
            at=None, cron=None, window=raw, on_change=None, now=now, tz=tz, night=night
        )
    if raw.startswith("change:"):
        return parse_schedule(
            at=None, cron=None, window=None, on_change=raw[7:], now=now, tz=tz, night=night
        )
    if len(raw.split()) == 5:
        return parse_schedule(
            at=None, cron=raw, window=None, on_change=None, now=now, tz=tz, night=night
        )
    return parse_schedule(
        at=raw, cron=None, window=None, on_change=None, now=now, tz=tz, night=night
    )
