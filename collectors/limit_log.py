"""The limit tables of the usage log: samples as they arrive, the per-minute series,
process stats, and the local token counts estimates are made from.

Runs on the engine's loop thread (it alone holds the DuckDB connection).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from collectors.limits import (
    TOKEN_WEIGHTS,
    LimitSample,
    Point,
    freshest,
)
from collectors.windows import MAIN_WINDOWS

# An unchanged figure is stored again at most this often (the statusline repeats
# the same numbers every few seconds while a session works); its time of last
# sight is kept in memory, so freshness stays exact.
HEARTBEAT_S = 60.0
# Windows seen this recently are kept in the series even when no source repeats them.
KEEP_WINDOWS_DAYS = 8

# Tokens weighted as plan limits count them; the fill forecast sums them too. Its Python
# twin is `collectors.limits.weighted_tokens` (a test holds them equal).
WEIGHTED_TOKENS_SQL = (
    f"coalesce(input_tokens, 0) * {TOKEN_WEIGHTS['input']}"
    f" + coalesce(cache_creation_tokens, 0) * {TOKEN_WEIGHTS['cache_creation']}"
    f" + coalesce(cache_read_tokens, 0) * {TOKEN_WEIGHTS['cache_read']}"
    f" + coalesce(output_tokens, 0) * {TOKEN_WEIGHTS['output']}"
)


@dataclass(frozen=True)
class SeriesRow:
    window: str
    used_pct: float
    resets_at: datetime | None
    source: str
    age_s: float | None


@dataclass(frozen=True)
class ProcessRow:
    session_id: str
    pid_count: int
    cpu_pct: float | None
    rss_bytes: int


def _same(a: LimitSample, b: LimitSample) -> bool:
    return a.used_pct == b.used_pct and a.resets_at == b.resets_at


class LimitLog:
    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        # (window, source) -> the latest figure seen / the last one stored.
        self._latest: dict[tuple[str, str], LimitSample] = {}
        self._stored: dict[tuple[str, str], LimitSample] = {}
        self.reload()

    def reload(self) -> None:
        """Read the latest stored figures again: after a failed write, `_stored` may
        hold figures the table does not, which would never be stored then. (Figures
        seen, `_latest`, stay: they were seen, stored or not.)"""
        self._stored = {}
        rows = self.conn.execute(
            'SELECT ts, "window", used_pct, resets_at, source, detail FROM ('
            '  SELECT *, row_number() OVER (PARTITION BY "window", source ORDER BY ts DESC) AS n'
            "  FROM limit_samples WHERE source <> 'estimate' AND ts > now() - to_days(?)"
            ") WHERE n = 1",
            [KEEP_WINDOWS_DAYS],
        ).fetchall()
        for ts, window, pct, resets, source, detail in rows:
            s = LimitSample(ts, window, pct, resets, source, detail)
            self._stored[(window, source)] = s
            seen = self._latest.get((window, source))
            if seen is None or seen.ts < s.ts:
                self._latest[(window, source)] = s

    # -- samples ----------------------------------------------------------------------
    def record(self, samples: Iterable[LimitSample]) -> list[LimitSample]:
        """Store new figures; returns those that told something new (value or window)."""
        changed: list[LimitSample] = []
        for s in samples:
            key = (s.window, s.source)
            latest = self._latest.get(key)
            if latest is None or s.ts >= latest.ts:
                self._latest[key] = s
                if latest is None or not _same(latest, s):
                    changed.append(s)
            stored = self._stored.get(key)
            repeat = stored is not None and _same(stored, s)
            if repeat and (s.ts <= stored.ts or (s.ts - stored.ts).total_seconds() < HEARTBEAT_S):
                continue
            self.conn.execute(
                'INSERT INTO limit_samples (ts, "window", used_pct, resets_at, source, detail) '
                "VALUES (?, ?, ?, ?, ?, ?)",
                [s.ts, s.window, s.used_pct, s.resets_at, s.source, s.detail],
            )
            if stored is None or s.ts >= stored.ts:
                self._stored[key] = s
        return changed

    def latest(self, window: str) -> LimitSample | None:
        """The freshest official figure of `window`, over every source."""
        return freshest(s for (w, _src), s in self._latest.items() if w == window)

    def windows(self, now: datetime) -> list[str]:
        """The two main windows, then every other window seen in the last days."""
        since = now - timedelta(days=KEEP_WINDOWS_DAYS)
        others = sorted(
            {w for (w, _src), s in self._latest.items() if w not in MAIN_WINDOWS and s.ts > since}
        )
        return [*MAIN_WINDOWS, *others]

    # -- local tokens (table usage_messages, from transcript ingest) -------------------
    def has_tokens(self) -> bool:
        """Whether transcript ingest has logged anything (its table, migration 0004, is
        always there once merged; an empty log is no ground for an estimate)."""
        row = self.conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'usage_messages'"
        ).fetchone()
        if not (row and row[0]):
            return False
        return self.conn.execute("SELECT 1 FROM usage_messages LIMIT 1").fetchone() is not None

    def tokens(self, since: datetime, until: datetime, model_like: str | None = None) -> float:
        """Weighted tokens of the messages in (since, until], of the models matching."""
        sql = (
            f"SELECT coalesce(sum({WEIGHTED_TOKENS_SQL}), 0) FROM usage_messages "
            "WHERE ts > ? AND ts <= ?"
        )
        params: list[object] = [since, until]
        if model_like:
            sql += " AND model ILIKE ?"
            params.append(model_like)
        row = self.conn.execute(sql, params).fetchone()
        return float(row[0]) if row else 0.0

    def first_use(
        self, since: datetime, until: datetime, model_like: str | None = None
    ) -> datetime | None:
        """The first message with tokens in (since, until]: when a window opened."""
        sql = (
            "SELECT min(ts) FROM usage_messages WHERE ts > ? AND ts <= ? "
            f"AND ({WEIGHTED_TOKENS_SQL}) > 0"
        )
        params: list[object] = [since, until]
        if model_like:
            sql += " AND model ILIKE ?"
            params.append(model_like)
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row and row[0] else None

    # -- the series ----------------------------------------------------------------------
    def write_series(self, minute: datetime, rows: Sequence[SeriesRow]) -> None:
        """One row per window for `minute`; a minute already written is kept as it was."""
        for r in rows:
            self.conn.execute(
                "INSERT OR IGNORE INTO limit_series "
                '(minute, "window", used_pct, resets_at, source, age_s) VALUES (?, ?, ?, ?, ?, ?)',
                [minute, r.window, r.used_pct, r.resets_at, r.source, r.age_s],
            )

    def series(self, window: str, since: datetime) -> list[Point]:
        rows = self.conn.execute(
            'SELECT minute, used_pct FROM limit_series WHERE "window" = ? AND minute >= ? '
            "ORDER BY minute",
            [window, since],
        ).fetchall()
        return [Point(ts, pct) for ts, pct in rows]

    def write_processes(self, minute: datetime, rows: Sequence[ProcessRow]) -> None:
        for r in rows:
            self.conn.execute(
                "INSERT OR IGNORE INTO process_samples "
                "(minute, session_id, pid_count, cpu_pct, rss_bytes) VALUES (?, ?, ?, ?, ?)",
                [minute, r.session_id, r.pid_count, r.cpu_pct, r.rss_bytes],
            )
