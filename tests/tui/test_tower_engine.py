"""The control tower against a real engine with sim sessions (Pilot)."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable
from typing import Any

from conftest import PodiumEnv
from textual.widgets import DataTable
from tower_helpers import (  # noqa: F401 - a fixture
    record_notifications,
    run,
    tower_app,
    tower_env_fixture,
    until,
)

from collectors.paths import Paths
from tui.engine_link import RESTART_FROM_ATTEMPT, EngineLink
from tui.format import tokens
from tui.screens.background import BackgroundScreen
from tui.screens.confirm_kill import ConfirmKill
from tui.screens.new_session import NewSessionDialog
from tui.screens.rename import RenameDialog
from tui.screens.send import SendDialog
from tui.widgets.banner import Banner
from tui.widgets.session_list import SessionList


def _sim(env: PodiumEnv, name: str, prompt: str) -> dict:
    return env.json("new", "--agent", "sim", "--name", name, "--prompt", prompt)


def _names(app) -> list[str]:
    return [s.name for s in app.main.query_one(SessionList).sessions]


def _selected(app) -> str | None:
    session = app.main.query_one(SessionList).selected
    return session.name if session else None


def test_list_orders_as_ls_and_keys_select(tower_env: PodiumEnv) -> None:
    env = tower_env
    _sim(env, "calm", "[nopermission] [work=600] x")
    env.wait_state("calm", "busy")
    _sim(env, "asks", "[permission] [work=2] x")
    env.wait_state("asks", "permission")
    _sim(env, "done", "[nopermission] hi")
    env.wait_state("done", "waiting")
    expected = [s["name"] for s in env.json("ls")]
    assert expected == ["asks", "done", "calm"]

    async def scenario() -> None:
        app = tower_app(env)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: _names(app) == expected)
            assert _selected(app) == "asks"
            await pilot.press("j")
            assert _selected(app) == "done"
            await pilot.press("down", "down")  # stops at the end
            assert _selected(app) == "calm"
            await pilot.press("k", "up", "up")
            assert _selected(app) == "asks"
            rendered = app.main.query_one(SessionList).render().plain
            # Each row with the number Alt-N focuses: asks was started second.
            assert "▲ 2 asks" in rendered and "permission" in rendered and "busy" in rendered

    run(scenario())


def test_next_waiting_goes_oldest_first_and_acknowledges(tower_env: PodiumEnv) -> None:
    env = tower_env
    for name in ("first", "second", "third"):
        _sim(env, name, "[nopermission] hi")
        env.wait_state(name, "waiting")

    async def scenario() -> None:
        app = tower_app(env)
        notes = record_notifications(app)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: len(_names(app)) == 3)
            await pilot.press("j", "j")  # the cursor elsewhere: Tab jumps anyway
            jumped = []
            for _ in range(3):
                await pilot.press("tab")
                jumped.append(_selected(app))
            assert jumped == ["first", "second", "third"]
            # Each jump focused its pane: the engine acknowledged the item (waiting → seen).
            for name in jumped:
                env.wait_state(name, "seen", seconds=10)
            await until(pilot, lambda: all(s.attention is None for s in app.state.ordered()))
            await pilot.press("space")
            await until(pilot, lambda: "nobody is waiting for you" in notes)

    run(scenario())


def test_dialogs_new_send_rename(tower_env: PodiumEnv) -> None:
    env = tower_env

    async def scenario() -> None:
        app = tower_app(env)
        async with app.run_test(size=(100, 34)) as pilot:
            await until(pilot, lambda: app.state.loaded)
            assert "No sessions yet" in app.main.query_one(SessionList).render().plain
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, NewSessionDialog))
            dialog = app.screen
            dialog.query_one("#name").value = "fresh"
            dialog.query_one("#agent").value = "sim"
            dialog.query_one("#prompt").value = "[nopermission] hello"
            assert dialog.query_one("#cwd").value == str(env.workdir)
            await pilot.click("#start")
            await until(pilot, lambda: _names(app) == ["fresh"])
            await until(pilot, lambda: app.state.ordered()[0].state == "waiting")

            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, SendDialog))
            app.screen.query_one("#text").value = "[nopermission] [work=30] more"
            await pilot.press("enter")
            await until(pilot, lambda: app.state.ordered()[0].state == "busy")

            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, RenameDialog))
            app.screen.query_one("#new-name").value = "renamed"
            await pilot.press("enter")
            await until(pilot, lambda: _names(app) == ["renamed"])
        assert [s["name"] for s in env.json("ls")] == ["renamed"]

    run(scenario())


def test_new_session_dialog_refuses_a_missing_directory(tower_env: PodiumEnv) -> None:
    env = tower_env

    async def scenario() -> None:
        app = tower_app(env)
        async with app.run_test(size=(100, 34)) as pilot:
            await until(pilot, lambda: app.state.loaded)
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, NewSessionDialog))
            app.screen.query_one("#cwd").value = str(env.workdir / "nope")
            await pilot.click("#start")
            assert isinstance(app.screen, NewSessionDialog)
            assert "no such directory" in str(app.screen.query_one("#error").render())
            await pilot.press("escape")
            assert not isinstance(app.screen, NewSessionDialog)
        assert env.json("ls") == []

    run(scenario())


def test_kill_asks_first(tower_env: PodiumEnv) -> None:
    env = tower_env
    _sim(env, "victim", "[nopermission] hi")
    env.wait_state("victim", "waiting")

    async def scenario() -> None:
        app = tower_app(env)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: _names(app) == ["victim"])
            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, ConfirmKill))
            await pilot.press("enter")  # Keep has the focus: a reflex Enter kills nothing
            await until(pilot, lambda: not isinstance(app.screen, ConfirmKill))
            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, ConfirmKill))
            await pilot.press("n")
            await pilot.pause(0.3)
            assert _names(app) == ["victim"]
            assert [s["name"] for s in env.json("ls")] == ["victim"]
            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, ConfirmKill))
            await pilot.press("y")
            await until(pilot, lambda: _names(app) == [])
        assert env.json("ls") == []

    run(scenario())


def _quick_link(env: PodiumEnv) -> Callable[[Any], EngineLink]:
    """An engine link with short pauses between attempts: attempts counted, not waited out."""
    paths = Paths(data=env.data, runtime=env.runtime)
    return lambda app: EngineLink(app, paths, backoff=(0.2,))


def test_a_crashed_engine_shows_a_banner_and_comes_back(tower_env: PodiumEnv) -> None:
    env = tower_env
    _sim(env, "stays", "[nopermission] hi")
    env.wait_state("stays", "waiting")

    async def scenario() -> None:
        app = tower_app(env, link=_quick_link(env))
        async with app.run_test(size=(100, 30)) as pilot:
            banner = app.main.query_one(Banner)
            await until(pilot, lambda: _names(app) == ["stays"])
            assert "engine" not in banner.problems
            pid = env.json("engine", "status")["pid"]
            os.kill(pid, signal.SIGKILL)  # a crash: nobody asked it to stop
            await until(pilot, lambda: "engine" in banner.problems, 20)
            assert "no engine" in banner.problems["engine"]
            assert banner.display
            # The link starts an engine again by itself and the list comes back.
            await until(pilot, lambda: "engine" not in banner.problems, 45)
            assert _names(app) == ["stays"] and app.engine_up
            assert env.json("engine", "status")["pid"] != pid

    run(scenario())


def test_an_engine_stopped_on_request_stays_stopped_until_started(tower_env: PodiumEnv) -> None:
    env = tower_env
    _sim(env, "stays", "[nopermission] hi")
    env.wait_state("stays", "waiting")

    def attempt(banner: Banner) -> int:
        found = re.search(r"\(attempt (\d+)\)", banner.problems.get("engine", ""))
        return int(found[1]) if found else 0

    async def scenario() -> None:
        app = tower_app(env, link=_quick_link(env))
        async with app.run_test(size=(100, 30)) as pilot:
            banner = app.main.query_one(Banner)
            await until(pilot, lambda: _names(app) == ["stays"])
            out = env.run("engine", "stop")
            assert out.returncode == 0, out.stderr
            await until(pilot, lambda: "engine" in banner.problems, 20)
            assert "podium engine start" in banner.problems["engine"]
            # Past the attempt from which a crashed engine is started again: that
            # attempt ended (an engine started then would have kept it connected).
            await until(pilot, lambda: attempt(banner) > RESTART_FROM_ATTEMPT + 1, 20)
            # Every later attempt still says why and what brings it back.
            assert "podium engine start" in banner.problems["engine"]
            status = env.run("engine", "status").stdout
            assert "engine not running" in status, f"the tower restarted it: {status}"
            assert env.run("engine", "start").returncode == 0
            await until(pilot, lambda: "engine" not in banner.problems, 30)
            assert _names(app) == ["stays"] and app.engine_up

    run(scenario())


def test_tmux_server_killed_under_the_app_is_reported(tower_env: PodiumEnv) -> None:
    env = tower_env
    _sim(env, "doomed", "[nopermission] hi")
    env.wait_state("doomed", "waiting")

    async def scenario() -> None:
        app = tower_app(env)
        async with app.run_test(size=(100, 30)) as pilot:
            banner = app.main.query_one(Banner)
            await until(pilot, lambda: _names(app) == ["doomed"])
            env.tmux("kill-server")
            await until(pilot, lambda: "tmux" in banner.problems, 15)
            assert "not running" in banner.problems["tmux"]
            await until(pilot, lambda: app.state.ordered()[0].state == "lost", 15)
            await pilot.press("enter")  # focusing a lost session: a message, no traceback
            await pilot.pause(0.5)
            assert app.is_running

    run(scenario())


def test_today_and_budget_columns_show_what_the_engine_sends(tower_env: PodiumEnv) -> None:
    """TODAY is the session's tokens of the day from the usage log (the sim writes a
    Claude transcript), the queue's budget the task's `budget_usd`."""
    env = tower_env
    _sim(env, "counted", "[nopermission] hi")
    env.wait_state("counted", "waiting")
    assert env.wait_for(lambda: (env.json("ls")[0]["tokens_today"] or 0) > 0, 30)
    today = env.json("ls")[0]["tokens_today"]
    task = env.json("queue", "add", "--budget-usd", "2.5", "--json", "tidy the docs")
    assert task["budget_usd"] == 2.5 and task["state"] == "queued"  # fill is off

    async def scenario() -> None:
        app = tower_app(env)
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: _names(app) == ["counted"])
            assert app.state.ordered()[0].tokens_today == today
            rendered = app.main.query_one(SessionList).render().plain
            assert "TODAY" in rendered.upper() and f" {tokens(today)} " in rendered
            await pilot.press("b")
            await until(pilot, lambda: isinstance(app.screen, BackgroundScreen))
            screen = app.screen
            await until(pilot, lambda: bool(screen.tasks))
            row = [str(cell) for cell in screen.query_one(DataTable).get_row_at(0)]
            assert row[0] == str(task["id"]) and row[4] == "$2.5", row
            # A task added from the shell while the screen is open shows up by itself.
            later = env.json("queue", "add", "--json", "from the shell")
            await until(pilot, lambda: [t.id for t in screen.tasks][-1:] == [later["id"]])

    run(scenario())
