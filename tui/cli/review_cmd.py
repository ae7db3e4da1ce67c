"""`podium review [--since D] [--json] [--html FILE]`: how well the capacity was spent.

The engine computes the findings from the log (`collectors.review`, in a worker
thread); this prints them, or writes the self-contained page (`collectors.review.page`).
"""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path
from typing import Any

import click
import msgspec

from collectors.review.page import amount_text, render
from sessions import wire
from tui.cli.common import CliFailure, echo, engine, print_json
from tui.cli.reads import SLOW_TIMEOUT, check_args

SURE_MARK = {"high": "●", "medium": "◐", "low": "○"}


def finding_lines(finding: dict[str, Any], width: int) -> list[str]:
    wrap = textwrap.TextWrapper(width=max(40, width), initial_indent="   ", subsequent_indent="   ")
    where = finding["where"]
    places = [
        *where["sessions"],
        *(f"task #{t}" for t in where["tasks"]),
        *where["projects"],
        *where["hours"],
    ]
    source = " (the model's)" if finding["source"] == "model" else ""
    lines = [
        f"{SURE_MARK.get(finding['sure'], '?')} {finding['area']:<9} {finding['title']}{source}",
        *wrap.wrap(amount_text(finding["amount"])),
        *wrap.wrap(finding["detail"]),
    ]
    if places:
        lines += wrap.wrap("where: " + "; ".join(places))
    for i, part in enumerate(finding["suggestion"].splitlines()):
        lines += wrap.wrap(("→ " if i == 0 else "  ") + part) or [""]
    return lines


@click.command("review")
@click.option("--since", metavar="DATE", help="First day to review (YYYY-MM-DD; default: 28 days).")
@click.option("--tz", metavar="IANA", help="Zone of days and hours (default: this machine's).")
@click.option("--json", "as_json", is_flag=True, help="Print the review as JSON.")
@click.option(
    "--html",
    "html_path",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the review as one self-contained page (charts inline, no network).",
)
@click.option(
    "--agent",
    is_flag=True,
    help="Queue an agent's review of the period (runs in spare capacity); its findings "
    "join this report, marked as the model's.",
)
@click.option("--focus", metavar="TEXT", help="With --agent: what it should look at especially.")
def review(
    since: str | None,
    tz: str | None,
    as_json: bool,
    html_path: Path | None,
    agent: bool,
    focus: str | None,
) -> None:
    """How well the capacity was spent: waste at resets, runaway work, waits, the
    fill reserve, the model mix; each finding with how much, where, a change to make
    and how sure it is (● high ◐ medium ○ low)."""
    tz = check_args(as_json, False, tz, since)
    if focus and not agent:
        raise CliFailure("--focus goes with --agent", exit_code=2)
    if agent:
        queue_agent(since, tz, focus, as_json)
        return
    with engine() as client:
        client.sock.settimeout(SLOW_TIMEOUT)
        result = client.request(wire.REPORTS_REVIEW, wire.ReviewParams(since=since, tz=tz))
    data = msgspec.to_builtins(result)
    if html_path is not None:
        write_page(html_path, data)
    if as_json:
        print_json(data)
        return
    if html_path is not None:
        echo(f"wrote {html_path} ({len(result.findings)} findings)")
        return
    width = min(100, shutil.get_terminal_size((100, 24)).columns) - 1
    echo(f"podium review since {result.since[:10]}: {len(result.findings)} findings")
    for problem in result.problems:
        echo(f"not checked: {problem}")
    if not result.findings:
        echo("No finding: nothing in the log of this period stands out.")
    for finding in data["findings"]:
        echo("")
        echo("\n".join(finding_lines(finding, width)))


COMMANDS = [review]


def queue_agent(since: str | None, tz: str, focus: str | None, as_json: bool) -> None:
    with engine() as client:
        client.sock.settimeout(SLOW_TIMEOUT)
        queued = client.request(
            wire.REPORTS_REVIEW_AGENT, wire.ReviewParams(since=since, tz=tz, focus=focus)
        )
    if as_json:
        print_json(msgspec.to_builtins(queued))
        return
    echo(
        f"queued task {queued.task.id}: an agent reviews the period from its digest "
        f"({queued.findings} computed findings) when there is spare capacity; "
        f"`podium review` shows its findings once it is done"
    )


def write_page(path: Path, data: dict[str, Any]) -> None:
    page = render(data)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CliFailure(
            f"cannot write {path}: {exc.strerror or exc}; choose another path"
        ) from None
