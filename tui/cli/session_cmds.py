"""`podium new|ls|send|attach|kill` and `podium up`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from sessions.agents import AGENTS
from sessions.tmux import Tmux, TmuxError
from tui.cli.common import CliFailure, age, engine, print_json, settings, table


@click.command("new")
@click.option("--name", help="Session name (default: <agent>-<n>).")
@click.option("--cwd", type=click.Path(file_okay=False), help="Working directory (default: here).")
@click.option(
    "--agent", type=click.Choice(AGENTS), help="Which agent to run (config: agents.default)."
)
@click.option(
    "--cmd",
    help="Command instead of the agent's default (split into argv, never run by a shell).",
)
@click.option("--prompt", help="First prompt for the agent.")
@click.option(
    "--no-hooks",
    is_flag=True,
    help="claude/sim: start without podium's hooks; podium reads the screen instead.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the new session as JSON.")
def new(
    name: str | None,
    cwd: str | None,
    agent: str | None,
    cmd: str | None,
    prompt: str | None,
    no_hooks: bool,
    as_json: bool,
) -> None:
    """Start an agent session in a new tmux pane."""
    directory = str(Path(cwd or os.getcwd()).expanduser().absolute())
    with engine() as client:
        rec = client.call(
            "sessions.new",
            name=name,
            cwd=directory,
            agent=agent,
            cmd=cmd,
            prompt=prompt,
            env=dict(os.environ),
            hooks=False if no_hooks else None,
        )
    if as_json:
        print_json(rec)
    else:
        click.echo(f"started {rec['name']} ({rec['agent']}) in pane {rec['pane_id']}")


@click.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print the sessions as JSON.")
def ls(as_json: bool) -> None:
    """List the sessions."""
    with engine() as client:
        sessions = client.call("sessions.list")
    if as_json:
        print_json(sessions)
        return
    if not sessions:
        click.echo("no sessions; start one with `podium new` (or try `podium demo`)")
        return
    home = str(Path.home())
    rows = [
        [
            s["name"],
            s["agent"],
            s["state"]
            + (
                f" ({s['exit_code']})"
                if s["state"] == "exited" and s["exit_code"] is not None
                else ""
            ),
            age(s["state_since"]),
            s["pane_id"] or "-",
            s["cwd"].replace(home, "~", 1) if s["cwd"].startswith(home) else s["cwd"],
        ]
        for s in sessions
    ]
    click.echo(table(rows, ["NAME", "AGENT", "STATE", "FOR", "PANE", "CWD"]))


@click.command("send")
@click.argument("name")
@click.argument("text")
@click.option("--no-enter", is_flag=True, help="Type the text without pressing Enter.")
def send(name: str, text: str, no_enter: bool) -> None:
    """Type TEXT into session NAME (use - to read it from stdin)."""
    if text == "-":
        text = sys.stdin.read()
    with engine() as client:
        client.call("sessions.send", name=name, text=text, enter=not no_enter)


@click.command("kill")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def kill(name: str, as_json: bool) -> None:
    """Stop session NAME and close its pane."""
    with engine() as client:
        result = client.call("sessions.kill", name=name)
    if as_json:
        print_json(result)
    else:
        click.echo(f"killed {result['killed']}")


def _attach_to(target: str) -> None:
    """Put the terminal on podium's tmux session at `target` (exec: we do not come back)."""
    tmux = Tmux(settings().tmux.socket)
    inside = os.environ.get("TMUX", "").split(",")[0]
    if inside and inside == tmux.socket_path():
        argv = tmux.switch_client_argv(target)
    elif not sys.stdin.isatty():
        raise CliFailure("attach needs a terminal; run it from an interactive shell")
    else:
        argv = tmux.attach_argv(target)
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    sys.stdout.flush()
    os.execvpe(argv[0], argv, env)


@click.command("attach")
@click.argument("name")
def attach(name: str) -> None:
    """Attach this terminal to session NAME's pane."""
    with engine() as client:
        rec = client.call("sessions.focus", name=name)
    _attach_to(rec["pane_id"])


@click.command("up")
def up() -> None:
    """Attach to podium's tmux session (the control tower grows here)."""
    cfg = settings()
    tmux = Tmux(cfg.tmux.socket)
    with engine() as client:
        sessions = client.call("sessions.list")
    try:
        present = tmux.has_session(cfg.tmux.session_name)
    except TmuxError as exc:
        raise CliFailure(str(exc)) from None
    if not present or not sessions:
        raise CliFailure("no sessions yet: start one with `podium new`, or try `podium demo`")
    _attach_to(f"={cfg.tmux.session_name}")


COMMANDS = [new, ls, send, kill, attach, up]
