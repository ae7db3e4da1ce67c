"""The usage screen's one scroll area: every row of every table can be brought on
screen, at 80×24 and at 200×50, and nothing inside it scrolls on its own."""

from __future__ import annotations

import asyncio
import html
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes import NOW, answers, fixed, iso
from tower_helpers import until

from collectors.paths import Paths
from collectors.settings import Settings
from sessions import wire
from tui.app import PodiumApp
from tui.screens.usage import UsageScreen
from tui.widgets.text_table import TextTable

ROWS = 40


def _waste() -> wire.WasteReport:
    windows = [
        wire.WasteWindow(
            window="five_hour",
            resets_at=iso(-5 * 3600 * (ROWS - n)),
            unused_at_reset_pct=float(n),
            last_used_pct=100.0 - n,
            coverage=1.0,
        )
        for n in range(ROWS)
    ]
    return wire.WasteReport(
        window=None, since=None, now=NOW.isoformat(), windows=windows, open=[], total={}
    )


def _app(tmp_path: Path) -> PodiumApp:
    return PodiumApp(
        Paths(data=tmp_path / "data", runtime=tmp_path / "run"),
        Settings(),
        link=fixed(answers=answers(reports_waste=_waste())),
        clock=lambda: NOW,
        environ={},
        config_path=tmp_path / "config.toml",
        themes_dir=tmp_path / "themes",
    )


async def _open_usage(app: PodiumApp, pilot: Any) -> None:
    """Once the tower has its state, `u` opens the usage screen; until it has drawn."""
    await until(pilot, lambda: app.state.loaded)
    await pilot.press("u")
    await until(pilot, lambda: getattr(app.screen, "overview", None) is not None)


def _on_screen(app: Any) -> str:
    """The text the terminal shows now."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_every_row_is_reached_by_the_one_scroll_area(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    monkeypatch.setattr("tui.widgets.preview.capture_pane", lambda socket, pane: "")

    async def scenario() -> None:
        app = _app(tmp_path)
        async with app.run_test(size=size) as pilot:
            await _open_usage(app, pilot)
            screen = app.screen
            assert isinstance(screen, UsageScreen)
            body = screen.query_one("#usage-body")
            waste = screen.query_one("#waste", TextTable)
            await until(pilot, lambda: waste.size.height > 0)
            # Nothing inside the body scrolls: the wheel and the keys move the body.
            inner = [w for w in body.query("*") if w.is_scrollable]
            assert inner == [] and screen.focused is body
            assert waste.size.height == ROWS + 1
            last = " ".join(waste.lines(waste.size.width)[-1].plain.split())
            assert last not in " ".join(_on_screen(app).split())
            await pilot.press("end")
            await until(pilot, lambda: body.scroll_y == body.max_scroll_y)
            await pilot.pause()
            assert last in " ".join(_on_screen(app).split())
            await pilot.press("home")
            await until(pilot, lambda: body.scroll_y == 0)
            await pilot.pause()
            assert "Usage windows now" in _on_screen(app)

    asyncio.run(scenario())


def test_a_table_narrower_than_its_cells_closes_its_gaps_then_cuts_the_widest() -> None:
    table = TextTable(["DAY", "TOKENS"], [["2026-11-12", "1,250,000"]], right=frozenset({1}))
    assert [c.plain for c in table.lines(40)] == [
        "DAY            TOKENS",
        "2026-11-12  1,250,000",
    ]
    assert [c.plain for c in table.lines(20)] == ["DAY           TOKENS", "2026-11-12 1,250,000"]
    assert [c.plain for c in table.lines(16)] == ["DAY       TOKENS", "2026-1… 1,250,0…"]


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_the_series_comes_cut_to_the_plots_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    """A week of minutes is not sent: each span's series is asked for in as many
    slices as a plot has columns, and the resets of the plots' week only."""
    from tui.widgets.usage_plot import UsagePlot, plot_columns

    monkeypatch.setattr("tui.widgets.preview.capture_pane", lambda socket, pane: "")

    async def scenario() -> None:
        app = _app(tmp_path)
        async with app.run_test(size=size) as pilot:
            await _open_usage(app, pilot)
            plot = app.screen.query(UsagePlot).first()
            await until(pilot, lambda: plot.content_region.width > 0)
            # Read ahead once the sessions were listed, and again as the screen opened.
            calls = app.link.calls
            series = [p for name, p in calls if name == "usage.series"]
            assert sorted(p.hours for p in series) == [24, 24, 168, 168]
            assert {p.buckets for p in series} == {plot_columns(plot.content_region.width)}
            wastes = [p for name, p in calls if name == "reports.waste"]
            assert len(wastes) == 2
            assert {w.since for w in wastes} == {(NOW.date() - timedelta(days=6)).isoformat()}

    asyncio.run(scenario())


def test_the_screen_draws_what_was_read_ahead_before_the_engine_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`u` draws the charts from the data the tower read ahead; the screen's own
    read, the same data, leaves the widgets (and the scroll) as they are."""
    monkeypatch.setattr("tui.widgets.preview.capture_pane", lambda socket, pane: "")

    async def scenario() -> None:
        app = _app(tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.usage_ahead is not None)
            ahead = app.usage_ahead
            shown: list[Any] = []
            # The screen's own read never answers: only what was read ahead can be drawn.
            monkeypatch.setattr(app.link, "run", lambda name, job, done=None: None)
            monkeypatch.setattr(UsageScreen, "show", _recording(UsageScreen.show, shown))
            await pilot.press("u")
            await until(pilot, lambda: shown)
            assert shown == [ahead]
            assert app.screen.query("UsagePlot")

    asyncio.run(scenario())


def _recording(show: Any, shown: list[Any]) -> Any:
    def wrapper(self: Any, overview: Any) -> None:
        shown.append(overview)
        show(self, overview)

    return wrapper


def test_a_wider_screen_reads_the_slices_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stage zooms the tower's pane for this screen: the plots get more columns,
    and the series is read again cut to them."""
    from tui.widgets.usage_plot import UsagePlot, plot_columns

    monkeypatch.setattr("tui.widgets.preview.capture_pane", lambda socket, pane: "")

    async def scenario() -> None:
        app = _app(tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_usage(app, pilot)
            calls = app.link.calls

            def asked() -> set[int | None]:
                return {p.buckets for name, p in calls if name == "usage.series"}

            narrow = asked()
            await pilot.resize_terminal(200, 50)
            # Wait for the wider count to be asked, then check it is the plot's: a plot
            # looked at before the relayout still has its narrow width (seen under load).
            await until(pilot, lambda: len(asked()) == len(narrow) + 1)
            [wide] = asked() - narrow
            await until(
                pilot,
                lambda: (
                    plot_columns(app.screen.query(UsagePlot).first().content_region.width) == wide
                ),
            )

    asyncio.run(scenario())


def test_two_answers_close_together_replace_the_widgets_in_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What was read ahead, then the screen's own answer, different, a moment later:
    the second waits for the first's widgets to be gone (same ids)."""
    import dataclasses

    monkeypatch.setattr("tui.widgets.preview.capture_pane", lambda socket, pane: "")

    async def scenario() -> None:
        app = _app(tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await _open_usage(app, pilot)
            screen = app.screen
            assert isinstance(screen, UsageScreen)
            first = screen.overview
            assert first is not None
            second = dataclasses.replace(first, tokens=[])
            screen.show(dataclasses.replace(first, series={}))
            screen.show(second)
            await until(pilot, lambda: screen.overview is second)
            assert not screen.query("#tokens")  # the second answer's: no tokens table
            assert len(screen.query("#waste")) == 1

    asyncio.run(scenario())
