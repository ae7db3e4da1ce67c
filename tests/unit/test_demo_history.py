"""The demo's made-up fortnight: shape, the window rules, and what it writes."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from pathlib import Path

from collectors import demo_history
from collectors.limits import TOKEN_WEIGHTS
from collectors.store import open_store
from collectors.windows import FIVE_HOUR, SEVEN_DAY

NOW = datetime(2026, 11, 25, 15, 17, 30, tzinfo=timezone(timedelta(hours=1)))


def _rows(history: demo_history.History, window: str) -> list[tuple]:
    return [r for r in history.series if r[1] == window]


def test_two_weeks_a_row_a_minute_and_the_same_every_time():
    history = demo_history.generate(NOW)
    for window in (FIVE_HOUR, SEVEN_DAY):
        rows = _rows(history, window)
        assert len(rows) == 14 * 24 * 60 + 1
        assert rows[-1][0] == NOW.replace(second=0)
    assert demo_history.generate(NOW).series == history.series


def test_windows_follow_the_plan_rules():
    history = demo_history.generate(NOW)
    five = _rows(history, FIVE_HOUR)
    ends = []
    for before, after in itertools.pairwise(five):
        if before[3] is not None and before[3] != after[3]:
            ends.append(before[2])
            assert after[0] >= before[3]  # never reset early
        if after[3] is not None and before[3] is None:
            # Opened at the first use, on the hour, for 5 hours.
            assert after[3] - after[0] <= timedelta(hours=5)
            assert after[3].minute == 0
        assert 0 <= after[2] <= 100
    assert len(ends) >= 12
    assert any(used < 90 for used in ends)  # capacity left at reset: waste to show
    weekly = {r[3] for r in _rows(history, SEVEN_DAY)}
    assert len(weekly) == 3  # two resets in a fortnight, a fixed week apart
    resets = sorted(weekly)
    assert resets[1] - resets[0] == timedelta(days=7)
    # Nights are idle: hardly any use between 1 and 6 in the morning.
    night = [r for r in five if r[0].hour in range(1, 6) and r[4] == "statusline"]
    assert len(night) < len(five) // 100


def test_the_present_is_a_working_window_partly_spent():
    history = demo_history.generate(NOW)
    five, week = history.current[FIVE_HOUR], history.current[SEVEN_DAY]
    assert 20 <= five.used_pct <= 50 and five.resets_at is not None
    assert timedelta(hours=1) < five.resets_at - NOW < timedelta(hours=3)
    assert 5 <= week.used_pct <= 90
    assert week.resets_at is not None and week.resets_at - NOW > timedelta(days=2)
    last = {s[1]: s for s in history.samples if s[4] == "statusline"}
    assert last[FIVE_HOUR][2] == five.used_pct and last[FIVE_HOUR][3] == five.resets_at
    assert (NOW - last[SEVEN_DAY][0]).total_seconds() < 60  # fresh for the engine


def test_seed_store_writes_the_tables(tmp_path: Path):
    history = demo_history.generate(NOW)
    conn = open_store(tmp_path / "podium.duckdb")  # migration 0004 made usage_messages
    counts = demo_history.seed_store(conn, history)
    assert counts["limit_series"] == len(history.series)
    row = conn.execute(
        'SELECT count(*), min(minute) FROM limit_series WHERE "window" = ?', [SEVEN_DAY]
    ).fetchone()
    assert row is not None and row[0] == 14 * 24 * 60 + 1
    assert counts["usage_messages"] == len(history.spend) > 1000
    w = TOKEN_WEIGHTS
    weighted = conn.execute(
        f"SELECT sum(input_tokens * {w['input']} + output_tokens * {w['output']}"
        f" + cache_creation_tokens * {w['cache_creation']} + cache_read_tokens * {w['cache_read']})"
        " FROM usage_messages"
    ).fetchone()
    assert weighted is not None
    assert abs(float(weighted[0]) - sum(s[2] for s in history.spend)) < len(history.spend) * 5
    models = {r[0] for r in conn.execute("SELECT DISTINCT model FROM usage_messages").fetchall()}
    assert len(models) == 3
    conn.close()


def test_seed_store_without_the_token_table(tmp_path: Path):
    conn = open_store(tmp_path / "podium.duckdb")
    conn.execute("DROP TABLE usage_messages")  # an older schema: the series still goes in
    counts = demo_history.seed_store(conn, demo_history.generate(NOW, days=2))
    assert counts["usage_messages"] == 0 and counts["limit_samples"] > 0
    conn.close()
