"""Tasks queued by podium's own events (`queue add --on`): the specs, what fires
them, debounce and dedupe, and the scheduler queueing an occurrence."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collectors.settings import FillSettings
from sessions import wire
from sessions.fill.queue import Task
from sessions.fill.schedule import ScheduleError
from sessions.fill.triggers import Trigger, Triggers, head_of, normalized, parse_trigger
from tests.unit.test_held import _scheduler

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_specs_read_and_bad_ones_say_the_forms() -> None:
    assert parse_trigger("turn-end:api") == Trigger("turn-end", "api")
    assert parse_trigger("idle:*:15") == Trigger("idle", "*", 15)
    assert parse_trigger("task-done:7") == Trigger("task-done", "7")
    assert parse_trigger("reset-unused:week:20") == Trigger("reset-unused", "seven_day", 20)
    assert parse_trigger("reset-unused:5h") == Trigger("reset-unused", "five_hour", 10)
    assert parse_trigger("commit:/srv/repo") == Trigger("commit", "/srv/repo")
    for bad in (
        "",
        "lunch:now",
        "turn-end:",
        "turn-end:a b",
        "turn-end:$(touch x)",
        "idle:api",
        "idle:api:-3",
        "task-done:abc",
        "task-done:99999999999",
        "reset-unused:month",
        "reset-unused:week:150",
        "commit:relative/path",
    ):
        with pytest.raises(ScheduleError) as err:
            parse_trigger(bad)
        assert "\n" not in str(err.value)
    assert normalized("commit:/srv/../srv/repo") == "commit:/srv/../srv/repo"


def _triggers(
    templates: list[tuple[int, Trigger]], debounce: float = 0.0
) -> tuple[Triggers, list[tuple[int, str]], list[float]]:
    fired: list[tuple[int, str]] = []
    clock = [100.0]
    t = Triggers(lambda: templates, lambda tid, why: fired.append((tid, why)), debounce,
                 clock=lambda: clock[0])  # fmt: skip
    return t, fired, clock


def test_a_turn_end_fires_once_a_busy_session_waits() -> None:
    t, fired, _ = _triggers([(1, Trigger("turn-end", "api")), (2, Trigger("turn-end", "*"))])
    t.on_event("session", {"id": "s1", "name": "api", "state": "busy"})
    assert fired == []
    t.on_event("session", {"id": "s1", "name": "api", "state": "waiting"})
    assert [tid for tid, _ in fired] == [1, 2]
    # Waiting again (a repeat of the same state) is no new turn; another session is.
    t.on_event("session", {"id": "s1", "name": "api", "state": "waiting"})
    t.on_event("session", {"id": "s2", "name": "web", "state": "busy"})
    t.on_event("session", {"id": "s2", "name": "web", "state": "idle"})
    assert [tid for tid, _ in fired] == [1, 2, 2]


def test_task_ends_fire_their_templates_but_not_the_templates_own_occurrences() -> None:
    t, fired, _ = _triggers([(10, Trigger("task-done", "3")), (11, Trigger("task-failed", "*"))])
    run = {"id": 1}
    t.on_event("queue", {"task": {"id": 3, "state": "done"}, "run": run})
    t.on_event("queue", {"task": {"id": 4, "state": "failed"}, "run": run})
    # An occurrence of template 11 failing does not queue another (no loop).
    t.on_event("queue", {"task": {"id": 12, "state": "failed", "parent_id": 11}, "run": run})
    # A task's change without a run's end (a priority, say) is no end.
    t.on_event("queue", {"task": {"id": 3, "state": "done"}})
    assert fired == [(10, "task 3 done"), (11, "task 4 failed")]


def test_idle_fires_once_per_wait_and_debounce_holds_a_burst() -> None:
    t, fired, clock = _triggers([(1, Trigger("idle", "*", 10))], debounce=60)
    since = NOW - timedelta(minutes=12)
    t.tick(NOW, [("api", "waiting", since), ("web", "busy", since)], [], {})
    t.tick(NOW + timedelta(minutes=1), [("api", "waiting", since)], [], {})
    assert fired == [(1, "session api waited 12 minutes")]
    # A new wait of another session within the debounce: held.
    t.tick(NOW, [("db", "idle", since)], [], {})
    assert len(fired) == 1
    clock[0] += 61
    t.tick(NOW, [("db2", "idle", since)], [], {})
    assert len(fired) == 2


def test_a_reset_with_capacity_unused_fires_and_a_rounded_reset_does_not() -> None:
    t, fired, _ = _triggers([(1, Trigger("reset-unused", "seven_day", 20))])
    reset = NOW.isoformat()
    t.tick(NOW - timedelta(minutes=1), [], [("seven_day", 70.0, reset)], {})
    # A source that rounds the reset by seconds: no reset.
    t.tick(
        NOW - timedelta(seconds=30),
        [],
        [("seven_day", 71.0, (NOW + timedelta(seconds=20)).isoformat())],
        {},
    )
    assert fired == []
    t.tick(
        NOW + timedelta(minutes=1),
        [],
        [("seven_day", 0.0, (NOW + timedelta(days=7)).isoformat())],
        {},
    )
    assert fired == [(1, "seven_day reset with 29% unused")]
    # Used up to 90%: 10% unused is below the 20% asked for.
    t2, fired2, _ = _triggers([(1, Trigger("reset-unused", "seven_day", 20))])
    t2.tick(NOW - timedelta(minutes=1), [], [("seven_day", 90.0, reset)], {})
    t2.tick(
        NOW + timedelta(minutes=1),
        [],
        [("seven_day", 0.0, (NOW + timedelta(days=7)).isoformat())],
        {},
    )
    assert fired2 == []


def test_a_new_commit_fires_and_the_first_look_only_notes_the_head(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "one")
    t, fired, _ = _triggers([(1, Trigger("commit", str(repo)))])
    t.tick(NOW, [], [], {1: head_of(str(repo))})
    assert fired == []
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "two")
    head = head_of(str(repo))
    t.tick(NOW, [], [], {1: head})
    assert fired == [(1, f"commit {head[:10]} in {repo}")]  # type: ignore[index]
    assert head_of(str(tmp_path / "not-a-repo")) is None


def test_the_scheduler_queues_an_occurrence_when_a_task_ends(tmp_path: Path) -> None:
    sched = _scheduler(tmp_path, FillSettings(on_change_debounce=0))
    store = sched.store
    first = store.add(Task(id=0, prompt="build", cwd=str(tmp_path)))
    tmpl = store.add(
        Task(
            id=0,
            prompt="review what was built",
            cwd=str(tmp_path),
            schedule_kind="on_event",
            schedule=f"task-done:{first.id}",
            state="recurring",
        )
    )

    async def scenario() -> list[Task]:
        store.update(first, state="done")
        run = wire.RunRecord(
            id=1, task_id=first.id, attempt=1, state="done", started_at=NOW.isoformat()
        )
        sched.bus.publish(wire.QueueEvent(data=wire.QueueChange(task=first.to_wire(), run=run)))
        await asyncio.sleep(0)  # the bus listener schedules the queueing on the loop
        # A second end while the occurrence is open queues no other.
        sched.bus.publish(wire.QueueEvent(data=wire.QueueChange(task=first.to_wire(), run=run)))
        await asyncio.sleep(0)
        return store.children(tmpl.id)

    children = asyncio.run(scenario())
    assert [(c.prompt, c.state) for c in children] == [("review what was built", "queued")]
