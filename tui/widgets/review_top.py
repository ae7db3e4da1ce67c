"""The latest review's top findings, on the usage screen (`podium review` has them all)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from sessions import wire

TOP = 3
SURE_MARK = {"high": "●", "medium": "◐", "low": "○"}


def review_content(latest: wire.LatestReview, top: int = TOP) -> Content:
    """Each of the top findings in two lines: mark, area and title; then the change."""
    findings = latest.review.findings
    if not findings:
        return Content(
            f"No finding since {latest.review.since[:10]}: nothing in the log stands out."
        )
    lines: list[Content] = []
    for f in findings[:top]:
        mark = SURE_MARK.get(f.sure, "?")
        model = " (the model's)" if f.source == "model" else ""
        lines.append(Content.assemble((f"{mark} {f.area:<9} ", "bold"), f.title + model))
        change = f.suggestion.splitlines()[0] if f.suggestion else ""
        lines.append(Content.assemble(("  → ", "$text-muted"), (change, "$text-muted")))
    more = len(findings) - top
    tail = f"{more} more: " if more > 0 else ""
    lines.append(
        Content(f"{tail}`podium review` lists every finding; `--html FILE` draws the page.")
    )
    return Content("\n").join(lines)


class ReviewTop(Static):
    """Static text, cut at the width rather than folded (one finding, one line)."""

    DEFAULT_CSS = """
    ReviewTop {
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, latest: wire.LatestReview, *, id: str | None = None) -> None:
        super().__init__(review_content(latest), id=id)
