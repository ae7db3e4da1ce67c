"""`podium queue add|ls|show|tree|log|priority|pause|resume|cancel|retry`: the background
queue of headless agent tasks."""

from __future__ import annotations

import os
import shlex
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import msgspec

from collectors import safe_json
from collectors.durations import duration
from sessions import wire
from sessions.fill.amount import parse_amount, parse_duration
from sessions.fill.schedule import (
    RECURRING_KINDS,
    WINDOWS,
    Cron,
    ScheduleError,
    check_glob,
    check_window,
    parse_at,
)
from sessions.fill.task_options import PERMISSION_MODES, ToolRuleError, parse_tool_rules
from sessions.fill.triggers import normalized, parse_trigger
from sessions.stream_view import describe
from tui.cli.common import CliFailure, engine, print_json
from tui.cli.reads import list_tasks, one_line
from tui.format import clock
from tui.tree_text import draw

# How often `queue log --follow` looks for more of a running run's stream.
FOLLOW_POLL_S = 0.5


@click.group("queue")
def queue() -> None:
    """Background tasks that fill spare capacity (run when `podium fill` is on)."""


class TaskId(click.ParamType):
    """A task's number, as `queue ls` shows it (`3` or `#3`)."""

    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            number = int(str(value).strip().lstrip("#"))
        except ValueError:
            self.fail(f"{value!r} is not a task number (`podium queue ls` lists them)", param, ctx)
        if number < 1:
            self.fail(f"{value!r} is not a task number (they start at 1)", param, ctx)
        return number


TASK_ID = TaskId()


def _checked(parse: Callable[[str], object]) -> Callable[..., str | None]:
    """A click callback that runs `parse` on the value: what it refuses is bad usage
    (exit 2), said before any engine is asked. The engine checks again, for every client."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parse(value)
        except (ScheduleError, ToolRuleError, ValueError) as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
        return value

    return callback


def tool_rules(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    """Every `--allowed-tools` value split into rules, each kept whole."""
    rules: list[str] = []
    for value in values:
        try:
            rules += [r for r in parse_tool_rules(value) if r not in rules]
        except ToolRuleError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
    return rules


def allowed_tools_option(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--allowed-tools RULES`, repeatable, read into a list of whole rules."""
    return click.option(
        "--allowed-tools",
        "allowed_tools",
        multiple=True,
        callback=tool_rules,
        metavar="RULES",
        help=help,
    )


def _seconds(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """`--timeout 45m` as seconds; what does not read is bad usage (exit 2), one line."""
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def _task_ids(ctx: click.Context, param: click.Parameter, value: str | None) -> list[int]:
    """`--after 3,4` (or `#3 4`) as task ids; anything else is bad usage, one line.
    Whether they exist, and make no cycle, is the engine's to say."""
    if not value:
        return []
    ids = []
    for part in value.replace(",", " ").split():
        text = part.lstrip("#")
        if not text.isdigit() or int(text) < 1:
            raise click.BadParameter(
                f"{part!r} is not a task id: give ids like 3,4", ctx, param
            ) from None
        ids.append(int(text))
    return list(dict.fromkeys(ids))


# The queue's INTEGER columns: a bigger number is a one-line usage error.
PRIORITY = click.IntRange(-(2**31), 2**31 - 1)


@queue.command("add")
@click.argument("prompt", required=False)
@click.option(
    "--prompt-file",
    type=click.Path(exists=True, dir_okay=False, readable=True),
    help="Read the prompt from this file (UTF-8, any size); PROMPT - reads stdin.",
)
@click.option(
    "--cwd",
    type=click.Path(exists=True, file_okay=False),
    help="Directory to run in (default: here).",
)
@click.option("--worktree", is_flag=True, help="Run in a git worktree of its own.")
@click.option("--priority", type=PRIORITY, default=0, show_default=True, help="Higher runs first.")
@click.option("--model", help="Model for the run (claude --model).")
@click.option(
    "--model-fallback",
    metavar="MODEL",
    help="Model it may run on instead when its own model's week is short "
    "(e.g. --model opus --model-fallback sonnet).",
)
@click.option("--max-turns", type=click.IntRange(1, 2**31 - 1), help="Stop after N turns.")
@click.option("--budget-usd", type=click.FloatRange(min=0, min_open=True), help="Stop at $X.")
@click.option(
    "--budget",
    metavar="AMOUNT",
    callback=_checked(parse_amount),
    help="Stop the run when it has spent this: a share of a window (30%5h, 5%week, "
    "10%sonnet-week), weighted tokens (200k, 1.5M) or dollars ($1.50: Claude Code's "
    "--max-budget-usd).",
)
@click.option(
    "--estimate",
    metavar="AMOUNT",
    callback=_checked(parse_amount),
    help="What the task should spend, for the fill policy: 5%5h, 2%week or tokens (50k).",
)
@click.option(
    "--timeout",
    "timeout_s",
    metavar="DURATION",
    callback=_seconds,
    help="Stop a run that takes longer than this (90s, 45m, 2h, 1h30m).",
)
@allowed_tools_option(
    "Tools the run may use without asking, as Claude Code's --allowedTools: rules "
    'separated by spaces or commas, e.g. "Bash(git *) Edit" (a rule\'s parentheses are '
    "kept whole). May be repeated."
)
@click.option(
    "--permission-mode", type=click.Choice(PERMISSION_MODES), help="claude --permission-mode."
)
@click.option(
    "--at",
    "at",
    metavar="TIME",
    # Only whether it reads is checked here: the engine places it in the [fill] zone.
    callback=_checked(lambda text: parse_at(text, UTC)),
    help="Not before this time (ISO 8601, or HH:MM: the next one).",
)
@click.option(
    "--cron",
    metavar="EXPR",
    callback=_checked(Cron.parse),
    help='Recurring: a 5-field cron expression, e.g. "0 3 * * 1-5".',
)
@click.option(
    "--window",
    metavar="|".join(WINDOWS),
    callback=_checked(check_window),
    help="Only in this window: night ([fill] night_start to night_end) or day (the other hours).",
)
@click.option(
    "--on-change",
    metavar="GLOB",
    callback=_checked(check_glob),
    help="Recurring: when files matching GLOB (relative to --cwd) change.",
)
@click.option(
    "--on",
    "on_event",
    metavar="EVENT",
    callback=_checked(parse_trigger),
    help="Recurring: on a podium event: turn-end:NAME, idle:NAME:MINUTES, task-done:ID, "
    "task-failed:ID, reset-unused:WINDOW[:PCT], commit:PATH.",
)
@click.option(
    "--after",
    metavar="IDS",
    callback=_task_ids,
    help="Run only once these tasks are done (3,4); their results are added to its prompt.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
def add(
    prompt: str | None,
    prompt_file: str | None,
    cwd: str | None,
    worktree: bool,
    priority: int,
    model: str | None,
    model_fallback: str | None,
    max_turns: int | None,
    budget_usd: float | None,
    budget: str | None,
    estimate: str | None,
    timeout_s: int | None,
    allowed_tools: list[str],
    permission_mode: str | None,
    at: str | None,
    cron: str | None,
    window: str | None,
    on_change: str | None,
    on_event: str | None,
    after: list[int],
    as_json: bool,
) -> None:
    """Queue PROMPT as a headless agent run (it reaches the agent byte for byte, on its
    stdin). PROMPT - reads it from stdin; --prompt-file from a file."""
    prompt = _prompt_text(prompt, prompt_file)
    if not prompt.strip():
        raise click.BadParameter("the prompt is empty", param_hint="PROMPT")
    schedules = (
        ("--at", at),
        ("--cron", cron),
        ("--window", window),
        ("--on-change", on_change),
        ("--on", on_event),
    )
    given = [name for name, value in schedules if value]
    if len(given) > 1:
        raise click.UsageError(f"give one schedule, not {' and '.join(given)}")
    params: dict[str, Any] = {
        "prompt": prompt,
        "cwd": os.path.abspath(os.path.expanduser(cwd or os.getcwd())),
        "worktree": worktree,
        "priority": priority,
        "model": model,
        "model_fallback": model_fallback,
        "max_turns": max_turns,
        "budget_usd": budget_usd,
        "budget": budget,
        "estimate": estimate,
        "timeout_s": timeout_s,
        "allowed_tools": allowed_tools,
        "permission_mode": permission_mode,
        "at": at,
        "cron": cron,
        "window": window,
        "on_change": on_change,
        "on_event": normalized(on_event) if on_event else None,
        "after": after,
    }
    with engine() as client:
        task = client.call("queue.add", **params)
        fill = client.call("queue.fill")
    if as_json:
        print_json(task)
        return
    when = f" ({task['schedule_text']})" if task.get("schedule_text") else ""
    if task.get("not_before"):
        when += f", not before {clock(task['not_before'])}"
    click.echo(f"task {task['id']} {task['state']}{when}")
    if task.get("waits"):
        click.echo(f"  {task['waits']}")
    if not fill.get("enabled"):
        click.echo("fill is off: `podium fill` runs the queue")


@queue.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print the tasks as JSON.")
def ls(as_json: bool) -> None:
    """Every task: state, priority, schedule, runs, cost, last result."""
    list_tasks(as_json)


@queue.command("show")
@click.argument("task_id", type=TASK_ID)
@click.option("--json", "as_json", is_flag=True, help="Print the task and its runs as JSON.")
def show(task_id: int, as_json: bool) -> None:
    """A task with every field, its runs and their outcomes."""
    with engine() as client:
        result = client.call("queue.show", id=task_id)
        if as_json:
            print_json(result)
            return
        # The tree under it (its subtasks and theirs), when it has one; a template's
        # copies are listed as its occurrences, not drawn (a nightly one has hundreds).
        template = result["task"]["schedule_kind"] in RECURRING_KINDS
        tree = None
        if result["occurrences"] and not template:
            tree = _drawn(client.call("queue.tree", id=task_id, all=True))
    click.echo("\n".join(show_lines(result, tree=tree)))


def _drawn(answer: dict[str, Any]) -> list[str]:
    """A `queue.tree` answer as text lines (`tui.tree_text.draw`)."""
    return draw(msgspec.convert(answer, wire.QueueTree).trees)


@queue.command("tree")
@click.argument("task_id", type=TASK_ID, required=False)
@click.option("--all", "everything", is_flag=True, help="Also the trees that ended.")
@click.option("--json", "as_json", is_flag=True, help="Print the trees as JSON.")
def tree(task_id: int | None, everything: bool, as_json: bool) -> None:
    """The task trees (subtasks under the task that queued them): each task's state and
    its subtree's spend against its budget; with ID, that task's tree alone."""
    with engine() as client:
        answer = client.call("queue.tree", id=task_id, all=everything)
    if as_json:
        print_json(answer)
        return
    lines = _drawn(answer)
    click.echo("\n".join(lines) if lines else "No open task trees (--all shows those that ended).")


@queue.command("pause")
@click.argument("task_id", type=TASK_ID)
@click.option("--alone", is_flag=True, help="Pause the task alone, not the tasks under it.")
def pause(task_id: int, alone: bool) -> None:
    """Pause a task and every open task under it: not started until resumed; a running
    one's run is stopped and goes on with its Claude session when resumed."""
    with engine() as client:
        done = client.call("queue.pause", id=task_id, subtree=not alone)
    click.echo(_change_text("paused", task_id, done))


@queue.command("resume")
@click.argument("task_id", type=TASK_ID)
@click.option("--alone", is_flag=True, help="Resume the task alone, not the tasks under it.")
def resume(task_id: int, alone: bool) -> None:
    """Resume a paused task and the paused tasks under it."""
    with engine() as client:
        done = client.call("queue.resume", id=task_id, subtree=not alone)
    lines = [_change_text("resumed", task_id, done), *done.get("notes", [])]
    click.echo("\n".join(lines))


def _change_text(verb: str, task_id: int, done: dict[str, Any]) -> str:
    """'task 3 paused, and 2 tasks under it (1 running run stopped)'."""
    changed = done["changed"]
    under = len([t for t in changed if t != task_id])
    tasks = f"{under} task{'s' if under != 1 else ''}"
    if task_id in changed:
        text = f"task {task_id} {verb}" + (f", and {tasks} under it" if under else "")
    else:
        text = f"{tasks} under task {task_id} {verb}"
    stopped = len(done.get("stopped", []))
    if stopped:
        text += f" ({stopped} running run{'s' if stopped != 1 else ''} stopped)"
    return text


def _money(usd: float | None) -> str:
    return "-" if usd is None else f"${usd:.4f}"


def _count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def _or(value: object, missing: str = "-") -> str:
    return missing if value is None or value == "" else str(value)


def _indented(text: str, indent: str) -> str:
    return ("\n" + indent).join(text.splitlines() or [""])


def _when(iso: str | None, now: datetime) -> str:
    """A time and how far it is from `now`: 'Dec 1 14:05 (4d2h ago)', '01:00 (in 2h)'."""
    if not iso:
        return "-"
    then = datetime.fromisoformat(iso)
    seconds = (then - now).total_seconds()
    far = f"in {duration(seconds)}" if seconds > 0 else f"{duration(-seconds)} ago"
    return f"{clock(then, now)} ({far})"


def _task_lines(t: dict[str, Any], now: datetime) -> list[str]:
    """Every field of a task (`wire.Task`) but its runs, which follow it."""
    where = t["worktree_path"]
    worktree = "no"
    if t["worktree"]:
        worktree = f"its own, at {where}" if where else "its own, made at its first run"
    # schedule_text is kind and expression ("cron 0 3 * * 1-5", "on change src/*.py").
    schedule = t["schedule_text"] or f"{t['schedule_kind']}: as soon as fill runs it"
    budget = []
    if t.get("budget"):
        budget.append(f"{t['budget']} (the run is stopped there)")
    if t["budget_usd"] is not None and t.get("budget") != f"${t['budget_usd']:g}":
        budget.append(f"${t['budget_usd']:g}")
    if t.get("estimate"):
        budget.append(f"estimate {t['estimate']}")
    # Unless the estimate says it already (an estimate of the 5-hour window sets it).
    if t["est_pct"] is not None and t.get("estimate") != f"{t['est_pct']:g}%5h":
        budget.append(f"~{t['est_pct']:g}% of the 5-hour window (estimate)")
    timeout = t.get("timeout_s")
    tools = ", ".join(t["allowed_tools"]) or "none beyond Claude Code's defaults"
    parent = "-"
    if t["parent_id"]:
        # A template's children are its occurrences; any other task's, its subtasks.
        of = "an occurrence of it" if t.get("kind") == "copy" else "a subtask of it"
        parent = f"task {t['parent_id']} ({of})"
    runs = f"{t['runs']} run(s), {_money(t['cost_usd'])} in all; {t['attempts']} attempt(s)"
    fallback = f", else {t['model_fallback']}" if t.get("model_fallback") else ""
    return [
        f"task {t['id']}  {t['state']}  priority {t['priority']}  agent {t['agent']}",
        "  prompt      " + _indented(t["prompt"], " " * 14),
        f"  directory   {t['cwd']}",
        f"  worktree    {worktree}",
        f"  schedule    {schedule}",
        f"  not before  {_when(t['not_before'], now)}",
        f"  deferred    {'until ' + _when(t['defer_until'], now) if t['defer_until'] else '-'}",
        f"  model       {_or(t['model'], 'the default')}{fallback}",
        f"  max turns   {_or(t['max_turns'])}",
        f"  budget      {', '.join(budget) or '-'}",
        f"  timeout     {duration(timeout) + ' of wall-clock time' if timeout else '-'}",
        f"  tools       {tools}",
        f"  permission  {_or(t['permission_mode'], 'default')}",
        f"  session     {_or(t['claude_session_id'], '- (none yet)')}",
        f"  parent      {parent}",
        f"  runs        {runs}",
        f"  created     {_when(t['created_at'], now)}; updated {_when(t['updated_at'], now)}",
        "  last result " + _indented(_or(t["last_result"]), " " * 14),
        *_graph_lines(t),
        *_team_lines(t, now),
        *_paused_lines(t, now),
    ]


def _paused_lines(t: dict[str, Any], now: datetime) -> list[str]:
    """Who paused it and when (`podium queue pause`), while it is paused."""
    if not t.get("paused_by"):
        return []
    return [f"  paused      by {t['paused_by']}, {_when(t.get('paused_at'), now)}"]


def _graph_lines(t: dict[str, Any]) -> list[str]:
    """Its place in a task graph: what it comes after (with their states), why that
    holds it, and what comes after it."""
    lines = []
    if t.get("after"):
        lines.append(f"  after       {_deps(t['after'])}")
    if t.get("waits"):
        lines.append(f"  waits       {t['waits']}")
    if t.get("before"):
        lines.append(f"  before      {_deps(t['before'])}")
    return lines


def _team_lines(t: dict[str, Any], now: datetime) -> list[str]:
    """Its team (`podium team`), its deadline, and the lead it continues."""
    lines = []
    if t.get("team_id") is not None:
        deadline = f"; starts not after {_when(t['not_after'], now)}" if t.get("not_after") else ""
        lines.append(f"  team        {t['team_id']} (`podium team list`){deadline}")
    elif t.get("not_after"):
        lines.append(f"  not after   {_when(t['not_after'], now)}")
    if t.get("continues_id") is not None:
        lines.append(f"  continues   task {t['continues_id']}'s Claude session")
    return lines


def _deps(deps: list[dict[str, Any]]) -> str:
    return ", ".join(f"task {d['id']} {d['state']}" for d in deps)


def _prompt_text(prompt: str | None, prompt_file: str | None) -> str:
    """The prompt from its argument, stdin (`-`) or --prompt-file (exactly one)."""
    if prompt_file is not None:
        if prompt is not None:
            raise click.UsageError("give PROMPT or --prompt-file, not both")
        try:
            with open(prompt_file, encoding="utf-8") as fh:
                return fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise click.BadParameter(
                f"cannot read {prompt_file}: {getattr(exc, 'strerror', None) or exc}",
                param_hint="--prompt-file",
            ) from None
    if prompt is None:
        raise click.UsageError("give the prompt: PROMPT, - to read stdin, or --prompt-file FILE")
    if prompt == "-":
        try:
            return sys.stdin.read()
        except UnicodeDecodeError as exc:
            raise click.BadParameter(f"stdin is not UTF-8: {exc}", param_hint="PROMPT") from None
    return prompt


def _argv_text(argv: list[str]) -> str:
    """The run's argv as a shell would show it. Runs before the prompt went on stdin
    have it as the last element, after `--`: shortened."""
    if not argv:
        return "-"
    if len(argv) >= 2 and argv[-2] == "--":
        return shlex.join([*argv[:-1], one_line(argv[-1], 40)])
    return shlex.join(argv) + " < prompt"


def _run_lines(r: dict[str, Any], now: datetime) -> list[str]:
    """Every field of a run (`wire.RunRecord`)."""
    took = "-"
    if r["duration_ms"] is not None:
        took = duration(r["duration_ms"] / 1000)
    resumed = f", resuming {r['resumed_from']}" if r["resumed_from"] else ""
    error = "yes" if r["is_error"] else "no" if r["is_error"] is not None else "-"
    tokens = (
        f"{_count(r['input_tokens'])} in, {_count(r['output_tokens'])} out, "
        f"{_count(r['cache_creation_tokens'])} cache write, "
        f"{_count(r['cache_read_tokens'])} cache read"
    )
    stream = "-"
    if r["stream_path"]:
        stream = f"{r['stream_path']} ({r['stream_offset']:,} bytes read)"
    retry = r.get("retrying")
    lines = []
    if retry:
        lines.append(f"      retrying {retry_text(retry, now)}")
    return [
        f"  run {r['id']} (task {r['task_id']}, attempt {r['attempt']}): {r['state']}{resumed}",
        *lines,
        f"      model   {ran_on(r)}",
        f"      started {_when(r['started_at'], now)}; ended {_when(r['ended_at'], now)}; "
        f"took {took}",
        f"      outcome {_or(r['subtype'])}, {_or(r['terminal_reason'])}; error {error}; "
        f"HTTP {_or(r['api_error_status'])}; exit {_or(r['exit_code'])}; "
        f"{_or(r['num_turns'])} turn(s)",
        f"      tokens  {tokens}; cost {_money(r['total_cost_usd'])}",
        f"      limit   {'resets ' + _when(r['resets_at'], now) if r['resets_at'] else '-'}",
        f"      session {_or(r['claude_session_id'])}",
        f"      where   {_or(r['cwd'])}; tmux window {_or(r['window_id'])}, "
        f"pane {_or(r['pane_id'])}, pid {_or(r['pid'])}",
        f"      stream  {stream}",
        f"      argv    {_argv_text(r['argv'])}",
        "      result  " + _indented(_or(r["result"]), " " * 14),
    ]


def retry_text(retry: dict[str, Any], now: datetime) -> str:
    """'HTTP 529 overloaded, retry 3/10, next in 40s': Claude Code's own retry loop."""
    what = " ".join(p for p in (retry.get("status") and f"HTTP {retry['status']}",
                                retry.get("error")) if p)  # fmt: skip
    text = f"{what or 'an API error'}, retry {retry['attempt']}/{retry['max_retries']}"
    if retry.get("next_at"):
        left = (datetime.fromisoformat(retry["next_at"]) - now).total_seconds()
        text += f", next in {duration(left)}" if left > 0 else ", trying again now"
    return text


def ran_on(run: dict[str, Any]) -> str:
    """The model a run was started on; runs on the agent's default say so."""
    return run.get("model") or "the default"


def show_lines(
    result: dict[str, Any], now: datetime | None = None, tree: list[str] | None = None
) -> list[str]:
    """`queue show`'s text: every field `--json` has, the task first, then each run
    (its `last_run` is the last of them), then the occurrences a recurring task queued
    or the subtasks it has, and `tree`: the task's tree drawn (`tree_text.draw`)."""
    now = now or datetime.now(UTC)
    lines = _task_lines(result["task"], now)
    tried = [r for r in result["runs"] if r["state"] not in ("running", "cancelled")]
    if tried:
        # Each attempt's reason, as `[fill] max_attempts` counts them.
        reasons = "; ".join(f"{r['attempt']}: {r.get('reason') or r['state']}" for r in tried)
        lines.append(f"  attempts    {reasons}")
    for run in result["runs"]:
        lines += _run_lines(run, now)
    occurrences = result.get("occurrences") or []
    if occurrences:
        # The wire's `occurrences` are the task's children: a template's copies, or
        # the subtasks its runs queued.
        label = "occurrences" if result["task"].get("schedule_text") else "subtasks   "
        listed = ", ".join(f"task {c['id']} {c['state']}" for c in occurrences)
        lines.append(f"  {label} {listed} (`podium queue show ID` for one)")
    if tree and len(tree) > 1:
        lines.append("  tree        " + _indented("\n".join(tree), " " * 14))
    return lines


@queue.command("priority")
@click.argument("task_id", type=TASK_ID)
@click.argument("priority", type=PRIORITY)
def priority(task_id: int, priority: int) -> None:
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
@click.argument("task_id", type=TASK_ID)
@click.option("--run", "run_id", type=int, help="This run (default: the last one).")
@click.option("-f", "--follow", is_flag=True, help="Keep printing while the run goes on.")
@click.option("--raw", is_flag=True, help="The stream-json lines as the agent wrote them.")
def log(task_id: int, run_id: int | None, follow: bool, raw: bool) -> None:
    """What a task's run did: its messages, tool calls, limits and result."""
    with engine() as client:
        run = _run_of(client.call("queue.show", id=task_id), run_id)
        path = Path(run.get("stream_path") or "")
        if not run.get("stream_path") or not path.exists():
            gone = "it never started, or was cleaned up"
            raise CliFailure(f"run {run['id']} kept no stream ({gone})")
        # On stderr: stdout stays the stream alone, so `--raw` pipes into jq as it is.
        click.echo(f"(run {run['id']}, attempt {run['attempt']}, on {ran_on(run)})", err=True)
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
@click.argument("task_id", type=TASK_ID)
def cancel(task_id: int) -> None:
    """Cancel a task and every open task under it (a running one is stopped; a
    recurring one queues no more)."""
    with engine() as client:
        done = client.call("queue.cancel", id=task_id)
    click.echo(_change_text("cancelled", task_id, done))


@queue.command("retry")
@click.argument("task_id", type=TASK_ID)
def retry(task_id: int) -> None:
    """Queue a failed or cancelled task again (a fresh run); the tasks that come after
    it (`--after`) go on once it is done."""
    with engine() as client:
        task = client.call("queue.retry", id=task_id)
    click.echo(f"task {task['id']} {task['state']} again")


COMMANDS = [queue]
