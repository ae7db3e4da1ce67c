"""The session registry in DuckDB: podium's sessions, their tmux ids and states.

Called only from the engine's event loop thread, which owns the connection.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from sessions.state import Change, State

_COLUMNS = (
    "id",
    "name",
    "agent",
    "argv",
    "cwd",
    "tmux_socket",
    "tmux_session_id",
    "window_id",
    "pane_id",
    "pid",
    "claude_session_id",
    "transcript_path",
    "settings_path",
    "state",
    "state_since",
    "state_source",
    "exit_code",
    "created_at",
    "ended_at",
    "limit_resets_at",
    "worktree_path",
    "worktree_branch",
    "worktree_repo",
    "worktree_branch_created",
)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class SessionRecord:
    id: str
    name: str
    agent: str
    argv: list[str]
    cwd: str
    tmux_socket: str
    tmux_session_id: str | None = None
    window_id: str | None = None
    pane_id: str | None = None
    pid: int | None = None
    claude_session_id: str | None = None
    transcript_path: str | None = None
    settings_path: str | None = None
    state: str = State.STARTING.value
    state_since: datetime = field(default_factory=utcnow)
    state_source: str = "engine"
    exit_code: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    ended_at: datetime | None = None
    limit_resets_at: datetime | None = None
    # Set when the session has its own git worktree (`podium new --worktree`).
    worktree_path: str | None = None
    worktree_branch: str | None = None
    worktree_repo: str | None = None
    worktree_branch_created: bool | None = None

    def to_json(self) -> dict[str, Any]:
        """The API's view of a session (ISO 8601 times)."""
        data = asdict(self)
        for key in ("state_since", "created_at", "ended_at", "limit_resets_at"):
            value = data[key]
            data[key] = value.astimezone(UTC).isoformat() if value else None
        return data


def new_session_id() -> str:
    return uuid.uuid4().hex[:12]


def _row_to_record(row: tuple) -> SessionRecord:
    data = dict(zip(_COLUMNS, row, strict=True))
    data["argv"] = list(data["argv"] or [])
    return SessionRecord(**data)


class Registry:
    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn

    def insert(self, rec: SessionRecord) -> None:
        values = [getattr(rec, c) for c in _COLUMNS]
        self.conn.execute(
            f"INSERT INTO sessions ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _COLUMNS)})",
            values,
        )
        self._transition(rec.id, None, rec.state, rec.state_source, "created", rec.state_since)

    def update(self, session_id: str, **fields: Any) -> None:
        unknown = set(fields) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown session fields {sorted(unknown)}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.conn.execute(
            f"UPDATE sessions SET {sets} WHERE id = ?", [*fields.values(), session_id]
        )

    def get(self, session_id: str) -> SessionRecord | None:
        row = self.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM sessions WHERE id = ?", [session_id]
        ).fetchone()
        return _row_to_record(row) if row else None

    def by_name(self, name: str) -> SessionRecord | None:
        row = self.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM sessions WHERE name = ? AND NOT removed",
            [name],
        ).fetchone()
        return _row_to_record(row) if row else None

    def last_by_name(self, name: str) -> SessionRecord | None:
        """The newest session of that name, killed ones included (for `resume`)."""
        row = self.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM sessions WHERE name = ? "
            "ORDER BY removed, created_at DESC LIMIT 1",
            [name],
        ).fetchone()
        return _row_to_record(row) if row else None

    def restore(self, session_id: str) -> None:
        """Bring a killed session back into the list (it is being resumed)."""
        self.conn.execute("UPDATE sessions SET removed = false WHERE id = ?", [session_id])

    def by_claude_session(self, claude_session_id: str) -> SessionRecord | None:
        row = self.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM sessions WHERE claude_session_id = ? "
            "AND NOT removed ORDER BY created_at DESC LIMIT 1",
            [claude_session_id],
        ).fetchone()
        return _row_to_record(row) if row else None

    def listed(self) -> list[SessionRecord]:
        """Sessions not removed, oldest first."""
        rows = self.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM sessions WHERE NOT removed ORDER BY created_at"
        ).fetchall()
        return [_row_to_record(r) for r in rows]

    def names_in_use(self) -> set[str]:
        rows = self.conn.execute("SELECT name FROM sessions WHERE NOT removed").fetchall()
        return {r[0] for r in rows}

    def remove(self, session_id: str) -> None:
        self.conn.execute(
            "UPDATE sessions SET removed = true, ended_at = coalesce(ended_at, ?) WHERE id = ?",
            [utcnow(), session_id],
        )

    def apply(self, rec: SessionRecord, change: Change, at: datetime | None = None) -> bool:
        """Move `rec` to `change.state` (stored with its time and source). False if no-op."""
        if change.state.value == rec.state:
            return False
        at = at or utcnow()
        previous = rec.state
        rec.state, rec.state_since, rec.state_source = change.state.value, at, change.source.value
        fields: dict[str, Any] = {
            "state": rec.state,
            "state_since": at,
            "state_source": rec.state_source,
        }
        if change.state in (State.EXITED, State.LOST) and rec.ended_at is None:
            rec.ended_at = at
            fields["ended_at"] = at
        self.update(rec.id, **fields)
        self._transition(rec.id, previous, rec.state, rec.state_source, change.detail, at)
        return True

    def _transition(
        self, session_id: str, old: str | None, new: str, source: str, detail: str, at: datetime
    ) -> None:
        self.conn.execute(
            "INSERT INTO state_transitions (session_id, ts, from_state, to_state, source, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [session_id, at, old, new, source, detail],
        )
