"""Task trees: the queue's tasks as a forest, each node with what it and its subtree
spent against its budget. Pure (no I/O): the queue API passes the records, what each
task's runs spent and the `--after` edges; `queue.tree` answers the result, which
`podium queue tree` and the tower's Background screen draw (`tui/tree_text.py`).

A task's children are the tasks whose `parent_id` names it. Two kinds share that
column: a *subtask* (an agent's `queue_task`, or a team's member under its lead) and
a *copy* of a recurring template (each cron or on-change occurrence). They are told
apart by the parent: a template (`schedule_kind` cron, on_change or on_event) has
copies, any other task subtasks. A subtree's spend is its own plus every descendant's;
its share is that spend over the node's budget, in the budget's unit (dollars for a
dollar budget, weighted tokens otherwise: a share of a window through `capacity`). A
template's budget is each copy's, so it has no share of its own.

Without `everything` (`queue.tree {all}`), the forest keeps the trees with an open
node (queued, running, deferred, paused, recurring) and, under a template, only its
open copies: months of nightly copies are history (`queue ls`), not a tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from sessions.fill.amount import parse_amount
from sessions.fill.delegation import Spent
from sessions.fill.queue import FINAL_TASK_STATES, Task
from sessions.fill.schedule import RECURRING_KINDS

# How much of a prompt a node carries: its first line, cut here.
HEAD_MAX = 100


@dataclass
class Node:
    """One task in its tree. `kind`: "task" (a root: a person's task or a team's lead),
    "subtask" or "copy" (an occurrence of the recurring template above it)."""

    id: int
    state: str
    prompt_head: str
    kind: str
    depth: int
    budget: str | None
    spent_tokens: float
    spent_usd: float
    tree_tokens: float
    tree_usd: float
    share: float | None
    """The subtree's spend over the budget (1.0: all of it); None without a budget."""
    budget_tokens: float | None = None
    """The budget in weighted tokens (a share of a window through `capacity`); None for
    dollars or none."""
    paused_by: str | None = None
    recurring: bool = False
    after: list[int] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    def walk(self) -> Iterator[Node]:
        """This node, then its descendants, depth first in id order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def is_open(self) -> bool:
        return self.state not in FINAL_TASK_STATES


def head(prompt: str, limit: int = HEAD_MAX) -> str:
    """A prompt's first non-blank line, cut to `limit` characters with `…`."""
    line = next((ln.strip() for ln in prompt.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def budget_of(task: Task) -> str | None:
    """The task's budget as an amount's text (an old task's `budget_usd` as dollars)."""
    if task.budget:
        return task.budget
    return f"${task.budget_usd:g}" if task.budget_usd else None


def share_of(
    budget: str | None, tokens: float, usd: float, capacity: Callable[[str], float]
) -> float | None:
    """`tokens`/`usd` over `budget` in its own unit; None without one (or unreadable)."""
    if not budget:
        return None
    try:
        amount = parse_amount(budget)
    except ValueError:  # checked when added: only a hand-edited row
        return None
    if amount.kind == "usd":
        return usd / amount.value
    total = amount.units(capacity)
    return tokens / total if total else None


def build_forest(
    tasks: Sequence[Task],
    spent: Mapping[int, Spent],
    after: Mapping[int, Sequence[int]],
    capacity: Callable[[str], float],
    *,
    root: int | None = None,
    everything: bool = False,
) -> list[Node]:
    """The trees of `tasks` (by id), or the one of `root` (its subtree, all of it).
    `spent`: each task's runs' spend (missing: nothing); `after`: each task's
    dependencies; `capacity(window)`: a window's weighted tokens."""
    by_id = {t.id: t for t in tasks}
    kids: dict[int, list[Task]] = {}
    for task in sorted(tasks, key=lambda t: t.id):
        if task.parent_id is not None and task.parent_id in by_id:
            kids.setdefault(task.parent_id, []).append(task)
    seen: set[int] = set()

    def build(task: Task, depth: int, kind: str) -> Node:
        seen.add(task.id)
        own = spent.get(task.id, Spent())
        template = task.schedule_kind in RECURRING_KINDS
        children = [
            build(c, depth + 1, "copy" if template else "subtask")
            for c in kids.get(task.id, [])
            if c.id not in seen  # a loop of hand-edited parents ends here
        ]
        if template and not everything and root is None:
            children = [c for c in children if any(n.is_open() for n in c.walk())]
        tokens = own.units + sum(c.tree_tokens for c in children)
        usd = own.usd + sum(c.tree_usd for c in children)
        budget = budget_of(task)
        return Node(
            id=task.id,
            state=task.state,
            prompt_head=head(task.prompt),
            kind=kind,
            depth=depth,
            budget=budget,
            spent_tokens=own.units,
            spent_usd=own.usd,
            tree_tokens=tokens,
            tree_usd=usd,
            share=None if template else share_of(budget, tokens, usd, capacity),
            budget_tokens=_units(budget, capacity),
            paused_by=task.paused_by if task.state == "paused" else None,
            recurring=template,
            after=list(after.get(task.id, ())),
            children=children,
        )

    if root is not None:
        top = by_id.get(root)
        return [build(top, 0, _kind(top, by_id))] if top is not None else []
    forest = [
        build(t, 0, "task")
        for t in sorted(tasks, key=lambda t: t.id)
        if t.parent_id is None or t.parent_id not in by_id
    ]
    # Tasks left are in a loop of parents (hand-edited rows): each loop's first is a root.
    for task in sorted(tasks, key=lambda t: t.id):
        if task.id not in seen:
            forest.append(build(task, 0, "task"))
    if not everything:
        forest = [n for n in forest if any(m.is_open() for m in n.walk())]
    return sorted(forest, key=lambda n: n.id)


def _units(budget: str | None, capacity: Callable[[str], float]) -> float | None:
    if not budget:
        return None
    try:
        return parse_amount(budget).units(capacity)
    except ValueError:  # checked when added: only a hand-edited row
        return None


def _kind(task: Task, by_id: Mapping[int, Task]) -> str:
    parent = by_id.get(task.parent_id) if task.parent_id is not None else None
    if parent is None:
        return "task"
    return "copy" if parent.schedule_kind in RECURRING_KINDS else "subtask"


def subtree_ids(tasks: Sequence[Task], root: int) -> list[int]:
    """`root` and every task under it (subtasks and copies), parents before children."""
    kids: dict[int, list[int]] = {}
    for task in sorted(tasks, key=lambda t: t.id):
        if task.parent_id is not None:
            kids.setdefault(task.parent_id, []).append(task.id)
    out: list[int] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        tid = stack.pop(0)
        if tid in seen:
            continue
        seen.add(tid)
        out.append(tid)
        stack.extend(kids.get(tid, []))
    return out
