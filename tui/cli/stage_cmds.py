"""`podium up` (and bare `podium`): the stage; `podium stage`: what stands on it."""

from __future__ import annotations

import os
import shlex
import shutil
from typing import Any

import click

from sessions.claude_settings import podium_command
from sessions.tmux import Tmux
from tui.cli.common import CliFailure, engine, print_json, settings
from tui.cli.reads import describe_stage, show_stage
from tui.cli.session_cmds import _attach_to

# Development and tests: run this command line (split like a shell would, run as
# argv) in the tower's pane instead of `podium tower`.
TOWER_CMD_ENV = "PODIUM_TOWER_CMD"


def tower_argv() -> list[str]:
    """The control tower's argv: `<this podium> tower`, or `PODIUM_TOWER_CMD`."""
    override = os.environ.get(TOWER_CMD_ENV, "").strip()
    if override:
        try:
            argv = shlex.split(override)
        except ValueError as exc:
            raise CliFailure(f"{TOWER_CMD_ENV}: cannot split {override!r}: {exc}") from None
        if argv:
            return argv
    return [*podium_command(), "tower"]


def build_stage(env: dict[str, str] | None = None) -> dict[str, Any]:
    """Ask the engine for the stage (made or mended); return its layout."""
    size = shutil.get_terminal_size((200, 50))
    with engine() as client:
        return client.call(
            "stage.up",
            tower=tower_argv(),
            env=env if env is not None else dict(os.environ),
            cwd=os.getcwd(),
            size=[size.columns, size.lines],
        )


@click.command("up")
@click.option("--no-attach", is_flag=True, help="Set the stage up but do not attach to it.")
@click.option("--nested", is_flag=True, help="Attach even inside another tmux (tmux in tmux).")
@click.option("--json", "as_json", is_flag=True, help="With --no-attach: print the stage as JSON.")
def up(no_attach: bool, nested: bool, as_json: bool) -> None:
    """Open podium: the control tower on the left, sessions side by side on its right.

    Creates podium's tmux session and its stage window when missing (starting
    the tower), puts up to `ui.stage_size` sessions on stage (those needing you
    first), then attaches this terminal, or switches to it inside podium's tmux.
    """
    if as_json and not no_attach:
        raise click.UsageError("--json prints the stage instead of attaching: add --no-attach")
    layout = build_stage()
    if no_attach:
        if as_json:
            print_json(layout)
            return
        cfg = settings().tmux
        attach = Tmux(cfg.socket).attach_argv(f"={cfg.session_name}", typed=True)
        target = shlex.join(["tmux", *attach[1:]])
        click.echo(f"{describe_stage(layout)}\nattach: {target}  (or `podium up`)")
        return
    if layout["window_id"] is None:
        raise CliFailure("the stage window vanished while it was being set up; run it again")
    _attach_to(layout["window_id"], nested=nested)


@click.command("stage")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the stage (or the session) as JSON.")
def stage(name: str | None, as_json: bool) -> None:
    """Show who is on stage and who is parked; with NAME, bring that session forward.

    A parked session takes the place of the one on stage least recently
    focused, and is focused and acknowledged (as `podium attach` without the
    attaching).
    """
    show_stage(name, as_json)


COMMANDS = [up, stage]
