"""`podium next` and `podium report attention`: who needs you, and how fast you come."""

from __future__ import annotations

import click

from collectors.durations import duration
from tui.cli.common import engine, print_json, table
from tui.cli.report_cmds import report_waste, show_usage, usage_options


@click.command("next")
@click.option("--json", "as_json", is_flag=True, help="Print the focused session as JSON.")
def next_(as_json: bool) -> None:
    """Focus the session that has waited longest for you, and print its name."""
    with engine() as client:
        result = client.call("attention.next")
    session = result["session"]
    if as_json:
        print_json(session)
        return
    if session is None:
        click.echo("nobody is waiting for you")
        return
    item = session.get("acknowledged") or {}
    waited = duration(item.get("waited_s"))
    click.echo(f"{session['name']}  {item.get('kind', session['state'])} for {waited}")


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
@click.option("--since", metavar="DATE", help="First day (YYYY-MM-DD, UTC) to include.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def report_attention(since: str | None, as_json: bool) -> None:
    """Per day: time sessions waited for you, time to respond (median, p90), prompts."""
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
        ]
        for d in days
    ]
    headers = ["DAY", "ITEMS", "WAITED", "RESPOND P50", "RESPOND P90", "PERMISSIONS", "LIMITS"]
    click.echo(table(rows, headers))


@report.command("runs")
@click.option("--since", metavar="DATE", help="First day (YYYY-MM-DD, UTC) to include.")
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
            f"{tokens}  {cost}  {duration(r['duration_s'])}  {r['started_at'][:16]}"
        )
        click.echo(f"    task: {prompt}")
        for line in (r["result"] or "").splitlines()[:3]:
            click.echo(f"    > {line}")


COMMANDS = [next_, report]
