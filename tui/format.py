"""Small text formats the control tower shares (durations, token counts)."""

from __future__ import annotations

from datetime import datetime


def duration(seconds: float | None) -> str:
    """'42s', '5m', '3h12m', '2d4h'; '-' for None (as `podium ls` writes them)."""
    if seconds is None:
        return "-"
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h"


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
