"""Subtasks an agent queues for itself (`podium mcp`'s `queue_task`): the caps.

A background run may add a child task (its `parent_id`). So that a run can never make
itself a bigger budget by delegating, and a tree of agents cannot grow without bound:
- depth: a task is at most `MAX_DEPTH` levels under a task a person queued;
- fan-out: a task has at most `MAX_CHILDREN` children;
- budget: a child's budget comes out of its parent's. What is left to give is the
  parent's budget less what the parent spent, what its finished children spent and
  the budgets of its open children (each may spend all of its own). A child asked
  for without a budget under a parent that has one gets what is left (half of it
  while the parent runs: a running parent is stopped once its own spend and what
  it gave reach its budget, `Runner._over_limits`).
- permissions: a child gets its parent's tools and permission mode, or fewer
  (`child_permissions`): delegating never grants what the person did not.
Each refusal is a `Refused` with one line that says why. Pure: the queue API passes
in the records and what they spent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sessions.fill.amount import Amount, parse_amount, token_text

MAX_DEPTH = 3
MAX_CHILDREN = 10


class Refused(ValueError):
    """A subtask the caps refuse; the message says why, in words."""


@dataclass(frozen=True)
class Spent:
    """What a task's runs spent: weighted tokens and dollars."""

    units: float = 0.0
    usd: float = 0.0


@dataclass(frozen=True)
class Child:
    """A parent's existing child as the caps see it: its budget, and what it spent
    once it ended (`final`)."""

    budget: str | None
    final: bool
    spent: Spent


def check_depth(ancestors: int) -> None:
    """`ancestors`: how many tasks lie above the parent (0: a person's task)."""
    if ancestors + 1 > MAX_DEPTH:
        raise Refused(
            f"refused: a subtask would be {ancestors + 1} levels deep; at most {MAX_DEPTH} "
            "levels of subtasks are allowed (do this part yourself)"
        )


def check_fan_out(children: int) -> None:
    if children >= MAX_CHILDREN:
        raise Refused(
            f"refused: this task already has {children} subtasks, the most one task may "
            f"have ({MAX_CHILDREN}); wait for them or merge the work"
        )


def child_budget(
    parent_budget: str | None,
    parent_spent: Spent,
    children: Sequence[Child],
    asked: str | None,
    capacity: Callable[[str], float],
    share: float = 1.0,
) -> str | None:
    """The budget the child gets (an amount's text; None: unlimited, as its parent),
    or `Refused`. `capacity(window)` turns a share of a window into weighted tokens.
    A child asked for without a budget gets `share` of what is left (the caller gives
    half while the parent runs: its own run goes on spending the same budget)."""
    if not parent_budget:
        return asked
    parent = parse_amount(parent_budget)
    want = parse_amount(asked) if asked else None
    if parent.kind == "usd":
        if want is not None and want.kind != "usd":
            raise Refused(
                f"refused: the parent's budget is in dollars ({parent}); give the subtask's "
                "budget in dollars too"
            )
        used = parent_spent.usd + sum(_committed_usd(c) for c in children)
        left = parent.value - used
        if left <= 0.005:
            raise Refused(f"refused: the parent's budget {parent} is spent (${used:.2f} used)")
        if want is None:
            return str(Amount("usd", round(left * share, 2)))
        if want.value > left:
            raise Refused(
                f"refused: the subtask's budget {want} is more than its parent has left: "
                f"${left:.2f} of {parent}"
            )
        return str(want)
    if want is not None and want.kind == "usd":
        raise Refused(
            f"refused: the parent's budget is in tokens or a share of a window ({parent}); "
            "give the subtask's budget that way too (50k, 2%5h)"
        )
    total = parent.units(capacity) or 0.0
    used = parent_spent.units + sum(_committed_units(c, capacity) for c in children)
    left = total - used
    if left < 1:
        raise Refused(
            f"refused: the parent's budget {parent} is spent "
            f"({used:,.0f} of {total:,.0f} weighted tokens spent or given to its open subtasks)"
        )
    if want is None:
        return token_text(_round_down(left * share))
    units = want.units(capacity) or 0.0
    if units > left:
        raise Refused(
            f"refused: the subtask's budget {want} ({units:,.0f} weighted tokens) is more than "
            f"its parent has left: {left:,.0f} of {parent}"
        )
    return str(want)


def _round_down(units: float) -> float:
    """A granted budget a person reads at a glance (149947 → 149k, 1,456,000 → 1.4M),
    never more than what is left."""
    for step, above in ((100_000, 1_000_000), (1_000, 10_000)):
        if units >= above:
            return units // step * step
    return float(int(units))


def committed_units(children: Sequence[Child], capacity: Callable[[str], float]) -> float:
    """What `children` hold of their parent's budget in weighted tokens: an open one's
    budget (it may spend all of it), an ended one's spend."""
    return sum(_committed_units(c, capacity) for c in children)


def _committed_usd(child: Child) -> float:
    if child.final or not child.budget:
        return child.spent.usd
    amount = parse_amount(child.budget)
    return amount.value if amount.kind == "usd" else child.spent.usd


def _committed_units(child: Child, capacity: Callable[[str], float]) -> float:
    if child.final or not child.budget:
        return child.spent.units
    units = parse_amount(child.budget).units(capacity)
    return units if units is not None else child.spent.units


def capped_budget(cap: str, asked: str | None, capacity: Callable[[str], float]) -> str:
    """The budget of a task an agent queues with no parent (a person's interactive
    session): `asked`, if it is within `cap` (`[fill] agent_task_budget`), else
    `Refused`; without one, the cap itself. Dollars and tokens do not compare: a
    dollar budget under a cap in tokens (or the other way) is kept as asked, bounded
    all the same (Claude Code's --max-budget-usd, or podium's stop at the budget)."""
    limit = parse_amount(cap)
    if asked is None:
        return str(limit)
    want = parse_amount(asked)
    if limit.kind == "usd" or want.kind == "usd":
        if limit.kind == want.kind and want.value > limit.value:
            raise Refused(
                f"refused: the budget {want} is more than a task an agent queues may have: "
                f"{limit} ([fill] agent_task_budget)"
            )
        return str(want)
    units, most = want.units(capacity) or 0.0, limit.units(capacity) or 0.0
    if units > most:
        raise Refused(
            f"refused: the budget {want} ({units:,.0f} weighted tokens) is more than a task "
            f"an agent queues may have: {limit} ({most:,.0f}; [fill] agent_task_budget)"
        )
    return str(want)


# How much a permission mode lets a headless run do without asking, least first: a
# child may have its parent's mode or a lower one. `dontAsk` denies what is not allowed
# beforehand, as `default` does where nobody can be asked.
MODE_RANK = {
    "plan": 0,
    "default": 1,
    "dontAsk": 1,
    "acceptEdits": 2,
    "auto": 3,
    "bypassPermissions": 4,
}


def child_permissions(
    parent_tools: Sequence[str],
    parent_mode: str | None,
    asked_tools: Sequence[str],
    asked_mode: str | None,
) -> tuple[list[str], str | None]:
    """A subtask's allowed tools and permission mode: its parent's when it asks for
    none, else what it asks if that is no more than its parent has (each rule one of
    the parent's, as written; a mode no more permissive), or `Refused`."""
    tools = list(dict.fromkeys(asked_tools)) if asked_tools else list(parent_tools)
    extra = [rule for rule in tools if rule not in parent_tools]
    if extra:
        have = ", ".join(parent_tools) if parent_tools else "none"
        raise Refused(
            f"refused: a subtask may use only tools its parent may ({have}); not {', '.join(extra)}"
        )
    if asked_mode is None:
        return tools, parent_mode
    if MODE_RANK.get(asked_mode, 99) > MODE_RANK.get(parent_mode or "default", 1):
        raise Refused(
            f"refused: permission mode {asked_mode} allows more than its parent's "
            f"({parent_mode or 'default'})"
        )
    return tools, asked_mode
