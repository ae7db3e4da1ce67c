"""`podium usage …`: the usage log (Claude Code's token usage, kept in DuckDB)."""

from __future__ import annotations

from pathlib import Path

import click

from tui.cli.common import CliFailure, engine, print_json

# A first ingest of a long history (GBs of transcripts) can take a while.
INGEST_TIMEOUT = 3600.0


@click.group("usage", invoke_without_command=True)
@click.pass_context
def usage(ctx: click.Context) -> None:
    """The usage log: token usage of every Claude Code session, from its transcripts."""
    if ctx.invoked_subcommand is None:
        # PLACEHOLDER (issue 4 part B): `podium usage` alone will show the usage
        # windows; until that lands it prints this help.
        click.echo(ctx.get_help())


@usage.command("ingest")
@click.option(
    "--claude-dir",
    "claude_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Read this Claude config dir (or its projects/ dir) instead of the configured "
    "ones (CLAUDE_CONFIG_DIR or ~/.claude). May be repeated.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def ingest(claude_dirs: tuple[Path, ...], as_json: bool) -> None:
    """Read what Claude Code's transcripts gained since the last pass, now.

    The engine does this by itself while it runs (within a second or two of a
    write); this command runs one pass and waits for it. `files`, `lines` and
    `bad_lines` count what this pass read; `messages` and `totals` cover the
    whole log.
    """
    dirs = [str(d.expanduser().absolute()) for d in claude_dirs]
    for folder in dirs:
        if not Path(folder).is_dir():
            raise CliFailure(f"no such directory: {folder}", exit_code=2)
    with engine() as client:
        client.sock.settimeout(INGEST_TIMEOUT)
        result = client.call("usage.ingest", claude_dirs=dirs or None)
    if as_json:
        first = ("files", "lines", "bad_lines", "messages", "totals")
        print_json({**{key: result[key] for key in first}, **result})
        return
    for problem in result["problems"]:
        click.echo(f"podium: {problem}", err=True)
    totals = result["totals"]
    click.echo(
        f"read {result['lines']} lines of {result['files']} files "
        f"in {result['seconds']:.1f}s ({result['bad_lines']} bad)"
    )
    click.echo(
        f"log: {result['messages']} messages; input {totals['input']}, "
        f"output {totals['output']}, cache writes {totals['cache_creation']}, "
        f"cache reads {totals['cache_read']}; about ${result['cost_usd']:.2f} at API prices"
    )


COMMANDS = [usage]
