"""A synthetic usage log for the review's tests: four weeks of a healthy person.

The person works weekdays 09:00-18:00 (a response every 10 minutes, Sonnet, healthy
cache reads); podium's background runs fill every night 00:00-06:00; each active
5-hour window ends 90% used and each week 95% used; a few short waits a day. A clean
log like this must yield no finding. Each planted anomaly is a method that changes
one thing, so a test shows the detector finds exactly what was planted.
"""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from collectors.store import open_store

SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-5-20251101"
NOW = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday: four whole weeks before it
START = NOW - timedelta(days=28)
STEP = timedelta(minutes=10)
FIVE_H = 5 * 3600


@dataclass
class ReviewLog:
    conn: duckdb.DuckDBPyConnection
    tmp: Path
    # Set by plants: the 5-hour window's last figure for the window opening at a time.
    five_hour_peak: Callable[[datetime, bool], float] = lambda _opened, active: 90.0
    # Weeks (by their start) that stop rising at a time and at what figure.
    week_plateaus: dict[datetime, tuple[datetime, float]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _task_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _pending: list[tuple] = field(default_factory=list, repr=False)

    # -- rows ------------------------------------------------------------------------
    def message(
        self,
        ts: datetime,
        session: str,
        *,
        project: str = "/work/app",
        model: str = SONNET,
        tokens: tuple[int, int, int, int] = (500, 200, 1_000, 20_000),
        cost: float = 0.05,
        source: str = "t.jsonl",
    ) -> None:
        inp, out, cw, cr = tokens
        self._pending.append(
            (f"m:{next(self._ids)}", ts, session, project, model, inp, out, cw, cr, cost, source)
        )

    def flush(self) -> ReviewLog:
        """Write the buffered messages, 500 rows a statement (one row each is slow)."""
        row = "(?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, false, ?)"
        for i in range(0, len(self._pending), 500):
            chunk = self._pending[i : i + 500]
            self.conn.execute(
                "INSERT INTO usage_messages (dedupe_key, ts, claude_session_id, project, model, "
                "input_tokens, output_tokens, cache_creation_tokens, cache_creation_1h_tokens, "
                "cache_read_tokens, cost_usd, is_sidechain, source_path) VALUES "
                + ", ".join([row] * len(chunk)),
                [v for r in chunk for v in r],
            )
        self._pending.clear()
        return self

    def run(
        self,
        session: str,
        started: datetime,
        ended: datetime,
        *,
        cost: float,
        state: str = "done",
        prompt: str = "nightly tests",
        terminal_reason: str | None = None,
    ) -> int:
        task_id = next(self._task_ids)
        self.conn.execute(
            "INSERT INTO queue_tasks (id, prompt, cwd, state, created_at, updated_at) "
            "VALUES (?, ?, '/work/app', ?, ?, ?)",
            [task_id, prompt, state, started, ended],
        )
        self.conn.execute(
            "INSERT INTO queue_runs (task_id, attempt, state, started_at, ended_at, "
            "claude_session_id, total_cost_usd, input_tokens, output_tokens, "
            "cache_creation_tokens, cache_read_tokens, terminal_reason, result) "
            "VALUES (?, 1, ?, ?, ?, ?, ?, 1000, 1000, 1000, 1000, ?, ?)",
            [
                task_id,
                state,
                started,
                ended,
                session,
                cost,
                terminal_reason,
                "boom: tests failed" if state == "failed" else "ok",
            ],
        )
        return task_id

    def session(self, sid: str, name: str, claude_session_id: str) -> None:
        self.conn.execute(
            "INSERT INTO sessions (id, name, agent, argv, cwd, tmux_socket, claude_session_id, "
            "state, state_since, state_source, created_at) "
            "VALUES (?, ?, 'claude', ['claude'], '/work/app', 'podium', ?, 'idle', ?, 'hook', ?)",
            [sid, name, claude_session_id, START, START],
        )

    def wait(self, sid: str, opened: datetime, minutes: float, kind: str = "waiting") -> None:
        self.conn.execute(
            "INSERT INTO attention_items (session_id, kind, opened_at, closed_at, closed_by) "
            "VALUES (?, ?, ?, ?, 'focus')",
            [sid, kind, opened, opened + timedelta(minutes=minutes)],
        )

    # -- the healthy month ---------------------------------------------------------------
    def healthy(self) -> ReviewLog:
        self.session("p-1", "app", "person-1")
        day = START
        night = 0
        while day < NOW:
            if day.weekday() < 5:
                t = day + timedelta(hours=9)
                while t < day + timedelta(hours=18):
                    self.message(t, "person-1")
                    t += STEP
                for hour in (10, 14, 16):
                    self.wait("p-1", day + timedelta(hours=hour), 4)
            sid = f"night-{night}"
            t = day
            while t < day + timedelta(hours=6):
                self.message(t, sid)
                t += STEP
            self.run(sid, day, day + timedelta(hours=6), cost=36 * 0.05)
            night += 1
            day += timedelta(days=1)
        return self

    def series(self) -> ReviewLog:
        """The per-minute limit series from what was logged (call after the plants)."""
        self.flush()
        first = int(START.timestamp()) // FIVE_H
        last = int(NOW.timestamp()) // FIVE_H
        busy = {
            slot
            for (slot,) in self.conn.execute(
                f"SELECT DISTINCT CAST(epoch(ts) AS BIGINT) // {FIVE_H} FROM usage_messages"
            ).fetchall()
        }
        for slot in range(first, last):
            opened = datetime.fromtimestamp(slot * FIVE_H, UTC)
            active = slot in busy
            if not active:
                self._minutes(opened, opened + timedelta(seconds=FIVE_H), "five_hour", None, 0, 0)
                continue
            peak = self.five_hour_peak(opened, active)
            resets = opened + timedelta(seconds=FIVE_H)
            self._minutes(opened, resets, "five_hour", resets, peak, FIVE_H / 60)
        week = START
        while week < NOW:
            resets = week + timedelta(days=7)
            until, peak = self.week_plateaus.get(week, (resets, 95.0))
            span_min = (until - week).total_seconds() / 60
            self._minutes(week, resets, "seven_day", resets, peak, span_min)
            week = resets
        return self

    def _minutes(
        self,
        start: datetime,
        end: datetime,
        window: str,
        resets: datetime | None,
        peak: float,
        rise_min: float,
    ) -> None:
        self.conn.execute(
            """
            INSERT INTO limit_series
            SELECT m, ?, CASE WHEN ? = 0 THEN 0
                              ELSE least(?, ? * (epoch(m) - epoch(?::TIMESTAMPTZ)) / 60 / ?) END,
                   ?::TIMESTAMPTZ, 'statusline', 30
            FROM (SELECT unnest(generate_series(?::TIMESTAMPTZ, ?::TIMESTAMPTZ - INTERVAL 1 MINUTE,
                                                INTERVAL 1 MINUTE)) AS m)
            """,
            [window, rise_min, peak, peak, start, rise_min or 1, resets, start, end],
        )

    # -- plants -----------------------------------------------------------------------
    def transcript_with_loop(self, session: str, times: int, *, error: str) -> Path:
        """A transcript where `session` gets the same tool error `times` times (the
        numbers in it change each time, as line numbers do)."""
        path = self.tmp / f"{session}.jsonl"
        at = START + timedelta(days=3, hours=11)
        lines = []
        for i in range(times):
            tool_id = f"toolu_{i:04d}"
            lines.append(
                {
                    "type": "assistant",
                    "sessionId": session,
                    "timestamp": _z(at),
                    "message": {
                        "content": [
                            {
                                "type": "tool_use",
                                "id": tool_id,
                                "name": "Bash",
                                "input": {"command": "pytest"},
                            }
                        ]
                    },
                }
            )
            lines.append(
                {
                    "type": "user",
                    "sessionId": session,
                    "cwd": "/work/app",
                    "timestamp": _z(at),
                    "message": {
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": tool_id,
                                "is_error": True,
                                "content": error.format(n=40 + i),
                            }
                        ]
                    },
                }
            )
            self.message(at, session, source=str(path))
            at += timedelta(minutes=2)
        path.write_text("\n".join(json.dumps(x, separators=(",", ":")) for x in lines) + "\n")
        return path


def _z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


_TEMPLATE: Path | None = None


def healthy_copy(path: Path, tmp: Path) -> ReviewLog:
    """The healthy month in a database file at `path`: built once per process, then
    copied (a test plants into its own copy; the month takes a second to write)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        # Only in this process's own temp folder: xdist workers each build theirs.
        folder = Path(tempfile.mkdtemp(prefix="review-log-"))
        conn = open_store(folder / "healthy.duckdb")
        ReviewLog(conn, folder).healthy().flush()
        conn.close()
        _TEMPLATE = folder / "healthy.duckdb"
    shutil.copyfile(_TEMPLATE, path)
    # Ids go on past the template's: its messages are m:1.., its tasks 1..28.
    return ReviewLog(
        open_store(path), tmp, _ids=itertools.count(10**6), _task_ids=itertools.count(1000)
    )
