"""`podium tower`: the control tower in this terminal."""

from __future__ import annotations

import click

from tui.cli.common import CliFailure


@click.command("tower")
def tower() -> None:
    """Run the control tower here: who needs you, usage, and keys to act (q leaves it;
    the sessions go on running)."""
    # Textual loads only when the tower runs: other commands start faster.
    from tui.tower_main import TowerError, run_tower

    try:
        status = run_tower()
    except TowerError as exc:
        raise CliFailure(str(exc)) from None
    if status:
        raise click.exceptions.Exit(status)


COMMANDS = [tower]
