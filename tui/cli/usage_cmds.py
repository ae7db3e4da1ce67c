"""`podium usage`: the plan-limit windows now (and, from transcript ingest, `usage ingest`)."""

from __future__ import annotations

from pathlib import Path

import click

from tui.cli.common import CliFailure, engine, print_json
from tui.cli.reads import show_windows


@click.group("usage", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the windows as JSON.")
@click.pass_context
def usage(ctx: click.Context, as_json: bool) -> None:
    """Plan limits now: each window's use, reset, source, age, burn rate and projection."""
    if ctx.invoked_subcommand is None:
        show_windows(as_json)


# -- transcript ingest -------------------------------------------------------------------

# A first ingest of a long history (GBs of transcripts) can take a while.
INGEST_TIMEOUT = 3600.0


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
    `bad_lines` count what this pass read (`skipped_files`: FIFOs, sockets or
    devices named *.jsonl, never opened); `messages` and `totals` cover the
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
    skipped = result.get("skipped_files") or 0
    click.echo(
        f"read {result['lines']} lines of {result['files']} files "
        f"in {result['seconds']:.1f}s ({result['bad_lines']} bad"
        + (f"; {skipped} not regular files skipped" if skipped else "")
        + ")"
    )
    click.echo(
        f"log: {result['messages']} messages; input {totals['input']}, "
        f"output {totals['output']}, cache writes {totals['cache_creation']}, "
        f"cache reads {totals['cache_read']}; about ${result['cost_usd']:.2f} at API prices"
    )


COMMANDS = [usage]
