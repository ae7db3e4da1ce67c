"""Teams (`podium team`): a goal, a budget, a deadline, and the tasks working on it.

A team is a row of `teams` (migration 0016) and the queue tasks that carry its id:
the lead task (its root, whose budget is the team's) and every subtask under it
(each inherits its parent's team and deadline in `queue.add`). Its state and spend
are worked out from those tasks each time, never stored; only the report's path is
kept once it is written. Used on the engine's loop thread, like the queue store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime

import duckdb

from sessions.fill.queue import FINAL_TASK_STATES, Task


@dataclass
class Team:
    id: int
    goal: str
    budget: str
    cwd: str
    until: datetime | None = None
    model: str | None = None
    lead_id: int | None = None
    report_path: str | None = None
    created_at: datetime | None = None


_COLS = [f.name for f in fields(Team)]


class TeamStore:
    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn

    def add(self, team: Team) -> Team:
        team.created_at = datetime.now(UTC)
        cols = [c for c in _COLS if c != "id"]
        row = self.conn.execute(
            f"INSERT INTO teams ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
            "RETURNING id",
            [getattr(team, c) for c in cols],
        ).fetchone()
        assert row is not None
        team.id = int(row[0])
        return team

    def get(self, team_id: int) -> Team | None:
        found = self._select("WHERE id = ?", [team_id])
        return found[0] if found else None

    def all(self) -> list[Team]:
        return self._select("ORDER BY id", [])

    def update(self, team: Team, **changes: object) -> None:
        for key, value in changes.items():
            setattr(team, key, value)
        sets = ", ".join(f"{k} = ?" for k in changes)
        self.conn.execute(f"UPDATE teams SET {sets} WHERE id = ?", [*changes.values(), team.id])

    def _select(self, tail: str, params: list[object]) -> list[Team]:
        rows = self.conn.execute(f"SELECT {', '.join(_COLS)} FROM teams {tail}", params)
        return [Team(**dict(zip(_COLS, row, strict=True))) for row in rows.fetchall()]


def is_lead_node(team: Team, task: Task) -> bool:
    """The lead itself, or a continuation of it (each resumes the lead's conversation):
    the nodes whose final message is the team's report."""
    return task.id == team.lead_id or task.continues_id is not None


def team_state(team: Team, nodes: Sequence[Task], now: datetime) -> str:
    """running (a node runs), queued (none started yet), waiting (open nodes, none
    running), past deadline (every open node is held by it), else how it ended:
    done (its report is written), cancelled (its lead was), failed."""
    open_ = [t for t in nodes if t.state not in FINAL_TASK_STATES]
    if any(t.state == "running" for t in open_):
        return "running"
    if open_:
        if all(t.not_after is not None and t.not_after <= now for t in open_):
            return "past deadline"
        return "queued" if len(open_) == len(nodes) else "waiting"
    if team.report_path:
        return "done"
    lead = next((t for t in nodes if t.id == team.lead_id), None)
    return "cancelled" if lead is not None and lead.state == "cancelled" else "failed"


def report_source(team: Team, nodes: Sequence[Task]) -> Task | None:
    """The node whose final message is the team's report, once every node has ended:
    the last lead node (the lead or its latest continuation), if it is done."""
    if not nodes or any(t.state not in FINAL_TASK_STATES for t in nodes):
        return None
    leads = [t for t in nodes if is_lead_node(team, t)]
    last = max(leads, key=lambda t: t.id, default=None)
    return last if last is not None and last.state == "done" else None
