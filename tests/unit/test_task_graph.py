"""Task graphs (`podium queue add --after 3,4`): the edges in the queue store
(migration 0014), cycles refused, a failed dependency holding its dependents, the
scheduler offering the policy only tasks whose dependencies are done, the reason
`held.py` gives, and the dependencies' results in the dependent's prompt."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from collectors.settings import FillSettings
from sessions import wire
from sessions.engine.queue_api import QueueApi
from sessions.fill import graph
from sessions.fill.graph import INLINE_MAX, Dep, GraphError, prompt_with_results
from sessions.fill.held import AFTER, HELD, why_held
from sessions.fill.queue import QueueStore, Run, Task
from sessions.protocol import ApiError
from tests.unit.test_held import _scheduler
from tui.cli import queue_cmds
from tui.cli.common import CliFailure, api_exit_code
from tui.cli.main import run

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _add(store: QueueStore, name: str, after: list[int] | None = None, **kw: Any) -> Task:
    task = store.add(Task(id=0, prompt=name, cwd="/src/api", **kw))
    if after:
        store.add_deps(task.id, after)
    return task


def _finish(store: QueueStore, task: Task, state: str, result: str) -> None:
    """The task's run ended `state` with `result` as its final message."""
    run = store.add_run(Run(id=0, task_id=task.id, attempt=1, state="running", started_at=NOW))
    store.update_run(run, state=state, result=result, ended_at=NOW)
    store.update(task, state=state, last_result=result)


@pytest.fixture
def sched(tmp_path: Path) -> Any:
    return _scheduler(tmp_path, FillSettings(tz="UTC", reserve_pct=5.0))


# -- the store -------------------------------------------------------------------------------
def test_edges_are_kept_both_ways_with_their_states(sched: Any) -> None:
    store: QueueStore = sched.store
    a, b = _add(store, "a"), _add(store, "b")
    c = _add(store, "c", [a.id, b.id, a.id])  # a duplicate counts once
    assert [(d.id, d.state) for d in store.after(c.id)] == [(a.id, "queued"), (b.id, "queued")]
    assert [d.id for d in store.before(a.id)] == [c.id]
    assert store.after(a.id) == [] and store.before(c.id) == []
    assert set(store.deps_of([a.id, c.id])) == {c.id}


def test_unknown_tasks_self_templates_and_cycles_are_refused_in_one_line(sched: Any) -> None:
    store: QueueStore = sched.store
    a = _add(store, "a")
    b = _add(store, "b", [a.id])
    c = _add(store, "c", [b.id])
    cron = _add(store, "t", state="recurring", schedule_kind="cron", schedule="0 3 * * *")
    cases = {
        (a.id, 99): "no task 99",
        (a.id, a.id): f"task {a.id} cannot come after itself",
        (a.id, cron.id): "is a recurring template and never ends",
        (a.id, c.id): f"would make a cycle: {a.id} → {c.id} → {b.id} → {a.id}",
    }
    for (tid, dep), said in cases.items():
        with pytest.raises(GraphError) as err:
            store.add_deps(tid, [dep])
        assert said in str(err.value) and "\n" not in str(err.value)
    assert store.after(a.id) == []  # nothing written by a refusal


def test_a_failed_dependency_holds_until_it_is_run_again_and_done(sched: Any) -> None:
    store: QueueStore = sched.store
    a, b = _add(store, "a"), _add(store, "b")
    c = _add(store, "c", [a.id, b.id])
    _finish(store, b, "done", "b's result")
    assert graph.hold_reason(store.after(c.id)) == f"after task {a.id}, which is queued"
    _finish(store, a, "failed", "error_max_turns\nmore detail")
    deps = store.after(c.id)
    assert graph.is_stuck(deps)
    assert graph.hold_reason(deps) == f"after task {a.id}, which failed: error_max_turns"
    assert store.get(c.id).state == "queued"  # held, not changed
    store.update(a, state="queued")  # tried again ...
    _finish(store, a, "done", "a's result")  # ... and done
    assert graph.hold_reason(store.after(c.id)) is None
    assert store.dep_results(c.id) == [(a.id, "a's result"), (b.id, "b's result")]


def test_hold_reasons_name_the_open_dependencies() -> None:
    deps = [Dep(3, "running"), Dep(4, "queued"), Dep(5, "done")]
    assert graph.hold_reason(deps) == "after tasks 3 (running), 4 (queued)"
    deps.append(Dep(6, "cancelled", "cancelled"))
    assert graph.hold_reason(deps) == "after task 6, which was cancelled: cancelled (and 2 more)"
    assert graph.hold_reason([Dep(3, "done")]) is None and graph.hold_reason([]) is None


# -- results in the prompt -------------------------------------------------------------------------
def test_results_follow_the_prompt_under_a_heading_each_and_long_ones_go_to_a_file() -> None:
    written: dict[int, str] = {}

    def write(dep_id: int, text: str) -> str:
        written[dep_id] = text
        return f"/data/queue/results/task-{dep_id}.md"

    long = "x" * (INLINE_MAX + 1)
    text = prompt_with_results("merge them\n", [(3, "alpha"), (4, long)], write)
    assert text.startswith("merge them\n")
    assert "## Result of task 3\n\nalpha\n" in text
    assert "## Result of task 4" in text and long not in text
    assert "read it from the file /data/queue/results/task-4.md" in text
    assert written == {4: long}
    assert prompt_with_results("p", [], write) == "p"


def test_the_runner_writes_long_results_to_a_private_file(sched: Any) -> None:
    store: QueueStore = sched.store
    a, b = _add(store, "a"), _add(store, "b")
    _finish(store, a, "done", "alpha")
    _finish(store, b, "done", "β" * INLINE_MAX)  # over 8 KiB in UTF-8
    c = _add(store, "use them", [a.id, b.id])
    prompt = sched.runner._with_results(store.get(c.id))
    path = sched.runner.dir / "results" / f"task-{b.id}.md"
    assert "alpha" in prompt and str(path) in prompt and "β" not in prompt
    assert path.read_text(encoding="utf-8") == "β" * INLINE_MAX
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert sched.runner._with_results(store.get(a.id)) == "a"  # no dependencies: as given


# -- the scheduler and why a task waits ----------------------------------------------------------
def test_the_policy_is_offered_only_tasks_whose_dependencies_are_done(sched: Any) -> None:
    store: QueueStore = sched.store
    a = _add(store, "a")
    b = _add(store, "b", [a.id])
    offered = [int(t.id) for t in sched.facts(NOW).tasks]
    assert offered == [a.id]
    _finish(store, a, "done", "alpha")
    assert [int(t.id) for t in sched.facts(NOW).tasks] == [b.id]


def test_why_held_says_which_dependency_and_why(sched: Any) -> None:
    store: QueueStore = sched.store
    a = _add(store, "a")
    b = _add(store, "b", [a.id])
    sched.set_enabled(True)
    _reserve, held = sched.explain(NOW)
    why = {h.task_id: h for h in held}
    assert (why[b.id].kind, why[b.id].reason) == (AFTER, f"after task {a.id}, which is queued")
    _finish(store, a, "failed", "stopped at its budget 2k")
    _reserve, held = sched.explain(NOW)
    [why_b] = [h for h in held if h.task_id == b.id]
    assert why_b.kind == HELD
    assert why_b.reason == f"after task {a.id}, which failed: stopped at its budget 2k"


def test_why_held_puts_dependencies_before_fill_off() -> None:
    t = Task(id=2, prompt="p", cwd="/w")
    deps = {2: [Dep(1, "failed", "boom")]}
    [h] = why_held(NOW, [t], [], enabled=False, tz=UTC, max_concurrent=1, deps=deps)
    assert h.reason.endswith("then: after task 1, which failed: boom")


# -- the API and the CLI -----------------------------------------------------------------------
def test_queue_add_refuses_a_bad_after_and_stores_no_task(sched: Any, tmp_path: Path) -> None:
    api = QueueApi(sched, sched.bus)
    with pytest.raises(ApiError) as err:
        asyncio.run(api.add(wire.QueueAddParams(prompt="p", cwd=str(tmp_path), after=[42])))
    assert err.value.code == "bad_request" and "no task 42" in str(err.value)
    assert sched.store.tasks() == []
    a = asyncio.run(api.add(wire.QueueAddParams(prompt="a", cwd=str(tmp_path))))
    b = asyncio.run(api.add(wire.QueueAddParams(prompt="b", cwd=str(tmp_path), after=[a.id])))
    assert [d.id for d in b.after] == [a.id] and b.waits == f"after task {a.id}, which is queued"
    shown = asyncio.run(api.show(wire.TaskRef(id=a.id)))
    assert [d.id for d in shown.task.before] == [b.id]
    with pytest.raises(ApiError, match="does not go with --cron"):
        params = wire.QueueAddParams(prompt="c", cwd=str(tmp_path), cron="0 3 * * *", after=[a.id])
        asyncio.run(api.add(params))


def test_cli_sends_after_and_says_an_engine_refusal_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, object]] = []
    refusal = "--after 9: no task 9; `podium queue ls` lists them"

    class Client:
        def call(self, method: str, **params: object) -> dict[str, object]:
            if method == "queue.add":
                calls.append(params)
                if params["after"] == [9]:
                    raise ApiError("bad_request", refusal)
                return {"id": 5, "state": "queued", "waits": "after task 3, which is queued"}
            return {"enabled": True}

    @contextmanager
    def fake_engine(start: bool = True) -> Iterator[Client]:
        # As `common.engine` does: an API error becomes one line and an exit code.
        try:
            yield Client()
        except ApiError as exc:
            raise CliFailure(exc.message, exit_code=api_exit_code(exc)) from None

    monkeypatch.setattr(queue_cmds, "engine", fake_engine)
    assert run(["queue", "add", "x", "--cwd", str(tmp_path), "--after", "3, #4,3"]) == 0
    assert calls[0]["after"] == [3, 4]
    assert "after task 3, which is queued" in capsys.readouterr().out
    assert run(["queue", "add", "x", "--cwd", str(tmp_path), "--after", "9"]) == 2
    err = capsys.readouterr().err
    assert err == f"podium: {refusal}\n"


def test_retrying_a_failed_dependency_lets_its_dependent_go_on(sched: Any, tmp_path: Path) -> None:
    api = QueueApi(sched, sched.bus)
    store: QueueStore = sched.store
    a = asyncio.run(api.add(wire.QueueAddParams(prompt="a", cwd=str(tmp_path))))
    b = asyncio.run(api.add(wire.QueueAddParams(prompt="b", cwd=str(tmp_path), after=[a.id])))
    with pytest.raises(ApiError, match="only a failed or cancelled one"):
        asyncio.run(api.retry(wire.TaskRef(id=a.id)))
    task_a = store.get(a.id)
    _finish(store, task_a, "failed", "gave up after 5 attempts")
    store.update(task_a, attempts=5, claude_session_id="5764008a-f82f-46dd-80a9-0507eb7b5e25")
    assert asyncio.run(api.show(wire.TaskRef(id=b.id))).task.waits == (
        f"after task {a.id}, which failed: gave up after 5 attempts"
    )
    again = asyncio.run(api.retry(wire.TaskRef(id=a.id)))
    assert (again.state, again.attempts, again.claude_session_id) == ("queued", 0, None)
    assert [int(t.id) for t in sched.facts(NOW).tasks] == [a.id]  # b still waits for it
    _finish(store, store.get(a.id), "done", "alpha")
    assert [int(t.id) for t in sched.facts(NOW).tasks] == [b.id]
    assert asyncio.run(api.show(wire.TaskRef(id=b.id))).task.waits is None
