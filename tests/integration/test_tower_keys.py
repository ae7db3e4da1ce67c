"""The real control tower on a real stage, from a real terminal: what its keys do to tmux.

`podium up` runs in a pseudo-terminal of 80x24 (`script`), as a person's
terminal; the tower is the real Textual app. Its help and dialogs zoom its
pane, q closes the pane (no dead pane stays), Alt-0 brings the tower back, and
podium's server has tmux's mouse on: a click selects a pane.
"""

from __future__ import annotations

import pytest
from conftest import PodiumEnv, terminal_running_up
from libtmux.test.retry import retry_until

from sessions.cues import command_word

BUSY = "[nopermission] [work=600] keep working"


def _panes(env: PodiumEnv) -> list[dict[str, str]]:
    """Every pane of podium's tmux session: id, role, dead, width, window width, active."""
    fmt = "#{pane_id} #{@podium_role} #{pane_dead} #{pane_width} #{window_width} #{pane_active}"
    rows = env.tmux("list-panes", "-s", "-t", "=podium", "-F", fmt).stdout.split("\n")
    keys = ("pane", "role", "dead", "width", "window_width", "active")
    return [dict(zip(keys, row.split(" "), strict=True)) for row in rows if row]


def _tower(env: PodiumEnv) -> dict[str, str] | None:
    return next((p for p in _panes(env) if p["role"] == "tower"), None)


def _zoomed(env: PodiumEnv) -> bool:
    out = env.tmux("display-message", "-p", "-t", "=podium:", "#{window_zoomed_flag}")
    return out.stdout.strip() == "1"


def _shown(env: PodiumEnv) -> str:
    """The pane the attached terminal shows."""
    return env.tmux("list-clients", "-F", "#{pane_id}").stdout.strip()


def _screen(env: PodiumEnv, pane: str) -> str:
    return env.tmux("capture-pane", "-p", "-t", pane).stdout


@pytest.fixture
def stage(engine: PodiumEnv) -> PodiumEnv:
    out = engine.run("new", "--agent", "sim", "--name", "a", "--prompt", BUSY)
    assert out.returncode == 0, out.stderr
    return engine


def test_help_and_dialogs_zoom_q_closes_the_pane_and_alt_0_brings_the_tower_back(
    stage: PodiumEnv,
) -> None:
    env = stage
    with terminal_running_up(env, 80, 24) as press:
        assert retry_until(lambda: _tower(env) is not None, 20)
        tower = _tower(env)
        assert tower is not None
        pane = tower["pane"]
        # The tower is up once it has drawn its key bar.
        assert retry_until(lambda: "? help" in _screen(env, pane), 30), _screen(env, pane)
        assert not _zoomed(env)
        for key, sign in ((b"?", "podium control tower"), (b"n", "New session")):
            press(key)
            assert retry_until(lambda s=sign: s in _screen(env, pane), 15), _screen(env, pane)
            assert retry_until(lambda: _zoomed(env), 15)
            press(b"\x1b")  # Escape: back to the list, the session in its place
            assert retry_until(lambda: not _zoomed(env), 15)

        press(b"q")
        assert retry_until(lambda: _tower(env) is None, 15), _panes(env)
        # No dead pane stays: the session alone fills the stage window.
        [only] = _panes(env)
        assert only["dead"] == "0" and only["width"] == only["window_width"]
        assert "the control tower is closed: Alt-0" in env.run("stage").stdout

        press(b"\x1b0")  # Alt-0
        assert retry_until(lambda: (_tower(env) or {}).get("dead") == "0", 20), _panes(env)
        tower = _tower(env)
        assert tower is not None
        assert retry_until(lambda: _shown(env) == tower["pane"], 15)
        assert retry_until(lambda: "? help" in _screen(env, tower["pane"]), 30)
        assert len(_panes(env)) == 2  # the tower beside the session, as before

        # With a live tower Alt-0 only goes to it: from the session's pane and back.
        session = next(p["pane"] for p in _panes(env) if p["role"] != "tower")
        env.tmux("select-pane", "-t", session)
        assert retry_until(lambda: _shown(env) == session, 10)
        press(b"\x1b0")
        assert retry_until(lambda: _shown(env) == tower["pane"], 10)
        assert (_tower(env) or {}).get("pane") == tower["pane"]  # the same tower, not a new one


def test_a_click_selects_a_pane(stage: PodiumEnv) -> None:
    env = stage
    mouse = lambda: env.tmux("show-options", "-gv", "mouse").stdout.strip()  # noqa: E731
    assert retry_until(lambda: mouse() == "on", 10)  # the engine sets the server up
    with terminal_running_up(env, 80, 24) as press:
        assert retry_until(lambda: len(_panes(env)) == 2, 20)
        tower = _tower(env)
        assert tower is not None
        assert retry_until(lambda: _shown(env) == tower["pane"], 10)
        session = next(p for p in _panes(env) if p["role"] != "tower")
        # An SGR mouse press and release of button 1, at column 70, row 10 (1-based):
        # inside the session's pane, right of the tower's.
        press(b"\x1b[<0;70;10M\x1b[<0;70;10m")
        assert retry_until(lambda: _shown(env) == session["pane"], 10), _panes(env)


def test_the_mouse_is_podiums_setting(podium_env: PodiumEnv) -> None:
    env = podium_env
    env.env["PODIUM_CUES__MOUSE"] = "false"
    out = env.run("new", "--agent", "sim", "--name", "a", "--prompt", BUSY)
    assert out.returncode == 0, out.stderr
    assert retry_until(lambda: env.tmux("show-options", "-gv", "mouse").stdout.strip() == "off", 10)


@pytest.mark.parametrize(
    "text", ["/opt/my podium/bin/podium key tower", "~/a \"b\" $HOME \\n #{x} ';' {y}"]
)
def test_a_command_word_reaches_tmux_as_it_is(podium_env: PodiumEnv, text: str) -> None:
    env = podium_env
    env.tmux("new-session", "-d", "-s", "words")
    # tmux parses if-shell's commands when it runs them: the Alt-0 binding's case.
    out = env.tmux("if-shell", "-F", "0", "", f"set-option -g @word {command_word(text)}")
    assert out.returncode == 0, out.stderr
    assert env.tmux("show-options", "-gv", "@word").stdout[:-1] == text
