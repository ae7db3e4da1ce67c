"""`podium tower`: the control tower in this terminal."""

from __future__ import annotations

import sys

import click

from collectors.paths import Paths, config_file
from tui.cli.common import CliFailure, settings


@click.command("tower")
def tower() -> None:
    """Run the control tower here: who needs you, usage, and keys to act (q leaves it;
    the sessions go on running)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise CliFailure("the control tower needs a terminal; run it from an interactive shell")
    cfg = settings()
    # Imported here: textual is only needed by this command.
    from tui.app import PodiumApp

    PodiumApp(Paths.from_env(), cfg, config_path=config_file()).run()


COMMANDS = [tower]
