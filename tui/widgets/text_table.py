"""A table drawn as text, as the CLI prints it: a header line, then one line per row.

It never scrolls by itself: it is as tall as its rows, so a screen that stacks
several (the usage screen) has one scroll area that reaches every row. Columns
are as wide as their widest cell; when the width runs out, the gaps narrow to one
cell, then the widest columns are cut with `…`. Widths are terminal cells.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from textual.content import Content
from textual.widget import Widget

GAP = 2


def fit_widths(widths: Sequence[int], width: int) -> tuple[list[int], int]:
    """Column widths and the gap between columns that fit `width` cells: the natural
    widths with gaps of 2, else gaps of 1, else the widest columns cut down (to 3
    cells at least)."""
    out = list(widths)
    gaps = max(0, len(out) - 1)
    gap = GAP if sum(out) + GAP * gaps <= width else 1
    over = sum(out) + gap * gaps - width
    while over > 0:
        widest = max(range(len(out)), key=lambda i: out[i])
        if out[widest] <= 3:
            break
        out[widest] -= 1
        over -= 1
    return out, gap


def clip(text: str, width: int) -> str:
    """`text` in at most `width` cells, cut with `…`; padded to `width`."""
    if cell_len(text) <= width:
        return text + " " * (width - cell_len(text))
    out = ""
    for ch in text:
        if cell_len(out + ch) > width - 1:
            break
        out += ch
    out += "…"
    return out + " " * (width - cell_len(out))


class TextTable(Widget):
    """`headers` and `rows` of text; `right` columns (numbers) are right-aligned."""

    DEFAULT_CSS = """
    TextTable {
        height: auto;
    }
    """

    def __init__(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        right: frozenset[int] = frozenset(),
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.headers = list(headers)
        self.rows = [list(r) for r in rows]
        self.right = right

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return 1 + len(self.rows)

    def on_resize(self) -> None:
        self.refresh()

    def lines(self, width: int) -> list[Content]:
        """The header line and the rows, fitted to `width` cells."""
        natural = [
            max(cell_len(h), *(cell_len(r[i]) for r in self.rows)) if self.rows else cell_len(h)
            for i, h in enumerate(self.headers)
        ]
        widths, gap = fit_widths(natural, width)

        def line(cells: Sequence[str], style: str) -> Content:
            parts = []
            for i, (text, w) in enumerate(zip(cells, widths, strict=True)):
                cut = clip(text, w)
                if i in self.right and cell_len(text) <= w:
                    cut = " " * (w - cell_len(text)) + text
                parts.append(cut)
            return Content.styled((" " * gap).join(parts).rstrip(), style)

        out = [line(self.headers, "bold $foreground-muted")]
        out += [line(row, "") for row in self.rows]
        return out

    def render(self) -> Content:
        width = self.content_region.width or self.size.width
        return Content("\n").join(self.lines(width))
