"""Task trees as text: the guides, the state in words, the spend against the budget.

The engine answers `queue.tree` as `wire.TaskNode`s (`sessions/fill/tree.py` builds
them); `podium queue tree` and `queue show` print them with `draw`, and the tower's
tree (`tui/widgets/task_tree.py`) lays out the same rows in cells. No textual here:
the CLI imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sessions import wire

# The state of a node in one glyph (the tower's rows; the CLI writes the word).
STATE_GLYPHS = {
    "queued": "○",
    "running": "●",
    "deferred": "◷",
    "paused": "‖",
    "recurring": "↻",
    "done": "✓",
    "failed": "✗",
    "cancelled": "⊘",
}


@dataclass(frozen=True)
class Row:
    """One node as a line of a drawn tree: the guides before it (`├─ `, `│  └─ `)."""

    guide: str
    node: wire.TaskNode


def rows(forest: Sequence[wire.TaskNode]) -> list[Row]:
    """Every node of `forest`, depth first, with its tree guides."""
    out: list[Row] = []

    def visit(node: wire.TaskNode, lead: str, last: bool, top: bool) -> None:
        out.append(Row("" if top else lead + ("└─ " if last else "├─ "), node))
        below = "" if top else lead + ("   " if last else "│  ")
        for i, child in enumerate(node.children):
            visit(child, below, i == len(node.children) - 1, False)

    for tree in forest:
        visit(tree, "", True, True)
    return out


def short_tokens(tokens: float) -> str:
    """Weighted tokens in a few characters: 950, 12k, 1.2M."""
    if tokens >= 999_500:
        return f"{tokens / 1_000_000:.1f}M".replace(".0M", "M")
    if tokens >= 10_000:
        return f"{tokens / 1000:.0f}k"
    if tokens >= 1000:
        return f"{tokens / 1000:.1f}k".replace(".0k", "k")
    return f"{tokens:.0f}"


def spend_text(node: wire.TaskNode) -> str:
    """The subtree's spend against its budget: `12k/50k` (a share of a window in
    tokens too), `$0.40/$2`; `12k` or `-` without one (a template's budget is each
    copy's, so it shows its copies' spend alone)."""
    budget = node.budget if not node.recurring else None
    if budget and budget.startswith("$"):
        return f"${node.tree_usd:.2f}/{budget}"
    if budget and node.budget_tokens:
        return f"{short_tokens(node.tree_tokens)}/{short_tokens(node.budget_tokens)}"
    return short_tokens(node.tree_tokens) if node.tree_tokens else "-"


def state_words(node: wire.TaskNode) -> str:
    """The state as the tree shows it: `paused by you`, `queued after 3,4`."""
    if node.state == "paused" and node.paused_by:
        return f"paused by {node.paused_by}"
    if node.state in ("queued", "deferred") and node.after:
        return f"{node.state} after {','.join(str(a) for a in node.after)}"
    return node.state


def share_text(node: wire.TaskNode) -> str:
    """`40%` of its budget, `-` without one."""
    return f"{node.share:.0%}" if node.share is not None else "-"


def draw(forest: Sequence[wire.TaskNode]) -> list[str]:
    """The forest as plain text lines, as `podium queue tree` prints it."""
    lines = []
    for row in rows(forest):
        n = row.node
        share = f" {share_text(n)}" if n.share is not None else ""
        copy = " (copy)" if n.kind == "copy" else ""
        lines.append(
            f"{row.guide}#{n.id} {state_words(n)}{copy} · {spend_text(n)}{share} · {n.prompt_head}"
        )
    return lines
