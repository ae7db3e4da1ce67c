"""The usage screen: the windows now, used % per window over 24 hours and 7 days,
tokens per day by model, the latest review's top findings, and what the windows that
reset left unused.

One scroll area reaches every row: the tables are text (`TextTable`), as tall as
their rows, and nothing inside the body scrolls by itself. The tables' cells are
the CLI's (`tui.format`: `podium usage`, `podium report`, `podium report waste`),
in local time. Everything comes from one job (`engine_api.usage_overview`); a part
with no history yet says so instead of an empty box.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Footer, Static

from sessions import wire
from sessions.protocol import ApiError
from tui.engine_api import (
    OVERVIEW_DAYS,
    SERIES_SPANS,
    Request,
    UsageOverview,
    parse_time,
    tokens_by_day,
    usage_overview,
)
from tui.format import (
    WASTE_HEADER,
    WASTE_HEADERS,
    WASTE_LEGEND,
    WINDOW_HEADERS,
    count,
    usd,
    waste_cells,
    waste_total,
    window_cells,
    window_title,
)
from tui.screens.wide import WideScreen
from tui.widgets.gauge import level_style
from tui.widgets.review_top import ReviewTop
from tui.widgets.text_table import TextTable
from tui.widgets.usage_header import UsageHeader
from tui.widgets.usage_plot import PlotData, UsagePlot, plot_columns

# Cells around a plot on this screen: the body's padding and its scroll bar.
SCREEN_MARGIN = 4

NO_WINDOWS = "No usage figures yet: a Claude session's first reply brings them."
NO_SERIES = (
    "No usage history yet. podium samples every usage window each minute once a Claude "
    "session reports its limits; the plots fill in from there."
)
NO_TOKENS = "No tokens counted yet: they come from the transcripts of Claude sessions."
NO_WASTE = f"No window has reset in the last {OVERVIEW_DAYS} days: nothing to count as unused yet."


def prefetch_job(width: int, now: datetime) -> Callable[[Request], UsageOverview | None]:
    """Read the screen's data ahead for a terminal `width` wide; None if the engine
    could not say (best effort: the screen asks again when it opens)."""
    columns = plot_columns(width - SCREEN_MARGIN)

    def job(request: Request) -> UsageOverview | None:
        try:
            return usage_overview(request, columns=columns, now=now)
        except (ApiError, OSError, ValueError):
            return None

    return job


def _plot_data(series: wire.Series | None, window: str, hours: int, now: datetime) -> PlotData:
    span = timedelta(hours=hours)
    points = [
        (at, p.used_pct)
        for p in (series.points if series else [])
        if p.window == window and (at := parse_time(p.minute)) is not None
    ]
    width = span / series.buckets if series and series.buckets else None
    return PlotData(points, now - span, now, slice=width)


def legend() -> Content:
    """What the gauges' and plots' marks mean, one mark and its words per line part."""
    return Content("\n").join(
        [
            Content.assemble(
                ("█", level_style(0)),
                ("█", level_style(75)),
                ("█", level_style(95)),
                " used: under 70%, 70-90%, 90% and over",
            ),
            Content.assemble(
                ("░", "$usage-unused"),
                " the unused share of the window   ",
                ("┃", "bold $usage-pace"),
                " pace: where even spending would be now",
            ),
            Content(
                "→ use at the reset if the last hour's pace holds (once podium has an hour "
                "of figures)"
            ),
        ]
    )


def tokens_table(overview: UsageOverview) -> TextTable:
    """Tokens per day by model, their sum and cost, as `podium report` counts them."""
    models, days = tokens_by_day(overview.tokens)
    rows = [
        [
            d.day,
            *(count(d.by_model[m]) if m in d.by_model else "-" for m in models),
            count(d.tokens),
            ("~" if d.unpriced else "") + usd(d.cost_usd),
        ]
        for d in days
    ]
    numbers = frozenset(range(1, len(models) + 3))
    return TextTable(["DAY", *models, "TOTAL", "COST"], rows, right=numbers, id="tokens")


class UsageScreen(WideScreen):
    DEFAULT_CSS = """
    UsageScreen #usage-body {
        padding: 0 1;
    }
    UsageScreen .section {
        text-style: bold;
        color: $accent;
        margin-top: 1;
    }
    UsageScreen .note {
        color: $text-muted;
    }
    UsageScreen UsageHeader {
        padding: 0;
        border-bottom: none;
    }
    UsageScreen #windows {
        margin-top: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("r", "reload", "reload"),
    ]

    def __init__(self, clock: Callable[[], datetime], ahead: UsageOverview | None = None) -> None:
        """`ahead`: the data the tower read ahead (`prefetch_job`), drawn at once while
        the screen reads it again."""
        super().__init__()
        self.clock = clock
        self.ahead = ahead
        self.overview: UsageOverview | None = None
        self.columns = 0  # the plots' columns the last read asked for

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="usage-body"):
            yield Static("Usage", classes="section")
            yield Static("asking the engine…", classes="note", id="loading")
        yield Footer()

    def on_mount(self) -> None:
        if self.ahead is not None:
            self.show(self.ahead)
        self.action_reload()

    def action_reload(self) -> None:
        app = cast(Any, self.app)
        # The engine cuts the series into as many slices as a plot has columns.
        self.columns = plot_columns((self.size.width or self.app.size.width) - SCREEN_MARGIN)
        job = partial(usage_overview, columns=self.columns, now=self.clock())
        app.link.run("usage overview", job, self.show)

    def on_resize(self) -> None:
        # Wider or narrower (the stage zooms the tower's pane for this screen): the
        # plots have other columns, read their slices again.
        columns = plot_columns(self.size.width - SCREEN_MARGIN)
        if self.overview is not None and columns != self.columns:
            self.action_reload()

    def show(self, overview: UsageOverview) -> None:
        # Queued, not done here: the old widgets leave asynchronously, and a second
        # answer close behind the first (read ahead, then read again) must not meet
        # them with the same ids. The screen's messages run one at a time.
        self.call_later(self._replace, overview)

    async def _replace(self, overview: UsageOverview) -> None:
        if overview == self.overview:
            return  # what is drawn already (read ahead a moment ago): keep it, and the scroll
        body = self.query_one("#usage-body", VerticalScroll)
        await body.remove_children()
        await body.mount_all(list(self._widgets(overview)))
        self.overview = overview  # drawn: what tests and the next answer compare with

    def _widgets(self, overview: UsageOverview) -> Iterator[Widget]:
        now = self.clock()
        yield Static("Usage windows now", classes="section")
        if not overview.windows:
            yield Static(NO_WINDOWS, classes="note")
        else:
            gauges = UsageHeader(self.clock)
            gauges.set_windows(overview.windows)
            yield gauges
            yield Static(legend(), classes="note", id="legend")
            rows = [window_cells(w, now) for w in overview.windows]
            yield TextTable(WINDOW_HEADERS, rows, id="windows")

        yield Static("Used % per window", classes="section")
        if not any(s.points for s in overview.series.values()):
            yield Static(NO_SERIES, classes="note")
        else:
            yield Static(
                "Each column is the highest use in its slice of time; ░ above it is the "
                "share left unused, what the table of resets below counts.",
                classes="note",
            )
            names = list(
                dict.fromkeys(p.window for s in overview.series.values() for p in s.points)
            )
            for name in names:
                for span_name, hours in SERIES_SPANS:
                    yield Static(f"{window_title(name)} · {span_name}")
                    yield UsagePlot(_plot_data(overview.series.get(span_name), name, hours, now))

        yield Static("Tokens per day, by model", classes="section")
        if not overview.tokens:
            yield Static(NO_TOKENS, classes="note")
        else:
            yield tokens_table(overview)
            yield Static(
                "Cost at API list prices (an estimate for a plan); ~: some messages have no price.",
                classes="note",
            )

        if overview.review is not None:
            yield Static("Latest review", classes="section")
            yield ReviewTop(overview.review, id="review")

        waste = overview.waste
        yield Static(f"Unused capacity, last {OVERVIEW_DAYS} days", classes="section")
        if not waste.windows and not waste.open:
            yield Static(NO_WASTE, classes="note")
        else:
            rows = [waste_cells(r, ended=True, now=now) for r in waste.windows]
            rows += [waste_cells(r, ended=False, now=now) for r in waste.open]
            yield Static(WASTE_HEADER, classes="note")
            yield TextTable(WASTE_HEADERS, rows, right=frozenset({2, 3, 4, 5}), id="waste")
            for name, total in waste.total.items():
                yield Static(waste_total(name, total), classes="note")
            yield Static(WASTE_LEGEND, classes="note")
