"""Pause, resume and cancel of a task and the tasks under it (`sessions/engine/tree_api.py`,
`QueueApi.cancel`), against a real queue store: who paused it, a running task's run
stopped and its Claude session kept (or not, when Claude Code saved none), dependents
held with the reason, a template queuing no copy while paused, and `queue.tree`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.settings import FillSettings
from sessions import wire
from sessions.engine.queue_api import QueueApi
from sessions.engine.tree_api import TreeApi
from sessions.fill.queue import QueueStore, Run, Task
from sessions.protocol import ApiError
from tests.unit.test_held import _scheduler

SID = "5764008a-f82f-46dd-80a9-0507eb7b5e25"


@pytest.fixture
def sched(tmp_path: Path) -> Any:
    return _scheduler(tmp_path, FillSettings(tz="UTC", reserve_pct=5.0))


def _add(store: QueueStore, name: str, parent: int | None = None, **kw: Any) -> Task:
    return store.add(Task(id=0, prompt=name, cwd="/src/api", parent_id=parent, **kw))


def _apis(sched: Any) -> tuple[QueueApi, TreeApi]:
    queue = QueueApi(sched, sched.bus)
    return queue, TreeApi(queue)


def _running(store: QueueStore, task: Task, sid: str = SID) -> Run:
    store.update(task, state="running", attempts=1)
    return store.add_run(
        Run(
            id=0,
            task_id=task.id,
            attempt=1,
            state="running",
            started_at=datetime.now(UTC),
            claude_session_id=sid,
            input_tokens=0,
        )
    )


def _states(store: QueueStore) -> dict[str, str]:
    return {t.prompt: t.state for t in store.tasks()}


def test_pause_holds_a_subtree_stops_its_run_and_resume_goes_on_with_the_session(
    sched: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store: QueueStore = sched.store
    _queue, tree = _apis(sched)
    lead = _add(store, "lead", budget="50k")
    one = _add(store, "one", lead.id)
    two = _add(store, "two", lead.id, defer_until=datetime.now(UTC) + timedelta(hours=1))
    two = store.get(two.id)
    store.update(two, state="deferred")
    done = _add(store, "done", lead.id, state="done")
    deep = _add(store, "deep", one.id)
    _running(store, one)
    other = _add(store, "other")  # another tree: untouched

    paused = asyncio.run(tree.pause(wire.PauseParams(id=lead.id)))
    assert paused.changed == [lead.id, one.id, two.id, deep.id] and paused.stopped == [one.id]
    assert _states(store) == {
        "lead": "paused", "one": "paused", "two": "paused", "done": "done",
        "deep": "paused", "other": "queued",
    }  # fmt: skip
    assert store.get(lead.id).paused_by == "you"
    assert store.get(deep.id).paused_by == f"you (with task {lead.id})"
    assert store.get(one.id).claude_session_id == SID
    assert store.runs(one.id)[0].state == "cancelled"
    assert paused.task.paused_by == "you" and paused.task.last_result == "paused by you"
    # The scheduler offers none of them; `explain` says who paused each.
    assert [int(t.id) for t in sched.facts(datetime.now(UTC)).tasks] == [other.id]
    _reserve, held = sched.explain(datetime.now(UTC))
    why = {h.task_id: h for h in held}
    assert why[one.id].kind == "paused"
    assert why[one.id].reason.startswith("paused by you (with task")
    with pytest.raises(ApiError, match="already done"):
        asyncio.run(tree.pause(wire.PauseParams(id=done.id)))

    # Claude Code saved the run's conversation: the resumed task goes on with it.
    claude_dir = tmp_path / "claude"
    (claude_dir / "projects" / "-src-api").mkdir(parents=True)
    (claude_dir / "projects" / "-src-api" / f"{SID}.jsonl").write_text("{}\n")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude_dir))
    resumed = asyncio.run(tree.resume(wire.PauseParams(id=lead.id)))
    assert resumed.changed == [lead.id, one.id, two.id, deep.id]
    assert resumed.notes == [f"task {one.id} goes on with its Claude session {SID}"]
    assert _states(store)["one"] == "queued" and _states(store)["two"] == "deferred"
    assert store.get(one.id).claude_session_id == SID and store.get(one.id).paused_by is None
    with pytest.raises(ApiError, match="nothing under it is paused"):
        asyncio.run(tree.resume(wire.PauseParams(id=lead.id)))


def test_a_run_stopped_before_claude_saved_it_starts_afresh(
    sched: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store: QueueStore = sched.store
    _queue, tree = _apis(sched)
    task = _add(store, "solo")
    _running(store, task)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "empty"))
    asyncio.run(tree.pause(wire.PauseParams(id=task.id, subtree=False, by="the lead")))
    assert store.get(task.id).paused_by == "the lead"
    resumed = asyncio.run(tree.resume(wire.PauseParams(id=task.id)))
    assert resumed.notes == [
        f"task {task.id} starts afresh: its run stopped before Claude Code saved it"
    ]
    assert store.get(task.id).claude_session_id is None


def test_pausing_one_task_alone_leaves_those_under_it(sched: Any) -> None:
    store: QueueStore = sched.store
    _queue, tree = _apis(sched)
    lead = _add(store, "lead")
    _add(store, "child", lead.id)
    asyncio.run(tree.pause(wire.PauseParams(id=lead.id, subtree=False)))
    assert _states(store) == {"lead": "paused", "child": "queued"}
    # Resuming the child alone: nothing under it is paused.
    child = next(t for t in store.tasks() if t.prompt == "child")
    with pytest.raises(ApiError, match="is queued"):
        asyncio.run(tree.resume(wire.PauseParams(id=child.id)))


def test_dependents_of_a_paused_task_are_held_with_the_reason(sched: Any) -> None:
    store: QueueStore = sched.store
    queue, tree = _apis(sched)
    a = _add(store, "a")
    b = _add(store, "b")
    store.add_deps(b.id, [a.id])
    asyncio.run(tree.pause(wire.PauseParams(id=a.id)))
    shown = asyncio.run(queue.show(wire.TaskRef(id=b.id)))
    assert shown.task.waits == f"after task {a.id}, which is paused: paused by you"
    sched.set_enabled(True)
    _reserve, held = sched.explain(datetime.now(UTC))
    assert {h.task_id: h.kind for h in held}[b.id] == "held"


def test_a_paused_template_queues_no_copy_and_resumes_as_recurring(sched: Any) -> None:
    store: QueueStore = sched.store
    _queue, tree = _apis(sched)
    past = datetime.now(UTC) - timedelta(minutes=1)
    tmpl = _add(
        store, "nightly", state="recurring", schedule_kind="cron", schedule="0 3 * * *",
        not_before=past,
    )  # fmt: skip
    asyncio.run(tree.pause(wire.PauseParams(id=tmpl.id)))
    sched._due(datetime.now(UTC))
    assert store.children(tmpl.id) == []
    asyncio.run(tree.resume(wire.PauseParams(id=tmpl.id)))
    assert store.get(tmpl.id).state == "recurring"
    sched._due(datetime.now(UTC))
    assert len(store.children(tmpl.id)) == 1


def test_cancel_takes_the_whole_subtree_and_says_which(sched: Any) -> None:
    store: QueueStore = sched.store
    queue, _tree = _apis(sched)
    lead = _add(store, "lead")
    one = _add(store, "one", lead.id)
    deep = _add(store, "deep", one.id)
    _add(store, "done", lead.id, state="done")
    paused = _add(store, "paused", one.id, state="paused")
    _running(store, deep)
    cancelled = asyncio.run(queue.cancel(wire.CancelParams(id=one.id)))
    assert cancelled.changed == [one.id, deep.id, paused.id]
    assert cancelled.stopped == [deep.id] and cancelled.task.state == "cancelled"
    assert _states(store) == {
        "lead": "queued", "one": "cancelled", "deep": "cancelled", "done": "done",
        "paused": "cancelled",
    }  # fmt: skip


def test_a_done_lead_with_open_subtasks_can_be_paused_and_cancelled(sched: Any) -> None:
    # A team's lead ends once it has queued its parts: the person stops the team there.
    store: QueueStore = sched.store
    queue, tree = _apis(sched)
    lead = _add(store, "lead", state="done")
    part = _add(store, "part", lead.id)
    paused = asyncio.run(tree.pause(wire.PauseParams(id=lead.id)))
    assert paused.changed == [part.id] and store.get(lead.id).state == "done"
    cancelled = asyncio.run(queue.cancel(wire.CancelParams(id=lead.id)))
    assert cancelled.changed == [part.id]
    assert _states(store) == {"lead": "done", "part": "cancelled"}
    with pytest.raises(ApiError, match="already done"):
        asyncio.run(queue.cancel(wire.CancelParams(id=lead.id)))


def test_the_tree_answer_carries_each_subtree_spend(sched: Any) -> None:
    store: QueueStore = sched.store
    _queue, tree = _apis(sched)
    lead = _add(store, "lead\nwith detail", budget="50k")
    child = _add(store, "child", lead.id, budget="10k")
    run = store.add_run(
        Run(id=0, task_id=child.id, attempt=1, state="done", started_at=datetime.now(UTC))
    )
    store.update_run(run, input_tokens=2000, output_tokens=100, total_cost_usd=0.05)
    answer = asyncio.run(tree.tree(wire.TreeParams()))
    [top] = answer.trees
    assert (top.id, top.prompt_head, top.kind, top.budget) == (lead.id, "lead", "task", "50k")
    [sub] = top.children
    assert sub.kind == "subtask" and sub.spent_tokens > 2000 and sub.spent_usd == 0.05
    assert top.tree_tokens == sub.tree_tokens and top.share == pytest.approx(top.tree_tokens / 50e3)
    only = asyncio.run(tree.tree(wire.TreeParams(id=child.id)))
    assert [n.id for n in only.trees] == [child.id]
    with pytest.raises(ApiError, match="no task 99"):
        asyncio.run(tree.tree(wire.TreeParams(id=99)))
