"""The usage screen: used % per window over 24 hours and 7 days, tokens by model, waste.

Everything comes from one job (`engine_api.usage_overview`); a part with no
history yet says so instead of an empty box.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static

from sessions import wire
from tui.engine_api import (
    UsageOverview,
    parse_time,
    tokens_by_day_and_model,
    usage_overview,
    window_label,
)
from tui.format import tokens
from tui.screens.wide import WideScreen
from tui.widgets.usage_plot import PlotData, UsagePlot

SPANS = (("last 24 hours", timedelta(hours=24)), ("last 7 days", timedelta(days=7)))

NO_SERIES = (
    "No usage history yet. podium samples every usage window each minute once a Claude "
    "session reports its limits; the plots fill in from there."
)
NO_TOKENS = "No tokens counted yet: they come from the transcripts of Claude sessions."
NO_WASTE = "No window has reset since podium started logging: nothing to count as wasted yet."


WASTE_COLUMNS = ("window", "reset (UTC)", "used %", "unused %", "covered")


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def waste_cells(row: wire.WasteWindow) -> list[str]:
    """One window that reset: how full it was, what it left, how much of it podium saw."""
    return [
        window_label(row.window),
        (row.resets_at or "-")[:16].replace("T", " "),
        cell(row.last_used_pct),
        cell(row.unused_at_reset_pct),
        "-" if row.coverage is None else f"{100 * row.coverage:.0f}%",
    ]


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
    UsageScreen DataTable {
        height: auto;
        max-height: 16;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("r", "reload", "reload"),
    ]

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="usage-body"):
            yield Static("Usage", classes="section")
            yield Static("asking the engine…", classes="note", id="loading")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        app = cast(Any, self.app)
        app.link.run("usage overview", usage_overview, self.show)

    def show(self, overview: UsageOverview) -> None:
        body = self.query_one("#usage-body", VerticalScroll)
        body.remove_children()
        body.mount_all(list(self._widgets(overview)))

    def _widgets(self, overview: UsageOverview) -> Any:
        now = self.clock()
        yield Static("Used % per window", classes="section")
        if not overview.series:
            yield Static(NO_SERIES, classes="note")
        else:
            names = list(dict.fromkeys(p.window for p in overview.series))
            for name in names:
                points = [
                    (at, p.used_pct)
                    for p in overview.series
                    if p.window == name and (at := parse_time(p.minute)) is not None
                ]
                for span_name, span in SPANS:
                    yield Static(f"{window_label(name)} · {span_name}")
                    yield UsagePlot(PlotData(points, now - span, now))
        yield Static("Tokens by model, per day", classes="section")
        if not overview.tokens:
            yield Static(NO_TOKENS, classes="note")
        else:
            models, rows = tokens_by_day_and_model(overview.tokens)
            table: DataTable[str] = DataTable(cursor_type="none", zebra_stripes=True)
            table.add_columns("day", *models)
            for row in rows:
                table.add_row(row[0], *(tokens(v) if v is not None else "-" for v in row[1:]))
            yield table
        yield Static("Waste: capacity left unused when a window reset", classes="section")
        if not overview.waste:
            yield Static(NO_WASTE, classes="note")
        else:
            table = DataTable(cursor_type="none", zebra_stripes=True)
            table.add_columns(*WASTE_COLUMNS)
            for row in overview.waste:
                table.add_row(*waste_cells(row))
            yield table
