"""`podium db reset`: a way out of a database DuckDB cannot read."""

from __future__ import annotations

import click

from collectors.paths import Paths
from sessions.doctor import ResetRefused, reset_database
from tui.cli.common import CliFailure, print_json


@click.group("db")
def db() -> None:
    """The usage log's database file (<data>/podium.duckdb)."""


@db.command("reset")
@click.option("--force", is_flag=True, help="Move the database aside even if it opens fine.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def reset(force: bool, as_json: bool) -> None:
    """Move a broken database (and its .wal) aside as podium.duckdb.broken-TIMESTAMP
    and start a fresh log. Refuses while an engine runs."""
    paths = Paths.from_env()
    try:
        moved = reset_database(paths, force=force)
    except ResetRefused as exc:
        raise CliFailure(str(exc)) from None
    if as_json:
        print_json({"moved": [str(p) for p in moved], "database": str(paths.db)})
        return
    for path in moved:
        click.echo(f"kept the old file as {path}")
    click.echo(f"started a fresh log at {paths.db}")


COMMANDS = [db]
