"""The background screen against a real engine: fill on or off, the reserve in force,
and for each open task the scheduler's own reason to hold it (Pilot, 80×24)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import PodiumEnv
from textual.widgets import DataTable, Static
from tower_helpers import run, tower_app, tower_env_fixture, until  # noqa: F401 - a fixture

from sessions import wire
from tui.screens.background import (
    BackgroundScreen,
    rule_text,
    state_text,
    task_detail,
    waits_for,
)


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
            await until(pilot, lambda: app.state.loaded)
            await pilot.press("b")
            await until(pilot, lambda: isinstance(app.screen, BackgroundScreen))
            screen = app.screen
            assert isinstance(screen, BackgroundScreen)
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
