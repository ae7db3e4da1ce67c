"""`podium demo [--stop] [--no-attach]`: the tower and three stand-in sessions on stage."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys

import click
import msgspec

from sessions import wire
from sessions.claude_settings import podium_command
from sessions.client import EngineClient, EngineUnavailable, stop_engine
from sessions.demo import (
    DEMO_SESSIONS,
    DEMO_TASKS,
    DemoPlace,
    demo_place,
    enter,
    is_fresh,
    remove,
    seed_history,
    stop_tmux,
)
from sessions.protocol import ApiError
from sessions.tmux import Tmux
from tui.cli.common import CliFailure, engine, settings
from tui.cli.session_cmds import _attach_to
from tui.cli.stage_cmds import build_stage


@click.command("demo")
@click.option("--stop", is_flag=True, help="Stop the demo and remove everything it made.")
@click.option("--no-attach", is_flag=True, help="Set the demo up but do not attach to it.")
@click.option("--nested", is_flag=True, help="Attach even inside another tmux (tmux in tmux).")
def demo(stop: bool, no_attach: bool, nested: bool) -> None:
    """Run podium with stand-in agents: no Claude account needed."""
    place = demo_place()
    enter(place)
    tmux = Tmux(settings().tmux.socket)
    if stop:
        try:
            stop_engine(place.paths())
        except EngineUnavailable as exc:
            raise CliFailure(f"{exc}; the demo files stay in {place.root}") from None
        stop_tmux(tmux)
        remove(place)
        click.echo("demo stopped and removed")
        return
    env = _demo_env()
    # History goes in before the engine starts: once it runs, it alone opens the store.
    fresh = is_fresh(place)
    if fresh:
        seed_history(place)
    # The stage first, so the sessions join it in order as they start. From the
    # stand-in project: the tower starts there, and so do the sessions its new-session
    # dialog makes (it offers the tower's directory), never in the person's checkout.
    with contextlib.chdir(place.work):
        layout = build_stage({**env, "PWD": str(place.work)})
    with engine() as client:
        existing = {s["name"] for s in client.call("sessions.list")}
        for name, prompt in DEMO_SESSIONS:
            if name not in existing:
                client.call(
                    "sessions.new",
                    name=name,
                    agent="sim",
                    prompt=prompt,
                    cwd=str(place.work),
                    env=env,
                )
        if fresh:
            _queue_tasks(client, place)
        sessions = client.call("sessions.list")
    if no_attach or not sys.stdin.isatty():
        click.echo(
            f"demo running: {len(sessions)} stand-in sessions on tmux socket "
            f"'{tmux.socket}', the control tower on the left.\n"
            f"  look:   tmux -L {tmux.socket} attach\n"
            f"  stop:   {stop_command()}"
        )
        return
    # Left on the terminal under tmux: seen again on detaching (prefix d).
    click.echo(f"podium demo: `{stop_command()}` stops it and removes everything it made")
    _attach_to(layout["window_id"], nested=nested)


# The command that started the demo, when a script did (scripts/demo exports its own
# absolute path): its `--stop` works from any directory, with or without podium on PATH.
LAUNCHER_ENV = "PODIUM_DEMO_COMMAND"


def stop_command() -> str:
    """The command that stops this demo, as it can be typed where the demo was started:
    the launching script's absolute path, else `podium` when that name on PATH is this
    podium, else this podium's absolute path."""
    launcher = os.environ.get(LAUNCHER_ENV, "").strip()
    if launcher:
        return shlex.join([launcher, "--stop"])
    own = podium_command()
    found = shutil.which("podium")
    if len(own) == 1 and found and os.path.realpath(found) == os.path.realpath(own[0]):
        return "podium demo --stop"
    return shlex.join([*own, "demo", "--stop"])


def _queue_tasks(client: EngineClient, place: DemoPlace) -> None:
    """A few background tasks; an engine that refuses them leaves the demo without
    them (one line says why)."""
    for task in DEMO_TASKS:
        try:
            params = msgspec.convert({**task, "cwd": str(place.work)}, wire.QueueAddParams)
            client.request(wire.QUEUE_ADD, params)
        except ApiError as exc:
            click.echo(f"demo: no background tasks queued ({exc})", err=True)
            return


def _demo_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PODIUM_SIM_SEED", "1")
    return env


COMMANDS = [demo]
