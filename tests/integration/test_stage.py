"""The stage in a real tmux server: the tower and sessions side by side, parking, resizes.

The tower's pane runs `sleep` here (`PODIUM_TOWER_CMD`): the control tower
itself is the TUI's business; the stage only needs a long-lived program.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import PODIUM, PodiumEnv, terminal_running_up
from libtmux.test.retry import retry_until

from collectors.settings import UiSettings
from sessions import stage

BUSY = "[nopermission] [work=600] keep working"
QUICK = "[nopermission] answer at once"


# These tests are about the moves: three sessions of 50 columns stand in tmux's
# usual 200 (the default minimum, 60, has its own test).
MIN = 50


def _start(env: PodiumEnv, session_min: int) -> PodiumEnv:
    env.env["PODIUM_TOWER_CMD"] = "sleep 600"
    env.env["PODIUM_UI__SESSION_MIN_WIDTH"] = str(session_min)
    # `podium up` makes the stage the size of its terminal, read from these first:
    # pytest-xdist's workers have COLUMNS=80, a plain pytest run none (200x50).
    env.env.update(COLUMNS="200", LINES="50")
    out = env.run("engine", "start")
    assert out.returncode == 0, out.stderr
    return env


@pytest.fixture
def podium(podium_env: PodiumEnv) -> PodiumEnv:
    return _start(podium_env, MIN)


def _sim(env: PodiumEnv, name: str, prompt: str = BUSY) -> dict[str, Any]:
    return env.json("new", "--agent", "sim", "--name", name, "--prompt", prompt)


def _layout(env: PodiumEnv) -> dict[str, Any]:
    return env.json("stage")


def _up(env: PodiumEnv) -> dict[str, Any]:
    return env.json("up", "--no-attach")


def _cells(env: PodiumEnv, window: str) -> list[dict[str, Any]]:
    """The stage window's panes left to right, as tmux has them."""
    fmt = "#{pane_id} #{pane_left} #{pane_top} #{pane_width} #{window_width} #{@podium_role}"
    out = env.tmux("list-panes", "-t", window, "-F", fmt).stdout.split("\n")
    cells = []
    for line in filter(None, out):
        pane, left, top, width, window_width, role = [*line.split(" "), ""][:6]
        cells.append(
            dict(pane=pane, left=int(left), top=int(top), width=int(width), role=role,
                 window_width=int(window_width))
        )  # fmt: skip
    return sorted(cells, key=lambda c: c["left"])


def _laid_out(env: PodiumEnv, window: str, sessions: int, session_min: int = MIN) -> bool:
    """Tower leftmost at its clamped width, then `sessions` panes full height, equal ±1."""
    cells = _cells(env, window)
    if len(cells) != sessions + 1 or cells[0]["role"] != "tower":
        return False
    width = cells[0]["window_width"]
    expected = stage.widths(width, sessions, session_min=session_min)
    widths = [c["width"] for c in cells[1:]]
    return (
        expected is not None
        and cells[0]["width"] == expected[0]
        # Side by side, none above another (top is 1 under the cues' pane border line).
        and len({c["top"] for c in cells}) == 1
        and (not widths or max(widths) - min(widths) <= 1)
        and sum(c["width"] for c in cells) + len(cells) - 1 == width
    )


def _settles(env: PodiumEnv, window: str, sessions: int, session_min: int = MIN) -> bool:
    """The layout is right now or within a few seconds.

    tmux runs the `window-resized` hook from its command queue, after the
    resize is already visible to other clients, and the engine parks or
    brings panes back after its sweep: a check made at once can see the
    window between the two."""
    return retry_until(lambda: _laid_out(env, window, sessions, session_min), 10, raises=False)


def _pane_of(env: PodiumEnv, name: str) -> str:
    return env.session(name)["pane_id"]


def _window_name(env: PodiumEnv, pane: str) -> str:
    return env.tmux("display-message", "-p", "-t", pane, "#{window_name}").stdout.strip()


def _current_pane(env: PodiumEnv) -> str:
    """The pane tmux shows for podium's session (current window, active pane)."""
    return env.tmux("display-message", "-p", "-t", "=podium:", "#{pane_id}").stdout.strip()


def test_up_builds_the_stage_and_a_fourth_session_stays_parked(podium: PodiumEnv):
    env = podium
    _sim(env, "a")
    _sim(env, "b")
    layout = _up(env)
    assert layout["staged"] == ["a", "b"] and layout["parked"] == []
    window, tower = layout["window_id"], layout["tower_pane"]
    assert _laid_out(env, window, 2)
    assert (
        env.tmux("display-message", "-p", "-t", tower, "#{pane_current_command}").stdout.strip()
        == "sleep"
    )
    # The tower's border and title say what it is, not the host's name.
    titles = "#{pane_title}|#{T:pane-border-format}"
    assert retry_until(
        lambda: (
            env.tmux("display-message", "-p", "-t", tower, titles).stdout.strip()
            == "podium|#[bold] podium #[default]"
        ),
        10,
        raises=False,
    ), env.tmux("display-message", "-p", "-t", tower, titles).stdout
    # The stage window is first in podium's tmux session, with the tower focused.
    windows = env.tmux("list-windows", "-t", "=podium", "-F", "#{window_id}").stdout.split()
    assert windows == [window]
    assert _current_pane(env) == tower

    _sim(env, "c")
    assert _layout(env)["staged"] == ["a", "b", "c"]
    assert _laid_out(env, window, 3)
    d = _sim(env, "d")
    layout = _layout(env)
    assert layout["staged"] == ["a", "b", "c"] and layout["parked"] == ["d"]
    assert _window_name(env, d["pane_id"]) == "d"
    assert _current_pane(env) == tower  # new sessions never take the focus
    # `up` again changes nothing: the stage is full, the tower alive.
    assert _up(env)["staged"] == ["a", "b", "c"]
    assert len(_cells(env, window)) == 4


def test_an_empty_stage_is_the_tower_full_width(podium: PodiumEnv):
    env = podium
    layout = _up(env)
    assert layout["staged"] == [] and layout["tower_alive"]
    [tower] = _cells(env, layout["window_id"])
    assert tower["role"] == "tower" and tower["width"] == tower["window_width"]


def test_show_swaps_out_the_least_recently_focused(podium: PodiumEnv):
    env = podium
    window = _up(env)["window_id"]
    for name in ("a", "b", "c", "d"):
        _sim(env, name)
    assert _layout(env)["staged"] == ["a", "b", "c"]
    env.run("stage", "a", check=True)  # a is focused: b has been out of sight longest
    b = _pane_of(env, "b")
    out = env.run("stage", "d", check=True)
    assert out.stdout.strip() == "d on stage"
    layout = _layout(env)
    assert layout["staged"] == ["a", "d", "c"] and layout["parked"] == ["b"]  # d in b's place
    assert _laid_out(env, window, 3)
    assert _window_name(env, b) == "b"
    assert _current_pane(env) == _pane_of(env, "d")
    # The registry follows the moves at once (not at the next sweep).
    assert env.session("d")["window_id"] == window and env.session("b")["window_id"] != window
    assert env.session("d")["on_stage"] is True and env.session("b")["on_stage"] is False
    out = env.run("stage", "nobody")
    assert out.returncode == 1 and "no session named 'nobody'" in out.stderr


def test_next_brings_a_parked_waiting_session_forward(podium: PodiumEnv):
    env = podium
    window = _up(env)["window_id"]
    for name in ("a", "b", "c"):
        _sim(env, name)
    _sim(env, "w", QUICK)
    assert _layout(env)["parked"] == ["w"]
    assert env.wait_state("w", "waiting")["attention"] is not None
    out = env.run("next", check=True)
    assert out.stdout.split()[0] == "w"
    layout = _layout(env)
    assert layout["staged"] == ["w", "b", "c"] and layout["parked"] == ["a"]
    assert _current_pane(env) == _pane_of(env, "w")
    rec = env.session("w")
    assert rec["state"] == "seen" and rec["attention"] is None  # acknowledged
    assert (
        env.tmux("display-message", "-p", "-t", "=podium:", "#{window_id}").stdout.strip() == window
    )


def test_the_layout_survives_resizes(podium: PodiumEnv):
    env = podium
    window = _up(env)["window_id"]
    for name in ("a", "b", "c"):
        _sim(env, name)
    env.run("stage", "a", check=True)  # b is now the least recently focused
    for cols, rows in ((220, 24), (200, 50), (213, 40)):
        env.tmux("resize-window", "-t", window, "-x", str(cols), "-y", str(rows))
        # tmux's own hook lays it out again; the engine has nothing to fix.
        assert _settles(env, window, 3), (cols, _cells(env, window))
        assert min(c["width"] for c in _cells(env, window)[1:]) >= MIN
    # Too narrow for three of 50: the least recently focused waits parked, and comes back.
    env.tmux("resize-window", "-t", window, "-x", "160", "-y", "24")
    assert retry_until(lambda: _layout(env)["parked"] == ["b"], 10, raises=False), _layout(env)
    assert _settles(env, window, 2)
    env.tmux("resize-window", "-t", window, "-x", "200", "-y", "50")
    assert retry_until(lambda: _layout(env)["staged"] == ["a", "c", "b"], 10, raises=False)
    assert _settles(env, window, 3)


def test_a_narrow_window_shows_one_session_of_the_minimum_width(podium_env: PodiumEnv):
    env = _start(podium_env, UiSettings().session_min_width)
    session_min = UiSettings().session_min_width
    window = _up(env)["window_id"]
    for name in ("a", "b", "c"):
        _sim(env, name)
    assert _settles(env, window, 2, session_min)  # 200 columns hold two of 60, not three
    env.run("stage", "a", check=True)
    env.tmux("resize-window", "-t", window, "-x", "80", "-y", "24")
    # One session beside the tower: the one the person looked at last.
    assert retry_until(lambda: _layout(env)["staged"] == ["a"], 10, raises=False), _layout(env)
    assert _settles(env, window, 1, session_min)
    tower, session = _cells(env, window)
    assert (tower["width"], session["width"]) == (stage.TOWER_FLOOR, session_min)
    # The next key (as `podium next`) swaps a session that needs the person onto it.
    _sim(env, "w", QUICK)
    env.wait_state("w", "waiting")
    assert env.run("next", check=True).stdout.split()[0] == "w"
    assert _layout(env)["staged"] == ["w"]
    assert _settles(env, window, 1, session_min)
    env.tmux("resize-window", "-t", window, "-x", "223", "-y", "50")
    assert retry_until(lambda: len(_layout(env)["staged"]) == 3, 10, raises=False), _layout(env)
    assert _settles(env, window, 3, session_min)
    assert min(c["width"] for c in _cells(env, window)[1:]) == session_min


def test_a_real_terminal_gets_the_layout_of_its_size(podium: PodiumEnv):
    env = podium
    _sim(env, "a")
    _sim(env, "b")
    with terminal_running_up(env, 130, 30):
        window = _layout(env)["window_id"]
        assert retry_until(lambda: _cells(env, window)[0]["window_width"] == 130, 10)
        assert _settles(env, window, 1)  # two of 50 and a tower of 32 need 134
        assert _cells(env, window)[0]["width"] == 32
        assert len(_layout(env)["parked"]) == 1


def test_a_session_key_brings_a_parked_session_on_stage(podium: PodiumEnv):
    env = podium
    for name in ("a", "b", "c", "d"):
        _sim(env, name)
    with terminal_running_up(env, 200, 40) as press:
        window = _layout(env)["window_id"]
        assert _layout(env)["parked"] == ["d"]
        keys = lambda: env.tmux("list-keys", "-T", "root").stdout  # noqa: E731
        assert retry_until(lambda: f"show {_pane_of(env, 'd')}" in keys(), 10, raises=False)
        press(b"\x1b4")  # Alt-4: d, the fourth session
        assert retry_until(lambda: _current_pane(env) == _pane_of(env, "d"), 10, raises=False)
        layout = _layout(env)
        assert "d" in layout["staged"] and len(layout["parked"]) == 1, layout
        assert env.session("d")["window_id"] == window  # on stage, not in its own window
        assert _settles(env, window, 3)
        # A staged session's key only moves the focus.
        other = next(name for name in layout["staged"] if name != "d")
        press(b"\x1b" + str("abcd".index(other) + 1).encode())
        assert retry_until(lambda: _current_pane(env) == _pane_of(env, other), 10, raises=False)
        assert _layout(env)["staged"] == layout["staged"]


def test_a_killed_staged_pane_leaves_its_place_to_a_parked_one(podium: PodiumEnv):
    env = podium
    window = _up(env)["window_id"]
    for name in ("a", "b", "c", "d"):
        _sim(env, name)
    _sim(env, "e", QUICK)
    env.wait_state("e", "waiting")
    assert _layout(env)["parked"] == ["e", "d"]  # attention order: e waits for the person
    env.tmux("kill-pane", "-t", _pane_of(env, "b"))
    env.wait_state("b", "lost", seconds=10)
    assert retry_until(lambda: _layout(env)["staged"] == ["a", "c", "e"], 10, raises=False)
    assert _layout(env)["parked"] == ["d"]
    assert _settles(env, window, 3)
    # Without a parked session to take it, the place stays free for the next one.
    env.run("kill", "d", check=True)
    env.run("kill", "a", check=True)
    assert _settles(env, window, 2)
    assert _layout(env)["staged"] == ["c", "e"]
    _sim(env, "f")
    assert _layout(env)["staged"] == ["c", "e", "f"]


def test_the_stage_outlives_an_engine_restart(podium: PodiumEnv):
    env = podium
    (env.root / "config.toml").write_text("[ui]\nstage_size = 2\n")
    env.run("engine", "stop", check=True)  # the engine reads its settings once
    window = _up(env)["window_id"]
    for name in ("a", "b", "c"):
        _sim(env, name)
    env.run("stage", "a", check=True)  # b: least recently focused, a fact the log keeps
    env.run("engine", "stop", check=True)
    env.run("engine", "start", check=True)
    layout = _layout(env)
    assert (layout["window_id"], layout["staged"], layout["parked"]) == (window, ["a", "b"], ["c"])
    env.run("stage", "c", check=True)
    assert _layout(env)["staged"] == ["a", "c"]
    assert _laid_out(env, window, 2)


def test_the_tower_comes_back_with_up(podium: PodiumEnv):
    env = podium
    _sim(env, "a")
    layout = _up(env)
    window, tower = layout["window_id"], layout["tower_pane"]
    # The tower's pane closes when the tower ends; one of an older podium stays dead.
    assert env.tmux("show-options", "-pv", "-t", tower, "remain-on-exit").stdout.strip() == "off"
    env.tmux("set-option", "-p", "-t", tower, "remain-on-exit", "on")
    env.tmux("respawn-pane", "-k", "-t", tower, "true")  # the tower exits
    assert retry_until(lambda: not _layout(env)["tower_alive"], 10, raises=False)
    assert "the control tower has exited" in env.run("stage").stdout
    layout = _up(env)
    assert layout["tower_alive"] and layout["tower_pane"] == tower
    env.tmux("kill-pane", "-t", tower)  # the tower's pane is killed
    assert retry_until(lambda: _layout(env)["tower_pane"] is None, 10, raises=False)
    layout = _up(env)
    assert layout["tower_alive"] and layout["window_id"] == window
    assert _laid_out(env, window, 1)


def test_focus_without_a_stage_selects_the_window(podium: PodiumEnv):
    env = podium
    a = _sim(env, "a")
    _sim(env, "b")
    assert _layout(env)["window_id"] is None
    assert env.session("a")["on_stage"] is None  # no stage: neither on it nor off it
    out = env.run("stage", "a")
    assert out.returncode == 1 and "podium up" in out.stderr
    env.run("attach", "a")  # focuses, then fails to attach without a terminal
    assert _current_pane(env) == a["pane_id"]


def test_up_inside_another_tmux_does_not_nest(podium: PodiumEnv):
    env = podium
    other = {**env.env, "TMUX": "/tmp/not-podium-socket,1,0"}
    result = subprocess.run(
        ["script", "-qfec", f"{' '.join(PODIUM)} up", "/dev/null"],
        env=other,
        cwd=env.workdir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert (
        "inside another tmux" in result.stdout and f"tmux -L {env.socket} attach" in result.stdout
    )
    assert env.tmux("list-clients").stdout.strip() == ""
    assert _layout(env)["tower_alive"]  # the stage is ready for the attach it suggests


def test_demo_stands_its_sessions_beside_the_tower(podium: PodiumEnv, tmp_path: Path):
    env = podium
    socket = f"podium-demo-test-{uuid.uuid4().hex[:8]}"
    demo_env = {**env.env, "TMPDIR": str(tmp_path), "PODIUM_DEMO_SOCKET": socket}
    del demo_env["PODIUM_UI__SESSION_MIN_WIDTH"]  # the demo as a person gets it
    root = tmp_path / f"podium-demo-{os.getuid()}"

    def demo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*PODIUM, "demo", *args], env=demo_env, capture_output=True, text=True, timeout=90
        )

    def tmux(*args: str) -> str:
        out = subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True)
        return out.stdout.strip()

    try:
        out = demo("--no-attach")
        assert out.returncode == 0, out.stderr
        fmt = "#{pane_id}|#{@podium_role}|#{pane_active}|#{window_active}|#{pane_dead}"
        cells = [
            line.split("|")
            for line in tmux("list-panes", "-t", "=podium:tower", "-F", fmt).splitlines()
        ]
        # No terminal: tmux's 200 columns, which hold two sessions of 60.
        assert [c[1] for c in cells] == ["tower", "stage", "stage"]
        assert cells[0][2:4] == ["1", "1"]  # the tower is focused
        assert all(c[4] == "0" for c in cells)
        assert tmux("list-windows", "-t", "=podium", "-F", "#{window_name}") == "tower\ndeploy"
        paths = {
            "PODIUM_DATA_DIR": str(root / "data"),
            "PODIUM_CONFIG": str(root / "config.toml"),
            "PODIUM_TMUX_SOCKET": socket,
        }
        listing = subprocess.run(
            [*PODIUM, "stage", "--json"], env={**demo_env, **paths}, capture_output=True, text=True
        )
        layout = json.loads(listing.stdout)
        assert (layout["staged"], layout["parked"]) == (["refactor", "tests"], ["deploy"])
    finally:
        out = demo("--stop")
        assert out.returncode == 0, out.stderr
    assert not root.exists()
    assert subprocess.run(["tmux", "-L", socket, "has-session"], capture_output=True).returncode
