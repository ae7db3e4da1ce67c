"""Task trees (`sessions/fill/tree.py`): the forest from tasks, subtasks told from
recurring copies, each subtree's spend against its budget; and their drawing
(`tui/tree_text.py`)."""

from __future__ import annotations

from typing import Any

from sessions import wire
from sessions.fill.delegation import Spent
from sessions.fill.queue import Task
from sessions.fill.tree import Node, build_forest, head, subtree_ids
from tui.tree_text import draw, rows, short_tokens, spend_text


def _wire(forest: list[Node]) -> list[wire.TaskNode]:
    """As `queue.tree` answers them."""
    return [wire.from_record(n, wire.TaskNode) for n in forest]


def _task(id: int, parent: int | None = None, state: str = "queued", **kw: Any) -> Task:
    return Task(id=id, prompt=f"task {id}\nmore", cwd="/w", parent_id=parent, state=state, **kw)


def _capacity(window: str) -> float:
    return {"five_hour": 100_000.0}.get(window, 1_000_000.0)


TEAM = [
    _task(1, state="running", budget="50k"),
    _task(2, 1, state="done", budget="20k"),
    _task(3, 1, state="paused", budget="20k", paused_by="you"),
    _task(4, 3, state="queued", budget="5k"),
    _task(5, state="done"),  # a finished tree of its own
]
SPENT = {1: Spent(4000, 0.1), 2: Spent(15000, 0.3), 4: Spent(1000, 0.02)}


def test_a_team_is_one_tree_with_each_subtree_spend_against_its_budget() -> None:
    forest = build_forest(TEAM, SPENT, {4: [2]}, _capacity)
    assert [n.id for n in forest] == [1]  # the done tree is history without `everything`
    lead = forest[0]
    assert [c.id for c in lead.children] == [2, 3]
    assert [n.id for n in lead.walk()] == [1, 2, 3, 4]
    assert lead.kind == "task" and lead.children[0].kind == "subtask"
    assert lead.spent_tokens == 4000 and lead.tree_tokens == 20000
    assert round(lead.tree_usd, 2) == 0.42
    assert lead.share == 20000 / 50000
    paused = lead.children[1]
    assert paused.paused_by == "you" and paused.tree_tokens == 1000
    assert paused.children[0].after == [2] and paused.children[0].depth == 2
    assert spend_text(_wire([lead])[0]) == "20k/50k"
    every = build_forest(TEAM, SPENT, {}, _capacity, everything=True)
    assert [n.id for n in every] == [1, 5]


def test_one_subtree_by_its_root_and_shares_of_windows_and_dollars() -> None:
    tasks = [_task(1, budget="10%5h"), _task(2, 1, budget="$2"), _task(3, 2, state="done")]
    spent = {1: Spent(2000, 0.0), 3: Spent(500, 0.5)}
    (sub,) = build_forest(tasks, spent, {}, _capacity, root=2)
    assert sub.kind == "subtask" and [c.id for c in sub.walk()] == [2, 3]
    assert sub.share == 0.25 and spend_text(_wire([sub])[0]) == "$0.50/$2"
    (top,) = build_forest(tasks, spent, {}, _capacity)
    # 10% of the 5-hour window's 100k: 10k weighted tokens.
    assert top.budget_tokens == 10_000 and top.share == 2500 / 10_000
    assert spend_text(_wire([top])[0]) == "2.5k/10k"
    assert build_forest(tasks, spent, {}, _capacity, root=99) == []


def test_copies_of_a_template_are_not_subtasks_and_old_ones_are_history() -> None:
    tasks = [
        _task(1, state="recurring", schedule_kind="cron", schedule="0 3 * * *", budget="5k"),
        _task(2, 1, state="done", budget="5k"),
        _task(3, 1, state="queued", budget="5k"),
    ]
    (tmpl,) = build_forest(tasks, {2: Spent(4000, 0.0)}, {}, _capacity)
    assert tmpl.recurring and tmpl.share is None  # its budget is each copy's
    assert [(c.id, c.kind) for c in tmpl.children] == [(3, "copy")]
    (whole,) = build_forest(tasks, {2: Spent(4000, 0.0)}, {}, _capacity, everything=True)
    assert [c.id for c in whole.children] == [2, 3] and whole.tree_tokens == 4000
    assert "(copy)" in draw(_wire([whole]))[1]


def test_a_loop_of_hand_edited_parents_still_shows_every_task_once() -> None:
    tasks = [_task(1, 2), _task(2, 1), _task(3)]
    forest = build_forest(tasks, {}, {}, _capacity)
    assert sorted(n.id for tree in forest for n in tree.walk()) == [1, 2, 3]
    assert subtree_ids(tasks, 1) == [1, 2]


def test_drawn_with_guides_as_the_cli_prints_it() -> None:
    forest = _wire(build_forest(TEAM, SPENT, {4: [2]}, _capacity))
    assert [r.guide for r in rows(forest)] == ["", "├─ ", "└─ ", "   └─ "]
    lines = draw(forest)
    assert lines[0] == "#1 running · 20k/50k 40% · task 1"
    assert lines[2].startswith("└─ #3 paused by you · 1k/20k 5%")
    assert lines[3].startswith("   └─ #4 queued after 2 · ")
    assert subtree_ids(TEAM, 1) == [1, 2, 3, 4]


def test_heads_and_short_tokens() -> None:
    assert head("\n\n  fix the parser  \nthen test") == "fix the parser"
    assert head("x" * 200, 10) == "x" * 9 + "…"
    assert [short_tokens(t) for t in (950, 1000, 1500, 12_345, 999_999, 1_250_000)] == [
        "950", "1k", "1.5k", "12k", "1M", "1.2M",
    ]  # fmt: skip
