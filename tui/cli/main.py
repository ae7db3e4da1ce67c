"""podium's command line (click). Every listing command takes `--json`; the plain
forms of the read-only ones skip click (`tui.cli.lean`).

Errors are one line on stderr that says what failed and what to do; exit 2 for
bad usage (click's own errors, a value a command or the engine refuses as
malformed: `CliFailure(..., exit_code=2)`, `bad_request`), 1 for failures.
"""

from __future__ import annotations

import importlib
import sys

import click

from collectors.paths import UnsafePath
from tui.cli.common import CliFailure

# Command name → (module, attribute). Commands are imported when used: importing
# every command module (DuckDB, the settings, textual helpers) cost every
# `podium` call about half a second. tests/unit/test_cli_commands.py checks that
# this table and the modules' COMMANDS lists agree.
COMMAND_MODULES: dict[str, tuple[str, str]] = {
    "engine": ("engine_cmds", "engine_group"),
    "new": ("session_cmds", "new"),
    "ls": ("session_cmds", "ls"),
    "send": ("session_cmds", "send"),
    "kill": ("session_cmds", "kill"),
    "attach": ("session_cmds", "attach"),
    "resume": ("session_cmds", "resume"),
    "up": ("stage_cmds", "up"),
    "stage": ("stage_cmds", "stage"),
    "next": ("attention_cmds", "next_"),
    "report": ("report_cmds", "report"),
    "usage": ("usage_cmds", "usage"),
    "export": ("report_cmds", "export"),
    "doctor": ("doctor_cmd", "doctor"),
    "db": ("db_cmd", "db"),
    "demo": ("demo_cmd", "demo"),
    "tower": ("tower_cmd", "tower"),
    "simulate": ("simulate_cmd", "simulate"),
    "queue": ("queue_cmds", "queue"),
    "fill": ("fill_cmd", "fill"),
    "service": ("service_cmds", "service"),
    "mcp": ("mcp_cmd", "mcp"),
    "team": ("team_cmds", "team"),
    "review": ("review_cmd", "review"),
    "post": ("message_cmds", "post"),
    "messages": ("message_cmds", "messages"),
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMAND_MODULES.get(cmd_name)
        if spec is None:
            return None
        module = importlib.import_module(f"tui.cli.{spec[0]}")
        command: click.Command = getattr(module, spec[1])
        return command


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="podium", prog_name="podium")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """podium: conduct several coding agents from one terminal."""
    if ctx.invoked_subcommand is None:
        # Loaded when used, as every command (see COMMAND_MODULES).
        from tui.cli.stage_cmds import up

        ctx.invoke(up)


def usage_line(exc: click.UsageError) -> str:
    """click's usage error as one line, with where to read more (click's own output is
    four: the usage, a hint, a blank line and the error)."""
    message = exc.format_message().strip().rstrip(".")
    # "Invalid value ..." reads as podium's other messages: lower case after "podium: ".
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    where = exc.ctx.command_path if exc.ctx is not None else "podium"
    return f"{message}; see `{where} --help`"


def run(argv: list[str]) -> int:
    try:
        cli.main(args=argv, prog_name="podium", standalone_mode=False)
    except CliFailure as exc:
        click.echo(f"podium: {exc}", err=True)
        return exc.exit_code
    except UnsafePath as exc:  # a command that makes the data dir, not through the engine
        click.echo(f"podium: {exc}", err=True)
        return 1
    except click.exceptions.Abort:
        click.echo("podium: aborted", err=True)
        return 1
    except click.UsageError as exc:
        click.echo(f"podium: {usage_line(exc)}", err=True)
        return exc.exit_code
    except click.ClickException as exc:  # a file click could not open, say
        click.echo(f"podium: {exc.format_message()}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
