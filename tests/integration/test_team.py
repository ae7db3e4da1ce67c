"""`podium team` end to end: the real Claude Code CLI as the lead, against the loopback
API, whose script (`CALL_TOOL`, then `THEN <round>` after each round of tool results)
makes the model call podium's tools (`podium mcp`) as a lead following its protocol
would: ask for more than the team has (refused, and the model reads why), queue two
subtasks, wait for them, read their results and end with both in its final message,
which becomes the team's report. A subtask that fails holds the one queued after it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_queue import call, wait_task

pytestmark = [pytest.mark.tmux, pytest.mark.claude]


def _fast(env: Any) -> None:
    # Rounds every half second; the lead and both subtasks run at once.
    env.env["PODIUM_FILL__INTERVAL"] = "0.5"
    env.env["PODIUM_FILL__MAX_CONCURRENT"] = "3"
    env.env["PODIUM_FILL__MAX_ATTEMPTS"] = "1"
    # No weekly pacing: a fresh log has no week behind it, and the lead's first
    # subtask would put fill "ahead of the week's line" for the second.
    env.env["PODIUM_FILL__SPEND_ALL_WITHIN_HOURS"] = "168"


def _queue(work: Path, prompt: str, **more: Any) -> str:
    return json.dumps({"prompt": prompt, "directory": str(work), **more})


def _start(env: Any, goal: str, *args: str) -> dict[str, Any]:
    out = env.run("team", goal, "--budget", "200k", "--cwd", str(env.workdir), *args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _tool_results(env: Any) -> list[dict[str, Any]]:
    """The tool results of the last main-loop request (each earlier one's is in it)."""
    found = []
    for rec in env.api.main_requests():
        for message in rec.body.get("messages") or []:
            content = message.get("content")
            if isinstance(content, list):
                found += [b for b in content if b.get("type") == "tool_result"]
    unique = {b.get("tool_use_id"): b for b in found}
    return list(unique.values())


def _text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    return "".join(c.get("text", "") for c in content or [])


def test_a_lead_queues_two_subtasks_waits_and_reports_both(
    make_claude_podium: Any, podium_env: Any
) -> None:
    _fast(podium_env)
    env = make_claude_podium()
    work = env.workdir
    # The lead is task 1: its subtasks will be 2 and 3 (the refused one makes none).
    goal = "\n".join(
        [
            "Find the two words.",
            "CALL_TOOL mcp__podium__queue_task " + _queue(work, "too much", budget="900k"),
            "THEN 1 mcp__podium__queue_task " + _queue(work, "REPLY alpha", budget="20k"),
            "THEN 2 mcp__podium__queue_task " + _queue(work, "REPLY beta", budget="20k"),
            'THEN 3 mcp__podium__wait_tasks {"task_ids": [2, 3], "timeout_s": 60}',
            'THEN 4 mcp__podium__task_result {"task_id": 2}',
            'THEN 4 mcp__podium__task_result {"task_id": 3}',
            "ECHO_RESULTS",
        ]
    )
    team = _start(env, goal)
    assert team["lead_id"] == 1 and team["budget"] == "200k" and team["state"] == "queued"
    call(env, "queue.fill", enabled=True)

    lead = wait_task(env, 1, "done", "failed", seconds=60)
    assert lead["task"]["state"] == "done", lead["runs"]
    final = lead["runs"][-1]["result"]
    # Its final message carries both subtasks' results (read with task_result).
    assert "alpha" in final and "beta" in final, final
    for sub in (2, 3):
        shown = call(env, "queue.show", id=sub)["task"]
        assert shown["state"] == "done" and shown["parent_id"] == 1
        assert shown["team_id"] == team["id"] and shown["budget"] == "20k"
    # The over-budget subtask was refused with the reason, and the model read it.
    results = _tool_results(env)
    refused = [b for b in results if b.get("is_error")]
    assert len(refused) == 1, results
    assert "refused: the subtask's budget 900k" in _text(refused[0])
    assert "more than its parent has left" in _text(refused[0])
    # The lead's prompt told it the protocol, the budget and where the report goes.
    prompt = Path(env.data, "queue", f"run-{lead['runs'][-1]['id']}.prompt").read_text()
    assert "The team's whole budget is 200k" in prompt and "Find the two words." in prompt

    def reported() -> bool:
        [listed] = call(env, "team.list")["teams"]
        return listed["state"] == "done"

    assert env.wait_for(reported, 10)
    [listed] = call(env, "team.list")["teams"]
    assert listed["nodes"] == 3 and listed["open_nodes"] == 0 and listed["spent_tokens"] > 0
    report = Path(listed["report_path"]).read_text(encoding="utf-8")
    assert "alpha" in report and "beta" in report
    assert Path(listed["report_path"]).stat().st_mode & 0o777 == 0o600
    out = env.run("team", "list")
    assert out.returncode == 0 and "done" in out.stdout and "Find the two words" in out.stdout


def test_a_failed_subtask_holds_its_dependent_and_a_continuation_resumes_the_lead(
    make_claude_podium: Any, podium_env: Any
) -> None:
    """Results that come later: the lead queues a subtask that fails and one after it,
    a subtask that succeeds and its own continuation (`continue_me`, after that one),
    and ends. The failed subtask holds its dependent with the reason; the continuation
    resumes the lead's Claude session with the result it waited for, and once the held
    node is cancelled its final message is the team's report."""
    _fast(podium_env)
    env = make_claude_podium()
    work = env.workdir
    # The JSON escape `\u0045RROR 400` reaches the subtask as "ERROR 400": the lead's
    # own requests do not carry the directive. Tasks: the lead 1, then 2 to 5.
    failing = _queue(work, "ERROR 400", budget="20k").replace("ERROR", "\\u0045RROR")
    then = _queue(work, "REPLY integrated the night's work", budget="20k", after=[4])
    goal = "\n".join(
        [
            "Plan the night.",
            "CALL_TOOL mcp__podium__queue_task " + failing,
            "THEN 1 mcp__podium__queue_task " + _queue(work, "then this", after=[2], budget="9k"),
            "THEN 2 mcp__podium__queue_task " + _queue(work, "REPLY gamma", budget="20k"),
            "THEN 3 mcp__podium__queue_task " + then.replace("{", '{"continue_me": true, ', 1),
        ]
    )
    _start(env, goal)
    call(env, "queue.fill", enabled=True)
    assert wait_task(env, 1, "done", "failed", seconds=60)["task"]["state"] == "done"
    assert not any(b.get("is_error") for b in _tool_results(env)), _tool_results(env)
    assert wait_task(env, 2, "done", "failed", seconds=60)["task"]["state"] == "failed"
    cont = wait_task(env, 5, "done", "failed", seconds=60)
    assert cont["task"]["state"] == "done", cont["runs"]

    # The failed subtask holds the one after it, with the reason.
    shown = call(env, "queue.show", id=3)["task"]
    assert shown["state"] == "queued" and shown["waits"].startswith("after task 2, which failed")
    held = {h["task_id"]: h for h in call(env, "queue.list", explain=True)["held"]}
    assert held[3]["kind"] == "held" and "after task 2, which failed" in held[3]["reason"]

    # The continuation resumed the lead's session once the lead and task 4 were done.
    [lead_run] = call(env, "queue.show", id=1)["runs"]
    [run] = cont["runs"]
    assert cont["task"]["continues_id"] == 1
    assert f"--resume={lead_run['claude_session_id']}" in run["argv"]
    assert run["started_at"] >= lead_run["ended_at"]
    # Its request is the lead's conversation, then its prompt with task 4's result.
    last = env.api.main_requests()[-1].body["messages"]
    assert "Plan the night." in json.dumps(last[0])
    assert "## Result of task 4\n\ngamma" in json.dumps(last[-1]).replace("\\n", "\n")

    [listed] = call(env, "team.list")["teams"]
    assert listed["state"] == "waiting" and listed["open_nodes"] == 1
    call(env, "queue.cancel", id=3)

    def reported() -> bool:
        return call(env, "team.list")["teams"][0]["state"] == "done"

    assert env.wait_for(reported, 10)
    report = Path(call(env, "team.list")["teams"][0]["report_path"]).read_text()
    assert "integrated the night's work" in report and "task 5" in report


def test_subtasks_may_use_the_teams_tools_and_no_more(
    make_claude_podium: Any, podium_env: Any
) -> None:
    """`--allowed-tools Write` lets the team's runs write; a subtask the lead gave
    only Read cannot, and a tool the team lacks is refused to the lead."""
    _fast(podium_env)
    env = make_claude_podium()
    work = env.workdir
    granted, denied = work / "granted.txt", work / "denied.txt"
    goal = "\n".join(
        [
            "Write two files.",
            "CALL_TOOL mcp__podium__queue_task " + _queue(work, f"WRITE_FILE {granted}"),
            "THEN 1 mcp__podium__queue_task "
            + _queue(work, f"WRITE_FILE {denied}", allowed_tools=["Read"]),
            "THEN 2 mcp__podium__queue_task " + _queue(work, "REPLY never", allowed_tools=["Bash"]),
            'THEN 3 mcp__podium__wait_tasks {"task_ids": [2, 3], "timeout_s": 60}',
            "ECHO_RESULTS",
        ]
    )
    _start(env, goal, "--allowed-tools", "Write", "--permission-mode", "default")
    call(env, "queue.fill", enabled=True)
    lead = wait_task(env, 1, "done", "failed", seconds=60)
    assert lead["task"]["state"] == "done", lead["runs"]
    for sub in (2, 3):
        wait_task(env, sub, "done", "failed", seconds=30)
    shown = {sub: call(env, "queue.show", id=sub)["task"] for sub in (2, 3)}
    assert shown[2]["allowed_tools"] == ["mcp__podium", "Read", "Glob", "Grep", "Write"]
    assert shown[3]["allowed_tools"] == ["Read"]
    assert {t["permission_mode"] for t in shown.values()} == {"default"}
    assert granted.exists() and not denied.exists()
    refused = [b for b in _tool_results(env) if b.get("is_error")]
    assert any("only tools its parent may" in _text(b) and "not Bash" in _text(b) for b in refused)
