"""Teams' pure and engine parts: the lead's protocol, `team.start`/`team.list`, the team
deadline's hold, the day window in the scheduler, an agent's own tasks' cap, a lead's
continuation, and what a lead may spend beside what it gave its subtasks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from collectors.settings import FillSettings
from sessions import wire
from sessions.engine.queue_api import QueueApi
from sessions.engine.team_api import LEAD_TOOLS, TeamApi
from sessions.fill import delegation
from sessions.fill.held import DAY, DEADLINE, why_held
from sessions.fill.queue import QueueStore, Run, Task
from sessions.fill.runner import _Limits
from sessions.fill.team_prompt import lead_prompt
from sessions.fill.teams import Team, report_source, team_state
from sessions.protocol import ApiError
from tests.unit.test_held import _scheduler

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday, in the day window


@pytest.fixture
def sched(tmp_path: Path) -> Any:
    return _scheduler(tmp_path, FillSettings(tz="UTC", reserve_pct=5.0))


def _api(sched: Any, tmp_path: Path) -> tuple[QueueApi, TeamApi]:
    queue = QueueApi(sched, sched.bus)
    return queue, TeamApi(queue, tmp_path / "data")


# -- the protocol ------------------------------------------------------------------------------
def test_the_lead_prompt_carries_the_protocol_the_goal_and_the_deadline() -> None:
    text = lead_prompt(goal="  Port the parser  ", budget="20%week", cwd="/src", report="/r.md")
    assert text.startswith("You are the lead of a podium team. Your goal:\n\nPort the parser\n")
    for part in (
        "Ask `capacity` first",
        "The team's whole budget is 20%week",
        '"night" for research, long tests and heavy compute',
        '"day"\n   for what needs the person',
        "`after`",
        "`wait_tasks`",
        "`continue_me` true",
        "podium writes it to /r.md",
        "`directory` /src",
    ):
        assert part in text, part
    assert "Deadline" not in text
    paris = ZoneInfo("Europe/Paris")
    dated = lead_prompt(
        goal="g", budget="1%week", cwd="/s", report="/r", until=NOW + timedelta(hours=3), tz=paris
    )
    # 13:00 UTC is 14:00 in Paris in November: the person's clock.
    assert "no part of this team starts after 2026-11-02 14:00 CET" in dated
    assert '"team deadline passed"' in dated


# -- team.start and team.list ------------------------------------------------------------------
def test_a_team_queues_its_lead_with_the_budget_tools_and_deadline(
    sched: Any, tmp_path: Path
) -> None:
    _queue, teams = _api(sched, tmp_path)
    until = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    params = wire.TeamStartParams(
        goal="Find the flaky tests", budget="20%week", until=until.isoformat(), cwd=str(tmp_path)
    )
    team = asyncio.run(teams.start(params))
    lead = sched.store.get(team.lead_id)
    assert lead is not None and lead.team_id == team.id and lead.budget == "20%week"
    assert lead.not_after == until and lead.allowed_tools == LEAD_TOOLS
    assert "Find the flaky tests" in lead.prompt and "Deadline" in lead.prompt
    assert str(tmp_path / "data" / "teams" / str(team.id) / "report.md") in lead.prompt
    assert (tmp_path / "data" / "teams" / str(team.id)).stat().st_mode & 0o777 == 0o700
    [listed] = asyncio.run(teams.list(wire.NoParams())).teams
    assert (listed.id, listed.state, listed.nodes, listed.open_nodes) == (team.id, "queued", 1, 1)
    assert listed.budget_tokens and listed.spent_tokens == 0


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"goal": " ", "budget": "5%week"}, "a goal is required"),
        ({"goal": "g", "budget": "lots"}, "budget: cannot read the amount"),
        ({"goal": "g", "budget": "5%week", "until": "2001-01-01T00:00"}, "already past"),
        ({"goal": "g", "budget": "5%week", "cwd": "/no/such/dir"}, "no such directory"),
        ({"goal": "g", "budget": "5%week", "permission_mode": "yolo"}, "unknown permission"),
        ({"goal": "g", "budget": "5%week", "allowed_tools": ["Edit", " "]}, "tool rule is empty"),
    ],
)
def test_a_bad_team_is_refused_in_one_line_and_leaves_nothing(
    sched: Any, tmp_path: Path, params: dict[str, Any], said: str
) -> None:
    _queue, teams = _api(sched, tmp_path)
    with pytest.raises(ApiError, match=said) as err:
        asyncio.run(teams.start(wire.TeamStartParams(**{"cwd": str(tmp_path), **params})))
    assert err.value.code == "bad_request"
    assert sched.store.tasks() == [] and teams.teams.all() == []


def test_subtasks_inherit_the_team_and_its_deadline(sched: Any, tmp_path: Path) -> None:
    queue, teams = _api(sched, tmp_path)
    until = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    team = asyncio.run(
        teams.start(
            wire.TeamStartParams(
                goal="g", budget="200k", until=until.isoformat(), cwd=str(tmp_path)
            )
        )
    )
    sub = queue.add_task(
        wire.QueueAddParams(prompt="part", cwd=str(tmp_path), budget="50k", parent_id=team.lead_id)
    )
    assert (sub.team_id, sub.not_after) == (team.id, until.isoformat())
    with pytest.raises(ApiError, match="refused: the subtask's budget 500k"):
        queue.add_task(
            wire.QueueAddParams(
                prompt="x", cwd=str(tmp_path), budget="500k", parent_id=team.lead_id
            )
        )


# -- the deadline ------------------------------------------------------------------------------
def test_subtasks_get_the_teams_tools_and_mode_or_fewer(sched: Any, tmp_path: Path) -> None:
    """What the person grants the team bounds every run of it: delegating never adds."""
    queue, teams = _api(sched, tmp_path)
    granted = wire.TeamStartParams(
        goal="g",
        budget="500k",
        cwd=str(tmp_path),
        allowed_tools=["Edit", "Bash(pytest *)"],
        permission_mode="acceptEdits",
    )
    team = asyncio.run(teams.start(granted))
    lead = sched.store.get(team.lead_id)
    assert lead.allowed_tools == [*LEAD_TOOLS, "Edit", "Bash(pytest *)"]
    assert lead.permission_mode == "acceptEdits"
    assert "tools you may (mcp__podium, Read, Glob, Grep, Edit, Bash(pytest *))" in lead.prompt

    def sub(parent: int, **asked: Any) -> Task:
        part = wire.QueueAddParams(prompt="p", cwd=str(tmp_path), budget="20k", parent_id=parent)
        return queue.add_task(msgspec.structs.replace(part, **asked))

    inherited = sub(lead.id)
    assert (inherited.allowed_tools, inherited.permission_mode) == (
        lead.allowed_tools,
        "acceptEdits",
    )
    reader = sub(lead.id, allowed_tools=["Read", "Grep"], permission_mode="plan")
    assert (reader.allowed_tools, reader.permission_mode) == (["Read", "Grep"], "plan")
    # A grandchild is bounded by its own parent, not by the team.
    with pytest.raises(ApiError, match=r"only tools its parent may \(Read, Grep\); not Edit"):
        sub(reader.id, allowed_tools=["Edit"])
    with pytest.raises(ApiError, match="not Bash, Write") as err:
        sub(lead.id, allowed_tools=["Edit", "Bash", "Write"])
    assert err.value.code == "refused"
    with pytest.raises(ApiError, match="permission mode bypassPermissions allows more"):
        sub(lead.id, permission_mode="bypassPermissions")
    with pytest.raises(ApiError, match=r"acceptEdits allows more than its parent's \(plan\)"):
        sub(reader.id, permission_mode="acceptEdits")
    # A team granted nothing: its subtasks read and plan, as before.
    bare = asyncio.run(
        teams.start(wire.TeamStartParams(goal="g", budget="5%week", cwd=str(tmp_path)))
    )
    plain = sub(bare.lead_id)
    assert (plain.allowed_tools, plain.permission_mode) == (LEAD_TOOLS, None)


def test_a_node_past_the_team_deadline_is_held_and_never_offered(sched: Any) -> None:
    store: QueueStore = sched.store
    late = store.add(
        Task(id=0, prompt="late", cwd="/w", team_id=4, not_after=NOW - timedelta(minutes=1))
    )
    ontime = store.add(
        Task(id=0, prompt="ok", cwd="/w", team_id=4, not_after=NOW + timedelta(hours=1))
    )
    assert [int(t.id) for t in sched.facts(NOW).tasks] == [ontime.id]
    sched.set_enabled(True)
    _reserve, held = sched.explain(NOW)
    why = {h.task_id: h for h in held}
    assert why[late.id].kind == DEADLINE
    assert why[late.id].reason == "team deadline passed: team 4's nodes do not start after 09:59"
    assert why[ontime.id].kind != DEADLINE
    # Alone, without a team, it says so plainly; fill off puts itself first.
    alone = Task(id=9, prompt="p", cwd="/w", not_after=NOW)
    [h] = why_held(NOW, [alone], [], enabled=False, tz=UTC, max_concurrent=1)
    assert h.reason.endswith("then: deadline passed: it does not start after 10:00")


def test_team_state_and_its_report_source() -> None:
    team = Team(1, "g", "200k", "/w", lead_id=1)
    lead = Task(id=1, prompt="lead", cwd="/w", state="done", team_id=1)
    sub = Task(id=2, prompt="a", cwd="/w", state="running", parent_id=1, team_id=1)
    assert team_state(team, [lead, sub], NOW) == "running"
    assert report_source(team, [lead, sub]) is None  # a node is still open
    cont = Task(id=3, prompt="c", cwd="/w", state="queued", parent_id=1, team_id=1, continues_id=1)
    sub.state = "done"
    assert team_state(team, [lead, sub, cont], NOW) == "waiting"
    cont.not_after = NOW
    assert team_state(team, [lead, sub, cont], NOW) == "past deadline"
    cont.state = "done"
    assert report_source(team, [lead, sub, cont]) is cont  # the latest lead node
    assert team_state(team, [lead, sub, cont], NOW) == "failed"  # no report written yet
    team.report_path = "/r.md"
    assert team_state(team, [lead, sub, cont], NOW) == "done"
    lead.state = "cancelled"
    assert team_state(Team(2, "g", "1k", "/w", lead_id=1), [lead], NOW) == "cancelled"


def test_the_report_is_written_when_the_last_node_ends(sched: Any, tmp_path: Path) -> None:
    _queue, teams = _api(sched, tmp_path)
    team = asyncio.run(teams.start(wire.TeamStartParams(goal="g", budget="9k", cwd=str(tmp_path))))
    store: QueueStore = sched.store
    lead = store.get(team.lead_id)
    assert lead is not None
    run = store.add_run(Run(id=0, task_id=lead.id, attempt=1, state="running", started_at=NOW))
    store.update_run(run, state="done", result="all found: alpha, beta", ended_at=NOW)
    store.update(lead, state="done")
    teams._settle(team.id)
    [listed] = asyncio.run(teams.list(wire.NoParams())).teams
    assert listed.state == "done" and listed.report_path
    report = Path(listed.report_path)
    assert report.read_text().endswith("all found: alpha, beta\n")
    assert report.stat().st_mode & 0o777 == 0o600


# -- the day window ----------------------------------------------------------------------------
def test_a_day_task_waits_out_the_night(sched: Any, tmp_path: Path) -> None:
    queue = QueueApi(sched, sched.bus)
    task = queue.add_task(wire.QueueAddParams(prompt="review", cwd=str(tmp_path), window="day"))
    assert (task.schedule_kind, task.schedule) == ("window", "day")
    night = datetime(2026, 11, 3, 3, 0, tzinfo=UTC)  # [fill] night: 01:00-07:00
    sched._due(night)
    stored = sched.store.get(task.id)
    assert stored is not None and stored.not_before == datetime(2026, 11, 3, 7, 0, tzinfo=UTC)
    [h] = why_held(night, [stored], [], enabled=True, tz=UTC, max_concurrent=1)
    assert (h.kind, h.reason) == (DAY, "waits for the day window, from 07:00")


# -- an agent's own tasks, and a lead's continuation -------------------------------------------
def test_an_agents_task_without_a_parent_is_capped(sched: Any, tmp_path: Path) -> None:
    queue = QueueApi(sched, sched.bus)

    def add(**kw: Any) -> wire.Task:
        return queue.add_task(wire.QueueAddParams(prompt="p", cwd=str(tmp_path), **kw))

    assert add(by_agent=True).budget == "5%5h"  # [fill] agent_task_budget
    assert add(by_agent=True, budget="2%5h").budget == "2%5h"
    with pytest.raises(ApiError, match=r"more than a task an agent queues may have: 5%5h"):
        add(by_agent=True, budget="50%5h")
    assert add(budget="50%5h").budget == "50%5h"  # a person's own task: as asked
    with pytest.raises(ApiError, match="only a background run's subtask can continue"):
        add(continues=True)


def test_capped_budget_compares_like_with_like() -> None:
    def capacity(window: str) -> float:
        return 1_000_000.0

    assert delegation.capped_budget("$1", None, capacity) == "$1"
    assert delegation.capped_budget("$1", "$0.5", capacity) == "$0.5"
    with pytest.raises(delegation.Refused):
        delegation.capped_budget("$1", "$2", capacity)
    # Dollars under a cap in tokens: bounded all the same (--max-budget-usd).
    assert delegation.capped_budget("5%5h", "$2", capacity) == "$2"
    assert delegation.capped_budget("5%5h", "40k", capacity) == "40k"
    with pytest.raises(delegation.Refused):
        delegation.capped_budget("5%5h", "60k", capacity)


def test_a_continuation_resumes_its_leads_session_after_it(sched: Any, tmp_path: Path) -> None:
    queue = QueueApi(sched, sched.bus)
    lead = queue.add_task(wire.QueueAddParams(prompt="lead", cwd=str(tmp_path), budget="100k"))
    params = wire.QueueAddParams(prompt="go on", cwd=str(tmp_path), parent_id=lead.id)
    with pytest.raises(ApiError, match="has no Claude session to continue"):
        queue.add_task(msgspec_replace(params, continues=True))
    session = "5764008a-f82f-46dd-80a9-0507eb7b5e25"
    sched.store.add_run(
        Run(
            id=0,
            task_id=lead.id,
            attempt=1,
            state="running",
            started_at=NOW,
            claude_session_id=session,
        )
    )
    sub = queue.add_task(
        wire.QueueAddParams(prompt="a", cwd=str(tmp_path), budget="50k", parent_id=lead.id)
    )
    cont = queue.add_task(msgspec_replace(params, continues=True, after=[sub.id], budget="1k"))
    assert cont.claude_session_id == session and cont.continues_id == lead.id
    assert [d.id for d in cont.after] == [lead.id, sub.id]
    # Its first run hands it the results it waited for (not the lead's own: the
    # conversation has it), resuming the lead's session.
    store: QueueStore = sched.store
    for task_id, text in ((lead.id, "LEAD SAID"), (sub.id, "alpha")):
        run = store.add_run(Run(id=0, task_id=task_id, attempt=1, state="running", started_at=NOW))
        store.update_run(run, state="done", result=text, ended_at=NOW)
    stored = store.get(cont.id)
    assert stored is not None
    prompt = sched.runner._with_results(stored)
    assert f"## Result of task {sub.id}\n\nalpha" in prompt and "LEAD SAID" not in prompt


def test_a_leads_live_run_counts_what_it_gave_its_subtasks(sched: Any, tmp_path: Path) -> None:
    queue = QueueApi(sched, sched.bus)
    lead = queue.add_task(wire.QueueAddParams(prompt="lead", cwd=str(tmp_path), budget="100k"))
    run = sched.store.add_run(
        Run(id=0, task_id=lead.id, attempt=1, state="running", started_at=NOW)
    )
    before = sched.runner._limits_of(run)
    assert isinstance(before, _Limits) and before.given == 0
    sched.runner._limits[run.id] = before
    queue.add_task(
        wire.QueueAddParams(prompt="a", cwd=str(tmp_path), budget="60k", parent_id=lead.id)
    )
    assert run.id not in sched.runner._limits  # read again at the next check
    assert sched.runner._limits_of(run).given == 60_000
    # A running parent keeps half of what is left when a child names no budget.
    sched.store.update(sched.store.get(lead.id), state="running")
    half = queue.add_task(wire.QueueAddParams(prompt="b", cwd=str(tmp_path), parent_id=lead.id))
    assert half.budget == "20k"
    left = asyncio.run(queue.capacity(wire.CapacityParams(task_id=lead.id))).task
    assert left is not None and left.left == "20k"  # all that is left, not half


def msgspec_replace(params: wire.QueueAddParams, **changes: Any) -> wire.QueueAddParams:
    return msgspec.structs.replace(params, **changes)
