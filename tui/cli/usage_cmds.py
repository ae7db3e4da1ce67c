"""`podium usage`: the plan-limit windows now (and, from transcript ingest, `usage ingest`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from tui.cli.common import duration, engine, print_json, table


@click.group("usage", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the windows as JSON.")
@click.pass_context
def usage(ctx: click.Context, as_json: bool) -> None:
    """Plan limits now: each window's use, reset, source, age, burn rate and projection."""
    if ctx.invoked_subcommand is None:
        show_windows(as_json)


# -- limit windows (issue 4, items 3-4) ---------------------------------------------------

WINDOW_LABELS = {"five_hour": "5-hour", "seven_day": "week"}


def show_windows(as_json: bool) -> None:
    with engine() as client:
        result = client.call("usage.windows")
    if as_json:
        print_json(result)
        return
    windows = result["windows"]
    if not windows:
        click.echo(
            "no limit figures yet: they come from Claude Code's statusline (plan accounts) "
            "once a podium session has had an answer"
        )
        return
    now = datetime.fromisoformat(result["now"])
    click.echo(table([_window_row(w, now) for w in windows], _HEADERS))


_HEADERS = ["WINDOW", "USED", "RESETS", "SOURCE", "AGE", "BURN/H", "AT RESET"]


def _window_row(w: dict[str, Any], now: datetime) -> list[str]:
    resets = "-"
    if w["resets_at"]:
        when = datetime.fromisoformat(w["resets_at"])
        left = (when - now).total_seconds()
        shown = (
            f"{when.astimezone():%H:%M}" if left < 86400 else f"{when.astimezone():%a %b %d %H:%M}"
        )
        resets = f"{shown} (in {duration(left)})"
    burn = w["burn_pct_per_hour"]
    projected = w["projected_pct_at_reset"]
    at_reset = "-" if projected is None else f"{projected:.0f}%"
    if w.get("limit_at"):
        hit = datetime.fromisoformat(w["limit_at"]).astimezone(UTC).astimezone()
        at_reset += f" (100% at {hit:%H:%M})"
    return [
        WINDOW_LABELS.get(w["window"], w["window"]),
        f"{'~' if w['estimate'] else ''}{w['used_pct']:.0f}%",
        resets,
        w["source"],
        duration(w["age_s"]),
        "-" if burn is None else f"{burn:+.1f}%",
        at_reset,
    ]


COMMANDS = [usage]
