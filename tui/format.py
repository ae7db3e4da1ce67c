"""Small text formats the control tower and the CLI share (token counts, times, shares);
durations are `collectors.durations.duration`, the statusline's too."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo


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
