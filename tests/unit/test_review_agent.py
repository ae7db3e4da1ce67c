"""The agent's answer read back (`collectors.review.model_findings`), the digest's
bounds, and when the weekly agent review is due."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.review import review
from collectors.review.digest import MAX_BYTES, build
from collectors.review.model_findings import BadAnswer, parse
from collectors.settings import ReviewSettings
from collectors.store import open_store
from sessions.engine.review_agent import LAST_KEY, ReviewAgent
from sessions.fill.queue import QueueStore
from tests.unit.review_log import NOW, START, healthy_copy


def finding(**extra: Any) -> dict[str, Any]:
    return {"title": "t", "detail": "d", "suggestion": "s", **extra}


def test_an_answer_in_prose_and_a_code_block_is_read() -> None:
    text = "Here it is:\n```json\n" + json.dumps({"findings": [finding(confidence=0.9)]}) + "\n```"
    [f] = parse(text)
    assert (f.title, f.source, f.kind, f.sure) == ("t", "model", "model", "high")


@pytest.mark.parametrize(
    "answer",
    ["no json at all", '{"findings": "many"}', '{"findings": [{"title": "only"}]}', "{broken"],
)
def test_an_answer_without_findings_is_refused_in_words(answer: str) -> None:
    with pytest.raises(BadAnswer):
        parse(answer)


def test_what_the_model_says_is_bounded_and_checked() -> None:
    many = [
        finding(
            title="x" * 500,
            area="<script>",
            confidence="very",
            evidence=[["a", "b"], ["bad"], *([["k", "v"]] * 20)],
            where={"sessions": [{"nested": 1}, "s1"], "projects": "not a list"},
        )
    ] * 30
    found = parse(json.dumps({"findings": many}))
    assert len(found) == 10
    f = found[0]
    assert len(f.title) == 160 and f.area == "habits" and f.confidence == 0.3
    assert f.evidence[0] == ("a", "b") and len(f.evidence) == 7
    assert f.where.sessions == ["s1"] and f.where.projects == []


def test_the_digest_is_figures_only_and_bounded(tmp_path: Path) -> None:
    log = healthy_copy(tmp_path / "podium.duckdb", tmp_path)
    conn = log.conn
    log.transcript_with_loop("loop-1", 8, error="secret token sk-123 line {n}")
    log.series()
    result = review(conn, start=START, now=NOW, transcripts=lambda: [tmp_path / "loop-1.jsonl"])
    digest = build(conn, result, zone="UTC")
    text = json.dumps(digest)
    assert len(text) <= MAX_BYTES
    assert "transcripts" not in digest
    assert {p["project"] for p in digest["by_project"]} == {"/work/app"}
    assert [f["kind"] for f in digest["computed_findings"]] == ["loop"]
    allowed = build(conn, result, zone="UTC", transcripts=True)
    assert allowed["transcripts"] == [str(tmp_path / "loop-1.jsonl")]


def test_the_weekly_review_comes_a_week_after_fill_was_first_on(tmp_path: Path) -> None:
    store = QueueStore(open_store(tmp_path / "podium.duckdb"))
    fill_on = [False]

    async def unused(*_: Any) -> Any:
        raise AssertionError("not queued in this test")

    agent = ReviewAgent(
        folder=tmp_path / "reviews",
        settings=ReviewSettings(),
        store=store,
        blocking=unused,
        spawn=lambda coro, name: coro.close(),
        queue_add=unused,
        compute=unused,
        fill_enabled=lambda: fill_on[0],
    )
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert not agent.due(now)  # fill off
    assert store.state(LAST_KEY) is None
    fill_on[0] = True
    assert not agent.due(now)  # first seen on: the clock starts
    assert not agent.due(now + timedelta(days=6, hours=23))
    assert agent.due(now + timedelta(days=7))
    off = ReviewAgent(**{**agent.__dict__, "settings": ReviewSettings(agent_weekly=False)})
    assert not off.due(now + timedelta(days=30))
