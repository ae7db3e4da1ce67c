"""The session list as the stage shows it: on-stage marks, exited sessions hidden until
the key shows them, and the narrowest tower (19 columns) keeping every session whole."""

from __future__ import annotations

from pathlib import Path

import msgspec
from fakes import NOW, SESSIONS, fixed
from tower_helpers import run, until

from collectors.paths import Paths
from collectors.settings import Settings
from sessions import wire
from tui.app import PodiumApp
from tui.widgets.session_list import SessionList
from tui.widgets.usage_header import UsageHeader


def _app(tmp_path: Path, sessions: list[wire.Session]) -> PodiumApp:
    return PodiumApp(
        Paths(data=tmp_path / "data", runtime=tmp_path / "run"),
        Settings(),
        link=fixed(sessions),
        clock=lambda: NOW,
        environ={},
        config_path=tmp_path / "config.toml",
        themes_dir=tmp_path / "themes",
    )


def _lines(app: PodiumApp) -> list[str]:
    return app.main.query_one(SessionList).render().plain.split("\n")


def _row(lines: list[str], name: str) -> str:
    [row] = [line for line in lines if f" {name}" in line]
    return row


def test_rows_mark_the_staged_and_exited_ones_wait_for_the_key(tmp_path: Path) -> None:
    on_stage = {"refactor", "docs"}
    sessions = [msgspec.structs.replace(s, on_stage=s.name in on_stage) for s in SESSIONS]

    async def go() -> None:
        app = _app(tmp_path, sessions)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.state.loaded)
            await pilot.pause()
            lines = _lines(app)
            assert all(_row(lines, n).startswith("▸") for n in on_stage)
            assert all(_row(lines, n).startswith(" ") for n in ("api", "nightly", "shell"))
            # Exited: hidden, and said so with the key that shows them.
            assert not any(" old " in line for line in lines)
            assert lines[-1].strip() == "1 exited: e shows"
            await pilot.press("e")
            await pilot.pause()
            lines = _lines(app)
            assert "exited (1)" in _row(lines, "old") and "exited:" not in lines[-1]
            await pilot.press("e")
            await pilot.pause()
            assert not any(" old " in line for line in _lines(app))

    run(go())


def test_the_cursor_stays_on_its_line_when_its_session_is_hidden(tmp_path: Path) -> None:
    async def go() -> None:
        app = _app(tmp_path, SESSIONS)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.state.loaded)
            listing = app.main.query_one(SessionList)
            await pilot.press("e")
            listing.select("s6")  # old: exited, last
            await pilot.press("e")  # hidden again
            await pilot.pause()
            assert listing.selected is not None and listing.selected.name == "shell"

    run(go())


def test_the_narrowest_tower_lists_every_session_whole(tmp_path: Path) -> None:
    """The stage's tower at 80 columns: 19 columns beside one session of 60."""

    async def go() -> None:
        app = _app(tmp_path, SESSIONS)
        async with app.run_test(size=(19, 22)) as pilot:
            await until(pilot, lambda: app.state.loaded)
            await pilot.pause()
            lines = _lines(app)
            for s in SESSIONS[:5]:
                row = _row(lines, s.name)
                assert len(row) <= 18 and f"{s.number} {s.name}" in row  # number, whole name
            assert "12m" in _row(lines, "api")  # how long it waited
            gauges = app.main.query_one(UsageHeader).render().plain.split("\n")
            assert [g.split()[0] for g in gauges] == ["5h", "week", "opus"]
            assert all(g.rstrip().endswith("%") and len(g) <= 17 for g in gauges)

    run(go())
