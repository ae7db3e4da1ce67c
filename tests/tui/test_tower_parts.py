"""The tower's parts without an engine: formats, parsers, rows, gauges, themes, config."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from fakes import FULL, NOW, SESSIONS, WINDOWS, FixedLink, session
from tower_helpers import run

from collectors.durations import duration
from collectors.paths import Paths
from collectors.settings import KeySettings, Settings, load_settings
from sessions import wire
from sessions.protocol import ApiError
from themes import STATE_VARIABLES, load_user_themes
from tui.config_file import ConfigWriteError, set_key
from tui.engine_api import (
    DayTokens,
    official,
    pace_pct,
    show_session,
    tokens_by_day,
    usage_windows,
    window_label,
)
from tui.format import tokens
from tui.keys import keymap
from tui.screens.path_suggester import suggest_directory
from tui.tower_state import TowerState
from tui.widgets.gauge import bar
from tui.widgets.session_row import Widths, row_cells
from tui.widgets.usage_plot import PlotData, columns


def test_formats() -> None:
    assert [duration(s) for s in (None, 5, 125, 3 * 3600 + 60, 2 * 86400 + 7200)] == [
        "-",
        "5s",
        "2m",
        "3h01m",
        "2d2h",
    ]
    assert [tokens(v) for v in (None, True, 950, 12_300, 4_500_000)] == [
        "-",
        "-",
        "950",
        "12.3k",
        "4.5M",
    ]


def test_state_orders_as_podium_ls_and_finds_the_oldest_waiting() -> None:
    state = TowerState()
    state.load(SESSIONS)
    assert [s.name for s in state.ordered()] == [
        "api",
        "docs",
        "nightly",
        "refactor",
        "shell",
        "old",
    ]
    oldest = state.oldest_waiting()
    assert oldest is not None and oldest.name == "api"
    state.update(msgspec.structs.replace(SESSIONS[0], state="busy", attention=None))
    # Busy ones after the waiting, longest busy first.
    assert [s.name for s in state.ordered()][:4] == ["docs", "nightly", "refactor", "api"]
    state.remove("s2")
    assert "docs" not in [s.name for s in state.ordered()]
    # The tower follows `[attention] order` as the engine does; `next` skips a seen turn.
    state = TowerState(["limited", "waiting"])
    state.load([*SESSIONS, session("s9", "glanced", "seen", since_s=-4000)])
    assert [s.name for s in state.ordered()][:4] == ["nightly", "glanced", "docs", "api"]
    assert [s.name for s in state.waiting()] == ["nightly", "docs", "api"]


def test_row_cells_say_what_ls_says() -> None:
    limited = row_cells(SESSIONS[3], NOW)
    assert (limited.glyph, limited.state_text, limited.waited) == ("◷", "limited ↻2h10m", "30s")
    # Busy: for how long, under BUSY: a busy session waits for nobody.
    busy = row_cells(SESSIONS[2], NOW)
    assert (busy.waited, busy.busy) == ("", "25m")
    assert row_cells(SESSIONS[5], NOW).state_text == "exited (1)"
    seen = row_cells(session("x", "x", "permission"), NOW)
    assert seen.state_text == "permission (seen)" and (seen.waited, seen.busy) == ("", "")
    # A seen turn: its own glyph and state, for as long as it has been your move.
    turn = row_cells(session("x", "x", "seen", since_s=-300), NOW)
    assert (turn.glyph, turn.state_text, turn.waited, turn.waiting) == ("◇", "seen", "5m", False)
    assert row_cells(SESSIONS[1], NOW).branch == "podium/docs"
    assert row_cells(SESSIONS[4], NOW).tokens == "-"
    posted = msgspec.structs.replace(SESSIONS[2], messages_waiting=1)
    assert row_cells(posted, NOW).state_text == "busy · 1 msg"
    asked = msgspec.structs.replace(session("x", "x", "permission"), messages_waiting=3)
    assert row_cells(asked, NOW).state_text == "permission (seen) · 3 msgs"


def test_narrow_rows_drop_columns_not_names() -> None:
    rows = [row_cells(s, NOW) for s in SESSIONS]
    wide, narrow = Widths.fit(rows, 120), Widths.fit(rows, 36)
    assert wide.agent and wide.tokens and wide.branch and wide.busy and wide.state
    assert narrow.name == wide.name and not narrow.branch and not narrow.tokens
    # The stage's narrowest tower: glyph, number, whole names and the wait, nothing else.
    tower = Widths.fit(rows, 18)
    assert (tower.number, tower.name, tower.waited) == (1, len("refactor"), 4)
    assert not (tower.state or tower.busy or tower.agent)
    # Narrower still, names are cut before the wait goes.
    assert Widths.fit(rows, 14).name == 4 and Widths.fit(rows, 14).waited == 4


def test_usage_windows_in_order_and_pace() -> None:
    reply = wire.UsageWindows(now=NOW.isoformat(), windows=list(reversed(WINDOWS)))
    link = FixedLink(None, answers={**FULL, "usage.windows": reply})
    five, week, opus = usage_windows(link._request)
    assert [window_label(w.window) for w in (five, week, opus)] == ["5h", "week", "week opus"]
    assert official(five) and not official(opus)
    # 2h13m left of 5h: 2h47m gone, so even spending would be at 55.7 %.
    assert pace_pct(five, NOW) == pytest.approx(100 * (167 / 300))


def test_gauge_bar_fills_and_marks_the_pace() -> None:
    plain = bar(50, 75, 8).plain
    assert plain == "████░░┃░"  # pace mark at 75 % of 8 cells
    assert bar(None, None, 4).plain == "░░░░"
    assert bar(150, 0, 4).plain == "┃███"


def test_series_tokens_and_plot_columns() -> None:
    data = PlotData(
        [(NOW - timedelta(hours=h), float(h)) for h in (1, 2, 23)], NOW - timedelta(hours=24), NOW
    )
    cols = columns(data, 24)
    assert (cols[1], cols[22], cols[23], cols[5]) == (23.0, 2.0, 1.0, None)
    models, days = tokens_by_day(
        [
            wire.UsageRow(day="d2", model="claude-haiku-4-5", tokens=40, cost_usd=0.5),
            wire.UsageRow(day="d1", model="claude-opus-4-5", tokens=12, cost_usd=1.0),
            wire.UsageRow(day="d1", model="claude-sonnet-4-5", tokens=3, unpriced=1),
            wire.UsageRow(day="d1", model="claude-opus-4-5-20251101", tokens=30, cost_usd=2.0),
        ]
    )
    # One column per model name, most tokens first; days in order.
    assert models == ["Opus 4.5", "Haiku 4.5", "Sonnet 4.5"]
    assert days == [
        DayTokens("d1", {"Opus 4.5": 42, "Sonnet 4.5": 3}, 45, 3.0, 1),
        DayTokens("d2", {"Haiku 4.5": 40}, 40, 0.5, 0),
    ]


def test_without_a_stage_showing_a_session_focuses_it() -> None:
    calls: list[str] = []

    def request(method: wire.Method[Any, Any], params: Any = None) -> Any:
        calls.append(method.name)
        if method is wire.STAGE_SHOW:
            raise ApiError("no_stage", "there is no stage yet: `podium up` makes it")
        return wire.FocusedSession(**msgspec.structs.asdict(SESSIONS[0]), shown=True)

    assert show_session(request, "api").name == "api"
    assert calls == ["stage.show", "sessions.focus"]

    def broken(method: wire.Method[Any, Any], params: Any = None) -> Any:
        raise ApiError("internal", "boom")

    with pytest.raises(ApiError):
        show_session(broken, "api")


def test_keymap_from_config_only_lists_changes(tmp_path: Path) -> None:
    assert keymap(KeySettings()) == {}
    file = tmp_path / "config.toml"
    file.write_text('[keys]\nkill = "d"\nnext = "tab , space"\nhelp = "?,f1"\n')
    assert keymap(load_settings(file, environ={}).keys) == {
        "podium.kill": "d",
        "podium.help": "?,f1",
    }


def test_set_key_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    original = '# my podium\n[tmux]\nsocket = "mine"  # private\n\n[ui]\ntheme = "nord"\n'
    file.write_text(original)
    set_key(file, "ui", "theme", "podium-light")
    text = file.read_text()
    assert text == original.replace('"nord"', '"podium-light"')
    fresh = tmp_path / "sub" / "new.toml"
    set_key(fresh, "ui", "theme", "podium-dark")
    assert load_settings(fresh, environ={}).ui.theme == "podium-dark"
    bad = tmp_path / "bad.toml"
    bad.write_text("[ui\n")
    with pytest.raises(ConfigWriteError, match="not valid TOML"):
        set_key(bad, "ui", "theme", "x")
    assert bad.read_text() == "[ui\n"


def test_user_themes_load_and_bad_ones_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "themes"
    folder.mkdir()
    (folder / "sea.toml").write_text(
        'primary = "#268bd2"\ndark = false\n[variables]\nstate-waiting = "#859900"\n'
    )
    (folder / "typo.toml").write_text('primary = "#000"\nbackgroud = "#fff"\n')
    (folder / "colour.toml").write_text('primary = "not a colour"\n')
    themes, problems = load_user_themes(folder)
    assert [t.name for t in themes] == ["sea"] and themes[0].variables["state-waiting"]
    assert len(problems) == 2
    assert any("typo.toml" in p and "backgroud" in p for p in problems)
    assert any("colour.toml" in p and "primary" in p for p in problems)
    assert load_user_themes(tmp_path / "none") == ([], [])


def test_suggest_directory(tmp_path: Path) -> None:
    (tmp_path / "alpha").mkdir()
    (tmp_path / "alpine").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "afile").write_text("")
    base = str(tmp_path)
    assert suggest_directory(base + "/al") == base + "/alpha/"
    assert suggest_directory(base + "/alpi") == base + "/alpine/"
    assert suggest_directory(base + "/") == base + "/alpha/"
    assert suggest_directory(base + "/.h") == base + "/.hidden/"
    assert suggest_directory(base + "/zz") is None


def test_themes_register_with_state_variables_and_the_choice_is_saved(tmp_path: Path) -> None:
    from fakes import fixed

    from tui.app import PodiumApp

    config = tmp_path / "config.toml"
    config.write_text('# keep me\n[ui]\ntheme = "nope"\n')
    themes = tmp_path / "themes"
    themes.mkdir()
    (themes / "mine.toml").write_text('primary = "#ff0000"\n')
    (themes / "broken.toml").write_text("primary = \n")
    app = PodiumApp(
        Paths(tmp_path / "d", tmp_path / "r"),
        Settings(),
        link=fixed([]),
        environ={},
        config_path=config,
        themes_dir=themes,
    )
    assert {"podium-dark", "podium-light", "mine"} <= set(app.available_themes)
    for name in ("podium-dark", "podium-light"):
        assert set(STATE_VARIABLES) <= set(app.available_themes[name].variables)

    async def scenario() -> None:
        async with app.run_test() as pilot:
            await pilot.pause()
            # A built-in Textual theme still has podium's variables (defaults).
            app.theme = "nord"
            await pilot.pause()
            assert set(STATE_VARIABLES) <= set(app.theme_variables)
            app.theme = "podium-light"
            for _ in range(100):
                if 'theme = "podium-light"' in config.read_text():
                    break
                await pilot.pause(0.02)

    run(scenario())
    assert config.read_text().startswith("# keep me\n")
    assert 'theme = "podium-light"' in config.read_text()
    assert any("broken.toml" in p for p in app.startup_problems)


def _fixed_app(tmp_path: Path, settings: Settings) -> Any:
    from fakes import fixed

    from tui.app import PodiumApp

    return PodiumApp(
        Paths(tmp_path / "d", tmp_path / "r"),
        settings,
        link=fixed(),
        clock=lambda: NOW,
        environ={},
        config_path=tmp_path / "config.toml",
        themes_dir=tmp_path / "themes",
    )


def test_keys_remapped_from_config(tmp_path: Path) -> None:
    from tui.screens.confirm_kill import ConfirmKill
    from tui.screens.help import HelpScreen

    keys = KeySettings(kill="delete", help="f1", down="down,s")
    app = _fixed_app(tmp_path, Settings(keys=keys))

    async def scenario() -> None:
        async with app.run_test() as pilot:
            await pilot.pause()
            await pilot.press("x")
            assert not isinstance(app.screen, ConfirmKill)
            await pilot.press("s")  # now a second key for "down", no longer "send"
            assert app.main.session_list.selected.name == "docs"
            await pilot.press("delete")
            assert isinstance(app.screen, ConfirmKill) and app.screen.session.name == "docs"
            await pilot.press("n")
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            cells = [str(s.render()) for s in app.screen.query("Grid").first().query("Static")]
            assert cells[cells.index("delete") + 1].startswith("Kill the selected session")
            assert cells[cells.index("↓ s") + 1].startswith("Select the session below")

    run(scenario())


def test_command_palette_acts_on_a_named_session(tmp_path: Path) -> None:
    from tui.screens.confirm_kill import ConfirmKill

    app = _fixed_app(tmp_path, Settings())

    async def scenario() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+p")
            await pilot.press(*"kill nightly")
            for _ in range(50):
                await pilot.pause(0.05)
                await pilot.press("enter")
                if isinstance(app.screen, ConfirmKill):
                    break
            assert isinstance(app.screen, ConfirmKill)
            assert app.screen.session.name == "nightly"

    run(scenario())
