"""The background screen's task trees: one row per task, its subtasks under it.

Each row: the tree's guides (`├─ `, `│  └─ `, as `podium queue tree` draws them), the
state's glyph, the task's number and its prompt's first line; then its state in words
("paused by you", "queued after 3"), its subtree's spend against its budget (`12k/50k`,
`$0.40/$2`) and a bar of the share used. Rows are cut to the width in cells, never
wrapped: the TASK column takes what the others leave, the others are as wide as their
longest cell (STATE at most `STATE_MAX`).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from sessions import wire
from tui.tree_text import STATE_GLYPHS, rows, share_text, spend_text, state_words
from tui.widgets.text_table import clip

HEADERS = ("TASK", "STATE", "SPENT", "USED")
STATE_MAX = 16
TASK_MIN = 16
BAR = 5  # cells of the share bar


def share_bar(node: wire.TaskNode) -> str:
    """`██░░░ 40%`; past the budget, a full bar and the share (`█████ 120%`); `-`
    without a budget."""
    if node.share is None:
        return "-"
    filled = max(0, min(BAR, round(node.share * BAR)))
    return "█" * filled + "░" * (BAR - filled) + f" {share_text(node)}"


def task_cell(guide: str, node: wire.TaskNode) -> str:
    glyph = STATE_GLYPHS.get(node.state, "·")
    copy = " (copy)" if node.kind == "copy" else ""
    return f"{guide}{glyph} {node.id} {node.prompt_head}{copy}"


class TaskTree(DataTable[Text]):
    """The forest `queue.tree` answers, a row per task (`show`); `selected()` is the
    task under the cursor."""

    DEFAULT_CSS = """
    TaskTree {
        height: auto;
        max-height: 50%;
        text-wrap: nowrap;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self.nodes: list[wire.TaskNode] = []

    def show(self, trees: Sequence[wire.TaskNode], width: int) -> None:
        """Draw `trees` in `width` cells (the table's own, scroll bar left out); the
        cursor stays on the task it was on."""
        was = self.selected()
        laid = rows(trees)
        self.nodes = [r.node for r in laid]
        cells = [
            [
                task_cell(r.guide, r.node),
                clip(state_words(r.node), STATE_MAX).rstrip(),
                spend_text(r.node),
                share_bar(r.node),
            ]
            for r in laid
        ]
        widths = [
            max([cell_len(h), *(cell_len(c[i]) for c in cells)]) for i, h in enumerate(HEADERS)
        ]
        room = width - 2 * self.cell_padding * len(HEADERS)
        task_width = max(TASK_MIN, room - sum(widths[1:]))
        self.clear(columns=True)
        self.add_column(HEADERS[0], width=task_width)
        for title, w in zip(HEADERS[1:], widths[1:], strict=True):
            self.add_column(title, width=w)
        for node, (task, *rest) in zip(self.nodes, cells, strict=True):
            self.add_row(Text(clip(task, task_width)), *(Text(c) for c in rest), key=str(node.id))
        if was is not None and was.id in {n.id for n in self.nodes}:
            self.move_cursor(row=[n.id for n in self.nodes].index(was.id))

    def selected(self) -> wire.TaskNode | None:
        if not self.nodes or self.row_count == 0:
            return None
        return self.nodes[min(max(self.cursor_row, 0), len(self.nodes) - 1)]
