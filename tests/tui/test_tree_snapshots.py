"""Snapshots (SVG) of the background screen's task trees (t), from fixed data: a team
whose lead runs with subtasks done, running, paused and waiting, a template with its
open copy, and a lone task; at 80×24 (cut to the width, never wrapped) and wide."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes import answers
from test_snapshots import _app, _background, berlin, fixed_screen  # noqa: F401 - fixtures

from sessions import wire

# Local time is Berlin's, as in the other snapshots.
pytestmark = pytest.mark.usefixtures("berlin")


def _task(id: int, state: str, prompt: str, **kw: Any) -> wire.Task:
    return wire.Task(id=id, state=state, prompt=prompt, cwd="/home/me/src/api", **kw)


def _node(id: int, state: str, head: str, **kw: Any) -> wire.TaskNode:
    return wire.TaskNode(id=id, state=state, prompt_head=head, kind=kw.pop("kind", "subtask"), **kw)


LEAD = "lead the migration of the session registry to the new store, one module at a time"
TASKS = [
    _task(21, "running", LEAD, budget="200k", runs=1),
    _task(22, "done", "map every caller of the registry", parent_id=21, budget="40k"),
    _task(23, "running", "move the reads to the new store and keep the tests green",
          parent_id=21, budget="60k", runs=1),
    _task(24, "paused", "move the writes", parent_id=21, budget="60k", paused_by="you"),
    _task(25, "queued", "delete the old store once nothing reads it", parent_id=24),
    _task(14, "recurring", "nightly: update the changelog", schedule_text="cron 0 3 * * *"),
    _task(31, "queued", "nightly: update the changelog", parent_id=14),
    _task(30, "queued", "tidy the README"),
]  # fmt: skip
TREES = [
    _node(14, "recurring", "nightly: update the changelog", kind="task", recurring=True,
          budget="5k", budget_tokens=5000, tree_tokens=0,
          children=[_node(31, "queued", "nightly: update the changelog", kind="copy", depth=1,
                          budget="5k", budget_tokens=5000, share=0.0)]),
    _node(21, "running", LEAD, kind="task", budget="200k", budget_tokens=200_000,
          spent_tokens=31_000, tree_tokens=131_500, share=0.6575, children=[
              _node(22, "done", "map every caller of the registry", depth=1, budget="40k",
                    budget_tokens=40_000, spent_tokens=38_200, tree_tokens=38_200,
                    share=0.955),
              _node(23, "running", "move the reads to the new store and keep the tests green",
                    depth=1, budget="60k", budget_tokens=60_000, spent_tokens=62_300,
                    tree_tokens=62_300, share=1.038),
              _node(24, "paused", "move the writes", depth=1, budget="$2", spent_usd=0.0,
                    paused_by="you", share=0.0, children=[
                        _node(25, "queued", "delete the old store once nothing reads it",
                              depth=2, after=[23]),
                    ]),
          ]),
    _node(30, "queued", "tidy the README", kind="task"),
]  # fmt: skip


def _queue() -> dict[str, Any]:
    listed = wire.QueueList(tasks=TASKS, fill=wire.FillState(enabled=True))
    return answers(queue_list=listed, queue_tree=wire.QueueTree(trees=TREES))


def test_trees_80x24(snap_compare: Any, tmp_path: Path) -> None:
    # The running subtask selected: its detail below the trees.
    app = _app(tmp_path, answers=_queue())
    run = lambda p: _background(p, "t", "down", "down", "down", "down")  # noqa: E731
    assert snap_compare(app, terminal_size=(80, 24), run_before=run)


def test_trees_wide(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(tmp_path, answers=_queue())
    run = lambda p: _background(p, "t")  # noqa: E731
    assert snap_compare(app, terminal_size=(160, 40), run_before=run)


def test_cancel_asks_first_and_names_the_tasks_under_it(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(tmp_path, answers=_queue())
    run = lambda p: _background(p, "t", "down", "down", "c")  # noqa: E731
    assert snap_compare(app, terminal_size=(80, 24), run_before=run)
