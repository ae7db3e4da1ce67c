"""`podium engine start|stop|status|run`."""

from __future__ import annotations

import os
import sys
from datetime import datetime

import click

from collectors.durations import duration
from collectors.paths import Paths
from sessions.client import EngineUnavailable, start_engine, stop_engine, try_connect
from sessions.lifecycle import lock_holder
from sessions.protocol import ApiError
from tui.cli.common import CliFailure, print_json, settings


@click.group("engine")
def engine_group() -> None:
    """Start, stop or inspect the engine (one per data dir)."""


@engine_group.command("start")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def start(as_json: bool) -> None:
    """Start the engine in the background."""
    paths = Paths.from_env()
    pid = lock_holder(paths)
    if pid is not None:
        raise CliFailure(f"engine already running (pid {pid})")
    try:
        pid = start_engine(paths, settings().engine.start_timeout)
    except EngineUnavailable as exc:
        raise CliFailure(str(exc)) from None
    if as_json:
        print_json({"running": True, "pid": pid, "socket": str(paths.socket)})
    else:
        click.echo(f"engine started (pid {pid})")


@engine_group.command("stop")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def stop(as_json: bool) -> None:
    """Stop the engine. Agent sessions keep running in tmux."""
    try:
        pid = stop_engine(Paths.from_env())
    except EngineUnavailable as exc:
        raise CliFailure(str(exc)) from None
    if as_json:
        print_json({"stopped": pid is not None, "pid": pid})
    elif pid is None:
        click.echo("engine not running")
    else:
        click.echo(f"engine stopped (pid {pid})")


def engine_status(paths: Paths) -> dict:
    """What is known of the engine of `paths`, without starting one."""
    pid = lock_holder(paths)
    status: dict = {
        "running": pid is not None,
        "pid": pid,
        "data_dir": str(paths.data),
        "socket": str(paths.socket),
        "responding": False,
    }
    if pid is None:
        return status
    try:
        client = try_connect(paths, timeout=5)
    except EngineUnavailable as exc:
        status["error"] = str(exc)
        return status
    if client is None:
        status["error"] = "the engine holds its lock but its socket is missing"
        return status
    with client:
        try:
            status.update(client.call("status"))
            status["responding"] = True
        except (ApiError, EngineUnavailable, OSError) as exc:
            status["error"] = f"the engine does not answer: {exc}"
    return status


@engine_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> None:
    """Say whether the engine runs, and what it holds."""
    info = engine_status(Paths.from_env())
    if as_json:
        print_json(info)
        return
    if not info["running"]:
        click.echo(f"engine not running (data dir {info['data_dir']})")
        return
    if not info["responding"]:
        click.echo(f"engine pid {info['pid']}: {info.get('error', 'not responding')}")
        sys.exit(1)
    click.echo(
        f"engine running (pid {info['pid']}, up {duration(info['uptime_s'])}): "
        f"{info['sessions']} session(s), tmux socket {info['tmux_socket']!r}"
        f"{'' if info['tmux_alive'] else ' (no tmux server)'}\n"
        f"data dir {info['data_dir']}\nsocket   {info['socket']}"
    )
    gone = info.get("tmux_exit")
    if gone:
        click.echo(f"tmux     {tmux_exit_text(gone)}")


def tmux_exit_text(gone: dict) -> str:
    """One line on the tmux server that exited under the engine (`status`'s `tmux_exit`)."""
    at = datetime.fromisoformat(gone["at"]).astimezone()
    lost = gone.get("sessions") or []
    text = f"the server (pid {gone.get('pid') or '?'}) exited at {at:%H:%M:%S}"
    if lost:
        text += f", {len(lost)} session(s) lost with it: {', '.join(lost)}"
    if gone.get("replaced_by"):
        return f"{text}; another runs since (pid {gone['replaced_by']})"
    return f"{text}; `podium up` or `podium new` starts a new one"


@engine_group.command("run", hidden=True)
def run_foreground() -> None:
    """Run the engine in the foreground (what `start` runs in the background)."""
    os.execv(sys.executable, [sys.executable, "-m", "sessions.engine"])


COMMANDS = [engine_group]
