"""A task graph end to end: the real Claude Code CLI against the loopback API. Task B
comes after task A (`podium queue add --after`); B starts only once A is done, and A's
final message reaches B in its prompt (on its stdin, never in argv)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_queue import add, call, fast_fill, main_texts, wait_task

pytestmark = [pytest.mark.tmux, pytest.mark.claude]


def test_a_dependent_runs_after_its_dependency_with_its_result(
    make_claude_podium: Any, podium_env: Any
) -> None:
    fast_fill(podium_env)
    env = make_claude_podium(auth="gateway")
    a = add(env, "REPLY alpha", "--max-turns", "2")
    # B first in priority: only the graph keeps it from starting before A.
    b = add(env, "say what the task before you found", "--after", str(a["id"]), "--priority", "9")
    assert [d["id"] for d in b["after"]] == [a["id"]] and b["waits"]
    call(env, "queue.fill", enabled=True)

    done_b = wait_task(env, b["id"], "done", "failed")
    assert done_b["task"]["state"] == "done", done_b
    done_a = wait_task(env, a["id"], "done")
    a_ended = datetime.fromisoformat(done_a["runs"][-1]["ended_at"])
    [b_run] = done_b["runs"]
    assert datetime.fromisoformat(b_run["started_at"]) >= a_ended
    # A's final message went to B: in the prompt file its run read on stdin, under a
    # heading, and so in B's request to the API; never in its argv.
    prompt = Path(env.data, "queue", f"run-{b_run['id']}.prompt").read_text(encoding="utf-8")
    assert f"## Result of task {a['id']}\n\nalpha" in prompt
    assert any("alpha" in t and "say what the task before you" in t for t in main_texts(env))
    assert not any("alpha" in arg for arg in b_run["argv"])
    shown = call(env, "queue.show", id=a["id"])["task"]
    assert [(d["id"], d["state"]) for d in shown["before"]] == [(b["id"], "done")]
