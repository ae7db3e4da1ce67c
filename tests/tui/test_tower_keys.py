"""The tower's keys and what it asks of the stage: the key bar at every width, the help,
dialogs that zoom the tower's pane, clicks on rows.

Snapshots here are at the sizes a person meets: 80x24 (the tower alone, or zoomed
over the whole window) and a wide terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes import NOW, answers, fixed
from rich.cells import cell_len
from tower_helpers import run, until

from collectors.paths import Paths
from collectors.settings import CuesSettings, KeySettings, Settings
from sessions import wire
from tui.app import PodiumApp
from tui.screens.help import help_sections, tmux_key_text
from tui.widgets.key_bar import GAP, KeyBar, KeyEntry, fit
from tui.widgets.preview import Preview

ENTRIES = [
    KeyEntry("tab", "next", "next"),
    KeyEntry("⏎", "show", "show"),
    KeyEntry("n", "new", "new"),
    KeyEntry("q", "quit", "quit"),
    KeyEntry("?", "help", "help"),
]
PRIORITY = ("help", "show", "next", "new", "quit")


def _width(entries: list[KeyEntry]) -> int:
    return sum(e.width for e in entries) + len(GAP) * max(0, len(entries) - 1)


# -- the key bar's rule -----------------------------------------------------------------
def test_the_bar_keeps_whole_entries_by_priority_in_their_own_order() -> None:
    assert fit(ENTRIES, 200, PRIORITY) == ENTRIES
    # Room for help and show only: the rest go whole, the two keep their bound order.
    room = _width([ENTRIES[1], ENTRIES[4]])
    assert fit(ENTRIES, room, PRIORITY) == [ENTRIES[1], ENTRIES[4]]
    assert fit(ENTRIES, room - 1, PRIORITY) == [ENTRIES[4]]
    assert fit(ENTRIES, ENTRIES[4].width - 1, PRIORITY) == []


def test_the_bar_never_skips_a_more_important_entry_for_a_smaller_one() -> None:
    # "tab next" does not fit after help and show; "n new" would, but comes later.
    room = _width([ENTRIES[4], ENTRIES[1], ENTRIES[0]]) - 1
    assert fit(ENTRIES, room, PRIORITY) == [ENTRIES[1], ENTRIES[4]]


def test_unlisted_actions_come_after_the_listed_ones() -> None:
    extra = KeyEntry("x", "kill", "kill")
    entries = [extra, *ENTRIES]
    assert extra not in fit(entries, _width(ENTRIES), PRIORITY)
    assert fit(entries, _width(entries), PRIORITY) == entries


def test_widths_are_terminal_cells() -> None:
    wide = KeyEntry("⏎", "表示", "show")
    assert wide.width == 1 + 1 + 4 == cell_len("⏎ 表示")


# -- the help ---------------------------------------------------------------------------
def test_tmux_key_names_read_as_a_person_types_them() -> None:
    assert tmux_key_text("M-Space") == "Alt-Space"
    assert tmux_key_text("M-0") == "Alt-0"
    assert tmux_key_text("C-M-a") == "Ctrl-Alt-a"
    assert tmux_key_text("F5") == "F5"


def test_help_lists_the_tmux_keys_as_configured() -> None:
    def tmux_keys(cues: CuesSettings) -> list[str]:
        sections = dict(help_sections(KeySettings(), cues))
        return [key for key, _doc in sections["Keys anywhere in podium's tmux"]]

    assert tmux_keys(CuesSettings()) == ["Alt-Space", "Alt-0", "Alt-1…9", "click"]
    moved = CuesSettings(next_key="F12", tower_key="M-t", session_keys=False, mouse=False)
    assert tmux_keys(moved) == ["F12", "Alt-t"]
    assert tmux_keys(CuesSettings(keys=False, mouse=False)) == ["none"]
    tower = dict(help_sections(KeySettings(diff="D"), CuesSettings()))["Keys in the tower"]
    assert dict(tower)["D"].startswith("Show the selected session's changes")


# -- the app ----------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def fixed_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview shows a canned pane instead of asking tmux."""
    monkeypatch.setattr("tui.widgets.preview.capture_pane", lambda socket, pane: "❯ \n")


def _app(tmp_path: Path, **settings: Any) -> PodiumApp:
    return PodiumApp(
        Paths(data=tmp_path / "data", runtime=tmp_path / "run"),
        Settings(**settings),
        link=fixed(answers=answers(stage_zoom=wire.Zoomed(zoomed=True))),
        clock=lambda: NOW,
        environ={"TMUX_PANE": "%9"},
        config_path=tmp_path / "config.toml",
        themes_dir=tmp_path / "themes",
    )


async def _ready(pilot: Any) -> None:
    app = pilot.app
    await until(pilot, lambda: app.state.loaded)
    preview = app.main.query_one(Preview)
    await until(pilot, lambda: not preview.display or bool(preview.text))
    await pilot.pause()


def _zooms(app: PodiumApp) -> list[bool]:
    """What the tower asked of `stage.zoom`, in order."""
    return [params.zoomed for name, params in app.link.calls if name == "stage.zoom"]  # type: ignore[attr-defined]


def test_dialogs_and_help_zoom_the_stage_towers_pane(tmp_path: Path) -> None:
    from tui.screens.help import HelpScreen
    from tui.screens.new_session import NewSessionDialog

    app = _app(tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await _ready(pilot)
            app.tower_window = "@1"  # the stage's own tower (a worker finds it in tmux)
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
            await until(pilot, lambda: _zooms(app) == [True])
            await pilot.press("escape")
            await until(pilot, lambda: _zooms(app) == [True, False])
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, NewSessionDialog))
            await until(pilot, lambda: _zooms(app) == [True, False, True])
            await pilot.press("escape")
            await until(pilot, lambda: _zooms(app) == [True, False, True, False])
            # A dialog over a wide screen keeps the zoom: nothing asked in between.
            await pilot.press("b")
            await until(pilot, lambda: _zooms(app)[-1] is True)
            await pilot.press("a")
            await until(pilot, lambda: type(app.screen).__name__ == "AddTaskDialog")
            await pilot.press("escape")
            await until(pilot, lambda: type(app.screen).__name__ == "BackgroundScreen")
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.main)
            await until(pilot, lambda: _zooms(app) == [True, False, True, False, True, False])

    run(scenario())


def test_a_tower_outside_the_stage_zooms_nothing(tmp_path: Path) -> None:
    app = _app(tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await _ready(pilot)
            await pilot.press("question_mark")
            await pilot.press("escape")
            await pilot.press("n")
            await until(pilot, lambda: app.screen is not app.main)
            assert _zooms(app) == []

    run(scenario())


def test_clicking_a_row_selects_its_session(tmp_path: Path) -> None:
    app = _app(tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await _ready(pilot)
            listing = app.main.session_list
            assert listing.selected is not None and listing.selected.name == "api"
            # Line 0 is the header: the third session is on line 3.
            await pilot.click("#sessions", offset=(5, 3))
            await until(pilot, lambda: listing.selected.name == "nightly")

    run(scenario())


def test_the_key_bar_at_80_columns_and_in_the_towers_pane(tmp_path: Path) -> None:
    async def bar(width: int) -> str:
        app = _app(tmp_path)
        async with app.run_test(size=(width, 24)) as pilot:
            await _ready(pilot)
            return str(app.main.query_one(KeyBar).render())

    assert run(bar(28)) == "tab next  ⏎ show  ? help"
    full = run(bar(80))
    assert full.startswith("tab next  ⏎ show  n new") and full.endswith("u usage  ? help")
    assert "d diff" in full and "palette" not in full  # the least needed went first
    assert run(bar(120)).endswith("? help  ^p palette")
    # A remapped key shows as configured.
    app = _app(tmp_path, keys=KeySettings(help="f1"))

    async def remapped() -> str:
        async with app.run_test(size=(40, 24)) as pilot:
            await _ready(pilot)
            return str(app.main.query_one(KeyBar).render())

    assert run(remapped()).endswith("f1 help")


def test_clicking_a_key_in_the_bar_presses_it(tmp_path: Path) -> None:
    from tui.screens.help import HelpScreen

    app = _app(tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=(28, 24)) as pilot:
            await _ready(pilot)
            text = str(app.main.query_one(KeyBar).render())
            await pilot.click(KeyBar, offset=(1 + text.index("? help") + 2, 0))
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))

    run(scenario())


# -- snapshots ----------------------------------------------------------------------------
def test_help_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(
        _app(tmp_path), press=["question_mark"], terminal_size=(80, 24), run_before=_ready
    )


def test_help_wide(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(
        _app(tmp_path), press=["question_mark"], terminal_size=(120, 50), run_before=_ready
    )


def test_new_session_dialog_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), press=["n"], terminal_size=(80, 24), run_before=_ready)


# -- a tower that fails in its pane ---------------------------------------------------------
def test_a_failed_tower_in_tmux_waits_for_enter(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui import tower_main

    def broken() -> int:
        raise tower_main.TowerError("config error in c.toml: unknown key 'ui.bogus'")

    pressed: list[str] = []
    monkeypatch.setattr(tower_main, "run_tower", broken)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda: pressed.append("enter") or "")
    monkeypatch.delenv("TMUX_PANE", raising=False)
    assert tower_main.main() == 1
    assert pressed == []  # in a plain terminal the shell shows the error anyway
    monkeypatch.setenv("TMUX_PANE", "%3")
    assert tower_main.main() == 1
    assert pressed == ["enter"]
    err = capsys.readouterr().err
    assert "unknown key 'ui.bogus'" in err and "Alt-0 or `podium up` starts" in err
    monkeypatch.setattr(tower_main, "run_tower", lambda: 0)
    assert tower_main.main() == 0 and pressed == ["enter"]  # q: the pane just closes
