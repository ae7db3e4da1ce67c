"""Snapshots of the tower at the terminal sizes podium is made for, from 80x24 up.

Two views per size: the pane the stage gives the tower in a terminal of that
size (`stage.widths`: 19 columns at 80, 40 at 200; the rows below tmux's status
line and the pane's border line), and the tower filling the terminal (its wide
screens zoom it; `podium tower` outside the stage). Regenerate with
`--snapshot-update` and read every SVG before committing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
from fakes import NOW, SESSIONS, fixed

from collectors.paths import Paths
from collectors.settings import Settings, UiSettings
from sessions import stage, wire
from tui.app import PodiumApp
from tui.widgets.preview import Preview

SCREEN = (
    "╭─ Claude Code ──────────────────╮\n"
    "│ Edit tui/app.py: allow?        │\n"
    "╰────────────────────────────────╯\n"
    " ❯ 1. Yes\n"
    "   2. No, and tell Claude what to do differently\n"
)
SIZES = [(80, 24), (100, 30), (120, 40), (200, 50)]


@pytest.fixture(autouse=True)
def fixed_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview shows a canned pane instead of asking tmux."""
    monkeypatch.setattr("tui.widgets.preview.capture_pane", lambda socket, pane: SCREEN)


def staged_sessions(columns: int) -> list[wire.Session]:
    """The fixed sessions, as many on stage as a window of `columns` holds (the busy
    ones first, as the person looked at them last); the rest parked."""
    ui = UiSettings()
    places = stage.stage_capacity(columns, ui.stage_size, ui.session_min_width)
    staged = {"refactor", "docs", "nightly"}
    order = ["refactor", "docs", "nightly"][:places]
    return [
        msgspec.structs.replace(s, on_stage=s.name in order and s.name in staged) for s in SESSIONS
    ]


def _app(tmp_path: Path, columns: int) -> PodiumApp:
    return PodiumApp(
        Paths(data=tmp_path / "data", runtime=tmp_path / "run"),
        Settings(),
        link=fixed(staged_sessions(columns)),
        clock=lambda: NOW,
        environ={},
        config_path=tmp_path / "config.toml",
        themes_dir=tmp_path / "themes",
    )


async def _ready(pilot: Any) -> None:
    """The fixed engine's listing, then the preview's capture (from a worker thread)."""
    app = pilot.app
    for _ in range(200):
        if app.state.loaded:
            break
        await pilot.pause(0.02)
    preview = app.main.query_one(Preview)
    for _ in range(200):
        if not preview.display or preview.text:
            break
        await pilot.pause(0.02)
    await pilot.pause()


def tower_pane(columns: int, rows: int) -> tuple[int, int]:
    """The tower's pane in a terminal of that size: the stage's left cell, under the
    status line and above nothing but its own border line."""
    ui = UiSettings()
    shown = stage.stage_capacity(columns, ui.stage_size, ui.session_min_width)
    cells = stage.widths(columns, shown, session_min=ui.session_min_width)
    assert cells is not None
    return cells[0], rows - 2


@pytest.mark.parametrize(("columns", "rows"), SIZES, ids=[f"{c}x{r}" for c, r in SIZES])
def test_tower_in_the_stage(snap_compare: Any, tmp_path: Path, columns: int, rows: int) -> None:
    app = _app(tmp_path, columns)
    assert snap_compare(app, terminal_size=tower_pane(columns, rows), run_before=_ready)


@pytest.mark.parametrize(("columns", "rows"), SIZES, ids=[f"{c}x{r}" for c, r in SIZES])
def test_tower_alone(snap_compare: Any, tmp_path: Path, columns: int, rows: int) -> None:
    app = _app(tmp_path, columns)
    assert snap_compare(app, terminal_size=(columns, rows), run_before=_ready)
