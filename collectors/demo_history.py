"""Two weeks of made-up but plausible plan usage, for `podium demo`.

The demo runs on a machine with no Claude account, yet its usage header and
usage screen should have something to show from the first frame. This module
makes a person's fortnight, minute by minute, and runs it through the same
window rules as Claude's plan limits (and `sessions.sim`'s account):

- working hours are busy (a morning and an afternoon block on weekdays, an
  evening now and then, a little at weekends), nights are idle;
- a 5-hour window opens at the first use after the last one ended (on the
  hour, as Claude Code's "resets 6pm" reads) and resets 5 hours later, so a
  morning window often resets with capacity left: what the waste table counts;
- the weekly window resets at a fixed time every 7 days;
- a window that reaches 100% stops the person until it resets;
- the person ends up working right now, in a 5-hour window opened a while ago,
  so that the demo's busy sessions belong to it.

`seed_store` writes the result into a fresh store before the engine opens it
(DuckDB has one writer: the engine alone holds the file once it runs): the
per-minute `limit_series`, the `statusline` figures of `limit_samples` (one
per active minute, the last one a moment ago, so the header is fresh), and,
when transcript ingest's `usage_messages` table is there, one message row per
active minute, by model, whose weighted tokens make up those percentages.

Deterministic for a given `now` and seed. Stdlib and DuckDB only.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from collectors.limits import TOKEN_WEIGHTS
from collectors.windows import FIVE_HOUR, FIVE_HOURS, SEVEN_DAY, WEEK

log = logging.getLogger("podium.demo_history")

# The sim account's default capacities (`sessions.sim.account`), in weighted tokens.
FIVE_HOUR_TOKENS = 2_000_000
SEVEN_DAY_TOKENS = 12 * FIVE_HOUR_TOKENS
# A figure older than this is no longer official in the series (`[usage] fresh_minutes`).
FRESH_S = 15 * 60
# Where the present stands in its windows: the current 5-hour window opened this
# long ago (on the hour, so up to an hour more), the weekly one resets this long
# from now. Fixed, so the demo looks the same at any hour it is started.
CURRENT_BLOCK = timedelta(hours=2, minutes=43)
WEEK_RESETS_IN = timedelta(days=2, hours=5)
# How one weighted token of a message splits by kind (shares of the weight):
# Claude Code's traffic is mostly cache reads by count, mostly output by weight.
_SPLIT = {"output": 0.45, "cache_read": 0.30, "cache_creation": 0.20, "input": 0.05}
_MODELS = (("claude-sonnet-4-5", 0.70), ("claude-opus-4-5", 0.25), ("claude-haiku-4-5", 0.05))


@dataclass(frozen=True)
class WindowNow:
    """A window at the end of the history."""

    window: str
    used_pct: float
    resets_at: datetime | None


@dataclass
class History:
    now: datetime
    # (minute, window, used_pct, resets_at, source, age_s): one row per window per minute.
    series: list[tuple[datetime, str, float, datetime | None, str, float | None]]
    # (ts, window, used_pct, resets_at, source, detail): official figures as they came.
    samples: list[tuple[datetime, str, float, datetime | None, str, str | None]]
    # (ts, model, weighted tokens): what the person spent, minute by minute.
    spend: list[tuple[datetime, str, float]]
    current: dict[str, WindowNow] = field(default_factory=dict)
    capacity: dict[str, int] = field(default_factory=dict)


def _floor_minute(when: datetime) -> datetime:
    return when.replace(second=0, microsecond=0)


def _floor_hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def _blocks(rng: random.Random, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Working blocks (local time of `start`) between `start` and `end`."""
    blocks: list[tuple[datetime, datetime]] = []
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:

        def at(hour: float, jitter_min: float = 20.0, _day: datetime = day) -> datetime:
            return _day + timedelta(minutes=hour * 60 + rng.gauss(0, jitter_min))

        if day.weekday() < 5:
            blocks.append((at(9.0), at(12.3, 15)))
            blocks.append((at(13.5), at(18.0, 30)))
            if rng.random() < 0.3:
                blocks.append((at(20.5), at(22.0)))
        elif rng.random() < 0.4:
            blocks.append((at(14.0, 60), at(16.5, 30)))
        day += timedelta(days=1)
    return blocks


def generate(
    now: datetime,
    days: int = 14,
    seed: int = 1,
    five_hour_tokens: int = FIVE_HOUR_TOKENS,
    seven_day_tokens: int = SEVEN_DAY_TOKENS,
) -> History:
    """`days` of history up to `now` (an aware datetime; its zone sets the working hours)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    rng = random.Random(seed)
    end = _floor_minute(now)
    start = end - timedelta(days=days)
    # Run a week before the first row, so the first weekly window shown is not empty.
    run_from = start - WEEK
    current_start = end - CURRENT_BLOCK
    # A break of a full window before the current block, so it opens a window of its own.
    quiet_from = current_start - FIVE_HOURS
    blocks = [(a, b) for a, b in _blocks(rng, run_from, current_start) if b <= quiet_from]
    # Weighted tokens per active minute of each block: 4k-13k makes a morning
    # window end anywhere from a third used to full.
    rates = [rng.uniform(4_000, 13_000) for _ in blocks]
    blocks.append((current_start, end + timedelta(minutes=1)))
    # The current block is steady and gentle (30% of a window over it), so the demo
    # opens with room left, and a burn rate that does not project a limit hit.
    rates.append(0.30 * five_hour_tokens / (CURRENT_BLOCK.total_seconds() / 60))

    capacity = {FIVE_HOUR: five_hour_tokens, SEVEN_DAY: seven_day_tokens}
    week_reset = _floor_hour(end + WEEK_RESETS_IN)
    while week_reset - WEEK > run_from:
        week_reset -= WEEK
    used = {FIVE_HOUR: 0.0, SEVEN_DAY: 0.0}
    resets: dict[str, datetime | None] = {FIVE_HOUR: None, SEVEN_DAY: week_reset}
    last_official: datetime | None = None
    series: list[tuple[datetime, str, float, datetime | None, str, float | None]] = []
    samples: list[tuple[datetime, str, float, datetime | None, str, str | None]] = []
    spend: list[tuple[datetime, str, float]] = []
    block_i = 0
    minute = run_from
    while minute <= end:
        # Resets first: a window whose time has come is empty from this minute on.
        five_reset = resets[FIVE_HOUR]
        if five_reset is not None and minute >= five_reset:
            used[FIVE_HOUR], resets[FIVE_HOUR] = 0.0, None
        week = resets[SEVEN_DAY]
        if week is not None and minute >= week:
            used[SEVEN_DAY] = 0.0
            resets[SEVEN_DAY] = week + WEEK
        while block_i < len(blocks) and blocks[block_i][1] <= minute:
            block_i += 1
        working = block_i < len(blocks) and blocks[block_i][0] <= minute
        full = any(used[w] >= capacity[w] for w in used)
        in_current = minute >= current_start
        if working and not full and (in_current or rng.random() < 0.75):
            rate = rates[block_i]
            # A person who has spent most of the week slows down.
            if used[SEVEN_DAY] > 0.8 * capacity[SEVEN_DAY] and not in_current:
                rate *= 0.4
            amount = rate * (1.0 if in_current else rng.uniform(0.3, 1.7))
            if resets[FIVE_HOUR] is None:
                resets[FIVE_HOUR] = _floor_hour(minute) + FIVE_HOURS
            for w in used:
                used[w] = min(float(capacity[w]), used[w] + amount)
            seen = minute + timedelta(seconds=rng.randint(1, 59))
            last_official = seen
            if minute >= start:
                spend.append((seen, _model(rng), amount))
                for w in used:
                    pct = round(used[w] / capacity[w] * 100, 2)
                    samples.append((seen, w, pct, resets[w], "statusline", None))
                    if used[w] >= capacity[w]:
                        samples.append((seen, w, 100.0, resets[w], "limit_text", _limit_text(w)))
        for w in used if minute >= start else ():
            pct = round(used[w] / capacity[w] * 100, 2)
            if resets[w] is None:
                series.append((minute, w, 0.0, None, "estimate", None))
                continue
            age = max(0.0, (minute - last_official).total_seconds()) if last_official else None
            fresh = age is not None and age <= FRESH_S
            source = "statusline" if fresh else "estimate"
            series.append((minute, w, pct, resets[w], source, age))
        minute += timedelta(minutes=1)
    # A figure from a moment ago, so the engine's first answer is an official one.
    for w in used:
        pct = round(used[w] / capacity[w] * 100, 2)
        samples.append((now - timedelta(seconds=2), w, pct, resets[w], "statusline", None))
    current = {w: WindowNow(w, round(used[w] / capacity[w] * 100, 2), resets[w]) for w in used}
    return History(now, series, samples, spend, current, dict(capacity))


def _model(rng: random.Random) -> str:
    pick = rng.random()
    for model, share in _MODELS:
        if pick < share:
            return model
        pick -= share
    return _MODELS[0][0]


def _limit_text(window: str) -> str:
    return "weekly limit reached" if window == SEVEN_DAY else "5-hour limit reached"


def _unnest(types: list[str]) -> str:
    return ", ".join(f"unnest(?::{t}[])" for t in types)


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    return [[row[i] for row in rows] for i in range(width)]


def seed_store(conn: duckdb.DuckDBPyConnection, history: History) -> dict[str, int]:
    """Write `history` into a migrated store; returns rows written per table.

    Lists go in as parameters and are unnested in SQL: one statement per table
    (executemany costs about a millisecond a row, and the series has 40 000).
    """
    counts: dict[str, int] = {}
    types = ["TIMESTAMPTZ", "VARCHAR", "DOUBLE", "TIMESTAMPTZ", "VARCHAR", "DOUBLE"]
    conn.execute(
        'INSERT OR IGNORE INTO limit_series (minute, "window", used_pct, resets_at, source, age_s) '
        f"SELECT {_unnest(types)}",
        _columns(history.series, 6),
    )
    counts["limit_series"] = len(history.series)
    types[-1] = "VARCHAR"
    conn.execute(
        'INSERT INTO limit_samples (ts, "window", used_pct, resets_at, source, detail) '
        f"SELECT {_unnest(types)}",
        _columns(history.samples, 6),
    )
    counts["limit_samples"] = len(history.samples)
    counts["usage_messages"] = _seed_messages(conn, history)
    return counts


def _seed_messages(conn: duckdb.DuckDBPyConnection, history: History) -> int:
    """Message rows whose weighted tokens are the history's spend, when the table exists.

    The table comes with transcript ingest (migration 0004); its columns are
    those of that migration. A schema this does not fit is logged and skipped:
    the demo's limits do not depend on it.
    """
    exists = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'usage_messages'"
    ).fetchone()
    if not (exists and exists[0]):
        return 0
    cols: dict[str, list[object]] = {
        k: []
        for k in (
            "dedupe_key", "ts", "model", "input_tokens", "output_tokens",
            "cache_creation_tokens", "cache_creation_1h_tokens", "cache_read_tokens",
            "is_sidechain", "source_path",
        )
    }  # fmt: skip
    for i, (ts, model, weight) in enumerate(history.spend):
        parts = {
            kind: round(weight * share / TOKEN_WEIGHTS[kind]) for kind, share in _SPLIT.items()
        }
        for key, value in (
            ("dedupe_key", f"demo:{i}"), ("ts", ts), ("model", model),
            ("input_tokens", parts["input"]), ("output_tokens", parts["output"]),
            ("cache_creation_tokens", parts["cache_creation"]), ("cache_creation_1h_tokens", 0),
            ("cache_read_tokens", parts["cache_read"]), ("is_sidechain", False),
            ("source_path", "podium-demo"),
        ):  # fmt: skip
            cols[key].append(value)
    types = ["VARCHAR", "TIMESTAMPTZ", "VARCHAR", "BIGINT", "BIGINT", "BIGINT", "BIGINT",
             "BIGINT", "BOOLEAN", "VARCHAR"]  # fmt: skip
    try:
        conn.execute(
            f"INSERT INTO usage_messages ({', '.join(cols)}) SELECT {_unnest(types)}",
            list(cols.values()),
        )
    except duckdb.Error as exc:
        log.warning("demo history: usage_messages not seeded (%s)", exc)
        return 0
    return len(history.spend)
