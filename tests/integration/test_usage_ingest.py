"""The usage log in a running engine: `podium usage ingest`, the watcher, restarts,
and the real Claude Code CLI's own transcripts."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from claude_bed import ClaudeBed
from conftest import PodiumEnv
from libtmux.test.retry import retry_until

from collectors.paths import Paths
from sessions.client import EngineClient

SESSION = "5e551011-0000-4000-8000-000000000001"


def record(msg: str, req: str, inp: int, out: int, cw: int = 0, cr: int = 0, **extra: Any) -> bytes:
    rec = {
        "parentUuid": None,
        "isSidechain": False,
        "cwd": "/home/u/proj",
        "sessionId": SESSION,
        "version": "2.1.328",
        "entrypoint": "cli",
        "type": "assistant",
        "message": {
            "model": "claude-sonnet-4-5-20250929",
            "id": msg,
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "hi"}],
            "usage": {
                "input_tokens": inp,
                "output_tokens": out,
                "cache_creation_input_tokens": cw,
                "cache_read_input_tokens": cr,
            },
        },
        "requestId": req,
        "uuid": "u",
        "timestamp": "2026-11-01T10:00:00.000Z",
        **extra,
    }
    return json.dumps(rec, separators=(",", ":")).encode() + b"\n"


def transcript(claude_dir: Path) -> Path:
    path = claude_dir / "projects" / "-home-u-proj" / f"{SESSION}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def api(env: PodiumEnv, method: str, **params: Any) -> Any:
    with EngineClient(Paths(data=env.data, runtime=env.runtime), timeout=60) as client:
        return client.call(method, **params)


def totals(env: PodiumEnv) -> dict[str, int]:
    return api(env, "usage.totals")["totals"]


def sums(inp: int, out: int, cw: int = 0, cr: int = 0) -> dict[str, int]:
    return {"input": inp, "output": out, "cache_creation": cw, "cache_read": cr}


def test_ingest_command_prints_the_pass_and_the_whole_log(engine: PodiumEnv, tmp_path: Path):
    path = transcript(engine.claude_dir)
    path.write_bytes(record("m1", "r1", 10, 1) + record("m1", "r1", 10, 5) + b"not json\n")
    other = tmp_path / "other-claude"
    transcript(other).write_bytes(record("m2", "r2", 100, 100, 7, 9))
    out = engine.json("usage", "ingest", "--claude-dir", str(other))
    assert {"files", "lines", "bad_lines", "messages", "totals"} <= set(out)
    assert (out["files"], out["lines"], out["bad_lines"]) == (1, 1, 0)
    # `totals` and `messages` cover the whole log: the engine's own dir is in it too.
    assert retry_until(lambda: engine.json("usage", "ingest")["messages"] == 2, 10, raises=False)
    result = engine.json("usage", "ingest")
    assert result["totals"] == sums(110, 105, 7, 9)
    assert result["lines"] == 0  # nothing new since the engine read it
    text = engine.run("usage", "ingest")
    assert text.returncode == 0 and "2 messages" in text.stdout
    bad = engine.run("usage", "ingest", "--claude-dir", str(tmp_path / "nope"))
    assert bad.returncode == 2 and "no such directory" in bad.stderr


def test_appended_lines_show_up_within_two_seconds(engine: PodiumEnv):
    path = transcript(engine.claude_dir)
    path.write_bytes(record("m1", "r1", 1, 1))
    assert retry_until(lambda: totals(engine) == sums(1, 1), 10, raises=False)
    steps = [
        (record("m2", "r2", 2, 2), sums(3, 3)),
        (record("m2", "r2", 2, 40), sums(3, 41)),  # the final block of m2
    ]
    for n, (line, expected) in enumerate(steps):
        with path.open("ab") as fh:
            fh.write(line)
        written = time.monotonic()
        seen = retry_until(lambda e=expected: totals(engine) == e, 5, interval=0.05, raises=False)
        assert seen, f"append {n}: {totals(engine)}"
        assert time.monotonic() - written < 2.0
    # A new file (a new session) is noticed too.
    transcript(engine.claude_dir).with_name("new.jsonl").write_bytes(record("m3", "r3", 5, 5))
    assert retry_until(lambda: totals(engine) == sums(8, 46), 2, interval=0.05, raises=False)


def test_offsets_survive_an_engine_restart(engine: PodiumEnv):
    path = transcript(engine.claude_dir)
    path.write_bytes(record("m1", "r1", 1, 1) + record("m2", "r2", 2, 2))
    assert engine.json("usage", "ingest")["totals"] == sums(3, 3)
    assert engine.run("engine", "stop").returncode == 0
    with path.open("ab") as fh:  # written while no engine runs
        fh.write(record("m2", "r2", 2, 9) + record("m3", "r3", 4, 4))
    assert engine.run("engine", "start").returncode == 0
    # The engine catches up by itself on start; only the two new lines are read.
    assert retry_until(lambda: totals(engine) == sums(7, 14), 10, raises=False), totals(engine)
    last = api(engine, "usage.totals")["last_pass"]
    assert last["lines"] in (0, 2)  # the catch-up pass, or a later one that found nothing
    again = engine.json("usage", "ingest")
    assert again["lines"] == 0 and again["totals"] == sums(7, 14) and again["messages"] == 3


@pytest.mark.claude
def test_real_claude_code_tokens_are_counted_exactly(
    podium_env: PodiumEnv, make_claude_bed: Any
) -> None:
    """`claude -p` against the loopback API, with exact usage from the `USAGE` directive.

    What lands in the transcript (2.1.328): one `assistant` line per content block of
    each main-loop response (a tool call's answer is two lines, text and tool_use, with
    the same message.id and requestId); side requests (session titles) are not written
    there, and neither are the `cost-state` / `api-request` records' totals counted.
    """
    bed: ClaudeBed = make_claude_bed()
    first = bed.run_headless("USAGE 123 45 6 789\nREPLY pong")
    assert first.result is not None and not first.result["is_error"], first.stderr
    second = bed.run_headless(
        "USAGE 1000 7 11 13\nRUN_BASH echo hi", "--permission-mode", "acceptEdits"
    )
    assert second.result is not None and not second.result["is_error"], second.stderr
    out = podium_env.json("usage", "ingest", "--claude-dir", str(bed.config_dir))
    # 123/45/6/789, then 1000/7/11/13 (the tool call) and the fake's default 100/20 for
    # the answer after the tool result.
    assert out["totals"] == sums(123 + 1000 + 100, 45 + 7 + 20, 6 + 11, 789 + 13)
    assert out["messages"] == 3 and out["bad_lines"] == 0
    # Claude Code's own accounting of the same runs agrees.
    reported = [first.result["usage"], second.result["usage"]]
    assert out["totals"]["input"] == sum(u["input_tokens"] for u in reported)
    assert out["totals"]["output"] == sum(u["output_tokens"] for u in reported)
    assert out["totals"]["cache_read"] == sum(u["cache_read_input_tokens"] for u in reported)
    assert out["totals"]["cache_creation"] == sum(
        u["cache_creation_input_tokens"] for u in reported
    )
    assert podium_env.json("usage", "ingest", "--claude-dir", str(bed.config_dir))["lines"] == 0
    # The rows name the session and say that `claude -p` is headless.
    assert podium_env.run("engine", "stop").returncode == 0
    conn = duckdb.connect(str(podium_env.data / "podium.duckdb"), read_only=True)
    rows = conn.execute(
        "SELECT DISTINCT claude_session_id, entrypoint, entrypoint_raw, model FROM usage_messages"
    ).fetchall()
    conn.close()
    sessions = {first.result["session_id"], second.result["session_id"]}
    assert {r[0] for r in rows} == sessions
    assert {r[1:3] for r in rows} == {("headless", "sdk-cli")}
