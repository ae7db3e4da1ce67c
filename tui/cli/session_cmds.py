"""`podium new|ls|send|attach|kill|resume`."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from sessions.agent_env import agent_env
from sessions.agents import AGENTS
from tui.cli.common import CliFailure, engine, podium_tmux, print_json, settings
from tui.cli.reads import list_sessions


def _check_cmd(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A --cmd that does not split into argv (an open quote) or is empty is bad usage;
    whether its program exists is the engine's to say (on the PATH the agent gets)."""
    if value is None:
        return None
    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"cannot split {value!r} into arguments: {exc}", ctx, param
        ) from None
    if not argv:
        raise click.BadParameter("the command is empty", ctx, param)
    return value


@click.command("new")
@click.option("--name", help="Session name (default: <agent>-<n>).")
@click.option(
    "--cwd",
    type=click.Path(exists=True, file_okay=False),
    help="Working directory (default: here).",
)
@click.option(
    "--agent", type=click.Choice(AGENTS), help="Which agent to run (config: agents.default)."
)
@click.option(
    "--cmd",
    callback=_check_cmd,
    help="Command instead of the agent's default (split into argv, never run by a shell).",
)
@click.option("--prompt", help="First prompt for the agent.")
@click.option(
    "--worktree",
    is_flag=True,
    help="Give the session its own git worktree and branch, beside the repository of --cwd "
    "(<repo>.worktrees/<name>).",
)
@click.option(
    "--branch",
    help="Branch for --worktree (default: podium/<name>); an existing one is checked out, "
    "a new one starts at the current HEAD.",
)
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
    worktree: bool,
    branch: str | None,
    no_hooks: bool,
    as_json: bool,
) -> None:
    """Start an agent session in a new tmux pane."""
    if branch is not None and not worktree:
        raise click.UsageError("--branch needs --worktree")
    directory = str(Path(cwd or os.getcwd()).expanduser().absolute())
    with engine() as client:
        rec = client.call(
            "sessions.new",
            name=name,
            cwd=directory,
            agent=agent,
            cmd=cmd,
            prompt=prompt,
            worktree=worktree,
            branch=branch,
            env=_agent_env(),
            hooks=False if no_hooks else None,
        )
    if as_json:
        print_json(rec)
    else:
        click.echo(f"started {rec['name']} ({rec['agent']}) in pane {rec['pane_id']}")
        if rec.get("worktree_path"):
            click.echo(f"worktree {rec['worktree_path']} on branch {rec['worktree_branch']}")


@click.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print the sessions as JSON (all of them).")
@click.option("--all", "-a", "show_all", is_flag=True, help="Also list exited sessions.")
def ls(as_json: bool, show_all: bool) -> None:
    """List the sessions: who needs you first ([attention] order: permission, then
    waiting and limited, oldest first; seen ones keep their place), then busy, then the
    rest. Exited sessions only with --all (the tower's e key shows them too)."""
    list_sessions(as_json, show_all)


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
@click.option(
    "--cleanup",
    is_flag=True,
    help="Also remove the session's worktree if it is clean, and its branch if podium made "
    "it and it is merged (git branch -d). A dirty worktree keeps the session alive.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def kill(name: str, cleanup: bool, as_json: bool) -> None:
    """Stop session NAME and close every pane of it, dead ones included."""
    with engine() as client:
        result = client.call("sessions.kill", name=name, cleanup=cleanup)
    if as_json:
        print_json(result)
        return
    click.echo(f"killed {result['killed']}")
    wt = result.get("worktree")
    if cleanup and not wt:
        click.echo("it had no worktree to clean up")
    elif cleanup:
        for note in result.get("cleanup", []):
            click.echo(note)
    elif wt:
        click.echo(
            f"its worktree stays at {wt['path']} (branch {wt['branch']}); "
            "`git worktree remove` takes it away"
        )


@click.command("resume")
@click.argument("name")
@click.option("--prompt", help="A prompt to continue with.")
@click.option("--json", "as_json", is_flag=True, help="Print the session as JSON.")
def resume(name: str, prompt: str | None, as_json: bool) -> None:
    """Relaunch ended Claude session NAME with `claude --resume`, in its own pane where it
    stood (a new window if its pane is gone). A session never prompted has nothing to
    resume: refused."""
    with engine() as client:
        rec = client.call("sessions.resume", name=name, prompt=prompt, env=_agent_env())
    if as_json:
        print_json(rec)
    else:
        click.echo(
            f"resumed {rec['name']} (claude session {rec['claude_session_id']}) "
            f"in pane {rec['pane_id']}"
        )


def _agent_env() -> dict[str, str]:
    """The share of this command's environment a session gets: the engine is told no
    more than the agent needs (`sessions.agent_env`, `[agents] pass_env`)."""
    return agent_env(os.environ, settings().agents.pass_env)


def _attach_to(target: str, *, nested: bool = False) -> None:
    """Put the terminal on podium's tmux session at `target` (exec: we do not come back).

    Inside podium's own tmux this is a `switch-client`. Inside another tmux
    server it refuses unless `nested`: tmux in tmux shares one prefix key and
    shows two status lines, and tmux itself refuses it while $TMUX is set.
    """
    tmux = podium_tmux()
    inside = os.environ.get("TMUX", "").split(",")[0]
    if inside and inside == tmux.socket_path():
        argv = tmux.switch_client_argv(target)
    elif not sys.stdin.isatty():
        raise CliFailure("attach needs a terminal; run it from an interactive shell")
    elif inside and not nested:
        command = shlex.join(["tmux", *tmux.attach_argv(target, typed=True)[1:]])
        raise CliFailure(
            f"this terminal is inside another tmux, and podium has its own tmux server: "
            f"run `{command}` from a terminal outside tmux, or add --nested to open it here"
        )
    else:
        argv = tmux.attach_argv(target)
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    sys.stdout.flush()
    os.execvpe(argv[0], argv, env)


@click.command("attach")
@click.argument("name")
@click.option("--nested", is_flag=True, help="Attach even inside another tmux (tmux in tmux).")
def attach(name: str, nested: bool) -> None:
    """Attach this terminal to session NAME's pane (on the stage, if there is one)."""
    with engine() as client:
        rec = client.call("sessions.focus", name=name)
    _attach_to(rec["pane_id"], nested=nested)


COMMANDS = [new, ls, send, kill, attach, resume]
