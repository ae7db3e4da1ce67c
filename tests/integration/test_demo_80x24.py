"""`podium demo` in an 80x24 terminal, read off that terminal.

The terminal is a pane of an outer tmux server of its own (status line off,
so the whole 80x24 goes to the demo), running `podium demo` as a person would
type it; `capture-pane` of that pane is what the person sees. HOME, TMPDIR,
the demo's directory and both tmux sockets are the test's own.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PODIUM, PodiumEnv
from libtmux.test.retry import retry_until

from collectors.settings import UiSettings
from sessions.glyphs import GLYPHS

NAMES = ("refactor", "tests", "deploy")
COLUMNS, ROWS = 80, 24


class Terminal:
    """An 80x24 terminal (a pane of a private outer tmux) running one command."""

    def __init__(self, argv: list[str], env: dict[str, str], tmp: Path) -> None:
        self.socket = f"podium-outer-test-{uuid.uuid4().hex[:8]}"
        conf = tmp / "outer.conf"
        conf.write_text("set -g status off\n")  # the demo gets every row
        self._tmux(
            "-f", str(conf), "new-session", "-d", "-x", str(COLUMNS), "-y", str(ROWS),
            "--", "env", "-u", "TMUX", "-u", "TMUX_PANE", *argv, env=env,
        )  # fmt: skip
        self.socket_path = self._tmux("display-message", "-p", "#{socket_path}").strip()

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], env=env, capture_output=True, text=True
        )
        return out.stdout

    def screen(self) -> list[str]:
        return self._tmux("capture-pane", "-p", "-t", "0").split("\n")[:ROWS]

    def press(self, key: str) -> None:
        self._tmux("send-keys", "-t", "0", key)

    def close(self) -> None:
        self._tmux("kill-server")
        if self.socket_path:
            Path(self.socket_path).unlink(missing_ok=True)  # tmux leaves it behind


@pytest.fixture
def demo_env(podium_env: PodiumEnv, tmp_path: Path) -> Iterator[dict[str, str]]:
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {
        k: v
        for k, v in podium_env.env.items()
        # The demo points these at its own dir itself.
        if k not in ("PODIUM_DATA_DIR", "PODIUM_TMUX_SOCKET", "PODIUM_CONFIG", "CLAUDE_CONFIG_DIR")
    }
    env.update(
        HOME=str(home),
        TMPDIR=str(tmp),
        PODIUM_DEMO_DIR=str(tmp_path / "demo"),
        PODIUM_DEMO_SOCKET=f"podium-demo-test-{uuid.uuid4().hex[:8]}",
        TERM="xterm-256color",
    )
    yield env
    subprocess.run([*PODIUM, "demo", "--stop"], env=env, capture_output=True, timeout=90)


def _inner(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        ["tmux", "-L", env["PODIUM_DEMO_SOCKET"], *args], capture_output=True, text=True
    )
    return out.stdout.strip()


def _sessions(env: dict[str, str]) -> dict[str, Any]:
    root = Path(env["PODIUM_DEMO_DIR"])
    paths = {
        "PODIUM_DATA_DIR": str(root / "data"),
        "PODIUM_CONFIG": str(root / "config.toml"),
        "PODIUM_TMUX_SOCKET": env["PODIUM_DEMO_SOCKET"],
    }
    out = subprocess.run(
        [*PODIUM, "ls", "--json"], env={**env, **paths}, capture_output=True, text=True
    )
    return {s["name"]: s for s in json.loads(out.stdout)} if out.returncode == 0 else {}


def _tower_rows(screen: list[str], tower: int) -> dict[str, list[str]]:
    """Each demo session's lines in the tower's columns: `[mark][glyph] N name …`."""
    cut = [line[:tower] for line in screen]
    return {
        name: [line for line in cut if re.match(rf"^[▸ ]\S \d {name}( |$)", line)] for name in NAMES
    }


def test_demo_at_80x24_lists_every_session_and_gives_one_readable_pane(
    demo_env: dict[str, str], tmp_path: Path
) -> None:
    session_min = UiSettings().session_min_width
    term = Terminal([*PODIUM, "demo"], demo_env, tmp_path)
    try:

        def stage_widths() -> list[tuple[str, int]]:
            # The role may still be unset on a window being made.
            fmt = "#{pane_width} #{@podium_role}"
            lines = _inner(demo_env, "list-panes", "-t", "=podium:tower", "-F", fmt).splitlines()
            return [(role, int(width)) for width, _, role in (x.partition(" ") for x in lines)]

        def gauges(screen: list[str], tower: int) -> list[str]:
            return [line[:tower] for line in screen if re.match(r"^ (5h|week) ", line[:tower])]

        def drawn() -> bool:
            """The tower drew for its pane: a frame drawn for a wider one (the pane was
            the whole window before a session joined) shows no percentages in the
            pane's columns, and its header has more columns."""
            cells = stage_widths()
            if [role for role, _ in cells] != ["tower", "stage"]:
                return False
            tower, screen = cells[0][1], term.screen()
            shown = gauges(screen, tower)
            return (
                all(len(found) == 1 for found in _tower_rows(screen, tower).values())
                and [g.split()[0] for g in shown] == ["5h", "week"]
                and all(re.search(r"\d+%$", g.rstrip()) for g in shown)
                and any(line[:tower].split() == ["#", "NAME", "WAIT"] for line in screen)
            )

        assert retry_until(drawn, 90, raises=False), ("\n".join(term.screen()), stage_widths())
        (_, tower), (_, session) = stage_widths()
        assert session >= session_min and tower + 1 + session == COLUMNS
        screen = term.screen()
        # The terminal itself: the tower's border titled podium, then one session pane
        # of the minimum width or more, with its own border title.
        top = screen[0]
        assert "podium" in top[:tower] and top[tower] == "┬" and "1 refactor" in top[tower:]
        assert all(line[tower] == "│" for line in screen[1:-1]), "\n".join(screen)
        assert COLUMNS - tower - 1 >= session_min
        # Only the session on stage carries the mark.
        rows = {name: found[0] for name, found in _tower_rows(screen, tower).items()}
        assert [name for name, row in rows.items() if row.startswith("▸")] == ["refactor"]

        # Alt-Space swaps the session that needs the person onto the stage.
        assert retry_until(
            lambda: _sessions(demo_env).get("deploy", {}).get("state") == "permission", 60
        )
        term.press("M-Space")
        permission = f"3 deploy · {GLYPHS['permission']} permission"
        assert retry_until(lambda: permission in term.screen()[0][tower:], 20, raises=False), (
            "\n".join(term.screen())
        )
        assert retry_until(
            lambda: _tower_rows(term.screen(), tower)["deploy"][0].startswith("▸"), 10
        )
        assert stage_widths() == [("tower", tower), ("stage", session)]
    finally:
        term.close()
