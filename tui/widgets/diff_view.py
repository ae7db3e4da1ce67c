"""A session's changes drawn as a coloured diff: header, patch, untracked files.

`diff_lines` is the drawing alone (`sessions.changes.Changes` → styled lines),
tested without a screen; the widget shows them at their own width, so its
container scrolls both ways and no line of code is wrapped.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widget import Widget

from sessions.changes import Changes

# Diffs longer than this are cut: a screenful is read, not a generated lock file.
MAX_LINES = 20_000


def _patch_line(line: str) -> Content:
    if line.startswith(("diff --git", "+++ ", "--- ")):
        return Content.styled(line, "bold")
    if line.startswith("@@"):
        return Content.styled(line, "$accent")
    if line.startswith("+"):
        return Content.styled(line, "$text-success")
    if line.startswith("-"):
        return Content.styled(line, "$text-error")
    if line.startswith(("index ", "new file", "deleted file", "similarity", "rename ")):
        return Content.styled(line, "$text-muted")
    return Content(line)


def diff_lines(changes: Changes) -> list[Content]:
    """What the view shows for `changes`, line by line."""
    if changes.problem:
        return [Content.styled(changes.problem, "$text-warning")]
    out: list[Content] = []
    base = (changes.base or "")[:10]
    if changes.base_is_start:
        commits = changes.commits or 0
        since = f"since it started at {base}"
        if commits:
            since += f" ({commits} commit{'s' if commits != 1 else ''} since)"
    else:
        since = f"not committed yet (against HEAD {base}: no start recorded)"
    branch = f" · {changes.branch}" if changes.branch else ""
    out.append(Content.assemble((changes.directory, "bold"), (branch, "$text-muted")))
    out.append(Content.styled(f"changes {since}", "$text-muted"))
    out.append(Content.styled(changes.summary or "no changes to tracked files", "$accent"))
    out.append(Content(""))
    patch = changes.patch.splitlines()
    cut = len(patch) > MAX_LINES
    out += [_patch_line(line) for line in patch[:MAX_LINES]]
    if cut or changes.patch_cut:
        out.append(Content.styled("… the diff goes on: cut here", "$text-warning"))
    if changes.untracked:
        if patch:
            out.append(Content(""))
        out.append(Content.styled(f"Untracked files ({len(changes.untracked)})", "bold"))
        out += [Content.styled(f"  {name}", "$text-success") for name in changes.untracked]
    return out


class DiffView(Widget):
    """The diff of one session; `show` replaces it."""

    DEFAULT_CSS = """
    DiffView {
        width: auto;
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Content] = [Content.styled("reading the diff…", "$text-muted")]

    def show(self, changes: Changes) -> None:
        self.lines = diff_lines(changes)
        self.refresh(layout=True)

    def get_content_width(self, container: Any, viewport: Any) -> int:
        return max((line.cell_length for line in self.lines), default=0)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return len(self.lines)

    def render(self) -> Content:
        return Content("\n").join(self.lines)
