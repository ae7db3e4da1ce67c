"""Task trees end to end: `podium queue tree|pause|resume|cancel` against a real engine,
and a running task paused mid-request (the real Claude Code CLI against the loopback
API) that goes on with its Claude session when resumed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from collectors.settings import FillSettings
from sessions.agents import claude_config_dir, has_transcript
from tests.integration.test_queue import add, call, fast_fill, task_of, wait_task

RESUME_PROMPT = FillSettings().resume_prompt


def _sub(env: Any, parent: int, prompt: str, budget: str | None = None) -> dict[str, Any]:
    """A subtask, as `podium mcp`'s `queue_task` queues one."""
    return call(env, "queue.add", prompt=prompt, cwd=str(env.workdir), parent_id=parent,
                budget=budget)  # fmt: skip


@pytest.mark.tmux
def test_a_tree_is_drawn_paused_resumed_and_cancelled_from_the_cli(engine: Any) -> None:
    lead = add(engine, "lead the docs team", "--budget", "50k")
    one = _sub(engine, lead["id"], "write the guide", "20k")
    two = _sub(engine, lead["id"], "write the reference", "10k")
    deep = _sub(engine, one["id"], "check the links")
    other = add(engine, "an unrelated task")

    out = engine.run("queue", "tree")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"#{lead['id']} queued · 0/50k 0% · lead the docs team"
    assert lines[1].startswith(f"├─ #{one['id']} queued · 0/20k")
    assert lines[2].startswith(f"│  └─ #{deep['id']} queued · 0/20k")  # all its parent had left
    assert lines[3].startswith(f"└─ #{two['id']} queued")
    assert lines[4].startswith(f"#{other['id']} queued")

    out = engine.run("queue", "pause", str(one["id"]))
    assert (out.returncode, out.stdout) == (0, f"task {one['id']} paused, and 1 task under it\n")
    tree = call(engine, "queue.tree", id=lead["id"])["trees"][0]
    states = {
        n["id"]: n["state"] for n in [tree, *tree["children"], *tree["children"][0]["children"]]
    }
    assert states == {lead["id"]: "queued", one["id"]: "paused", two["id"]: "queued",
                      deep["id"]: "paused"}  # fmt: skip
    assert tree["children"][0]["paused_by"] == "you"
    listed = engine.run("queue", "ls").stdout
    assert "paused by you" in listed and "paused by you (with task" in listed
    shown = engine.run("queue", "show", str(one["id"]))
    assert f"task {lead['id']} (a subtask of it)" in shown.stdout
    assert (
        "paused      by you" in shown.stdout
        and f"subtasks    task {deep['id']} paused" in shown.stdout
    )
    assert f"tree        #{one['id']} paused by you" in shown.stdout
    out = engine.run("queue", "resume", str(one["id"]))
    assert out.stdout == f"task {one['id']} resumed, and 1 task under it\n"
    out = engine.run("queue", "resume", str(one["id"]))
    assert out.returncode == 1 and "nothing under it is paused" in out.stderr

    out = engine.run("queue", "cancel", str(lead["id"]))
    assert out.stdout == f"task {lead['id']} cancelled, and 3 tasks under it\n"
    assert task_of(engine, deep["id"])["task"]["state"] == "cancelled"
    out = engine.run("queue", "tree")
    assert out.stdout.splitlines() == [f"#{other['id']} queued · - · an unrelated task"]


@pytest.mark.tmux
@pytest.mark.claude
def test_a_running_task_paused_goes_on_with_its_session_when_resumed(
    make_claude_podium: Any, podium_env: Any
) -> None:
    # Slow enough that the pause lands while its first request waits for the answer.
    fast_fill(podium_env)
    env = make_claude_podium(auth="gateway")
    task = add(env, "SLOW 3\nREPLY went on fine", "--max-turns", "2")
    call(env, "queue.fill", enabled=True)
    running = wait_task(env, task["id"], "running")
    sid = running["runs"][-1]["claude_session_id"]
    config_dir = claude_config_dir(env.env)
    # Claude Code saved the prompt (its transcript) before the request went out.
    assert env.wait_for(lambda: has_transcript(sid, config_dir), 20)
    paused = call(env, "queue.pause", id=task["id"])
    assert paused["stopped"] == [task["id"]] and paused["task"]["state"] == "paused"
    first = task_of(env, task["id"])["runs"][0]
    assert first["state"] == "cancelled"

    resumed = call(env, "queue.resume", id=task["id"])
    assert resumed["notes"] == [f"task {task['id']} goes on with its Claude session {sid}"]
    done = wait_task(env, task["id"], "done", "failed")
    assert done["task"]["state"] == "done", done
    second = done["runs"][-1]
    assert second["resumed_from"] == sid and f"--resume={sid}" in second["argv"]
    # The resumed request carries the first prompt as the conversation's start, and the
    # resume prompt as its new turn.
    [again] = [r for r in env.api.main_requests() if r.last_user_text == RESUME_PROMPT]
    assert "SLOW 3" in json.dumps(again.body["messages"][0])
