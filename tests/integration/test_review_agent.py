"""`podium review --agent` with the real Claude Code CLI against the loopback API: the
agent's run reads only its digest, answers JSON, and its findings come back in
`podium review`, marked as the model's, beside the computed ones."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_queue import call, fast_fill, wait_task

pytestmark = [pytest.mark.tmux, pytest.mark.claude]

ANSWER = {
    "findings": [
        {
            "title": "Most spend is on Fridays",
            "area": "habits",
            "detail": "Friday afternoons hold 40% of the week's spend.",
            "suggestion": "Spread heavy work over the week.",
            "confidence": 0.6,
            "evidence": [["friday share", "40%"]],
            "where": {"hours": ["Fri 14:00-18:00"]},
            "unknown": "dropped",
        },
        {"title": "no detail: dropped"},
    ]
}


def test_the_agents_review_joins_the_computed_one(make_claude_podium: Any, podium_env: Any) -> None:
    fast_fill(podium_env)
    env = make_claude_podium(auth="gateway")
    out = env.run("review", "--agent", "--json", "--focus", "REPLY " + json.dumps(ANSWER))
    assert out.returncode == 0, out.stderr
    queued = json.loads(out.stdout)
    task = queued["task"]
    digest = Path(queued["digest"])
    assert json.loads(digest.read_text())["period"]["zone"]
    assert stat.S_IMODE(digest.stat().st_mode) == 0o600
    assert stat.S_IMODE(digest.parent.stat().st_mode) == 0o700
    assert task["allowed_tools"] == ["Read"] and task["cwd"] == str(digest.parent)
    call(env, "queue.fill", enabled=True)
    done = wait_task(env, task["id"], "done", "failed")
    assert done["task"]["state"] == "done", done
    assert "--allowedTools=Read" in done["runs"][-1]["argv"]

    def model_findings() -> list[dict[str, Any]]:
        review = env.json("review")
        return [f for f in review["findings"] if f["source"] == "model"]

    assert env.wait_for(lambda: bool(model_findings()), 20)
    [finding] = model_findings()
    assert finding["title"] == "Most spend is on Fridays"
    assert finding["sure"] == "medium" and finding["evidence"] == [["friday share", "40%"]]
    assert (digest.parent / "model.json").is_file()
    text = env.run("review")
    assert "Most spend is on Fridays (the model's)" in text.stdout
