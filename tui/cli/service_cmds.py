"""`podium service install|uninstall|status`: the engine started at login (see
`sessions.service`), so fill stays on without a terminal held open."""

from __future__ import annotations

import click

from collectors.paths import Paths
from sessions.lifecycle import lock_holder
from sessions.service import Outcome, ServiceError, install, status, uninstall
from tui.cli.common import CliFailure


@click.group("service")
def service() -> None:
    """Start the engine at login (a systemd user unit, else a crontab line)."""


def _say(outcome: Outcome) -> None:
    click.echo("\n".join(outcome.lines))


@service.command("install")
def install_cmd() -> None:
    """Write and enable the systemd --user unit (or print the crontab line)."""
    try:
        _say(install(engine_running=lock_holder(Paths.from_env()) is not None))
    except (ServiceError, OSError) as exc:
        raise CliFailure(f"podium service install: {exc}") from None


@service.command("uninstall")
def uninstall_cmd() -> None:
    """Disable and remove the unit; a running engine keeps running."""
    try:
        _say(uninstall())
    except OSError as exc:
        raise CliFailure(f"podium service uninstall: {exc}") from None


@service.command("status")
def status_cmd() -> None:
    """Whether the unit is installed, enabled and active."""
    _say(status())


COMMANDS = [service]
