"""The sim's screen in a real tmux pane: it fits any width and redraws on a resize.

Claude Code clears and redraws its screen when the terminal is resized; so does the
sim, or a narrowed pane keeps its old welcome box broken into pieces and a trail of
spinner rows (each frame rewrote only the last row of a line tmux had wrapped).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO
from libtmux.test.retry import retry_until

from sessions.sim.term import cells


class Pane:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        argv = ["tmux", "-f", "/dev/null", "-L", self.socket, *args]
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout

    def screen(self) -> list[str]:
        """Every row, scrollback included: a trail scrolled up counts too."""
        return self.tmux("capture-pane", "-p", "-t", "sim:", "-S", "-500").splitlines()

    def resize(self, columns: int) -> None:
        self.tmux("resize-window", "-t", "sim:", "-x", str(columns))


@pytest.fixture
def start(tmp_path: Path) -> Iterator:
    socket = f"podium-test-{uuid.uuid4().hex[:8]}"
    pane = Pane(socket)

    def run(columns: int, prompt: str) -> Pane:
        work = tmp_path / "work"
        work.mkdir(exist_ok=True)
        argv = [
            "env", f"PODIUM_DATA_DIR={tmp_path / 'data'}", "PODIUM_SIM_SEED=3",
            f"PYTHONPATH={REPO}", sys.executable, "-m", "sessions.sim", prompt,
        ]  # fmt: skip
        pane.tmux(
            "new-session", "-d", "-s", "sim", "-x", str(columns), "-y", "40", "-c", str(work),
            *argv,
        )  # fmt: skip
        return pane

    yield run
    pane.tmux("kill-server")


def _box(rows: list[str]) -> list[str]:
    top = next(i for i, row in enumerate(rows) if row.startswith("╭"))
    bottom = next(i for i, row in enumerate(rows) if row.startswith("╰"))
    return rows[top : bottom + 1]


def _intact(box: list[str], columns: int) -> bool:
    """Every row of the welcome box as wide as the others, framed, within the pane."""
    width = cells(box[0].rstrip())
    framed = all(row.rstrip()[:1] == "│" and row.rstrip()[-1:] == "│" for row in box[1:-1])
    same = {cells(row.rstrip()) for row in box} == {width}
    return framed and same and width <= columns and box[-1].rstrip().endswith("╯")


def _spinners(rows: list[str]) -> int:
    return sum("Working…" in row for row in rows)


def test_a_resize_redraws_the_screen_to_fit(start) -> None:
    pane = start(100, "[nopermission] [work=120] [tools=1] Refactor the session registry")
    assert retry_until(lambda: "esc to interrupt" in "\n".join(pane.screen()), 20, raises=False), (
        pane.screen()
    )
    assert _intact(_box(pane.screen()), 100)
    assert "> Refactor the session registry" in pane.screen()  # the directives hidden

    for columns in (25, 40, 60, 30, 100):
        pane.resize(columns)

        def redrawn(columns: int = columns) -> bool:
            rows = pane.screen()
            return any(r.startswith("╭") for r in rows) and _intact(_box(rows), columns)

        assert retry_until(redrawn, 10, raises=False), (columns, pane.screen())
        rows = pane.screen()
        assert _spinners(rows) == 1, (columns, rows)  # no trail of old frames
        # "esc to interrupt" stays whole on one row, where the screen profile reads it.
        assert any(row.lstrip().startswith("esc to interrupt") or "· esc to interrupt" in row
                   for row in rows), rows  # fmt: skip


def test_a_narrow_pane_gets_a_box_that_fits(start) -> None:
    pane = start(25, "[nopermission] [work=60] hello")
    assert retry_until(lambda: "esc to interrupt" in "\n".join(pane.screen()), 20, raises=False), (
        pane.screen()
    )
    rows = pane.screen()
    assert _intact(_box(rows), 25), rows
    assert _spinners(rows) == 1
