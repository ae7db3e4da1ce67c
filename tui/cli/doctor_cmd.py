"""`podium doctor [--json]`."""

from __future__ import annotations

import sys

import click
import msgspec

from sessions.doctor import run_checks
from tui.cli.common import print_json

_MARK = {"ok": "ok  ", "warn": "warn", "error": "FAIL"}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
def doctor(as_json: bool) -> None:
    """Check tmux, Claude Code, paths, permissions and the engine."""
    checks = run_checks()
    if as_json:
        print_json(msgspec.to_builtins(checks))
    else:
        for c in checks:
            click.echo(f"[{_MARK[c.status]}] {c.name}: {c.detail}")
            if c.fix and c.status != "ok":
                click.echo(f"       fix: {c.fix}")
    if any(c.status == "error" for c in checks):
        sys.exit(1)


COMMANDS = [doctor]
