"""A year of history written straight into a podium store, for bench/scale.py.

The demo's fortnight (`collectors.demo_history`), run over 365 days: the
per-minute `limit_series` (one row per window per minute, ≈ 1M rows), the
official figures of `limit_samples`, topped up with copies from other sources to
`samples`, and the person's spend split into `messages` rows of `usage_messages`
over many Claude sessions and projects, priced by the log's own price table.
Real tables, real migrations (`open_store`); written before any engine opens the
file (DuckDB has one writer).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from collectors.demo_history import _SPLIT, generate, seed_store
from collectors.limits import TOKEN_WEIGHTS
from collectors.store import open_store
from collectors.usage_log import UsageLog


def _unnest(types: list[str]) -> str:
    return ", ".join(f"unnest(?::{t}[])" for t in types)


def write_year(
    db: Path, now: datetime, *, messages: int, samples: int, seed: int = 3
) -> dict[str, int]:
    """Seed `db` (migrated, maybe holding sessions already) with a year up to `now`."""
    history = generate(now, days=365, seed=seed)
    rng = random.Random(seed)
    # More official figures: the same values from the other sources a person has
    # (a headless run's events, ~/.claude.json), seconds apart.
    extra = []
    base = [s for s in history.samples if s[4] == "statusline"]
    while len(history.samples) + len(extra) < samples:
        ts, window, pct, resets, _src, detail = rng.choice(base)
        source = rng.choice(("headless", "claude_json"))
        at = ts + timedelta(seconds=rng.randint(1, 50))
        extra.append((at, window, pct, resets, source, detail))
    history.samples.extend(extra)
    spend = history.spend
    history.spend = []  # the messages go in below, split as Claude Code's responses are
    conn = open_store(db)
    try:
        counts = seed_store(conn, history)
        counts["usage_messages"] = _messages(conn, spend, messages, rng)
        UsageLog(conn)  # prices every row, as the engine's log does on open
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    return counts


def _messages(
    conn: duckdb.DuckDBPyConnection,
    spend: list[tuple[datetime, str, float]],
    total: int,
    rng: random.Random,
) -> int:
    """`total` message rows whose weighted tokens add up to `spend`, in 40 projects and
    a Claude session per project per working block."""
    per = max(1, -(-total // max(1, len(spend))))
    cols: list[list[object]] = [[] for _ in range(9)]
    session, last = "", None
    n = 0
    for ts, model, weight in spend:
        if last is None or (ts - last) > timedelta(minutes=30):
            session = f"claude-{rng.getrandbits(64):016x}"
            project = f"/home/dev/proj{rng.randrange(40)}"
        last = ts
        for k in range(per):
            parts = {
                kind: round(weight / per * share / TOKEN_WEIGHTS[kind])
                for kind, share in _SPLIT.items()
            }
            at = ts + timedelta(milliseconds=k * 700)
            for col, value in zip(
                cols,
                (f"bench:{n}", at, session, project, model, parts["input"], parts["output"],
                 parts["cache_creation"], parts["cache_read"]),
                strict=True,
            ):  # fmt: skip
                col.append(value)
            n += 1
    types = ["VARCHAR", "TIMESTAMPTZ", "VARCHAR", "VARCHAR", "VARCHAR", "BIGINT", "BIGINT",
             "BIGINT", "BIGINT"]  # fmt: skip
    conn.execute(
        "INSERT INTO usage_messages (dedupe_key, ts, claude_session_id, project, model, "
        "input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, "
        "cache_creation_1h_tokens, is_sidechain, source_path) "
        f"SELECT {_unnest(types)}, 0, false, 'bench-year'",
        cols,
    )
    return n
