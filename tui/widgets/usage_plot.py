"""A plot of one window's used % over a span (24 hours, 7 days), in Unicode blocks.

Each column is a slice of time and shows the highest % seen in it; the limit
(100 %) is the top line, and the area between the usage and the limit (the
capacity left unused, what the waste metric counts) is shaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from textual.content import Content
from textual.widget import Widget

from tui.widgets.gauge import level_style

BLOCKS = " ▁▂▃▄▅▆▇█"
AXIS = 6  # "100% ┤"
LIMIT_LABEL = " limit"


# A slice's edges are pulled in by this much: a slice that ends where a column starts
# (to the microsecond an ISO time keeps) does not spill into it.
_EDGE_S = 0.001


@dataclass(frozen=True)
class PlotData:
    points: list[tuple[datetime, float]]
    start: datetime
    end: datetime
    # When each point is the highest % of a slice of time around it (`usage.series`
    # with `buckets`), that slice's length: a point then counts in every column its
    # slice reaches, so slices wider than the columns (the data read for a narrower
    # terminal) draw as steps, not as a comb with gaps.
    slice: timedelta | None = None


def columns(data: PlotData, count: int) -> list[float | None]:
    """The highest % in each of `count` equal slices of [start, end); None where no sample."""
    out: list[float | None] = [None] * count
    span = (data.end - data.start).total_seconds()
    if count <= 0 or span <= 0:
        return out
    half = data.slice.total_seconds() / 2 - _EDGE_S if data.slice else 0.0
    for at, pct in data.points:
        offset = (at - data.start).total_seconds()
        if not 0 <= offset <= span:
            continue
        first = min(count - 1, int(max(0.0, offset - half) / span * count))
        last = min(count - 1, int(min(span, offset + half) / span * count))
        for index in range(first, last + 1):
            current = out[index]
            out[index] = pct if current is None else max(current, pct)
    return out


def _x_labels(data: PlotData, width: int) -> str:
    span = data.end - data.start
    if span >= timedelta(days=2):
        days = round(span.total_seconds() / 86400)
        left, middle = f"-{days}d", f"-{days / 2:g}d"
    else:
        hours = round(span.total_seconds() / 3600)
        left, middle = f"-{hours}h", f"-{hours / 2:g}h"
    line = [" "] * width
    for pos, text in ((0, left), (width // 2 - len(middle) // 2, middle), (width - 3, "now")):
        for i, ch in enumerate(text):
            if 0 <= pos + i < width:
                line[pos + i] = ch
    return "".join(line)


def plot_columns(width: int) -> int:
    """The columns of bars in a plot `width` cells wide (the rest is its labels)."""
    return max(4, width - AXIS - len(LIMIT_LABEL))


def plot_content(data: PlotData, width: int, height: int) -> Content:
    """`height` rows of bars under a limit line, with a time axis."""
    plot_width = plot_columns(width)
    values = columns(data, plot_width)
    lines = [
        Content.assemble(
            ("100% ┤", "$foreground-muted"), ("─" * plot_width, "$error"), (LIMIT_LABEL, "$error")
        )
    ]
    for row in range(height):
        from_bottom = height - 1 - row
        if from_bottom == 0:
            label = "  0% ┤"
        elif row == height // 2:
            label = " 50% ┤"
        else:
            label = "     │"
        parts: list[tuple[str, str]] = [(label, "$foreground-muted")]
        for value in values:
            if value is None:
                parts.append((" ", ""))
                continue
            eighths = round(min(100.0, max(0.0, value)) / 100 * height * 8)
            full, partial = divmod(eighths, 8)
            style = level_style(value)
            if from_bottom < full:
                parts.append(("█", style))
            elif from_bottom == full and partial:
                parts.append((BLOCKS[partial], f"{style} on $usage-unused"))
            else:
                parts.append(("░", "$usage-unused"))
        lines.append(Content.assemble(*parts).simplify())
    lines.append(Content.styled("     └" + "─" * plot_width, "$foreground-muted"))
    lines.append(Content.styled(" " * AXIS + _x_labels(data, plot_width), "$foreground-muted"))
    return Content("\n").join(lines)


class UsagePlot(Widget):
    DEFAULT_CSS = """
    UsagePlot {
        height: auto;
        margin-bottom: 1;
    }
    """

    def __init__(self, data: PlotData, rows: int = 6) -> None:
        super().__init__()
        self.data = data
        self.rows = rows

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return self.rows + 3

    def render(self) -> Content:
        return plot_content(self.data, self.content_region.width or self.size.width, self.rows)
