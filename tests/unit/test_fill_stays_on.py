"""Fill that stays on: the night schedule's switch, and the morning report."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec

from sessions.engine.events import EventBus
from sessions.fill.night_report import night_report, summary
from sessions.fill.nightly import current_night, last_night, night_due
from sessions.fill.queue import Run, Task
from sessions.fill.schedule import Night
from tests.unit.test_queue import _Engine
from tui.cli.fill_cmd import status_lines
from tui.cli.report_cmds import night_lines

PARIS = ZoneInfo("Europe/Paris")
NIGHT = Night.parse("23:00", "06:00", PARIS)


def _paris(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=PARIS)


def test_the_night_across_midnight() -> None:
    start, end = _paris(5, 23), _paris(6, 6)
    assert current_night(NIGHT, _paris(5, 23, 30)) == (start, end)
    assert current_night(NIGHT, _paris(6, 2)) == (start, end)
    assert current_night(NIGHT, _paris(6, 12)) is None
    assert last_night(NIGHT, _paris(6, 12)) == (start, end)  # the morning after
    assert last_night(NIGHT, _paris(6, 22)) == (start, end)  # not yet the next
    assert night_due(NIGHT, _paris(6, 1), None) == (start, end)
    assert night_due(NIGHT, _paris(6, 1), start.isoformat()) is None  # once a night


def _scheduler(tmp_path: Path, **fill: object) -> tuple[object, list[tuple[str, str]]]:
    engine = _Engine(tmp_path)
    engine.settings = msgspec.structs.replace(
        engine.settings,
        fill=msgspec.structs.replace(
            engine.settings.fill, tz="Europe/Paris", night_start="23:00", night_end="06:00", **fill
        ),
    )
    sched = engine.scheduler()
    told: list[tuple[str, str]] = []
    sched.bus = EventBus()
    sched.notify = lambda title, body: told.append((title, body))
    return sched, told


def test_nightly_switches_fill_on_once_a_night_and_survives_a_restart(tmp_path: Path) -> None:
    sched, _ = _scheduler(tmp_path)
    assert sched.nightly is None
    sched.set_nightly(True)
    sched._switch_nightly(_paris(5, 22).astimezone(UTC))  # before the night: nothing
    assert not sched.enabled
    sched._switch_nightly(_paris(5, 23, 1).astimezone(UTC))
    state = sched.fill_state()
    assert state.enabled and state.source == "nightly" and state.nightly
    assert state.nightly_from == "fill" and state.night == "23:00-06:00"
    assert datetime.fromisoformat(state.until or "") == _paris(6, 6)
    # Switched off by the person in the night: not overruled until the next night.
    sched.set_enabled(False)
    sched._switch_nightly(_paris(6, 1).astimezone(UTC))
    assert not sched.enabled
    # A new engine on the same store (a restart) keeps the schedule, and the night.
    again, _ = _scheduler(tmp_path)
    assert again.nightly == "fill"
    again._switch_nightly(_paris(6, 2).astimezone(UTC))
    assert not again.enabled
    again._switch_nightly(_paris(6, 23, 5).astimezone(UTC))
    assert again.enabled
    assert any(
        "every day" in line for line in status_lines(msgspec.to_builtins(again.fill_state()))
    )


def test_the_config_schedule_and_switch(tmp_path: Path) -> None:
    sched, _ = _scheduler(tmp_path, schedule="night", enabled=True)
    assert sched.nightly == "config"

    async def start() -> None:
        async def nothing() -> None:
            return None

        sched.spawn = lambda coro, name: coro.close()
        sched.runner.recover = nothing
        await sched.start()

    asyncio.run(start())
    state = sched.fill_state()
    assert state.enabled and state.source == "config"
    assert status_lines(msgspec.to_builtins(state))[0].endswith(
        "(switched on by [fill] enabled, at the engine's start)"
    )


def test_a_fill_that_reaches_its_until_sends_the_morning_report(tmp_path: Path) -> None:
    sched, told = _scheduler(tmp_path)
    store = sched.store
    now = datetime.now(UTC)
    since = now - timedelta(hours=6)
    done = store.add(Task(id=0, prompt="update the\ndependencies", cwd=str(tmp_path)))
    failed = store.add(Task(id=0, prompt="flaky", cwd=str(tmp_path)))
    waits = store.add(Task(id=0, prompt="docs", cwd=str(tmp_path)))
    store.update(done, state="done")
    store.update(failed, state="failed", last_result="gave up after 2 attempts: 1: API error 529")
    store.update(waits, state="deferred", defer_until=now + timedelta(hours=2),
                 last_result="usage limit")  # fmt: skip
    for task, state in ((done, "done"), (failed, "failed"), (waits, "limited")):
        run = store.add_run(
            Run(id=0, task_id=task.id, attempt=1, state=state, started_at=since + timedelta(1 / 24))
        )
        store.update_run(run, input_tokens=1000, output_tokens=200, total_cost_usd=0.25)
    store.add_run(
        Run(id=0, task_id=done.id, attempt=9, state="done", started_at=since - timedelta(1))
    )
    sched.conn.execute(
        """INSERT INTO limit_series VALUES (?, 'seven_day', 40, NULL, 'statusline', 0),
                                           (?, 'seven_day', 52, NULL, 'statusline', 0)""",
        [since + timedelta(minutes=1), now - timedelta(minutes=1)],
    )
    sched.set_enabled(True, until=now - timedelta(seconds=1))
    store.set_state("fill_since", since.isoformat())
    asyncio.run(sched.round())
    assert not sched.enabled
    [(title, body)] = told
    assert "fill ended" in title
    assert body.startswith("1 done, 1 failed, 1 deferred · 3,600 tokens · $0.75")
    assert "week 40% → 52%" in body

    report = night_report(store, sched.conn, since, now)
    assert [t.task_id for t in report.done] == [done.id] and report.runs == 3
    assert report.failed[0].reason == "gave up after 2 attempts: 1: API error 529"
    assert report.deferred[0].until is not None and report.deferred[0].reason == "usage limit"
    text = "\n".join(night_lines(msgspec.to_builtins(report)))
    assert "task 1  update the dependencies" in text
    assert "gave up after 2 attempts" in text and "until " in text
    assert "capacity used: week 40% → 52% (peak 52%)" in text
    assert summary(report) == body
