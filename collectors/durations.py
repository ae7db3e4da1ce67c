"""How podium writes a length of time: '42s', '5m', '3h12m', '2d4h'.

One format for the statusline, the CLI and the tower. Stdlib only and nothing
imported: `collectors.spool` (run by every hook and statusline call) uses it.
"""

from __future__ import annotations


def duration(seconds: float | None, *, whole_minutes: bool = False) -> str:
    """'42s', '5m', '3h12m', '2d4h'; '-' for None. `whole_minutes`: under a minute
    is '0m' (the statusline's countdown), not seconds."""
    if seconds is None:
        return "-"
    whole = max(0, int(seconds))
    if whole < 60:
        return "0m" if whole_minutes else f"{whole}s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h"
