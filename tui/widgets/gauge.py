"""A usage gauge as one line of text: bar, pace mark, % used, time to reset, source.

    5h    ███████░░░░┃░░░░░░  42% →71%  ↻2h13m  official

The bar fills with the share used; the pace mark `┃` stands where even
spending would be now (the share of the window already gone): a bar past the
mark spends faster than the window allows.
"""

from __future__ import annotations

from datetime import datetime

from textual.content import Content

from tui.engine_api import UsageWindow
from tui.format import duration

LABEL_WIDTH = 10


def level_style(pct: float) -> str:
    if pct >= 90:
        return "$error"
    if pct >= 70:
        return "$warning"
    return "$success"


def bar(used_pct: float | None, pace_pct: float | None, width: int) -> Content:
    """`width` cells: used share filled, the rest shaded, the pace mark on top."""
    width = max(1, width)
    used = 0.0 if used_pct is None else max(0.0, min(100.0, used_pct))
    filled = round(used / 100 * width)
    pace = None if pace_pct is None else min(width - 1, int(pace_pct / 100 * width))
    fill_style = level_style(used)
    parts: list[tuple[str, str]] = []
    for cell in range(width):
        on_fill = cell < filled
        if cell == pace:
            background = f" on {fill_style}" if on_fill else ""
            parts.append(("┃", f"bold $usage-pace{background}"))
        elif on_fill:
            parts.append(("█", fill_style))
        else:
            parts.append(("░", "$usage-unused"))
    return Content.assemble(*parts).simplify()


def gauge_content(window: UsageWindow, width: int, now: datetime) -> Content:
    """One line for one window, fitted to `width` cells."""
    used = "?" if window.used_pct is None else f"{window.used_pct:.0f}%"
    tail: list[str | tuple[str, str]] = [" ", (used.rjust(4), "bold")]
    projected = window.projected_pct_at_reset
    if projected is not None and width >= 56:
        tail += [(f" →{projected:.0f}%", level_style(projected))]
    reset = window.reset_in_s(now)
    if reset is not None:
        tail += ["  ", (f"↻{duration(reset)}", "$text-muted")]
    source = "official" if window.official else "estimate"
    if window.age_s is not None and window.age_s > 900:
        source += f" {duration(window.age_s)} old"
    if width >= 48:
        tail += ["  ", (source, "$text-muted" if window.official else "italic $warning")]
    tail_content = Content.assemble(*tail)
    bar_width = max(5, width - LABEL_WIDTH - tail_content.cell_length)
    label = window.label[: LABEL_WIDTH - 1].ljust(LABEL_WIDTH)
    return Content.assemble(
        (label, "bold"), bar(window.used_pct, window.pace_pct(now), bar_width), tail_content
    )
