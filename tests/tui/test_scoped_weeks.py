"""The model-scoped weeks on the tower: a gauge each for the Sonnet and Opus weeks
beside the 5-hour window and the week, at 80x24 (the stage's 19-column tower pane and
the whole terminal) and wide; the usage screen's gauges, plots and unused capacity of
the Sonnet week. A window no source reported is not shown.

Regenerate with `scripts/test tests/tui --snapshot-update` and read every SVG
before committing it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest
from fakes import NOW, SESSIONS, WASTE, WINDOWS, answers, fixed, iso, series
from test_snapshot_sizes import _ready, staged_sessions, tower_pane

from collectors.paths import Paths
from collectors.settings import Settings
from sessions import stage, wire
from tui.app import PodiumApp
from tui.screens.background import task_detail
from tui.widgets.gauge import gauge_content, label_width
from tui.widgets.session_list import SessionList
from tui.widgets.usage_header import UsageHeader

SONNET = wire.UsageWindow(
    window="seven_day_sonnet",
    used_pct=88.0,
    resets_at=iso(4 * 86400 + 7 * 3600),
    source="claude_json",
    age_s=40,
    burn_pct_per_hour=1.2,
    projected_pct_at_reset=100.0,
    limit_at=iso(10 * 3600),
)
# 5h, week, week opus (an estimate, from the fakes), week sonnet (official, nearly full).
FOUR = [*WINDOWS, SONNET]


def _sonnet_series() -> list[wire.SeriesPoint]:
    """The fakes' week, and the Sonnet week climbing faster than the week of all models."""
    points = series()
    weekly = [p for p in points if p.window == "seven_day"]
    return points + [
        wire.SeriesPoint(minute=p.minute, window="seven_day_sonnet", used_pct=p.used_pct * 1.24)
        for p in weekly
    ]


def four_weeks(**extra: Any) -> dict[str, Any]:
    sonnet_reset = wire.WasteWindow(
        window="seven_day_sonnet",
        resets_at=iso(-3 * 86400),
        unused_at_reset_pct=6.0,
        last_used_pct=94.0,
        area_pct_hours=2016.0,
        window_equivalents=0.12,
        coverage=0.99,
    )
    return answers(
        usage_windows=wire.UsageWindows(now=NOW.isoformat(), windows=FOUR),
        usage_series=wire.Series(hours=168.0, window=None, step=1, points=_sonnet_series()),
        reports_waste=wire.WasteReport(
            window=None,
            since=None,
            now=NOW.isoformat(),
            windows=[*WASTE, sonnet_reset],
            open=[],
            total={
                "seven_day_sonnet": wire.WasteTotal(
                    windows_ended=1,
                    unused_at_reset_pct=6.0,
                    unused_at_reset_windows=0.06,
                    unused_at_reset_mean_pct=6.0,
                    area_pct_hours=2016.0,
                    window_equivalents=0.12,
                    coverage=0.99,
                )
            },
        ),
        **extra,
    )


def _app(tmp_path: Path, columns: int, **link: Any) -> PodiumApp:
    return PodiumApp(
        Paths(data=tmp_path / "data", runtime=tmp_path / "run"),
        Settings(),
        link=fixed(staged_sessions(columns), **link),
        clock=lambda: NOW,
        environ={},
        config_path=tmp_path / "config.toml",
        themes_dir=tmp_path / "themes",
    )


@pytest.fixture(autouse=True)
def fixed_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tui.widgets.preview.capture_pane", lambda socket, pane: "❯ \n")


SIZES = [(80, 24), (200, 50)]


@pytest.mark.parametrize(("columns", "rows"), SIZES, ids=[f"{c}x{r}" for c, r in SIZES])
def test_four_gauges_in_the_stage(
    snap_compare: Any, tmp_path: Path, columns: int, rows: int
) -> None:
    app = _app(tmp_path, columns, answers=four_weeks())
    assert snap_compare(app, terminal_size=tower_pane(columns, rows), run_before=_ready)


@pytest.mark.parametrize(("columns", "rows"), SIZES, ids=[f"{c}x{r}" for c, r in SIZES])
def test_four_gauges_alone(snap_compare: Any, tmp_path: Path, columns: int, rows: int) -> None:
    app = _app(tmp_path, columns, answers=four_weeks())
    assert snap_compare(app, terminal_size=(columns, rows), run_before=_ready)


async def _usage(pilot: Any, *keys: str) -> None:
    await _ready(pilot)
    await pilot.press("u")
    for _ in range(200):
        if getattr(pilot.app.screen, "overview", None) is not None:
            break
        await pilot.pause(0.02)
    await pilot.pause()
    for key in keys:
        await pilot.press(key)
    await pilot.pause()


def test_usage_screen_with_the_sonnet_week_wide(snap_compare: Any, tmp_path: Path) -> None:
    # Its gauge and row in the windows now.
    app = _app(tmp_path, 200, answers=four_weeks())
    assert snap_compare(app, terminal_size=(200, 60), run_before=_usage)


def test_usage_screen_with_the_sonnet_week_at_the_end(snap_compare: Any, tmp_path: Path) -> None:
    # Its plots, and the capacity it left unused at its last reset.
    app = _app(tmp_path, 200, answers=four_weeks())
    assert snap_compare(app, terminal_size=(200, 60), run_before=lambda p: _usage(p, "end"))


@pytest.mark.parametrize(("columns", "rows"), [(80, 24), (100, 30), (200, 50)])
def test_every_gauge_line_fits_the_tower(tmp_path: Path, columns: int, rows: int) -> None:
    """In the stage's pane and alone: no gauge line is cut or folded, and under four
    gauges the session list still has a line for every session, inside the screen."""

    async def look(width: int, height: int) -> None:
        app = _app(tmp_path, columns, answers=four_weeks())
        async with app.run_test(size=(width, height)) as pilot:
            await _ready(pilot)
            header = app.main.query_one(UsageHeader)
            inner = header.content_region.width
            lines = header.render().split("\n")
            assert header.content_region.height == len(lines) == len(FOUR), header.size
            assert all(line.cell_length <= inner for line in lines), (width, lines)
            text = "\n".join(line.plain for line in lines)
            assert "sonnet" in text and "opus" in text, text
            listing = app.main.query_one(SessionList)
            assert listing.region.bottom <= height, (listing.region, height)
            assert listing.size.height >= len(SESSIONS) + 1, listing.size

    for width, height in (tower_pane(columns, rows), (columns, rows)):
        asyncio.run(look(width, height))


# The narrowest tower (the stage's floor, less the header's padding) and up.
@pytest.mark.parametrize("width", range(stage.TOWER_FLOOR - 2, 121))
def test_gauges_fit_any_width(width: int) -> None:
    label = label_width(FOUR, width)
    for window in FOUR:
        assert gauge_content(window, width, NOW, label).cell_length <= width


def test_a_window_no_source_reported_is_not_shown(tmp_path: Path) -> None:
    """The engine lists a scoped week only once a source reported it: the tower draws
    what it is given, and no Sonnet gauge appears from nothing."""

    async def look() -> str:
        app = _app(tmp_path, 200, answers=answers())
        async with app.run_test(size=(200, 50)) as pilot:
            await _ready(pilot)
            return app.main.query_one(UsageHeader).render().plain

    text = asyncio.run(look())
    assert "opus" in text and "sonnet" not in text


def test_four_weeks_answer_is_what_the_engine_could_send() -> None:
    msgspec.convert(msgspec.to_builtins(four_weeks()["usage.windows"]), wire.UsageWindows)


def test_the_background_screen_names_the_fallback_and_the_model_a_run_ran_on() -> None:
    run = wire.RunRecord(id=3, task_id=1, attempt=1, state="done", model="sonnet")
    task = wire.Task(
        id=1, prompt="port the parser", cwd="/src", model="opus", model_fallback="sonnet"
    )
    text = task_detail(task, None, NOW).plain
    assert "model opus, else sonnet" in text
    ran = msgspec.structs.replace(task, runs=1, last_run=run, cost_usd=0.5)
    assert "the last done on sonnet" in task_detail(ran, None, NOW).plain
