"""Limits handled as they happen: the real Claude Code CLI's own retry loop
(`system`/`api_retry` lines) as podium's queue sees it, against the loopback API."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import pytest

from collectors.paths import Paths
from sessions import wire
from sessions.client import EngineClient
from tests.integration.test_queue import add, call, fast_fill, task_of, wait_rounds, wait_task

pytestmark = [pytest.mark.tmux, pytest.mark.claude]


def _main(env: Any) -> int:
    return len(env.api.main_requests())


def test_a_rate_limit_retry_loop_is_stopped_and_deferred_to_the_official_reset(
    make_claude_podium: Any, podium_env: Any
) -> None:
    """Claude Code would retry a 429 ten times (about 11 minutes) in a run slot: podium
    stops the run at its first rate-limit retry and defers the task to the reset the
    official figures give, then resumes it there."""
    fast_fill(podium_env)
    env = make_claude_podium(auth="gateway")
    reset = int(time.time()) + 25
    # Every answer takes 3 s: the test records the official figure while the first waits.
    prompt = f"SLOW 3\nRETRY 429 {reset}\nREPLY through at last"
    task = add(env, prompt, "--max-turns", "3")
    call(env, "queue.fill", enabled=True)
    env.api.wait_for(lambda reqs: any(r.is_main for r in reqs), 60)
    # What a statusline or another run would have said: the 5-hour window is used up.
    limit = {"status": "rejected", "rateLimitType": "five_hour", "resetsAt": reset}
    call(env, "usage.record", lines=[{"type": "rate_limit_event", "rate_limit_info": limit}])

    deferred = wait_task(env, task["id"], "deferred", "done", "failed", seconds=60)
    assert deferred["task"]["state"] == "deferred", deferred
    [first] = deferred["runs"]
    assert first["state"] == "limited" and first["api_error_status"] == 429
    assert "retry 1/10" in first["result"] and first["reason"].startswith("usage limit until")
    assert first["claude_session_id"]
    # To the official reset, to the second: not a 30-minute guess.
    assert deferred["task"]["defer_until"].startswith(
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(reset))
    )
    # Stopped at once, not after the CLI's ten tries: no pane asks the API any more.
    took = datetime.fromisoformat(first["ended_at"]) - datetime.fromisoformat(first["started_at"])
    assert took.total_seconds() < 20, took
    asked = _main(env)
    assert asked <= 2, asked  # the first try, and at most the retry already under way
    wait_rounds(env, 2)
    assert time.time() < reset, "the reset passed before the rounds: raise its lead"
    # Still the first try and at most that one retry: the retry already under way when
    # the run was stopped may reach the API after the count above (seen under load),
    # but nothing asks again after it.
    assert _main(env) <= 2, _main(env)
    shown = env.run("queue", "show", str(task["id"])).stdout
    assert "attempts    1: usage limit until" in shown, shown

    done = wait_task(env, task["id"], "done", "failed", seconds=90)
    assert done["task"]["state"] == "done", done
    assert [r["state"] for r in done["runs"]] == ["limited", "done"]
    second = done["runs"][1]
    assert second["resumed_from"] == first["claude_session_id"]
    assert reset <= datetime.fromisoformat(second["started_at"]).timestamp() < reset + 20
    # The conversation went on: the resumed request carries the first prompt.
    last = env.api.main_requests()[-1].body["messages"]
    assert "through at last" in json.dumps(last), last
    assert "Continue where you left off." in json.dumps(last)


def test_a_run_retrying_an_overloaded_api_is_shown_as_retrying(
    make_claude_podium: Any, podium_env: Any
) -> None:
    """A 529 is the CLI's to retry: the run keeps its slot, shown as retrying (the
    queue, `queue ls`, a `queue` event), and completes when a retry gets through."""
    fast_fill(podium_env)
    env = make_claude_podium()
    paths = Paths(data=env.data, runtime=env.runtime)
    task = add(env, "SLOW 3\nRETRY 529 2\nREPLY got through")
    with EngineClient(paths) as watcher:
        watcher.subscribe()  # first: no event between the switch and the stream is lost
        watcher.sock.settimeout(60)  # a missing event fails the test, not hangs it
        call(env, "queue.fill", enabled=True)

        def retrying() -> dict[str, Any] | None:
            runs = task_of(env, task["id"])["runs"]
            return runs[-1].get("retrying") if runs else None

        assert env.wait_for(lambda: retrying() is not None, 60), task_of(env, task["id"])
        retry = retrying()
        assert retry is not None
        assert retry["status"] == 529 and retry["error"] == "overloaded"
        assert retry["max_retries"] == 10 and retry["attempt"] in (1, 2)
        assert retry["next_at"] and retry["since"]
        listed = env.run("queue", "ls").stdout
        assert f"retrying {retry['attempt']}/10" in listed or "running" in listed, listed
        event = next(
            e
            for e in watcher.events()
            if isinstance(e, wire.QueueEvent)
            and e.data.run
            and e.data.run.task_id == task["id"]
            and e.data.run.retrying is not None
        )
        assert event.data.run and event.data.run.retrying
        assert event.data.run.retrying.status == 529 and event.data.run.state == "running"

    done = wait_task(env, task["id"], "done", "failed", seconds=90)
    assert done["task"]["state"] == "done", done
    [run] = done["runs"]
    assert run["result"] == "got through" and run.get("retrying") is None
    assert _main(env) == 3  # two failures the CLI retried, then the answer


def test_api_errors_are_tried_max_attempts_times_then_fail_with_each_reason(
    make_claude_podium: Any, podium_env: Any
) -> None:
    fast_fill(podium_env)
    podium_env.env.update(PODIUM_FILL__MAX_ATTEMPTS="2", PODIUM_FILL__RETRY_BACKOFF="0.5")
    env = make_claude_podium()
    task = add(env, "ERROR 500\nREPLY never")
    call(env, "queue.fill", enabled=True)
    failed = wait_task(env, task["id"], "failed", "done", seconds=90)
    assert failed["task"]["state"] == "failed", failed
    assert [r["state"] for r in failed["runs"]] == ["failed", "failed"]
    assert failed["task"]["attempts"] == 2
    assert failed["task"]["last_result"] == (
        "gave up after 2 attempts: 1: API error 500; 2: API error 500"
    )
    shown = env.run("queue", "show", str(task["id"])).stdout
    assert "attempts    1: API error 500; 2: API error 500" in shown, shown
