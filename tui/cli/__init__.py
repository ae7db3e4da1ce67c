"""podium's command line (click). Every listing command takes `--json`.

Errors are one line on stderr that says what failed and what to do; exit 2 for
bad usage (click's own), 1 for failures.
"""

from __future__ import annotations

import sys

import click

from tui.cli.common import CliFailure


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="podium", prog_name="podium")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """podium: conduct several coding agents from one terminal."""
    if ctx.invoked_subcommand is None:
        from tui.cli.stage_cmds import up

        ctx.invoke(up)


def _register() -> None:
    from tui.cli import (
        attention_cmds,
        demo_cmd,
        doctor_cmd,
        engine_cmds,
        fill_cmd,
        queue_cmds,
        report_cmds,
        session_cmds,
        simulate_cmd,
        stage_cmds,
        tower_cmd,
        usage_cmds,
    )

    modules = (
        engine_cmds,
        session_cmds,
        stage_cmds,
        attention_cmds,
        usage_cmds,
        report_cmds,
        doctor_cmd,
        demo_cmd,
        tower_cmd,
        simulate_cmd,
        queue_cmds,
        fill_cmd,
    )
    for module in modules:
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def run(argv: list[str]) -> int:
    try:
        cli.main(args=argv, prog_name="podium", standalone_mode=False)
    except CliFailure as exc:
        click.echo(f"podium: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("podium: aborted", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
