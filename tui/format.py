"""Text formats the CLI and the control tower share: counts, shares, money, times
as a person reads them, and the rows of the usage tables (`podium usage`, `podium
report waste` and the usage screen print the same cells). Durations are
`collectors.durations.duration`, the statusline's too.

Times on the wire are UTC; people read them in this machine's local time.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from collectors.durations import duration
from collectors.windows import FIVE_HOUR, SEVEN_DAY

if TYPE_CHECKING:
    # Types only: `podium ls` prints clocks without loading msgspec (~18 ms).
    from sessions import wire


def since(iso: str | None, now: datetime) -> float | None:
    """Seconds from an ISO time to `now`; None when there is no time."""
    if not iso:
        return None
    try:
        return (now - datetime.fromisoformat(iso)).total_seconds()
    except ValueError:
        return None


def clock(
    when: str | datetime | None,
    now: datetime | None = None,
    tz: tzinfo | None = None,
    *,
    seconds: bool = False,
) -> str:
    """A moment as a person reads it, in this machine's zone (or `tz`): '14:05' today,
    'Tue 14:05' in the next six days, 'Nov 3 14:05' otherwise this year, '2025-11-03
    14:05' else (`seconds`: '14:05:07'); '-' when there is none. A weekday always means
    the coming one: last Tuesday is a date, never 'Tue' too. A text that is not an ISO
    time is shown as it is."""
    if when is None or when == "":
        return "-"
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when)
        except ValueError:
            return when
    local = when.astimezone(tz)
    today = (now or datetime.now(local.tzinfo)).astimezone(local.tzinfo).date()
    time = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    if local.date() == today:
        return time
    if timedelta(0) < local.date() - today < timedelta(days=7):
        return f"{local:%a} {time}"
    if local.year == today.year:
        return f"{local:%b} {local.day} {time}"
    return f"{local:%Y-%m-%d} {time}"


def percent(value: object, digits: int = 0) -> str:
    """'42%', '-' when unknown (never 'None%')."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    return f"{value:.{digits}f}%"


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


def window_title(window: str) -> str:
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


WINDOW_HEADERS = ["WINDOW", "USED", "RESETS", "SOURCE", "AGE", "BURN/H", "AT RESET"]


def window_cells(w: wire.UsageWindow, now: datetime) -> list[str]:
    """One window now, as `podium usage` prints it: used (`~` an estimate), reset in local
    time and how far off, where the figure comes from and its age, burn per hour, and
    the use projected at the reset with when 100% comes first."""
    resets = "-"
    if w.resets_at:
        left = (datetime.fromisoformat(w.resets_at) - now).total_seconds()
        resets = f"{clock(w.resets_at, now)} (in {duration(left)})"
    burn = w.burn_pct_per_hour
    at_reset = percent(w.projected_pct_at_reset)
    if w.limit_at:
        at_reset += f" (100% at {clock(w.limit_at, now)})"
    return [
        window_title(w.window),
        f"{'~' if w.estimate else ''}{percent(w.used_pct)}",
        resets,
        w.source,
        duration(w.age_s),
        "-" if burn is None else f"{burn:+.1f}%",
        at_reset,
    ]


# `podium report waste` and the usage screen say once around the table what it means.
WASTE_HEADER = "Capacity your plan gave and nobody used, per window that reset (local times):"
WASTE_HEADERS = ["WINDOW", "RESET", "UNUSED AT RESET", "FREE OVER TIME", "WINDOWS", "SEEN"]
WASTE_LEGEND = (
    "UNUSED AT RESET: free when the window reset, lost for good. FREE OVER TIME: the free "
    "share summed over the window's hours; WINDOWS: the same in whole windows. SEEN: the "
    "share of the time the engine was running to measure it."
)
WASTE_FOOTER = "Background tasks can spend it: `podium queue add PROMPT`, then `podium fill`."


def waste_cells(r: wire.WasteWindow, ended: bool, now: datetime | None = None) -> list[str]:
    """One window instance of `reports.waste`: its reset (local time), the share left
    unused at it (an open one: how full it is so far), the free share over its hours,
    that in whole windows, and how much of its span the engine saw."""
    unused = percent(r.unused_at_reset_pct) if ended else f"open, {percent(r.last_used_pct)} used"
    return [
        window_title(r.window),
        clock(r.resets_at, now),
        unused,
        f"{r.area_pct_hours:,.0f} %·h",
        f"{r.window_equivalents:.2f}",
        share(r.coverage),
    ]


def waste_total(window: str, t: wire.WasteTotal) -> str:
    """One window's totals over the period, as a sentence."""
    ended = t.windows_ended
    if ended:
        mean = t.unused_at_reset_mean_pct
        lost = (
            f"{ended} reset{'s' if ended != 1 else ''}, leaving "
            f"{t.unused_at_reset_windows:.2f} windows' worth unused"
            + (f" ({mean:.0f}% of each on average)" if mean is not None else "")
        )
    else:
        lost = "none reset in the period"
    text = (
        f"{window_title(window)}: {lost}; free over time {t.area_pct_hours:,.0f} %·h "
        f"= {t.window_equivalents:.2f} windows' worth; the engine saw {share(t.coverage)}"
    )
    if t.idle_minutes:
        text += f", and {duration(t.idle_minutes * 60)} with no window open (nothing used)"
    return text


# How much of a message's body the tower's toast shows.
TOAST_BODY = 120


def message_toast(note: wire.MessageNote) -> str:
    """The tower's toast for a message event: who to whom, and its start."""
    m = note.message
    body = " ".join(m.body.split())
    if len(body) > TOAST_BODY:
        body = body[: TOAST_BODY - 1] + "…"
    if note.kind == "delivered":
        return f"{m.sender} → {m.to}: typed in as its prompt\n{body}"
    waits = " (goes in when its turn ends)" if m.to_kind == "session" else ""
    return f"{m.sender} → {m.to}{waits}\n{body}"
