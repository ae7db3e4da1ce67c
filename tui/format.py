"""Small text formats the control tower shares (token counts, times ago); durations
are `collectors.durations.duration`, the statusline's too."""

from __future__ import annotations

from datetime import datetime


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
