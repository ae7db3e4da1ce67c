"""Claude Code's retry loop as the runner reads it, and a task's bounded attempts."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sessions.fill.queue import QueueStore, Run, Task
from sessions.fill.retrying import (
    UNKNOWN_RESET,
    after_run,
    api_retry,
    backoff,
    limit_reset,
    retryable,
)
from tests.unit.test_queue import _Engine

DATA = Path(__file__).parent / "data"
# Recorded from Claude Code 2.1.328 against the fake API (`RETRY 429|529|500 1`).
LINES = [
    json.loads(line)
    for line in (DATA / "stream_json_api_retry_2.1.328.jsonl").read_text().splitlines()
]
NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def test_the_real_api_retry_lines_read_as_retries() -> None:
    by_status = {line["error_status"]: api_retry(line, NOW) for line in LINES}
    assert set(by_status) == {429, 529, 500}
    limit, overloaded, server = by_status[429], by_status[529], by_status[500]
    assert limit is not None and overloaded is not None and server is not None
    assert limit.rate_limited and limit.error == "rate_limit"
    assert not overloaded.rate_limited and overloaded.error == "overloaded"
    assert not server.rate_limited
    assert (limit.attempt, limit.max_retries) == (1, 10)
    assert limit.delay == timedelta(milliseconds=531)
    info = overloaded.to_wire()
    assert info.status == 529 and info.next_at == (NOW + overloaded.delay).isoformat()
    assert overloaded.text() == "HTTP 529 overloaded, retry 1/10"
    # Other lines, and junk of the same shape, are no retry / no crash.
    assert api_retry({"type": "system", "subtype": "init"}, NOW) is None
    odd = api_retry({"type": "system", "subtype": "api_retry", "attempt": "x", "error": 5}, NOW)
    assert odd is not None and odd.attempt == 1 and odd.error is None


def _running(tmp_path: Path, **parts: Any) -> tuple[Any, QueueStore, Task, Run, Path]:
    engine = _Engine(tmp_path)
    store = QueueStore(engine.conn)
    runner = engine.runner(store, **parts)
    runner.record_usage = lambda samples: None
    task = store.add(Task(id=0, prompt="p", cwd=str(tmp_path)))
    store.update(task, state="running", attempts=1)
    stream = tmp_path / "run.jsonl"
    stream.write_text("")
    run = store.add_run(Run(id=0, task_id=task.id, attempt=1, state="running", started_at=NOW))
    store.update_run(run, stream_path=str(stream))
    return runner, store, task, run, stream


def _append(stream: Path, *lines: dict[str, Any]) -> None:
    with stream.open("a") as fh:
        fh.writelines(json.dumps(line) + "\n" for line in lines)


def test_a_run_retrying_a_529_is_shown_until_a_retry_gets_through(tmp_path: Path) -> None:
    runner, store, _task, run, stream = _running(tmp_path)
    told: list[int] = []
    runner.on_retry.append(lambda r: told.append(r.id))
    overloaded = next(line for line in LINES if line["error_status"] == 529)
    _append(stream, overloaded, {**overloaded, "attempt": 2})
    assert runner._read(run) is None  # the CLI goes on: no result, still running
    info = runner.retry_info(run.id)
    assert info is not None and (info.attempt, info.status, info.max_retries) == (2, 529, 10)
    assert info.since is not None and info.next_at is not None
    assert run.to_wire(info).retrying == info
    assert told == [run.id]
    assert runner._read(run) is None
    assert told == [run.id]  # nothing new read: nothing told again
    _append(stream, {"type": "assistant", "message": {}})
    assert runner._read(run) is None
    assert runner.retry_info(run.id) is None  # it got through
    assert told == [run.id, run.id]
    assert store.runs()[0].state == "running"


@pytest.mark.parametrize("source", ["stream", "official", "none"])
def test_a_rate_limit_retry_stops_the_run_and_defers_to_the_known_reset(
    tmp_path: Path, source: str
) -> None:
    """The first 429 retry ends the run (the CLI's loop would hold the slot for about
    11 minutes): the task waits for the server's reset, else the official figures'."""
    official = datetime.now(UTC) + timedelta(hours=2)
    stream_reset = int((datetime.now(UTC) + timedelta(minutes=47)).timestamp())
    full_until = (lambda now: official) if source != "none" else (lambda now: None)
    runner, store, task, run, stream = _running(tmp_path, full_until=full_until)
    if source == "stream":
        _append(
            stream,
            {
                "type": "rate_limit_event",
                "rate_limit_info": {"status": "rejected", "resetsAt": stream_reset},
            },
        )
    limit = next(line for line in LINES if line["error_status"] == 429)
    _append(stream, limit, {"type": "assistant", "message": {}})
    before = datetime.now(UTC)
    result = runner._read(run)
    assert result is not None and result["api_error_status"] == 429
    asyncio.run(runner._finish(run, result))
    [ended] = store.runs(task.id)
    assert ended.state == "limited"
    assert ended.claude_session_id == limit["session_id"]
    assert "retry 1/10" in (ended.result or "")
    fresh = store.get(task.id)
    assert fresh is not None and fresh.state == "deferred"
    expected = {
        "stream": datetime.fromtimestamp(stream_reset, UTC),
        "official": official,
    }.get(source)
    if expected is not None:
        assert fresh.defer_until == expected
    else:  # nobody knows: the guess, and only then
        assert before + UNKNOWN_RESET <= fresh.defer_until <= datetime.now(UTC) + UNKNOWN_RESET  # type: ignore[operator]
    assert runner.retry_info(run.id) is None


def test_limit_reset_prefers_the_server_then_the_text_then_the_official_figures() -> None:
    server, official = NOW + timedelta(minutes=5), NOW + timedelta(hours=1)
    assert limit_reset(NOW, server, "", official) == server
    assert limit_reset(NOW, NOW - timedelta(minutes=1), "", official) == official
    assert limit_reset(NOW, None, "", None) is None  # unknown: the task waits a guess


def _run(attempt: int, state: str, **fields: Any) -> Run:
    return Run(id=attempt, task_id=1, attempt=attempt, state=state, started_at=NOW, **fields)


def test_transient_failures_back_off_then_give_up_with_every_reason() -> None:
    limited = _run(1, "limited", is_error=True, api_error_status=429,
                   resets_at=NOW + timedelta(hours=1))  # fmt: skip
    overloaded = _run(2, "failed", is_error=True, api_error_status=529)
    broke = _run(3, "failed", is_error=True, subtype="error_during_execution")
    runs = [limited, overloaded, broke]
    step = dict(max_attempts=3, base_backoff=60.0, now=NOW, result_line="x")
    first = after_run(limited, runs[:1], attempts=1, **step)  # type: ignore[arg-type]
    assert first["state"] == "deferred" and first["defer_until"] == NOW + timedelta(hours=1)
    second = after_run(overloaded, runs[:2], attempts=2, **step)  # type: ignore[arg-type]
    assert second["state"] == "deferred"
    assert second["defer_until"] == NOW + timedelta(seconds=120)  # 60 s doubled
    assert "API error 529; attempt 2 of 3" in second["last_result"]
    last = after_run(broke, runs, attempts=3, **step)  # type: ignore[arg-type]
    assert last["state"] == "failed"
    assert last["last_result"] == (
        "gave up after 3 attempts: 1: usage limit until 04:00Z; 2: API error 529; "
        "3: error_during_execution"
    )


def test_final_outcomes_are_not_retried() -> None:
    step = dict(max_attempts=5, base_backoff=60.0, now=NOW, result_line="why")
    for run in (
        _run(1, "done", is_error=False, subtype="success"),
        _run(1, "failed", is_error=True, subtype="error_max_turns"),
        _run(1, "failed", is_error=True, subtype="error_max_budget_usd"),
        _run(1, "failed", result="stopped at its budget"),  # the budget's own stop
        _run(1, "failed", result="ended without a result (exit 127)"),
    ):
        assert not retryable(run)
        out = after_run(run, [run], attempts=1, **step)  # type: ignore[arg-type]
        assert out == {"state": run.state, "defer_until": None, "last_result": "why"}
    assert retryable(_run(1, "interrupted"))


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n, 60).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert backoff(20, 60) == timedelta(hours=1)
