"""The engine's team API: `team.start`, `team.list` (`podium team`).

A team is a lead task (a background `claude -p` run with podium's tools, told the
protocol of `sessions.fill.team_prompt`) and the subtasks it queues; its budget is
the lead's, which caps every subtask below it (`sessions.fill.delegation`), and its
deadline is every node's `not_after`. When a team's last node ends, the final
message of its last lead node (the lead, or the continuation that resumed it) is
written to `<data>/teams/<id>/report.md`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.paths import UnsafePath, ensure_private_dir
from sessions import wire
from sessions.engine.queue_api import QueueApi
from sessions.fill.amount import parse_amount
from sessions.fill.queue import FINAL_TASK_STATES, Task
from sessions.fill.schedule import ScheduleError, parse_at
from sessions.fill.task_options import PERMISSION_MODES
from sessions.fill.team_prompt import lead_prompt
from sessions.fill.teams import Team, TeamStore, report_source, team_state
from sessions.protocol import ApiError

log = logging.getLogger("podium.teams")

# What the lead may use without asking (a headless run cannot ask): podium's tools,
# and reading the project to plan the split.
LEAD_TOOLS = ["mcp__podium", "Read", "Glob", "Grep"]
MAX_GOAL_CHARS = 100_000


def team_handlers(api: TeamApi) -> dict[str, Any]:
    return {"team.start": api.start, "team.list": api.list}


class TeamApi:
    def __init__(self, queue: QueueApi, data_dir: Path) -> None:
        self.queue = queue
        self.sched = queue.sched
        self.teams = TeamStore(self.sched.store.conn)
        self.dir = data_dir / "teams"

    def listen(self, event: str, data: dict[str, Any]) -> None:
        """On the bus: a team node changed (a run ended, it was cancelled). Only
        schedules the look (a listener runs inside `publish`)."""
        task = data.get("task") if event == "queue" else None
        team_id = task.get("team_id") if isinstance(task, dict) else None
        if not isinstance(team_id, int):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # published off the loop: the next change of the team looks
            return
        loop.call_soon(self._settle, team_id)

    async def start(self, params: wire.TeamStartParams) -> wire.Team:
        goal = params.goal.strip()
        if not goal:
            raise ApiError("bad_request", "a goal is required")
        if len(goal) > MAX_GOAL_CHARS:
            raise ApiError("bad_request", "the goal is over 100,000 characters")
        try:
            budget = str(parse_amount(params.budget))
        except ValueError as exc:
            raise ApiError("bad_request", f"budget: {exc}") from None
        until = None
        tz = self.sched._tz()
        if params.until:
            try:
                until = parse_at(params.until, tz)
            except ScheduleError as exc:
                raise ApiError("bad_request", str(exc)) from None
            if until <= datetime.now(UTC):
                raise ApiError("bad_request", f"--until {params.until} is already past")
        cwd = Path(params.cwd or Path.cwd()).expanduser()
        if not cwd.is_absolute() or not cwd.is_dir():
            raise ApiError("bad_request", f"no such directory: {cwd}")
        model = (params.model or "").strip() or None
        # Checked before the team is recorded: the lead's queue.add would refuse them.
        if params.permission_mode and params.permission_mode not in PERMISSION_MODES:
            modes = ", ".join(PERMISSION_MODES)
            raise ApiError("bad_request", f"unknown permission mode; choose one of {modes}")
        if any(not rule.strip() for rule in params.allowed_tools):
            raise ApiError("bad_request", "a tool rule is empty")
        team = self.teams.add(Team(0, goal, budget, str(cwd), until=until, model=model))
        report = self.dir / str(team.id) / "report.md"
        try:
            ensure_private_dir(self.dir)
            ensure_private_dir(report.parent)
        except (OSError, UnsafePath) as exc:
            raise ApiError("failed", f"cannot make the team's directory: {exc}") from None
        tools = list(dict.fromkeys([*LEAD_TOOLS, *params.allowed_tools]))
        prompt = lead_prompt(
            goal=goal,
            budget=budget,
            cwd=str(cwd),
            report=str(report),
            until=until,
            tz=tz,
            tools=tools,
        )
        lead = self.queue.add_task(
            wire.QueueAddParams(
                prompt=prompt,
                cwd=str(cwd),
                model=model,
                budget=budget,
                # The lead plans through podium and reads; what the person grants the
                # team is its too, and its subtasks' at most (`child_permissions`).
                allowed_tools=tools,
                permission_mode=params.permission_mode,
            ),
            team_id=team.id,
            not_after=until,
        )
        self.teams.update(team, lead_id=lead.id)
        return self._wire(team)

    async def list(self, params: wire.NoParams) -> wire.TeamList:
        return wire.TeamList(teams=[self._wire(t) for t in self.teams.all()])

    def _wire(self, team: Team) -> wire.Team:
        nodes = self.sched.store.of_team(team.id)
        units = usd = 0.0
        for node in nodes:
            spent = self.queue.spent(node)
            units += spent.units
            usd += spent.usd
        amount = parse_amount(team.budget)
        return wire.from_record(
            team,
            wire.Team,
            state=team_state(team, nodes, datetime.now(UTC)),
            nodes=len(nodes),
            open_nodes=sum(1 for t in nodes if t.state not in FINAL_TASK_STATES),
            spent_tokens=round(units, 1),
            spent_usd=round(usd, 6),
            budget_tokens=amount.units(self.sched.usage.capacity),
        )

    def _settle(self, team_id: int) -> None:
        """Once every node has ended: the report, from the last lead node's final
        message (nothing while a node is open, or once written)."""
        team = self.teams.get(team_id)
        if team is None or team.report_path:
            return
        source = report_source(team, self.sched.store.of_team(team_id))
        if source is None:
            return
        text = self._final_message(source)
        path = self.dir / str(team.id) / "report.md"
        try:
            _write_private(path, _report(team, source, text))
        except (OSError, UnsafePath) as exc:
            log.warning("team %d: cannot write its report %s: %s", team.id, path, exc)
            return
        self.teams.update(team, report_path=str(path))
        log.info("team %d: report written to %s", team.id, path)

    def _final_message(self, task: Task) -> str:
        runs = [r for r in self.sched.store.runs(task.id) if r.state == "done"]
        return (runs[-1].result if runs else None) or task.last_result or ""


def _report(team: Team, source: Task, text: str) -> str:
    head = [
        f"# Team {team.id}: report",
        "",
        f"Goal: {team.goal}",
        f"Budget: {team.budget}",
        f"From task {source.id}'s final message.",
        "",
    ]
    return "\n".join(head) + text.rstrip("\n") + "\n"


def _write_private(path: Path, text: str) -> None:
    """0600 from the start (a report may hold anything), never through a symlink."""
    ensure_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
