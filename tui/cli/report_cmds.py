"""`podium report` and its subcommands, `podium export --parquet`.

Alone, `report` shows tokens and estimated cost (`show_usage`, with
`usage_options`); its subcommands are `waste`, `attention` (how fast you come
when a session waits) and `runs` (the background runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import msgspec

from collectors.durations import duration
from collectors.report_args import BY_CHOICES, ReportError, parse_date
from collectors.windows import window_name
from sessions import wire
from tui.cli.common import CliFailure, engine, print_json, table
from tui.cli.reads import call_slow, check_args, show_usage, write_csv
from tui.format import (
    WASTE_FOOTER,
    WASTE_HEADER,
    WASTE_HEADERS,
    WASTE_LEGEND,
    clock,
    count,
    waste_cells,
    waste_total,
    window_title,
)

BY_OPTIONS = tuple(b for b in BY_CHOICES if b != "day_model")


def _date_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A --since/--until that is not a date is bad usage, said before the engine is asked."""
    try:
        parse_date(value)
    except ReportError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
    return value


def _window_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return window_name(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def usage_options(fn: Any) -> Any:
    options = [
        click.option(
            "--by",
            type=click.Choice(BY_OPTIONS),
            default="day",
            show_default=True,
            help="Group tokens and cost by time bucket or by model, project, session.",
        ),
        click.option("--since", metavar="DATE", help="First day to include (YYYY-MM-DD)."),
        click.option("--until", metavar="DATE", help="Last day to include (YYYY-MM-DD)."),
        click.option(
            "--tz", metavar="IANA", help="Zone of days, weeks, months (default: this machine's)."
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the report as JSON."),
        click.option("--csv", "as_csv", is_flag=True, help="Print the rows as CSV."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


# -- podium report waste --------------------------------------------------------------------
@click.command("waste")
@click.option(
    "--window",
    metavar="W",
    callback=_window_option,
    help="Only this window: five_hour (5-hour), seven_day (week), seven_day_opus, ...",
)
@click.option(
    "--since", metavar="DATE", callback=_date_option, help="First day to include (YYYY-MM-DD)."
)
@click.option("--tz", metavar="IANA", help="Zone of --since (default: this machine's).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the ended windows as CSV.")
def report_waste(
    window: str | None, since: str | None, tz: str | None, as_json: bool, as_csv: bool
) -> None:
    """Capacity left unused: per window that reset, the share unused at its reset and
    the area between limit and usage; then totals over the period.

    Counted from the per-minute series the engine writes while it runs; minutes
    without it are left out, and SEEN (coverage) says how much of each span was seen.
    """
    tz = check_args(as_json, as_csv, tz, since)
    result = call_slow("reports.waste", window=window, since=since, tz=tz)
    if as_json:
        print_json(result)
        return
    columns = [
        "window",
        "resets_at",
        "unused_at_reset_pct",
        "last_used_pct",
        "last_sample",
        "area_pct_hours",
        "window_equivalents",
        "covered_minutes",
        "expected_minutes",
        "coverage",
    ]
    if as_csv:
        write_csv(result["windows"], columns)
        return
    if not result["total"]:
        click.echo(
            "no usage series yet: the engine writes one row per window each minute "
            "once it knows a limit figure"
        )
        return
    click.echo(WASTE_HEADER)
    report = msgspec.convert(result, wire.WasteReport)
    rows = [waste_cells(r, ended=True) for r in report.windows]
    rows += [waste_cells(r, ended=False) for r in report.open]
    if rows:
        click.echo(table(rows, WASTE_HEADERS))
    else:
        click.echo("no window has reset in the period")
    for name, total in report.total.items():
        click.echo(waste_total(name, total))
    click.echo(WASTE_LEGEND)
    click.echo(WASTE_FOOTER)


# -- podium export --parquet DIR -------------------------------------------------------------
@click.command("export")
@click.option(
    "--parquet",
    "folder",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each table of the usage log to DIR/<table>.parquet.",
)
@click.option("--force", is_flag=True, help="Overwrite files an earlier export left in DIR.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def export(folder: Path, force: bool, as_json: bool) -> None:
    """Export podium's tables (usage log, limits, sessions, ...) as Parquet files."""
    # The engine writes the files: it needs the path as this shell means it.
    target = folder.expanduser().absolute()
    if target.exists() and not target.is_dir():
        raise CliFailure(f"{target} is not a directory", exit_code=2)
    result = call_slow("export.parquet", dir=str(target), force=force)
    if as_json:
        print_json(result)
        return
    rows = [[t["table"], count(t["rows"])] for t in result["tables"]]
    click.echo(table(rows, ["TABLE", "ROWS"]))
    click.echo(f"wrote {len(rows)} Parquet files to {result['dir']}")


@click.group("report", invoke_without_command=True)
@usage_options
@click.pass_context
def report(
    ctx: click.Context,
    by: str,
    since: str | None,
    until: str | None,
    tz: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Reports from podium's log; alone: tokens and estimated cost per day (or --by)."""
    if ctx.invoked_subcommand is None:
        show_usage(by, since, until, tz, as_json, as_csv)


report.add_command(report_waste)


@report.command("attention")
@click.option(
    "--since", metavar="DATE", callback=_date_option, help="First day (YYYY-MM-DD, UTC) to include."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def report_attention(since: str | None, as_json: bool) -> None:
    """Per day: time sessions waited for you, time to respond (median, p90), prompts,
    and the alerts you received (bell/message/desktop) or were spared."""
    with engine() as client:
        result = client.call("reports.attention", since=since)
    days = result["days"]
    if as_json:
        print_json(result)
        return
    if not days:
        click.echo("no attention items yet" + (f" since {since}" if since else ""))
        return
    rows = [
        [
            d["day"],
            str(d["items"]),
            duration(d["waited_s"]),
            duration(d["response_p50_s"]),
            duration(d["response_p90_s"]),
            str(d["permission_prompts"]),
            str(d["limits"]),
            f"{d['alert_bells']}/{d['alert_messages']}/{d['alert_desktop']}",
            str(d["alerts_spared"]),
        ]
        for d in days
    ]
    headers = ["DAY", "ITEMS", "WAITED", "RESPOND P50", "RESPOND P90", "PERMISSIONS", "LIMITS"]
    # Alerts you received, by kind (bell/message/desktop), and those spared because
    # you were looking at the pane already.
    headers += ["ALERTS B/M/D", "SPARED"]
    click.echo(table(rows, headers))


@report.command("runs")
@click.option(
    "--since", metavar="DATE", callback=_date_option, help="First day (YYYY-MM-DD, UTC) to include."
)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
def report_runs(since: str | None, as_json: bool) -> None:
    """The morning report: each background run's task, outcome, tokens, cost, duration, result."""
    with engine() as client:
        result = client.call("reports.runs", since=since)
    if as_json:
        print_json(result)
        return
    if not result["runs"]:
        click.echo("no background runs yet" + (f" since {since}" if since else ""))
        return
    for r in result["runs"]:
        tokens = f"{r['input_tokens'] or 0} in / {r['output_tokens'] or 0} out"
        cost = f"${r['cost_usd']:.4f}" if r["cost_usd"] is not None else "-"
        prompt = " ".join(r["prompt"].split())[:60]
        click.echo(
            f"run {r['run_id']}  task {r['task_id']} #{r['attempt']}  {r['outcome']}  "
            f"{tokens}  {cost}  {duration(r['duration_s'])}  {clock(r['started_at'])}"
        )
        click.echo(f"    task: {prompt}")
        for line in (r["result"] or "").splitlines()[:3]:
            click.echo(f"    > {line}")


@report.command("night")
@click.option(
    "--since",
    metavar="TIME",
    help="Start of the period (YYYY-MM-DD or ISO 8601, in the [fill] zone); "
    "default: the last night window's start.",
)
@click.option(
    "--until", metavar="TIME", help="End of the period (default: the night's end, or now)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def report_night(since: str | None, until: str | None, as_json: bool) -> None:
    """What background fill did last night (or since TIME): done, failed (why),
    deferred (until when), tokens, cost and the capacity used."""
    with engine() as client:
        result = client.call("reports.night", since=since, until=until)
    if as_json:
        print_json(result)
        return
    click.echo("\n".join(night_lines(result)))


def night_lines(r: dict[str, Any]) -> list[str]:
    """The morning report in words, one task a line under each outcome."""
    lines = [
        f"background fill {clock(r['since'])} to {clock(r['until'])}: {r['runs']} run(s), "
        f"{r['tokens']:,} tokens, ${r['cost_usd']:.4f}"
    ]
    sections = [
        ("done", r["done"]),
        ("failed", r["failed"]),
        ("deferred", r["deferred"]),
        ("still open", r["other"]),
    ]
    for title, tasks in sections:
        if not tasks:
            continue
        lines.append(f"{title}:")
        for t in tasks:
            tail = f"{t['runs']} run(s), {t['tokens']:,} tokens, ${t['cost_usd']:.4f}"
            lines.append(f"  task {t['task_id']}  {' '.join(t['prompt'].split())[:60]}  ({tail})")
            if t.get("until"):
                lines.append(f"      until {clock(t['until'])}: {t.get('reason') or '-'}")
            elif t.get("reason"):
                lines.append(f"      {t['reason']}")
    if not r["runs"]:
        lines.append("nothing ran")
    if r["windows"]:
        used = ", ".join(
            f"{window_title(w['window'])} {w['start_pct']:.0f}% → {w['end_pct']:.0f}% "
            f"(peak {w['peak_pct']:.0f}%)"
            for w in r["windows"]
        )
        lines.append(f"capacity used: {used}")
    else:
        lines.append("capacity used: no usage figures in the period")
    return lines


COMMANDS = [report, export]
