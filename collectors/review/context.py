"""What every detector of a review shares: the period, the zone, who is whom.

`Context.load` reads once what several detectors need: which Claude sessions were
podium's background runs (the rest is the person's own use), the names podium gave
sessions, and how many dollars at list price one percent of each window is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

import duckdb

from collectors.review.robust import median
from collectors.windows import model_pattern, window_length

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# A window instance calibrates dollars per percent only when it used at least this much
# (a few percent of a window is mostly rounding of the official figure).
CALIBRATE_MIN_PCT = 5.0


@dataclass
class Context:
    conn: duckdb.DuckDBPyConnection
    start: datetime
    now: datetime
    tz: tzinfo
    background: frozenset[str] = frozenset()
    names: dict[str, str] = field(default_factory=dict)
    usd_per_pct: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(
        cls, conn: duckdb.DuckDBPyConnection, start: datetime, now: datetime, tz: tzinfo
    ) -> Context:
        background = frozenset(
            sid
            for (sid,) in conn.execute(
                "SELECT DISTINCT claude_session_id FROM queue_runs "
                "WHERE claude_session_id IS NOT NULL"
            ).fetchall()
        )
        names = dict(
            conn.execute(
                "SELECT claude_session_id, arg_max(name, created_at) FROM sessions "
                "WHERE claude_session_id IS NOT NULL GROUP BY claude_session_id"
            ).fetchall()
        )
        ctx = cls(conn, start, now, tz, background, names)
        ctx.usd_per_pct = ctx._calibrate()
        return ctx

    @property
    def zone_name(self) -> str:
        """The zone's IANA name for DuckDB's `timezone()` (UTC for a fixed offset)."""
        return getattr(self.tz, "key", None) or "UTC"

    def session_label(self, claude_session_id: str | None) -> str:
        if not claude_session_id:
            return "?"
        name = self.names.get(claude_session_id)
        return f"{name} ({claude_session_id[:8]})" if name else claude_session_id[:8]

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.tz)

    def clock(self, when: datetime) -> str:
        """'Sat 06 Dec 14:00' in the review's zone."""
        at = self.local(when)
        return f"{WEEKDAYS[at.weekday()]} {at:%d %b %H:%M}"

    def span(self, first: datetime, last: datetime) -> str:
        return f"{self.clock(first)}–{self.clock(last)}"

    def _calibrate(self) -> dict[str, float]:
        """Dollars at list price per percent of each window: the median over ended
        instances of (spend inside the instance) / (its last figure)."""
        rows = self.conn.execute(
            """
            SELECT "window", resets_at, arg_max(used_pct, minute) AS pct
            FROM limit_series
            WHERE resets_at IS NOT NULL AND minute < resets_at AND resets_at <= ?
              AND resets_at >= ? AND source <> 'estimate'
            GROUP BY "window", resets_at
            """,
            [self.now, self.start],
        ).fetchall()
        ratios: dict[str, list[float]] = {}
        for window, resets_at, pct in rows:
            if pct < CALIBRATE_MIN_PCT:
                continue
            length = window_length(window)
            pattern = model_pattern(window)
            models = "AND model LIKE ?" if pattern else ""
            (usd,) = self.conn.execute(
                "SELECT coalesce(sum(cost_usd), 0) FROM usage_messages "
                f"WHERE ts >= ? AND ts < ? {models}",
                [resets_at - length, resets_at, *([pattern] if pattern else [])],
            ).fetchone() or (0.0,)
            if usd > 0:
                ratios.setdefault(window, []).append(float(usd) / float(pct))
        return {w: median(values) for w, values in ratios.items()}

    def usd_of(self, window: str, pct: float) -> float | None:
        rate = self.usd_per_pct.get(window)
        return None if rate is None else rate * pct
