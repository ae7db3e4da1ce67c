"""A run's live spend from its stream-json lines (`sessions.fill.spend`), and the one
weighting of tokens shared by the usage log's SQL and Python."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from collectors.limit_log import WEIGHTED_TOKENS_SQL
from collectors.limits import weighted_tokens
from sessions.fill.spend import SpendFollower

DATA = Path(__file__).parent / "data" / "stream_json_gateway_2.1.328.jsonl"
NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def assistant(
    msg_id: str | None,
    *,
    model: str = "claude-sonnet-4-5-20250929",
    inp: int = 0,
    out: int = 0,
    write: int = 0,
    read: int = 0,
    block: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An `assistant` line as Claude Code 2.1.328 writes it in `claude -p` stream-json."""
    message: dict[str, Any] = {
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [block or {"type": "text", "text": "hi"}],
        "stop_reason": None,
        "usage": {
            "input_tokens": inp,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0},
            "output_tokens": out,
            "service_tier": "standard",
        },
    }
    if msg_id is not None:
        message["id"] = msg_id
    return {
        "type": "assistant",
        "message": message,
        "parent_tool_use_id": None,
        "session_id": "5eb4f125-4eeb-4355-b4fc-58b73dc51d5d",
    }


@pytest.mark.parametrize(
    "counts", [(0, 0, 0, 0), (100, 20, 0, 0), (515, 157, 1000, 30000), (1, 2, 3, 4)]
)
def test_sql_and_python_weigh_tokens_alike(counts: tuple[int, int, int, int]) -> None:
    inp, out, write, read = counts
    sql = f"SELECT {WEIGHTED_TOKENS_SQL} FROM (SELECT ? AS input_tokens, ? AS output_tokens, "
    sql += "? AS cache_creation_tokens, ? AS cache_read_tokens)"
    [(from_sql,)] = duckdb.connect().execute(sql, [inp, out, write, read]).fetchall()
    assert float(from_sql) == pytest.approx(weighted_tokens(inp, write, read, out))


def test_nothing_spent_yet_is_none() -> None:
    follower = SpendFollower()
    assert follower.spend() is None
    follower.feed({"type": "system", "subtype": "init", "session_id": "x"}, NOW)
    assert follower.spend() is None


def test_the_real_clis_stream_sums_once_per_message_and_skips_synthetic_errors() -> None:
    follower = SpendFollower()
    for line in DATA.read_text().splitlines():
        follower.feed(json.loads(line), NOW)
    spend = follower.spend()
    assert spend is not None
    # One real answer (100 in, 20 out: its line says 1 out, the result's modelUsage 20);
    # the 429s' synthetic messages spent nothing.
    assert spend.by_model == {"claude-opus-5-5": 100 + 20 * 5}
    assert spend.weighted_tokens == 200
    assert spend.cost_usd == 0  # the last result's own figure (a 429: nothing)


def test_before_the_result_output_shows_as_the_stream_gives_it() -> None:
    follower = SpendFollower()
    follower.feed(json.loads(DATA.read_text().splitlines()[0]), NOW)
    spend = follower.spend()
    assert spend is not None and spend.weighted_tokens == 100 + 1 * 5
    assert spend.updated_at == NOW


def test_one_line_per_content_block_counts_once_with_the_fullest_usage() -> None:
    follower = SpendFollower()
    later = NOW.replace(minute=5)
    # The text block's line carries a partial output count; the tool_use block's the full.
    follower.feed(assistant("msg_1", inp=3000, out=1, read=1000), NOW)
    tool = {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}
    assert follower.feed(assistant("msg_1", inp=3000, out=40, read=1000, block=tool), later)
    assert not follower.feed(assistant("msg_1", inp=3000, out=1, read=1000), later)  # a replay
    follower.feed(assistant("msg_2", model="claude-haiku-4-5", inp=10, out=2), later)
    spend = follower.spend()
    assert spend is not None
    assert spend.by_model == {
        "claude-sonnet-4-5-20250929": 3000 + 40 * 5 + 1000 * 0.1,
        "claude-haiku-4-5": 10 + 2 * 5,
    }
    assert spend.weighted_tokens == pytest.approx(3300 + 20)
    assert spend.updated_at == later
    # Priced at list prices until the result gives Claude Code's own figure.
    assert spend.cost_usd is not None and spend.cost_usd > 0
    follower.feed({"type": "result", "subtype": "success", "total_cost_usd": 0.125}, later)
    final = follower.spend()
    assert final is not None and final.cost_usd == 0.125
    assert final.weighted_tokens == spend.weighted_tokens


def test_lines_without_an_id_count_each_and_garbage_counts_nothing() -> None:
    follower = SpendFollower()
    follower.feed(assistant(None, inp=10), NOW)
    follower.feed(assistant(None, inp=10), NOW)
    hostile: list[Any] = [
        {"type": "assistant"},
        {"type": "assistant", "message": "no"},
        {"type": "assistant", "message": {"usage": []}},
        assistant("bad", inp=-5, out=float("nan")),  # type: ignore[arg-type]
        assistant("big", inp=10**30),
        assistant("bool", inp=True),  # type: ignore[arg-type]
        {"type": "result", "total_cost_usd": "lots"},
    ]
    for obj in hostile:
        follower.feed(obj, NOW)
    spend = follower.spend()
    assert spend is not None and spend.weighted_tokens == 20


def test_an_unpriced_model_has_no_cost_until_the_result() -> None:
    follower = SpendFollower()
    follower.feed(assistant("m", model="some-local-model", inp=10), NOW)
    spend = follower.spend()
    assert spend is not None and spend.cost_usd is None and spend.weighted_tokens == 10
