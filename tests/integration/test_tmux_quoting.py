"""Data stays data in tmux: names, directories and typed text never act as tmux syntax.

Many tmux arguments are format-expanded (`new-session -s/-n/-c`, `new-window
-n/-c`, `rename-window`, `display-message`…), where `#(cmd)` runs a shell
command, `#{…}` is replaced and `#[…]` styles; an argument ending in `;` ends a
command. Every value below would do one of these if podium passed it raw.

`#(…)` runs in the background: a canary `#(touch …)` that podium did not quote
shows the jobs have run before the test looks for the hostile ones' markers.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PodiumEnv
from libtmux.test.retry import retry_until

from collectors.paths import Paths
from collectors.settings import CuesSettings
from sessions import cues
from sessions.client import EngineClient
from sessions.tmux import Tmux


def _hostile(marker: Path) -> list[str]:
    return [
        f"#(touch {marker})",
        "#{pane_id}x",
        "#[fg=red]red",
        "semi;",
        "-dash",
        "two##hashes",
    ]


def _jobs_have_run(env: PodiumEnv, tmp: Path) -> None:
    """Let tmux run a `#(…)` of its own, and wait until it has: jobs started before did too."""
    canary = tmp / f"canary-{uuid.uuid4().hex[:6]}"

    def ran() -> bool:
        env.tmux("display-message", "-p", f"#(touch {canary})")
        return canary.exists()

    assert retry_until(ran, 20, raises=False)


def _window_name(env: PodiumEnv, target: str) -> str:
    return env.tmux("display-message", "-p", "-t", target, "#{window_name}").stdout.rstrip("\n")


def _pane_path(env: PodiumEnv, pane: str) -> str:
    return env.tmux("display-message", "-p", "-t", pane, "#{pane_current_path}").stdout.strip()


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a short path: a session name holds it, and names are 64 at most."""
    path = Path(tempfile.mkdtemp(prefix="pq", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_hostile_names_and_directories_reach_tmux_as_data(
    engine: PodiumEnv, tmp_path: Path, short_dir: Path
):
    env = engine
    env.env["PODIUM_TOWER_CMD"] = "sleep 600"
    marker = short_dir / "pwned"
    names = _hostile(marker)
    made = []
    for i, name in enumerate(names):
        # A directory named like the session, one level down (a `/` in it nests).
        cwd = tmp_path / f"dir{i}" / name
        cwd.mkdir(parents=True)
        rec = env.json("new", "--agent", "shell", f"--name={name}", "--cwd", str(cwd))
        assert rec["name"] == name
        made.append((rec, cwd))
    for rec, cwd in made:
        assert _window_name(env, rec["window_id"]) == rec["name"]
        pane, path = rec["pane_id"], str(cwd)
        assert retry_until(lambda: _pane_path(env, pane) == path, 10, raises=False)  # noqa: B023

    # A rename follows into the window's name, as it is.
    renamed = f"#(touch {marker}-renamed);"
    with EngineClient(Paths(data=env.data, runtime=env.runtime)) as client:
        client.call("sessions.rename", name=names[1], new_name=renamed)
    assert _window_name(env, made[1][0]["window_id"]) == renamed

    # The tower starts in the caller's directory; parked sessions keep windows
    # named after them, also when the stage swaps one out.
    tower_dir = tmp_path / "tower" / f"#(touch {marker}-tower)"
    tower_dir.mkdir(parents=True)
    env.workdir = tower_dir
    layout = env.json("up", "--no-attach")
    assert _pane_path(env, layout["tower_pane"]) == str(tower_dir)
    assert layout["parked"], layout
    env.run("stage", layout["parked"][0], check=True)
    panes = env.tmux(
        "list-panes", "-a", "-F", "#{@podium_session}\x1f#{window_id}\x1f#{@podium_role}"
    ).stdout.splitlines()
    listed = {rec["id"]: rec["name"] for rec in env.json("ls")}
    parked = [line.split("\x1f")[:2] for line in panes if line.endswith("\x1f")]
    assert len(parked) == len(made) - len(env.json("stage")["staged"]) > 0
    for session_id, window_id in parked:
        assert _window_name(env, window_id) == listed[session_id]

    # The border titles (pane options the border format shows) keep a '#' for tmux's drawing.
    for rec in env.json("ls"):
        title = env.tmux("show-options", "-p", "-t", rec["pane_id"], "-v", "@podium_title").stdout
        assert rec["name"].replace("#", "##") in title

    _jobs_have_run(env, short_dir)
    assert sorted(p.name for p in short_dir.glob("pwned*")) == []


# -- typing into a pane -------------------------------------------------------------

# Turns bracketed paste on, then writes every byte it reads to a file, unchanged:
# what a TUI such as Claude Code would receive.
_READER = r"""
import os, sys, termios, tty
tty.setraw(0)
sys.stdout.write("\x1b[?2004h")
sys.stdout.write("ready\r\n")
sys.stdout.flush()
with open(sys.argv[1], "ab", buffering=0) as out:
    while True:
        data = os.read(0, 65536)
        if not data:
            break
        out.write(data)
"""


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[tuple[Tmux, str, Path]]:
    socket = f"podium-test-{uuid.uuid4().hex[:8]}"
    tmux = Tmux(socket)
    received = tmp_path / "received"
    received.touch()
    spawned = tmux.spawn(
        "t",
        "reader",
        [sys.executable, "-c", _READER, str(received)],
        str(tmp_path),
        start_server=True,
    )
    assert retry_until(lambda: "ready" in tmux.capture(spawned.pane_id), 10, raises=False)
    yield tmux, spawned.pane_id, received
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)


PASTE_START, PASTE_END = b"\x1b[200~", b"\x1b[201~"


def test_a_paste_end_in_sent_text_cannot_turn_the_rest_into_keys(pane):
    tmux, pane_id, received = pane
    text = "first line\n\x1b[201~\nrm -rf ~\x07\x1b[A\r\nlast line"
    tmux.send_text(pane_id, text)
    assert retry_until(lambda: received.read_bytes().endswith(b"\r"), 10, raises=False)
    data = received.read_bytes()
    # One paste, whole: the only paste-end is tmux's own, and no control byte came through.
    assert data.count(PASTE_END) == 1 and data.count(PASTE_START) == 1
    assert data == PASTE_START + b"first line\r\rrm -rf ~[A\rlast line" + PASTE_END + b"\r"


def test_the_engine_counts_what_it_typed(engine: PodiumEnv):
    engine.json("new", "--agent", "shell", "--name", "typed", "--cmd", "cat")
    with EngineClient(Paths(data=engine.data, runtime=engine.runtime)) as client:
        sent = client.call("sessions.send", name="typed", text="ab\x1b[201~c\x07d", enter=False)
    assert sent["sent"] == len("abcd")


def test_a_line_longer_than_a_tmux_command_is_sent_whole(pane):
    tmux, pane_id, received = pane
    line = "".join(f"{i:07d} " for i in range(12_500))  # 100,000 characters
    tmux.send_text(pane_id, line)
    assert retry_until(lambda: received.read_bytes().endswith(b"\r"), 20, raises=False)
    data = received.read_bytes()
    assert data.replace(PASTE_START, b"").replace(PASTE_END, b"") == line.encode() + b"\r"


def test_a_short_line_is_typed_and_a_trailing_semicolon_kept(pane):
    tmux, pane_id, received = pane
    tmux.send_text(pane_id, "echo #{pane_id} \x1b[201~x;", enter=False)
    assert retry_until(lambda: received.read_bytes().endswith(b"x;"), 10, raises=False)
    assert received.read_bytes() == b"echo #{pane_id} x;"


def test_a_border_title_is_drawn_as_it_is_never_expanded(tmp_path: Path, short_dir: Path):
    """The border format shows `#{@podium_title}`: tmux does not expand the option's
    value again, but draws it, reading `#[…]` and `##`. A client attached from a
    second tmux server shows what a person would see."""
    inner, outer = (f"podium-test-{uuid.uuid4().hex[:8]}" for _ in range(2))
    tmux = Tmux(inner)
    try:
        pane = tmux.spawn("podium", "w", ["sleep", "600"], str(tmp_path), start_server=True).pane_id
        tmux.run("split-window", "-d", "-h", "-t", pane, "--", "sleep", "600")
        marker = short_dir / "pwned"
        name = f"#(touch {marker}) #{{pane_id}} #[fg=red]r ##x;"
        cfg = CuesSettings(keys=False, status=False)
        setup = cues.server_commands(cfg, tower_window="tower", podium=[], env={}, token="t")
        cue = cues.SessionCue(1, name, "idle", pane)
        assert all(cues.run_commands(tmux, [*setup, *cues.desired_state([cue], cfg, []).values()]))
        attach = ["env", "TMUX=", "tmux", "-L", inner, "attach", "-t", "=podium"]
        Tmux(outer).spawn("o", "o", attach, str(tmp_path), width=160, height=10, start_server=True)
        want = f" 1 {name} · ○ idle "

        def top_line() -> str:
            return (Tmux(outer).capture("=o:").splitlines() or [""])[0]

        assert retry_until(lambda: want in top_line(), 10, raises=False), top_line()
        canary = short_dir / "canary"

        def ran() -> bool:
            tmux.run("display-message", "-p", f"#(touch {canary})")
            return canary.exists()

        assert retry_until(ran, 20, raises=False)
        assert not marker.exists()
    finally:
        for socket in (outer, inner):
            subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
