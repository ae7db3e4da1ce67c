"""What each session is doing, in the tower: the row's TODAY, COST and DOING columns
(fitted to any width, wide characters included), and the preview's tail of the pane."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from conftest import PodiumEnv
from fakes import NOW, SESSIONS, session
from rich.cells import cell_len
from tower_helpers import (  # noqa: F401 - a fixture
    run,
    tower_app,
    tower_env_fixture,
    until,
)

from sessions import wire
from tui.format import cost, tokens
from tui.widgets.preview import Preview, bottom_lines, parse_capture
from tui.widgets.session_list import SessionList
from tui.widgets.session_row import DOING_MIN, Widths, header_content, row_cells, row_content

SCREENS = Path(__file__).resolve().parent.parent / "unit" / "screens"

WIDE = [
    *SESSIONS,
    session(
        "s7",
        "日本語のセッション",
        "busy",
        doing=wire.Doing(kind="tool", text="Edit: src/日本語/ファイル名がとても長い.py"),
    ),
    session("s8", "emoji", "busy", doing=wire.Doing(kind="prompt", text="fix 🐛🐛🐛 " * 20)),
]


def test_cells_show_cost_and_what_a_session_does() -> None:
    api, docs, refactor, nightly = (row_cells(s, NOW) for s in SESSIONS[:4])
    assert (api.cost, refactor.cost, nightly.cost) == ("$1.82", "$112", "-")
    assert (api.doing_kind, api.doing) == ("tool", "Bash: rm -rf build && npm run build")
    assert docs.doing == "Shall I also update the changelog?"
    asked = row_cells(session("p", "p", "busy", doing=wire.Doing(kind="prompt", text="go")), NOW)
    assert (asked.doing_kind, asked.doing) == ("prompt", "› go")
    idle = row_cells(SESSIONS[4], NOW)
    assert (idle.doing_kind, idle.doing, idle.cost) == ("", "", "-")
    # A line break from an engine of another version never splits a row.
    odd = session("o", "o", "busy", doing=wire.Doing(kind="said", text="one\ntwo\r\nthree"))
    assert row_cells(odd, NOW).doing == "one two three"
    assert [cost(v) for v in (None, True, 0, 0.004, 3.456, 99.99, 140.4)] == [
        "-",
        "-",
        "$0.00",
        "$0.00",
        "$3.46",
        "$99.99",
        "$140",
    ]


def test_doing_takes_what_is_left_and_goes_first() -> None:
    rows = [row_cells(s, NOW) for s in SESSIONS]
    wide, medium, narrow = (Widths.fit(rows, w) for w in (120, 70, 36))
    assert wide.doing >= 40 and wide.branch and wide.cost and wide.tokens and wide.agent
    # Narrower: DOING goes while every other column stays.
    assert not medium.doing and medium.branch and medium.cost and medium.tokens
    assert not narrow.doing and narrow.name == wide.name
    # No session doing anything: no empty DOING column.
    quiet = [row_cells(msgspec.structs.replace(s, doing=None), NOW) for s in SESSIONS]
    assert not Widths.fit(quiet, 120).doing
    assert "DOING" in header_content(wide).plain and "DOING" not in header_content(medium).plain
    # The last column of a wide row shows the tool's name apart from its subject.
    line = row_content(rows[0], wide)
    assert line.plain.rstrip().endswith("Bash: rm -rf build && npm run build")
    assert any(line.plain[s.start : s.end] == "Bash" and "bold" in str(s.style) for s in line.spans)


@pytest.mark.parametrize("width", [*range(8, 24), *range(24, 161, 7)])
def test_rows_never_outgrow_their_line(width: int) -> None:
    rows = [row_cells(s, NOW, staged=s.name == "api") for s in WIDE]
    widths = Widths.fit(rows, width)
    assert not widths.doing or widths.doing >= DOING_MIN
    assert header_content(widths).cell_length <= width
    for row in rows:
        line = row_content(row, widths)
        assert "\n" not in line.plain
        assert line.cell_length <= width, (width, line.plain)
        if widths.doing and cell_len(row.doing) > widths.doing:
            # Cut to fill what is left (a cell short when a wide character would
            # straddle the edge), and said to be cut.
            assert line.cell_length >= width - 1 and line.plain.rstrip().endswith("…")


def test_the_row_shows_what_the_engine_says(tower_env: PodiumEnv) -> None:
    """A sim session's turn ends: its row shows the last line it said, its tokens and
    cost today, as `podium ls` has them."""
    env = tower_env
    env.json("new", "--agent", "sim", "--name", "talker", "--prompt", "[nopermission] hi")
    env.wait_state("talker", "waiting")

    def listed() -> dict:
        return env.json("ls")[0]

    assert env.wait_for(lambda: listed()["doing"] is not None and listed()["tokens_today"], 30)
    rec = listed()
    assert rec["doing"]["kind"] == "said" and rec["doing"]["text"]

    async def scenario() -> None:
        app = tower_app(env)
        async with app.run_test(size=(140, 30)) as pilot:
            listing = app.main.query_one(SessionList)
            await until(pilot, lambda: [s.name for s in listing.sessions] == ["talker"])
            await pilot.pause()
            row = listing.render().plain.splitlines()[1]
            assert rec["doing"]["text"][:20] in row, row
            assert f" {tokens(rec['tokens_today'])} " in row
            assert f" {cost(rec['cost_today_usd'])} " in row and "$" in row

    run(scenario())


def test_the_preview_shows_the_tail_of_the_pane(tower_env: PodiumEnv) -> None:
    """More lines in the pane than the preview has: the bottom ones, the prompt last."""
    env = tower_env
    env.json("new", "--agent", "shell", "--name", "counter")
    env.wait_state("counter", "idle")
    pane = env.session("counter")["pane_id"]
    env.run("send", "counter", "seq 1 300", check=True)

    def screen() -> list[str]:
        lines = env.tmux("capture-pane", "-p", "-t", pane).stdout.rstrip("\n").split("\n")
        while lines and not lines[-1].strip():
            lines.pop()
        return lines

    assert env.wait_for(lambda: "300" in screen() and screen()[-1] != "300", 20), screen()

    async def scenario() -> None:
        app = tower_app(env)
        async with app.run_test(size=(100, 30)) as pilot:
            preview = app.main.query_one(Preview)
            await until(pilot, lambda: preview.display and "300" in preview.raw)
            await pilot.pause()
            shown = [line.rstrip() for line in preview.render().plain.split("\n")]
            tail = [line.rstrip() for line in screen()]
            height = preview.content_region.height
            assert 3 <= len(shown) == height < len(tail)
            assert shown == tail[-height:]  # the bottom of the pane, its prompt last
            assert "300" in shown

    run(scenario())


def test_the_preview_squeezes_blank_lines_to_show_what_was_said() -> None:
    """Claude Code's screen: its answer near the top of a tall pane, its prompt box at
    the bottom, blank lines between. Ten lines of preview show both."""
    screen = (SCREENS / "claude_done.txt").read_text()
    assert "\n\n\n\n\n" in screen
    shown = bottom_lines(parse_capture(screen), 10).plain.split("\n")
    assert len(shown) == 10
    assert "● Hello from the fake API." in shown
    assert "manual mode on" in shown[-1]
    assert "" not in shown[-4:]  # the box and what is under it, no gap
    squeezed = parse_capture("\n\n\x1b[31m\x1b[0m\na\n\n \n\x1b[1m\x1b[0m\nb\n\n\n").plain
    assert squeezed == "a\n\nb"


@pytest.fixture
def claude_tower(
    make_claude_podium: Callable[..., PodiumEnv], monkeypatch: pytest.MonkeyPatch
) -> PodiumEnv:
    """A podium whose `claude` is the real CLI, and this process pointed at it (as
    `tower_env` does) for the app."""
    env = make_claude_podium()
    for key in list(os.environ):
        # TMUX_TMPDIR stays: it says where the test's tmux server has its socket.
        if key.startswith(("PODIUM_", "TMUX", "CLAUDE_")) and key != "TMUX_TMPDIR":
            monkeypatch.delenv(key)
    for key, value in env.env.items():
        if key.startswith(("PODIUM_", "CLAUDE_")):
            monkeypatch.setenv(key, value)
    return env


def test_a_real_claude_session_in_the_tower(claude_tower: PodiumEnv) -> None:
    """The row shows the command Claude Code runs, then its last line, tokens and cost;
    the preview shows that line above the prompt box, not the blank gap between."""
    env = claude_tower
    env.json("new", "--agent", "claude", "--name", "real", "--cwd", str(env.workdir))
    env.wait_state("real", "idle", seconds=60)
    command = "while [ ! -e go ]; do sleep 0.1; done"

    async def scenario() -> None:
        app = tower_app(env)
        async with app.run_test(size=(140, 40)) as pilot:
            listing = app.main.query_one(SessionList)
            await until(pilot, lambda: [s.name for s in listing.sessions] == ["real"])

            def row() -> str:
                return listing.render().plain.splitlines()[1]

            env.run("send", "real", f"RUN_BASH {command}", check=True)
            await until(pilot, lambda: f"Bash: {command}" in row(), 60)
            assert listing.sessions[0].state == "busy"
            (env.workdir / "go").touch()
            said = "Done: 1 tool result(s), 0 error(s)."
            await until(pilot, lambda: said in row() and "$" in row(), 60)
            session: Any = listing.sessions[0]
            assert f" {tokens(session.tokens_today)} " in row() and session.tokens_today > 0
            preview = app.main.query_one(Preview)
            await until(pilot, lambda: said in preview.render().plain, 20)
            shown = preview.render().plain.split("\n")
            assert len(shown) < preview.content_region.height  # blank lines squeezed

    run(scenario())
