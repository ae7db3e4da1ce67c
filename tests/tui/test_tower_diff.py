"""The diff view (`d`): a session's changes from a real git repository, and its look.

The Pilot test reads a real repository through the real git; the snapshots are
fed a fixed `Changes` (paths and commit ids of a tmp repository differ each run).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest
from fakes import NOW, SESSIONS, answers, fixed
from tower_helpers import run, until

from collectors.paths import Paths
from collectors.settings import Settings
from sessions import wire
from sessions.changes import Changes
from tui.app import PodiumApp
from tui.screens.diff import DiffScreen
from tui.widgets.diff_view import DiffView, diff_lines
from tui.widgets.preview import Preview

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}

FIXED = Changes(
    "/home/me/src/api",
    branch="podium/api",
    base="3f2a9c1d5e7b8a9c0d1e2f3a4b5c6d7e8f9a0b1c",
    base_is_start=True,
    commits=2,
    summary="2 files changed, 4 insertions(+), 2 deletions(-)",
    patch=(
        "diff --git a/tui/app.py b/tui/app.py\n"
        "index 814f4a4..95fc9f7 100644\n"
        "--- a/tui/app.py\n"
        "+++ b/tui/app.py\n"
        "@@ -10,4 +10,5 @@ class PodiumApp(App[None]):\n"
        '     TITLE = "podium"\n'
        "-    COMMANDS = App.COMMANDS\n"
        "+    COMMANDS = App.COMMANDS | {TowerCommands}\n"
        "+    # The palette knows the sessions by name.\n"
        "     BINDINGS = []\n"
        "diff --git a/README.md b/README.md\n"
        "index 1111111..2222222 100644\n"
        "--- a/README.md\n"
        "+++ b/README.md\n"
        "@@ -1,3 +1,4 @@\n"
        " # podium\n"
        "-Conduct agents.\n"
        "+Conduct several coding agents from one terminal, side by side in tmux panes.\n"
        "+\n"
    ),
    untracked=["notes/todo.md", "tui/screens/diff.py"],
)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], env=GIT_ENV, capture_output=True, check=True)


@pytest.fixture(autouse=True)
def fixed_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview shows a canned pane instead of asking tmux."""
    monkeypatch.setattr("tui.widgets.preview.capture_pane", lambda socket, pane: "❯ \n")


def _app(tmp_path: Path, sessions: list[wire.Session] | None = None) -> PodiumApp:
    return PodiumApp(
        Paths(data=tmp_path / "data", runtime=tmp_path / "run"),
        Settings(),
        link=fixed(sessions, answers=answers(stage_zoom=wire.Zoomed(zoomed=True))),
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


def _text(app: PodiumApp) -> str:
    return "\n".join(line.plain for line in app.screen.query_one(DiffView).lines)


def test_d_shows_the_selected_sessions_changes_from_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "f.txt").write_text("one\ntwo\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first")
    start = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    (repo / "f.txt").write_text("one\nTWO\n")
    (repo / "new.txt").write_text("x\n")
    first = msgspec.structs.replace(SESSIONS[0], cwd=str(repo), start_commit=start)
    plain = msgspec.structs.replace(SESSIONS[1], cwd=str(tmp_path))
    app = _app(tmp_path, [first, plain, *SESSIONS[2:]])

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await _ready(pilot)
            app.tower_window = "@1"
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, DiffScreen))
            await until(pilot, lambda: "+TWO" in _text(app))
            text = _text(app)
            assert f"since it started at {start[:10]}" in text
            assert "-two" in text and "Untracked files (1)\n  new.txt" in text
            calls = [p.zoomed for name, p in app.link.calls if name == "stage.zoom"]  # type: ignore[attr-defined]
            assert calls == [True]
            # r reads it again.
            (repo / "later.txt").write_text("y\n")
            await pilot.press("r")
            await until(pilot, lambda: "later.txt" in _text(app))
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.main)
            # A session outside git says so, in one line.
            await pilot.press("down")
            await pilot.press("d")
            await until(pilot, lambda: "not in a git repository" in _text(app))
            assert _text(app) == f"{tmp_path} is not in a git repository: there is no diff to show"

    run(scenario())


def test_diff_lines_say_what_the_diff_is_against() -> None:
    head = Changes("/r", base="abc", summary="", patch="")
    lines = [line.plain for line in diff_lines(head)]
    assert lines[1] == "changes not committed yet (against HEAD abc: no start recorded)"
    assert lines[2] == "no changes to tracked files"
    cut = Changes("/r", base="abc", base_is_start=True, commits=1, patch="+a\n", patch_cut=True)
    lines = [line.plain for line in diff_lines(cut)]
    assert lines[1] == "changes since it started at abc (1 commit since)"
    assert lines[-1] == "… the diff goes on: cut here"


@pytest.fixture
def fixed_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tui.screens.diff.changes", lambda directory, start: FIXED)


async def _diff_ready(pilot: Any) -> None:
    await _ready(pilot)
    await pilot.press("d")
    await until(pilot, lambda: "+    COMMANDS" in _text(pilot.app))
    await pilot.pause()


def test_diff_screen_at_80x24(snap_compare: Any, tmp_path: Path, fixed_changes: None) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=_diff_ready)


def test_diff_screen_wide(snap_compare: Any, tmp_path: Path, fixed_changes: None) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(160, 40), run_before=_diff_ready)
