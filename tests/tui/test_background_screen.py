"""The background screen against a real engine: fill on or off, the reserve in force,
and for each open task the scheduler's own reason to hold it (Pilot, 80×24)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import PodiumEnv
from textual.widgets import DataTable, Static
from tower_helpers import run, tower_app, tower_env_fixture, until  # noqa: F401 - a fixture

from collectors.paths import Paths
from sessions import wire
from sessions.client import EngineClient
from sessions.fill.team_prompt import lead_prompt
from tui.screens.background import (
    BackgroundScreen,
    rule_text,
    state_text,
    task_detail,
    waits_for,
)
from tui.screens.confirm_cancel import ConfirmCancel, cancel_question
from tui.widgets.task_tree import TaskTree


async def _open_background(app: Any, pilot: Any) -> BackgroundScreen:
    """The tower loaded, then its Background screen (key b)."""
    await until(pilot, lambda: app.state.loaded)
    await pilot.press("b")
    await until(pilot, lambda: isinstance(app.screen, BackgroundScreen))
    screen = app.screen
    assert isinstance(screen, BackgroundScreen)
    return screen


def _text(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def test_each_held_task_says_why_and_fill_shows_its_reserve(tower_env: PodiumEnv) -> None:
    env = tower_env
    # Everything kept for you: fill, once on, holds every due task for the reserve.
    Path(env.env["PODIUM_CONFIG"]).write_text('[fill]\nreserve_pct = 100\ntz = "UTC"\n')
    assert env.run("engine", "stop").returncode == 0
    assert env.run("engine", "start").returncode == 0
    prompt = "[nopermission] tidy the docs:\n\nevery page, then the README"
    due = env.json("queue", "add", "--json", prompt)
    later = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    at = env.json("queue", "add", "--json", "--at", later.isoformat(), "write the changelog")
    cron = env.json("queue", "add", "--json", "--cron", "0 3 * * *", "nightly summary")

    async def scenario() -> None:
        app = tower_app(env)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _open_background(app, pilot)
            await until(pilot, lambda: len(screen.held) == 3)
            kinds = {tid: h.kind for tid, h in screen.held.items()}
            assert kinds == {due["id"]: "fill_off", at["id"]: "fill_off", cron["id"]: "cron"}
            line = _text(screen, "#fill")
            assert line.startswith("fill off (f switches it on)")
            assert "100% of the 5-hour window kept for you" in line and "[fill] reserve_pct" in line
            table = screen.query_one(DataTable)
            waits = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[5]) for i in range(3)}
            assert waits[str(due["id"])] == "fill on" and waits[str(cron["id"])].startswith("cron")
            # The selected task whole, brackets and all, and why it waits.
            detail = _text(screen, "#task")
            assert prompt in detail
            assert "scheduler: background fill is off" in detail

            await pilot.press("f")
            await until(pilot, lambda: screen.listed is not None and screen.listed.fill.enabled)
            await until(pilot, lambda: screen.held[due["id"]].kind == "reserve")
            assert "100% kept for you" in screen.held[due["id"]].reason
            scheduled = screen.held[at["id"]]
            assert scheduled.kind == "scheduled" and scheduled.until is not None
            assert datetime.fromisoformat(scheduled.until) == later
            assert _text(screen, "#fill").startswith("fill on")
            await until(pilot, lambda: "scheduler: 5-hour reserve: 100%" in _text(screen, "#task"))
            assert env.json("queue", "show", str(due["id"]))["task"]["state"] == "queued"

    run(scenario())


def test_reserve_rules_and_waits_read_as_words() -> None:
    assert (
        rule_text(wire.ReserveRule(five_hour_pct=30, days="mon-fri", start="09:00", end="19:00"))
        == "30% mon-fri 09:00-19:00"
    )
    assert rule_text(wire.ReserveRule(five_hour_pct=5)) == "otherwise 5%"
    assert rule_text(wire.ReserveRule(five_hour_pct=10, days="sat,sun")) == "10% sat,sun"
    now = datetime(2026, 11, 12, 15, 0, tzinfo=UTC)
    soon = (now + timedelta(hours=2)).isoformat()

    def held(kind: str, until: str | None = None) -> wire.Held:
        return wire.Held(task_id=1, kind=kind, reason="", until=until)

    assert waits_for(None, now) == "-"
    assert waits_for(held("reserve"), now) == "room (reserve)"
    assert waits_for(held("deferred"), now) == "a retry"
    local = datetime.fromisoformat(soon).astimezone()
    assert waits_for(held("deferred", soon), now) == f"until {local:%H:%M}"
    assert waits_for(held("something new"), now) == "something new"


def test_a_task_whose_run_claude_code_retries_says_so() -> None:
    now = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    retry = wire.RetryInfo(
        attempt=3, max_retries=10, status=529, error="overloaded",
        next_at=(now + timedelta(seconds=40)).isoformat(), since=now.isoformat(),
    )  # fmt: skip
    run = wire.RunRecord(id=4, task_id=2, attempt=1, state="running", retrying=retry)
    task = wire.Task(id=2, prompt="p", cwd="/w", state="running", runs=1, last_run=run)
    assert state_text(task) == "retrying 3/10"
    detail = str(task_detail(task, None, now))
    assert "Claude Code retries (529 overloaded): 3/10, next at" in detail
    quiet = wire.RunRecord(id=4, task_id=2, attempt=1, state="running")
    calm = wire.Task(id=2, prompt="p", cwd="/w", state="running", runs=1, last_run=quiet)
    assert state_text(calm) == "running"


def test_a_long_prompt_leaves_room_for_the_facts_under_it() -> None:
    now = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    protocol = lead_prompt(goal="Port the parser", budget="5%week", cwd="/w", report="/r")
    lead = wire.Task(id=5, prompt=protocol, cwd="/w", priority=3)
    lines = task_detail(lead, None, now).plain.splitlines()
    more = len(protocol.strip().splitlines()) - 10
    assert lines[1:4] == ["You are the lead of a podium team. Your goal:", "", "Port the parser"]
    assert lines[11] == f"… {more} more lines (podium queue show 5)"
    assert lines[12].startswith("in /w · priority 3")
    short = wire.Task(id=6, prompt="one\ntwo", cwd="/w")
    assert task_detail(short, None, now).plain.splitlines()[1:3] == ["one", "two"]


def test_a_task_in_a_graph_shows_what_it_comes_after_and_before() -> None:
    now = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    task = wire.Task(
        id=5, prompt="merge", cwd="/w",
        after=[wire.TaskDep(id=3, state="failed", last_result="boom"),
               wire.TaskDep(id=4, state="done")],
        before=[wire.TaskDep(id=6, state="queued")],
        waits="after task 3, which failed: boom",
    )  # fmt: skip
    why = wire.Held(task_id=5, kind="held", reason="after task 3, which failed: boom")
    detail = str(task_detail(task, why, now))
    assert "scheduler: after task 3, which failed: boom" in detail
    assert "after tasks: 3 failed, 4 done" in detail and "before tasks: 6 queued" in detail
    assert waits_for(why, now) == "a stopped task"
    assert waits_for(wire.Held(task_id=5, kind="after", reason=""), now) == "other tasks"


def test_the_trees_pause_resume_and_cancel_through_the_engine(tower_env: PodiumEnv) -> None:
    env = tower_env
    lead = env.json("queue", "add", "--json", "--budget", "50k", "lead the docs team")

    def sub(parent: int, prompt: str) -> dict[str, Any]:
        # As `podium mcp`'s `queue_task` queues a subtask.
        with EngineClient(Paths(data=env.data, runtime=env.runtime)) as client:
            return client.call("queue.add", prompt=prompt, cwd=str(env.workdir), parent_id=parent)

    one = sub(lead["id"], "write the guide")
    deep = sub(one["id"], "check its links")

    def state(task: dict[str, Any]) -> str:
        return str(env.json("queue", "show", str(task["id"]), "--json")["task"]["state"])

    async def scenario() -> None:
        app = tower_app(env)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _open_background(app, pilot)
            await pilot.press("t")
            tree = screen.query_one(TaskTree)
            await until(pilot, lambda: [n.id for n in tree.nodes] == [lead["id"], one["id"],
                                                                      deep["id"]])  # fmt: skip
            assert str(tree.get_row_at(0)[2]) == "0/50k"
            await pilot.press("down")  # the guide's task: it and its subtask pause
            await pilot.press("p")
            await until(pilot, lambda: tree.nodes[1].state == "paused")
            assert tree.nodes[2].state == "paused" and tree.nodes[0].state == "queued"
            assert str(tree.get_row_at(1)[1]) == "paused by you"
            assert state(deep) == "paused"
            await pilot.press("p")  # and resumed
            await until(pilot, lambda: tree.nodes[1].state == "queued")
            await pilot.press("up", "c")  # the lead: asked first, n keeps it
            await until(pilot, lambda: isinstance(app.screen, ConfirmCancel))
            asked = app.screen
            assert isinstance(asked, ConfirmCancel) and asked.task_id == lead["id"]
            assert cancel_question(asked.task_id, asked.under).endswith("2 open tasks under it?")
            assert not asked.ended
            done = cancel_question(5, 2, ended=True)
            assert done == "Cancel the 2 open tasks under task 5?"  # a done lead stays done
            await pilot.press("n")
            await until(pilot, lambda: app.screen is screen)
            assert state(lead) == "queued"
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, ConfirmCancel))
            await pilot.press("y")
            await until(pilot, lambda: not tree.display)  # no open tree is left
            assert [state(t) for t in (lead, one, deep)] == ["cancelled"] * 3

    run(scenario())
