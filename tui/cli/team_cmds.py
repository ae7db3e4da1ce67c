"""`podium team GOAL --budget AMOUNT [--until HH:MM]`: a lead run that splits a goal
into subtasks, schedules them and integrates their results; `podium team list`."""

from __future__ import annotations

import os

import click
import msgspec

from sessions import wire
from sessions.fill.amount import parse_amount
from sessions.fill.task_options import PERMISSION_MODES
from tui.cli.common import engine, print_json, table
from tui.cli.fill_cmd import check_until
from tui.cli.queue_cmds import allowed_tools_option
from tui.format import clock


class TeamGroup(click.Group):
    """`podium team GOAL …` starts a team; `podium team list` lists them: an argv
    whose first word is not a subcommand (nor --help) is a start's."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["start", *args]
        return super().parse_args(ctx, args)


@click.group("team", cls=TeamGroup)
def team() -> None:
    """Teams: a lead agent splits GOAL into subtasks within a budget (`podium team
    GOAL --budget 20%week`), or `podium team list`."""


def _amount(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return str(parse_amount(value))
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@team.command("start")
@click.argument("goal")
@click.option(
    "--budget",
    required=True,
    metavar="AMOUNT",
    callback=_amount,
    help="What the whole team may spend: a share of a window (20%week, 30%5h), "
    "weighted tokens (500k) or dollars ($5).",
)
@click.option(
    "--until",
    metavar="TIME",
    callback=check_until,
    help="No node of the team starts after this time (HH:MM: the next one, or ISO 8601).",
)
@click.option(
    "--cwd",
    type=click.Path(exists=True, file_okay=False),
    help="The directory the team works in (default: here).",
)
@click.option("--model", help="The lead's model (claude --model).")
@allowed_tools_option(
    "Tools the team's runs may use without asking, as Claude Code's --allowedTools "
    '(e.g. "Edit Bash(pytest *)"). The lead gets them; a subtask gets its parent\'s, or '
    "fewer. May be repeated."
)
@click.option(
    "--permission-mode",
    type=click.Choice(PERMISSION_MODES),
    help="claude --permission-mode for the lead and its subtasks.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the team as JSON.")
def start(
    goal: str,
    budget: str,
    until: str | None,
    cwd: str | None,
    model: str | None,
    allowed_tools: list[str],
    permission_mode: str | None,
    as_json: bool,
) -> None:
    """Start a team: queue its lead run, which splits GOAL into subtasks."""
    if not goal.strip():
        raise click.BadParameter("the goal is empty", param_hint="GOAL")
    params = wire.TeamStartParams(
        goal=goal,
        budget=budget,
        until=until,
        cwd=os.path.abspath(os.path.expanduser(cwd or os.getcwd())),
        model=model,
        allowed_tools=allowed_tools,
        permission_mode=permission_mode,
    )
    with engine() as client:
        got = client.request(wire.TEAM_START, params)
        fill = client.request(wire.QUEUE_FILL, wire.FillParams())
    if as_json:
        print_json(msgspec.to_builtins(got))
        return
    until_text = f", until {clock(got.until)}" if got.until else ""
    click.echo(f"team {got.id}: lead task {got.lead_id}, budget {got.budget}{until_text}")
    if not fill.enabled:
        click.echo("fill is off: `podium fill` runs the queue")


@team.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the teams as JSON.")
def list_(as_json: bool) -> None:
    """Every team: goal, state, spend against its budget, deadline."""
    with engine() as client:
        teams = client.request(wire.TEAM_LIST, wire.NoParams()).teams
    if as_json:
        print_json([msgspec.to_builtins(t) for t in teams])
        return
    if not teams:
        click.echo("no teams yet: `podium team GOAL --budget 20%week` starts one")
        return
    rows = [
        [
            str(t.id),
            t.state,
            _spend(t),
            clock(t.until) if t.until else "-",
            f"{t.open_nodes}/{t.nodes}",
            _short(t.goal),
        ]
        for t in teams
    ]
    click.echo(table(rows, ["ID", "STATE", "SPEND/BUDGET", "UNTIL", "OPEN", "GOAL"]))


def _spend(t: wire.Team) -> str:
    if t.budget_tokens is None:
        return f"${t.spent_usd:.2f}/{t.budget}"
    pct = 100 * t.spent_tokens / t.budget_tokens if t.budget_tokens else 0.0
    return f"{_tokens(t.spent_tokens)}/{t.budget} ({pct:.0f}%)"


def _tokens(units: float) -> str:
    if units >= 1_000_000:
        return f"{units / 1_000_000:.1f}M"
    if units >= 1000:
        return f"{units / 1000:.0f}k"
    return f"{units:.0f}"


def _short(goal: str, width: int = 50) -> str:
    line = " ".join(goal.split())
    return line if len(line) <= width else line[: width - 1] + "…"


COMMANDS = [team]
