"""`podium review`'s detectors on planted anomalies in a real DuckDB file.

Each test starts from the same healthy month (`review_log.ReviewLog.healthy`), plants
one anomaly, and checks the finding that names it with the right evidence; the
clean month yields no finding at all, so a detector that cries wolf fails here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.review import review
from tests.unit.review_log import NOW, OPUS, START, ReviewLog, healthy_copy


@pytest.fixture
def log(tmp_path: Path) -> Iterator[ReviewLog]:
    log = healthy_copy(tmp_path / "podium.duckdb", tmp_path)
    yield log
    log.conn.close()


def weekday_reserve(when: datetime) -> float:
    return 30.0 if when.weekday() < 5 and 9 <= when.hour < 19 else 5.0


def run_review(log: ReviewLog, **kwargs: Any) -> dict[str, Any]:
    log.series()
    kwargs.setdefault("reserve_at", weekday_reserve)
    kwargs.setdefault("transcripts", lambda: sorted(log.tmp.glob("*.jsonl")))
    return review(log.conn, start=START, now=NOW, **kwargs)


def kinds(result: dict[str, Any]) -> list[str]:
    return [f["kind"] for f in result["findings"]]


def only(result: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [f for f in result["findings"] if f["kind"] == kind]
    assert len(found) == 1, kinds(result)
    return found[0]


def test_a_clean_month_has_no_finding(log: ReviewLog) -> None:
    result = run_review(log)
    assert result["findings"] == [], [f["title"] for f in result["findings"]]
    assert result["problems"] == []
    # The figures the page draws are there all the same.
    assert len(result["daily"]) == 28
    assert sum(d["background_usd"] for d in result["daily"]) > 0
    assert sum(map(sum, result["attention_heatmap"])) == pytest.approx(20 * 3 * 4)


def test_a_wasted_weekend_is_found_with_its_quiet_hours(log: ReviewLog) -> None:
    week = START + timedelta(days=14)  # Mon 16 Nov
    friday_evening = week + timedelta(days=4, hours=18)
    log.flush().conn.execute(
        "DELETE FROM usage_messages WHERE ts >= ? AND ts < ?",
        [friday_evening, week + timedelta(days=7)],
    )
    log.week_plateaus[week] = (friday_evening, 62.0)
    result = run_review(log)
    finding = only(result, "unused_week")
    assert finding["amount"]["pct"] == 38.0
    assert finding["amount"]["window"] == "seven_day"
    # Where: the quiet stretch from Friday evening to the reset, named by weekday.
    assert finding["where"]["hours"][0].startswith("Fri 20 Nov 17:50–Mon 23 Nov 00:00")
    assert finding["amount"]["usd"] > 0  # calibrated from the other weeks
    assert finding["sure"] == "high"
    assert kinds(result) == ["unused_week"]


def test_a_loop_of_one_tool_error_is_found(log: ReviewLog) -> None:
    log.transcript_with_loop("loop-1", 9, error="Error: test_api.py line {n}: AssertionError")
    # Three of another error are not a loop.
    log.transcript_with_loop("fine-1", 3, error="Error: no such file /tmp/x{n}")
    result = run_review(log)
    finding = only(result, "loop")
    assert finding["amount"]["count"] == 9
    assert finding["evidence"][1] == ["tool", "Bash"]
    assert "line #" in finding["evidence"][0][1]
    assert finding["where"]["sessions"] == ["loop-1"]
    assert finding["amount"]["tokens"] == 9 * 21_700


def test_a_costly_task_stands_out(log: ReviewLog) -> None:
    day = START + timedelta(days=10, hours=7)
    task = log.run("big-1", day, day + timedelta(hours=1), cost=60.0, prompt="refactor all")
    result = run_review(log)
    finding = only(result, "cost_outlier_task")
    assert finding["where"]["tasks"] == [task]
    assert finding["amount"]["usd"] == 60.0
    assert ["median", "$1.80"] in finding["evidence"]


def test_a_reserve_far_above_the_persons_use_is_found(log: ReviewLog) -> None:
    # The person's own windows end at 12%, and the reserve is 60% all day.
    log.five_hour_peak = lambda opened, _active: 12.0 if 8 <= opened.hour < 19 else 90.0
    result = run_review(log, reserve_at=lambda when: 60.0 if 8 <= when.hour < 19 else 5.0)
    finding = only(result, "reserve_high")
    assert finding["amount"]["window"] == "five_hour"
    assert "[[fill.reserve]]" in finding["suggestion"]
    assert 'days = "mon-fri"' in finding["suggestion"]


def test_a_person_blocked_by_fill_is_found(log: ReviewLog) -> None:
    # Fill ran into Wednesday morning; the person then hit the limit at 11:00.
    wednesday = START + timedelta(days=9)
    t = wednesday + timedelta(hours=6)
    while t < wednesday + timedelta(hours=9):
        log.message(t, "night-9", cost=0.2)
        t += timedelta(minutes=10)
    log.conn.execute(
        "INSERT INTO attention_items (session_id, kind, opened_at) VALUES ('p-1', 'limited', ?)",
        [wednesday + timedelta(hours=11)],
    )
    result = run_review(log)
    finding = only(result, "person_blocked")
    assert finding["where"]["sessions"] == ["app"]
    assert finding["where"]["hours"] == ["Wed 11 Nov 11:00"]
    assert finding["amount"]["pct"] >= 10


def test_waits_overnight_and_a_noisy_hour_are_found(log: ReviewLog) -> None:
    log.wait("p-1", START + timedelta(days=2, hours=22), 9 * 60)
    for i in range(15):
        log.conn.execute(
            "INSERT INTO alerts (sent_at, kind, sessions) VALUES (?, 'bell', ['p-1'])",
            [START + timedelta(days=5, hours=10, minutes=3 * i)],
        )
    result = run_review(log)
    assert only(result, "overnight_wait")["where"]["sessions"] == ["app"]
    assert only(result, "waiting")["amount"]["count"] == 61
    assert only(result, "alert_noise")["amount"]["count"] == 15


def test_small_opus_turns_and_a_full_opus_week(log: ReviewLog) -> None:
    day = START + timedelta(days=1, hours=19)
    for i in range(120):
        log.message(
            day + timedelta(minutes=i),
            "person-1",
            model=OPUS,
            tokens=(100, 80, 500, 30_000),
            cost=0.04,
        )
    log.series()
    log.conn.execute(
        """
        INSERT INTO limit_series SELECT minute, 'seven_day_opus', 97, resets_at, 'statusline', 0
        FROM limit_series WHERE "window" = 'seven_day' AND minute >= ? AND minute < ?
        """,
        [START + timedelta(days=3), START + timedelta(days=3, hours=1)],
    )
    result = review(
        log.conn, start=START, now=NOW, reserve_at=weekday_reserve, transcripts=lambda: []
    )
    assert only(result, "model_mix")["amount"]["count"] == 120
    scoped = only(result, "scoped_week_full")
    assert scoped["where"]["hours"] == ["Thu 05 Nov 00:00"]


def test_a_detector_that_fails_is_named_and_the_rest_report(log: ReviewLog) -> None:
    log.series()
    log.conn.execute("DROP TABLE alerts")
    result = review(log.conn, start=START, now=NOW, transcripts=lambda: [])
    assert [p.split(":")[0] for p in result["problems"]] == ["attention"]


def test_findings_are_json(log: ReviewLog) -> None:
    import json  # only here: the round trip is what is tested

    log.transcript_with_loop("loop-1", 7, error="boom {n}")
    result = run_review(log)
    assert json.loads(json.dumps(result)) == result
    assert isinstance(result["findings"][0]["evidence"][0], list)


def test_context_bloat_stopped_runs_and_a_failing_task(log: ReviewLog) -> None:
    day = START + timedelta(days=8, hours=9)
    for i in range(60):  # each turn writes its whole context again
        log.message(day + timedelta(minutes=6 * i), "bloat-1", tokens=(200, 300, 60_000, 2_000))
    for i in range(3):
        at = START + timedelta(days=4 + i, hours=7)
        log.run(
            f"fail-{i}",
            at,
            at + timedelta(minutes=5),
            cost=0.3,
            state="failed",
            prompt="update the changelog",
        )
    at = START + timedelta(days=12, hours=7)
    budget_task = log.run(
        "budget-1",
        at,
        at + timedelta(minutes=30),
        cost=1.5,
        state="failed",
        terminal_reason="budget",
        prompt="big search",
    )
    result = run_review(log)
    bloat = only(result, "context_bloat")
    assert bloat["where"]["sessions"] == ["bloat-1"]
    assert bloat["amount"]["tokens"] == 60 * 60_000
    failing = only(result, "failing_task")
    assert failing["amount"]["count"] == 3
    assert "update the changelog" in failing["title"]
    assert only(result, "stopped_budget")["where"]["tasks"] == [budget_task]


def test_text_from_someone_elses_repository_reaches_the_terminal_as_text(log: ReviewLog) -> None:
    # A tool error may carry escapes (a title change, the clipboard, bidi overrides).
    hostile = "boom \x1b]52;c;cm0gLXJm\x07\x1b[2J\u202e line {n}\x9b"
    log.transcript_with_loop("loop-1", 7, error=hostile)
    log.flush().conn.execute("UPDATE usage_messages SET project = '/w/\x1b[31mred' WHERE true")
    result = run_review(log)
    text = json.dumps(result["findings"], ensure_ascii=False)
    assert "\x1b" not in text and "\u202e" not in text and "\x9b" not in text
    assert "boom" in only(result, "loop")["detail"]
    assert only(result, "loop")["where"]["projects"] == ["/work/app"]  # the transcript's cwd
