"""`podium next`: focus who needs you first. (How fast you come is
`podium report attention`, in report_cmds.)"""

from __future__ import annotations

import click

from collectors.durations import duration
from tui.cli.common import engine, print_json


@click.command("next")
@click.option("--json", "as_json", is_flag=True, help="Print the focused session as JSON.")
def next_(as_json: bool) -> None:
    """Focus the session that needs you first (as `podium ls` orders them), print its name."""
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


COMMANDS = [next_]
