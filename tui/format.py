"""Text formats the CLI and the control tower share: counts, shares, money, local
times, and the rows of the usage tables (`podium usage`, `podium report waste` and
the usage screen print the same cells). Durations are `collectors.durations.duration`,
the statusline's too.

Times on the wire are UTC; people read them in this machine's local time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from collectors.durations import duration
from collectors.windows import FIVE_HOUR, SEVEN_DAY
from sessions import wire


def since(iso: str | None, now: datetime) -> float | None:
    """Seconds from an ISO time to `now`; None when there is no time."""
    if not iso:
        return None
    try:
        return (now - datetime.fromisoformat(iso)).total_seconds()
    except ValueError:
        return None


def tokens(count: object) -> str:
    """'950', '12.3k', '4.5M'; '-' when unknown."""
    if not isinstance(count, int | float) or isinstance(count, bool):
        return "-"
    value = float(count)
    if value < 1000:
        return f"{value:.0f}"
    if value < 1_000_000:
        return f"{value / 1000:.1f}k"
    return f"{value / 1_000_000:.1f}M"


def cost(usd: object) -> str:
    """'$0.42', '$12.30', '$140'; '-' when unknown (no priced message today)."""
    if not isinstance(usd, int | float) or isinstance(usd, bool):
        return "-"
    return f"${usd:.2f}" if usd < 100 else f"${usd:.0f}"


# -- the usage tables (CLI and tower) ---------------------------------------------------
def count(n: int) -> str:
    """'1,250,000': a count in full, as the reports print it."""
    return f"{n:,}"


def share(part: float | None) -> str:
    """A share of 1 as a percentage: "<1%" rather than a "0%" that reads as none at all."""
    if part is None:
        return "-"
    return "<1%" if 0 < part < 0.005 else f"{part:.0%}"


def usd(amount: float | None) -> str:
    """'$1,234.56'; '-' when unknown."""
    return "-" if amount is None else f"${amount:,.2f}"


def window_name(window: str) -> str:
    """How tables name a usage window: '5-hour', 'week', 'week opus'."""
    if window == FIVE_HOUR:
        return "5-hour"
    if window == SEVEN_DAY:
        return "week"
    if window.startswith(SEVEN_DAY + "_"):
        return "week " + window.removeprefix(SEVEN_DAY + "_").replace("_", " ")
    return window.replace("_", " ")


_MODEL = re.compile(
    r"claude-(?:(?P<old>\d+(?:-\d)?)-)?(?P<family>opus|sonnet|haiku)"
    r"(?:-(?P<major>\d{1,2})(?:-(?P<minor>\d{1,2}))?)?(?:-\d{8})?$"
)


def model_name(model: str) -> str:
    """A model id as Claude Code names it: `claude-sonnet-4-5-20250929` → 'Sonnet 4.5',
    `claude-3-5-haiku-20241022` → 'Haiku 3.5'; other names as they are."""
    m = _MODEL.match(model)
    if m is None:
        return model
    if m["major"]:
        version = m["major"] + (f".{m['minor']}" if m["minor"] else "")
    else:
        version = (m["old"] or "").replace("-", ".")
    return f"{m['family'].capitalize()} {version}".strip()


def to_local(iso: str | None) -> datetime | None:
    """A wire time in this machine's zone; None if absent or unreadable."""
    if not iso:
        return None
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone()


def local_minute(iso: str | None) -> str:
    """'2026-11-12 16:00' in local time; '-' when there is no time."""
    when = to_local(iso)
    return "-" if when is None else f"{when:%Y-%m-%d %H:%M}"


def clock(iso: str | None, now: datetime) -> str:
    """Local time, as short as is clear: '16:00' within a day, 'Fri 16:00' within six
    days, 'Nov 20 16:00' further off."""
    when = to_local(iso)
    if when is None:
        return "-"
    apart = abs((when - now).total_seconds())
    if apart < 86400:
        return f"{when:%H:%M}"
    if apart < 6 * 86400:
        return f"{when:%a %H:%M}"
    return f"{when:%b %d %H:%M}"


WINDOW_HEADERS = ["WINDOW", "USED", "RESETS", "SOURCE", "AGE", "BURN/H", "AT RESET"]


def window_cells(w: wire.UsageWindow, now: datetime) -> list[str]:
    """One window now, as `podium usage` prints it: used (`~` an estimate), reset in local
    time and how far off, where the figure comes from and its age, burn per hour, and
    the use projected at the reset with when 100% comes first."""
    resets = "-"
    when = to_local(w.resets_at)
    if when is not None:
        resets = f"{clock(w.resets_at, now)} (in {duration((when - now).total_seconds())})"
    burn = w.burn_pct_per_hour
    projected = w.projected_pct_at_reset
    at_reset = "-" if projected is None else f"{projected:.0f}%"
    if w.limit_at:
        at_reset += f" (100% at {clock(w.limit_at, now)})"
    return [
        window_name(w.window),
        f"{'~' if w.estimate else ''}{w.used_pct:.0f}%",
        resets,
        w.source,
        duration(w.age_s),
        "-" if burn is None else f"{burn:+.1f}%",
        at_reset,
    ]


WASTE_HEADERS = ["WINDOW", "RESET", "UNUSED AT RESET", "AREA %·h", "WINDOWS", "COVERAGE"]


def waste_cells(r: wire.WasteWindow, ended: bool) -> list[str]:
    """One window instance of `reports.waste`: its reset (local time), the share left
    unused at it (an open one: how full it is so far), the area between limit and use,
    that area in whole windows, and how much of its span podium saw."""
    unused = f"{r.unused_at_reset_pct or 0:.0f}%" if ended else f"open ({r.last_used_pct:.0f}%)"
    return [
        window_name(r.window),
        local_minute(r.resets_at),
        unused,
        f"{r.area_pct_hours:,.0f}",
        f"{r.window_equivalents:.2f}",
        share(r.coverage),
    ]


def waste_total(window: str, t: wire.WasteTotal) -> str:
    """The totals of one window over the period, in one line."""
    idle = f", {duration(t.idle_minutes * 60)} with no window open" if t.idle_minutes else ""
    return (
        f"{window_name(window)}: {t.windows_ended} reset with {t.unused_at_reset_pct:.0f}% "
        f"unused in all ({t.unused_at_reset_windows:.2f} windows); area "
        f"{t.area_pct_hours:,.0f} %·h = {t.window_equivalents:.2f} windows; "
        f"coverage {share(t.coverage)}{idle}"
    )
