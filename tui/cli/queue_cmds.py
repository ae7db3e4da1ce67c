"""`podium queue add|ls|show|log|priority|cancel`: the background queue of headless agent tasks."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import click

from collectors import safe_json
from sessions.stream_view import describe
from tui.cli.common import CliFailure, age, engine, print_json, table

# How often `queue log --follow` looks for more of a running run's stream.
FOLLOW_POLL_S = 0.5


@click.group("queue")
def queue() -> None:
    """Background tasks that fill spare capacity (run when `podium fill` is on)."""


def _one_line(text: str, width: int = 48) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= width else line[: width - 1] + "…"


@queue.command("add")
@click.argument("prompt")
@click.option(
    "--cwd", type=click.Path(file_okay=False), help="Directory to run in (default: here)."
)
@click.option("--worktree", is_flag=True, help="Run in a git worktree of its own.")
@click.option("--priority", type=int, default=0, show_default=True, help="Higher runs first.")
@click.option("--model", help="Model for the run (claude --model).")
@click.option("--max-turns", type=click.IntRange(min=1), help="Stop after N turns.")
@click.option("--budget-usd", type=click.FloatRange(min=0, min_open=True), help="Stop at $X.")
@click.option("--allowed-tools", help='Tool rules, space-separated: "Bash(git *) Edit".')
@click.option("--permission-mode", help="default, acceptEdits, plan, auto, dontAsk, …")
@click.option("--at", "at", metavar="ISO", help="Not before this time (ISO 8601 or HH:MM).")
@click.option("--cron", metavar="EXPR", help="Recurring: a 5-field cron expression.")
@click.option("--window", metavar="NAME", help="Only in this window: night.")
@click.option("--on-change", metavar="GLOB", help="Recurring: when files matching GLOB change.")
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
def add(
    prompt: str,
    cwd: str | None,
    worktree: bool,
    priority: int,
    model: str | None,
    max_turns: int | None,
    budget_usd: float | None,
    allowed_tools: str | None,
    permission_mode: str | None,
    at: str | None,
    cron: str | None,
    window: str | None,
    on_change: str | None,
    as_json: bool,
) -> None:
    """Queue PROMPT as a headless agent run (passed as one argument, byte for byte)."""
    params: dict[str, Any] = {
        "prompt": prompt,
        "cwd": os.path.abspath(os.path.expanduser(cwd or os.getcwd())),
        "worktree": worktree,
        "priority": priority,
        "model": model,
        "max_turns": max_turns,
        "budget_usd": budget_usd,
        "allowed_tools": allowed_tools.split() if allowed_tools else [],
        "permission_mode": permission_mode,
        "at": at,
        "cron": cron,
        "window": window,
        "on_change": on_change,
    }
    with engine() as client:
        task = client.call("queue.add", **params)
        fill = client.call("queue.fill")
    if as_json:
        print_json(task)
        return
    when = f" ({task['schedule_text']})" if task.get("schedule_text") else ""
    click.echo(f"task {task['id']} {task['state']}{when}")
    if not fill.get("enabled"):
        click.echo("fill is off: `podium fill` runs the queue")


@queue.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print the tasks as JSON.")
def ls(as_json: bool) -> None:
    """Every task: state, priority, schedule, runs, cost, last result."""
    with engine() as client:
        result = client.call("queue.list")
    if as_json:
        print_json(result)
        return
    tasks = result["tasks"]
    fill = result.get("fill") or {}
    reserve = fill.get("reserve_pct")
    kept = "reserve by the [fill] reserve schedule"
    if reserve is not None:
        kept = f"reserve {reserve:g}%"
    click.echo(f"fill {'on' if fill.get('enabled') else 'off'}, {kept}")
    if not tasks:
        click.echo("the queue is empty: `podium queue add PROMPT`")
        return
    rows = [
        [
            str(t["id"]),
            t["state"],
            str(t["priority"]),
            t.get("schedule_text") or "-",
            str(t["runs"]),
            f"${t['cost_usd']:.4f}",
            age(t.get("created_at")),
            _one_line(t["prompt"], 32),
            _one_line(t.get("last_result") or "", 40),
        ]
        for t in tasks
    ]
    headers = ["ID", "STATE", "PRIO", "SCHEDULE", "RUNS", "COST", "AGE", "PROMPT", "LAST RESULT"]
    click.echo(table(rows, headers))


@queue.command("show")
@click.argument("task_id")
@click.option("--json", "as_json", is_flag=True, help="Print the task and its runs as JSON.")
def show(task_id: str, as_json: bool) -> None:
    """A task with its runs and their outcomes."""
    with engine() as client:
        result = client.call("queue.show", id=task_id)
    if as_json:
        print_json(result)
        return
    t = result["task"]
    click.echo(f"task {t['id']}  {t['state']}  priority {t['priority']}")
    click.echo(f"  cwd       {t.get('worktree_path') or t['cwd']}")
    if t.get("schedule_text"):
        click.echo(f"  schedule  {t['schedule_text']}")
    if t.get("defer_until"):
        click.echo(f"  deferred until {t['defer_until']}")
    if t.get("claude_session_id"):
        click.echo(f"  session   {t['claude_session_id']}")
    click.echo("  prompt    " + "\n            ".join(t["prompt"].splitlines() or [""]))
    for r in result["runs"]:
        tokens = f"{r.get('input_tokens') or 0}/{r.get('output_tokens') or 0} tok"
        cost = f"${r['total_cost_usd']:.4f}" if r.get("total_cost_usd") is not None else "-"
        resumed = " (resumed)" if r.get("resumed_from") else ""
        click.echo(
            f"  run {r['id']} #{r['attempt']}{resumed}: {r['state']}  {tokens}  {cost}  "
            f"{_one_line(r.get('result') or '', 60)}"
        )
    for c in result.get("occurrences") or []:
        click.echo(f"  occurrence task {c['id']}: {c['state']}")


@queue.command("priority")
@click.argument("task_id")
@click.argument("priority", type=int)
def priority(task_id: str, priority: int) -> None:
    """Set a waiting task's PRIORITY (higher runs first)."""
    with engine() as client:
        task = client.call("queue.reprioritise", id=task_id, priority=priority)
    click.echo(f"task {task['id']} priority {task['priority']}")


def _run_of(result: dict[str, Any], run_id: int | None) -> dict[str, Any]:
    runs = result["runs"]
    task_id = result["task"]["id"]
    if not runs:
        raise CliFailure(f"task {task_id} has not run yet; `podium queue show {task_id}`")
    if run_id is None:
        return runs[-1]
    run = next((r for r in runs if r["id"] == run_id), None)
    if run is None:
        ids = ", ".join(str(r["id"]) for r in runs)
        raise CliFailure(f"task {task_id} has no run {run_id}; its runs: {ids}")
    return run


def _print_lines(chunk: bytes, raw: bool) -> None:
    for line in chunk.decode("utf-8", "replace").splitlines():
        if raw:
            click.echo(line)
            continue
        # A torn or foreign line (or one nested too deeply): the raw view shows it.
        obj, _why = safe_json.loads(line)
        text = describe(obj) if isinstance(obj, dict) else None
        if text:
            click.echo(text)


@queue.command("log")
@click.argument("task_id")
@click.option("--run", "run_id", type=int, help="This run (default: the last one).")
@click.option("-f", "--follow", is_flag=True, help="Keep printing while the run goes on.")
@click.option("--raw", is_flag=True, help="The stream-json lines as the agent wrote them.")
def log(task_id: str, run_id: int | None, follow: bool, raw: bool) -> None:
    """What a task's run did: its messages, tool calls, limits and result."""
    with engine() as client:
        run = _run_of(client.call("queue.show", id=task_id), run_id)
        path = Path(run.get("stream_path") or "")
        if not run.get("stream_path") or not path.exists():
            gone = "it never started, or was cleaned up"
            raise CliFailure(f"run {run['id']} kept no stream ({gone})")
        offset, pending = 0, b""
        while True:
            with path.open("rb") as fh:
                fh.seek(offset)
                chunk = fh.read()
            offset += len(chunk)
            # Only whole lines: the agent may be half way through writing one.
            *whole, pending = (pending + chunk).split(b"\n")
            if whole:
                _print_lines(b"\n".join(whole), raw)
            if not follow or run["state"] != "running":
                break
            time.sleep(FOLLOW_POLL_S)
            run = _run_of(client.call("queue.show", id=task_id), run["id"])
        if pending:
            _print_lines(pending, raw)
    if not follow and run["state"] == "running":
        click.echo(f"(run {run['id']} is still running: --follow to keep watching)", err=True)


@queue.command("cancel")
@click.argument("task_id")
def cancel(task_id: str) -> None:
    """Cancel a task (a running one is stopped; a recurring one queues no more)."""
    with engine() as client:
        task = client.call("queue.cancel", id=task_id)
    click.echo(f"task {task['id']} cancelled")


COMMANDS = [queue]
