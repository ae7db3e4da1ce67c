"""Snapshots (SVG) of the tower's screens, from fixed data and a fixed clock.

Regenerate after an intended change with `scripts/test tests/tui --snapshot-update`
and look at the SVGs in `__snapshots__/` before committing them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes import NOW, SESSIONS, answers, fixed, session

from collectors.paths import Paths
from collectors.settings import Settings, UiSettings
from sessions import wire
from tui.app import PodiumApp
from tui.widgets.preview import Preview

SCREEN = (
    "\x1b[1m╭─ Claude Code ─────────────────────────────╮\x1b[0m\n"
    "│ \x1b[32m✓\x1b[0m Read tui/app.py                          │\n"
    "│ \x1b[33m?\x1b[0m Edit tui/app.py: allow?                  │\n"
    "╰───────────────────────────────────────────╯\n"
    " \x1b[1m❯ 1. Yes\x1b[0m\n"
    "   2. No, and tell Claude what to do differently\n"
)


@pytest.fixture(autouse=True)
def fixed_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview shows a canned pane instead of asking tmux."""
    monkeypatch.setattr("tui.widgets.preview.capture_pane", lambda socket, pane: SCREEN)


def _app(tmp_path: Path, theme: str = "podium-dark", **link: Any) -> PodiumApp:
    return PodiumApp(
        Paths(data=tmp_path / "data", runtime=tmp_path / "run"),
        Settings(ui=UiSettings(theme=theme)),
        link=fixed(**link),
        clock=lambda: NOW,
        environ={},
        config_path=tmp_path / "config.toml",
        themes_dir=tmp_path / "themes",
    )


async def _ready(pilot: Any) -> None:
    """Wait for the fixed engine's listing, then for the preview's capture (it
    arrives from a worker thread)."""
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


def _no_windows() -> wire.UsageWindows:
    return wire.UsageWindows(now=NOW.isoformat(), windows=[])


def test_main(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(100, 30), run_before=_ready)


def test_main_narrow_pane(snap_compare: Any, tmp_path: Path) -> None:
    # The tower's usual home: the left pane of the stage window.
    assert snap_compare(_app(tmp_path), terminal_size=(58, 30), run_before=_ready)


def test_main_light_theme(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(tmp_path, theme="podium-light")
    assert snap_compare(app, terminal_size=(100, 30), run_before=_ready)


def test_main_first_run(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(tmp_path, sessions=[], answers=answers(usage_windows=_no_windows()))
    assert snap_compare(app, terminal_size=(90, 20), run_before=_ready)


def test_main_engine_banner(snap_compare: Any, tmp_path: Path) -> None:
    async def lost(pilot: Any) -> None:
        from tui.messages import EngineEvent, EngineLost

        await _ready(pilot)
        pilot.app.post_message(EngineLost("the engine went away", 2.0, 3))
        tmux_gone = wire.TmuxEvent(data=wire.TmuxState(alive=False, socket="podium"))
        pilot.app.post_message(EngineEvent(tmux_gone))
        await _ready(pilot)

    sessions = [session("s1", "api", "lost", since_s=-5), *SESSIONS[1:3]]
    app = _app(tmp_path, sessions=sessions)
    assert snap_compare(app, terminal_size=(90, 24), run_before=lost)


def test_usage_screen(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), press=["u"], terminal_size=(100, 60), run_before=_ready)


def test_usage_screen_first_run(snap_compare: Any, tmp_path: Path) -> None:
    nothing = answers(
        usage_windows=_no_windows(),
        usage_series=wire.Series(hours=168.0, window=None, step=1, points=[]),
        reports_usage=wire.UsageReport(
            by="day_model", tz="UTC", since=None, until=None, rows=[], total=wire.UsageRow()
        ),
        reports_waste=wire.WasteReport(
            window=None, since=None, now=NOW.isoformat(), windows=[], open=[], total={}
        ),
    )
    app = _app(tmp_path, answers=nothing)
    assert snap_compare(app, press=["u"], terminal_size=(90, 20), run_before=_ready)


def test_background_screen(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), press=["b"], terminal_size=(110, 14), run_before=_ready)


def test_background_screen_empty_queue(snap_compare: Any, tmp_path: Path) -> None:
    empty = wire.QueueList(tasks=[], fill=wire.FillState(enabled=False))
    app = _app(tmp_path, answers=answers(queue_list=empty))
    assert snap_compare(app, press=["b"], terminal_size=(90, 14), run_before=_ready)


def test_help_screen(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(tmp_path)
    assert snap_compare(app, press=["question_mark"], terminal_size=(100, 40), run_before=_ready)


def test_main_rows_with_wide_and_long_doing(snap_compare: Any, tmp_path: Path) -> None:
    # DOING cut to its cells: double-width characters and a prompt longer than the row.
    sessions = [
        *SESSIONS[:3],
        session(
            "s7",
            "日本語",
            "busy",
            doing=wire.Doing(kind="tool", text="Edit: src/日本語/ファイル名がとても長い.py"),
        ),
        session("s8", "emoji", "busy", doing=wire.Doing(kind="prompt", text="fix 🐛 " * 30)),
    ]
    app = _app(tmp_path, sessions=sessions)
    assert snap_compare(app, terminal_size=(96, 24), run_before=_ready)
