"""A usage gauge as one line of text: bar, pace mark, % used, time to reset, source.

    5h        ███████░░░░┃░░░░░░  42% →71%  ↻2h13m  official

The bar fills with the share used; the pace mark `┃` stands where even
spending would be now (the share of the window already gone): a bar past the
mark spends faster than the window allows.
"""

from __future__ import annotations

from datetime import datetime

from textual.content import Content

from collectors.durations import duration
from sessions import wire
from tui.engine_api import official, pace_pct, reset_in_s, window_label

# "week sonnet" and a space: the longest label of the windows Claude Code reports.
LABEL_WIDTH = 12
SOURCE_WIDTH = 9
# Numbers older than this are shown with their age (a session stopped reporting).
STALE_S = 900


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


# A bar this short says little: the time to reset goes first, and the labels are
# shortened before that. `BAR_MIN` is the least it is ever given.
BAR_USEFUL = 8
BAR_MIN = 4
# The percentage (" 42%") and the time to reset (" ↻2h13m", padded to line up).
USED_CELLS = 5
RESET_CELLS = 8


def label_width(windows: list[wire.UsageWindow], width: int) -> int:
    """The label column for all gauges of `width` cells (so their bars line up): the
    longest label and a space; the short labels where the full ones would leave the
    bar less than BAR_USEFUL beside the percentage and reset, or would not fit
    LABEL_WIDTH. All model weeks are then named alike ('opus', 'sonnet'), never
    one in full beside another cut short."""
    full = max([0, *(len(window_label(w.window)) for w in windows)]) + 1
    if full > LABEL_WIDTH or width - full - USED_CELLS - RESET_CELLS < BAR_USEFUL:
        full = max([0, *(len(short_label(w.window)) for w in windows)]) + 1
    return min(LABEL_WIDTH, full)


def short_label(window: str) -> str:
    """'5h', 'week', and a model-scoped weekly window by its model alone ('opus')."""
    label = window_label(window)
    return label.removeprefix("week ") if label.startswith("week ") else label


def gauge_content(
    window: wire.UsageWindow, width: int, now: datetime, label: int = LABEL_WIDTH
) -> Content:
    """One line for one window, fitted to `width` cells, `label` of them for its name.

    Everything after the bar has a fixed width, so the bars of all windows line
    up. What does not fit goes, least useful first: the source, the projection,
    then the time to reset (the bar keeps BAR_USEFUL cells); the percentage stays.
    """
    used = f"{window.used_pct:.0f}%"
    tail: list[str | tuple[str, str]] = [" ", (used.rjust(4), "bold")]
    projected = window.projected_pct_at_reset
    if width >= 56:
        text = "" if projected is None else f" →{projected:.0f}%"
        tail.append((text.ljust(6), level_style(projected or 0)))
    reset = reset_in_s(window, now)
    reset_cell = (("-" if reset is None else f"↻{duration(reset)}").ljust(7), "$text-muted")
    if width - label - Content.assemble(*tail).cell_length - RESET_CELLS >= BAR_USEFUL:
        tail += [" ", reset_cell]
    if width >= 48:
        if window.age_s is not None and window.age_s > STALE_S:
            # Old numbers: say how old instead of where they came from.
            source, style = f"{duration(window.age_s)} old", "italic $warning"
        elif official(window):
            source, style = "official", "$text-muted"
        else:
            source, style = "estimate", "italic $warning"
        tail += [" ", (source[:SOURCE_WIDTH].ljust(SOURCE_WIDTH), style)]
    tail_content = Content.assemble(*tail)
    bar_width = max(BAR_MIN, width - label - tail_content.cell_length)
    name = window_label(window.window)
    if len(name) >= label:
        name = short_label(window.window)
    name = name[: max(0, label - 1)].ljust(label)
    return Content.assemble(
        (name, "bold"), bar(window.used_pct, pace_pct(window, now), bar_width), tail_content
    )
