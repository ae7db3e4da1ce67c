"""podium's tmux server seen from the engine: its exits (`ServerWatch`), and how a
command that the server died under is said."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sessions.engine.tmux_server import ServerWatch
from sessions.tmux import Tmux, TmuxError, TmuxServerExited, TmuxServerGone

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_an_exit_is_news_and_stops_the_engine_starting_servers() -> None:
    watch = ServerWatch("podium")
    assert watch.may_start()  # nothing seen yet
    assert watch.saw(False, None, [], now=T0)  # none at engine start: not an exit
    assert watch.exit is None and watch.may_start()
    assert watch.saw(True, 100, [], now=T0)
    assert not watch.saw(True, 100, ["a"], now=T0)  # the same server: no news
    assert watch.saw(False, None, ["a", "b"], now=T0)
    assert watch.exit is not None and (watch.exit.pid, watch.exit.sessions) == (100, ["a", "b"])
    assert not watch.may_start()  # reported; a person starts the next one
    assert not watch.saw(False, None, [], now=T0)
    assert watch.saw(True, 200, [], now=T0)  # `podium new` started one
    assert watch.may_start() and watch.exit.replaced_by == 200
    state = watch.state_wire()
    assert (state.alive, state.pid, state.exit and state.exit.pid) == (True, 200, 100)


def test_a_server_replaced_between_two_sweeps_is_an_exit_too() -> None:
    watch = ServerWatch("podium")
    watch.saw(True, 100, [], now=T0)
    assert watch.saw(True, 300, ["a"], now=T0)
    assert watch.exit is not None and (watch.exit.pid, watch.exit.replaced_by) == (100, 300)
    assert watch.may_start()


def test_a_server_that_emptied_and_ended_is_no_exit() -> None:
    # tmux ends a server whose last pane closed: a background run's window, the last
    # session killed. Nothing of the person's went with it.
    watch = ServerWatch("podium")
    watch.saw(True, 100, [], now=T0)
    assert watch.saw(False, None, [], now=T0)
    assert watch.exit is None and watch.may_start()
    # The control tower alone is the person's: its server's end is an exit.
    watch.saw(True, 200, [], tower=True, now=T0)
    watch.saw(False, None, [], now=T0)
    assert watch.exit is not None and watch.exit.pid == 200 and not watch.may_start()


def _fake_tmux(folder: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    script = folder / "tmux"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))


def test_a_server_that_died_under_a_command_says_so_naming_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_tmux(tmp_path, 'echo "server exited unexpectedly" >&2; exit 1', monkeypatch)
    with pytest.raises(TmuxServerExited, match=r"socket 'p'.* exited during new-window"):
        Tmux("p").run("set-option", "-g", "remain-on-exit", "on", ";", "new-window", "-d")
    with pytest.raises(TmuxServerGone):  # what callers of a gone server catch
        Tmux("p").run("list-panes")


def test_an_error_names_the_command_that_failed_not_its_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_tmux(tmp_path, 'echo "bad thing" >&2; exit 1', monkeypatch)
    with pytest.raises(TmuxError, match=r"^tmux new-window: bad thing$"):
        Tmux("p").run("set-option", "-g", "x", "y", ";", "new-window", "-d")


def test_a_spawn_not_asked_to_start_a_server_starts_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "calls"
    _fake_tmux(
        tmp_path,
        f'echo "$@" >> {calls}; echo "no server running on /tmp/p" >&2; exit 1',
        monkeypatch,
    )
    with pytest.raises(TmuxServerGone):
        Tmux("p").spawn("podium", "w", ["sleep", "1"], "/")
    assert "new-session" not in calls.read_text() and "start-server" not in calls.read_text()
