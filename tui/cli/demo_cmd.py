"""`podium demo [--stop] [--no-attach]`."""

from __future__ import annotations

import contextlib
import sys

import click

from sessions.client import EngineUnavailable, stop_engine
from sessions.demo import DEMO_SESSIONS, demo_place, enter, remove, seed_usage
from sessions.tmux import Tmux, TmuxError
from tui.cli.common import CliFailure, engine, settings


@click.command("demo")
@click.option("--stop", is_flag=True, help="Stop the demo and remove everything it made.")
@click.option("--no-attach", is_flag=True, help="Set the demo up but do not attach to it.")
def demo(stop: bool, no_attach: bool) -> None:
    """Run podium with stand-in agents: no Claude account needed."""
    place = demo_place()
    enter(place)
    tmux = Tmux(settings().tmux.socket)
    if stop:
        try:
            stop_engine(place.paths())
        except EngineUnavailable as exc:
            raise CliFailure(f"{exc}; the demo files stay in {place.root}") from None
        with contextlib.suppress(TmuxError):  # already gone is fine
            tmux.run("kill-server")
        remove(place)
        click.echo("demo stopped and removed")
        return
    with engine() as client:
        existing = {s["name"] for s in client.call("sessions.list")}
        if not existing:
            seed_usage(place)
        for name, prompt in DEMO_SESSIONS:
            if name not in existing:
                client.call(
                    "sessions.new",
                    name=name,
                    agent="sim",
                    prompt=prompt,
                    cwd=str(place.work),
                    env=_demo_env(),
                )
        sessions = client.call("sessions.list")
    _side_by_side(tmux, [s["pane_id"] for s in sessions if s["pane_id"]])
    target = f"={settings().tmux.session_name}"
    if no_attach or not sys.stdin.isatty():
        click.echo(
            f"demo running: {len(sessions)} stand-in sessions on tmux socket "
            f"'{tmux.socket}'.\n  look:   tmux -L {tmux.socket} attach\n"
            "  stop:   podium demo --stop"
        )
        return
    from tui.cli.session_cmds import _attach_to

    _attach_to(target)


def _demo_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.setdefault("PODIUM_SIM_SEED", "1")
    return env


def _side_by_side(tmux: Tmux, panes: list[str]) -> None:
    """Put the demo's panes in one window, side by side (the stage grows in the TUI)."""
    if len(panes) < 2:
        return
    try:
        first = panes[0]
        for pane in panes[1:]:
            tmux.run("join-pane", "-d", "-h", "-s", pane, "-t", first)
        tmux.run("select-layout", "-t", first, "even-horizontal")
        tmux.select_pane(first)
    except TmuxError:
        pass  # already arranged, or panes moved by the user: leave them be


COMMANDS = [demo]
