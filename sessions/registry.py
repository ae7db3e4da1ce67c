"""The session registry in DuckDB: podium's sessions, their tmux ids and states.

Called only from the engine's event loop thread, which owns the connection.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
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
    "number",
    "start_commit",
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
    # Alt-N, the border and the tower's N: given at insert (the lowest free), kept for
    # the session's life (migration 0010).
    number: int | None = None
    # The commit its checkout was at when it started, in a git repository (migration
    # 0011): the tower's diff view compares the directory with it.
    start_commit: str | None = None


def new_session_id() -> str:
    return uuid.uuid4().hex[:12]


def _row_to_record(row: tuple) -> SessionRecord:
    data = dict(zip(_COLUMNS, row, strict=True))
    data["argv"] = list(data["argv"] or [])
    return SessionRecord(**data)


class Registry:
    """Sessions in DuckDB, with the listed (not removed) ones mirrored in memory.

    Every sweep, hook and API call asks for sessions; a DuckDB query costs about
    2 ms of CPU, which with 20 sessions was most of the engine's idle load.
    Reads of listed sessions come from memory; every write goes to both. The
    records handed out are the cached objects themselves, so a caller always
    sees the latest state; `update` keeps them and the table in step.
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        self._listed: dict[str, SessionRecord] = {}
        self.reload()

    def reload(self) -> None:
        """Read the listed sessions again (after a failed write, memory may be ahead of
        the table). Records already handed out are updated in place: callers keep them."""
        rows = self.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM sessions WHERE NOT removed ORDER BY created_at"
        ).fetchall()
        listed: dict[str, SessionRecord] = {}
        for row in rows:
            rec = _row_to_record(row)
            cached = self._listed.get(rec.id)
            if cached is not None:
                cached.__dict__.update(rec.__dict__)
                rec = cached
            listed[rec.id] = rec
        self._listed = listed

    def free_number(self) -> int:
        """The lowest number no listed session has (numbers start at 1)."""
        taken = {r.number for r in self._listed.values()}
        n = 1
        while n in taken:
            n += 1
        return n

    def insert(self, rec: SessionRecord) -> None:
        """Store a new session; it takes the lowest free number unless it has one."""
        if rec.number is None:
            rec.number = self.free_number()
        values = [getattr(rec, c) for c in _COLUMNS]
        self.conn.execute(
            f"INSERT INTO sessions ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _COLUMNS)})",
            values,
        )
        self._listed[rec.id] = rec
        self._transition(rec.id, None, rec.state, rec.state_source, "created", rec.state_since)

    def update(self, session_id: str, **fields: Any) -> None:
        unknown = set(fields) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown session fields {sorted(unknown)}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.conn.execute(
            f"UPDATE sessions SET {sets} WHERE id = ?", [*fields.values(), session_id]
        )
        cached = self._listed.get(session_id)
        if cached is not None:
            for key, value in fields.items():
                setattr(cached, key, list(value) if key == "argv" else value)

    def get(self, session_id: str) -> SessionRecord | None:
        """A session by id, killed ones included."""
        cached = self._listed.get(session_id)
        if cached is not None:
            return cached
        row = self.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM sessions WHERE id = ?", [session_id]
        ).fetchone()
        return _row_to_record(row) if row else None

    def by_name(self, name: str) -> SessionRecord | None:
        return next((r for r in self._listed.values() if r.name == name), None)

    def last_by_name(self, name: str) -> SessionRecord | None:
        """The newest session of that name, killed ones included (for `resume`)."""
        listed = self.by_name(name)
        if listed is not None:
            return listed
        row = self.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM sessions WHERE name = ? "
            "ORDER BY created_at DESC LIMIT 1",
            [name],
        ).fetchone()
        return _row_to_record(row) if row else None

    def restore(self, rec: SessionRecord) -> None:
        """Bring a killed session back into the list (it is being resumed). It gets its
        number back, unless a session started since holds it: then the lowest free."""
        if rec.id in self._listed:
            return
        others = {r.number for r in self._listed.values()}
        if rec.number is None or rec.number in others:
            rec.number = self.free_number()
        self.conn.execute(
            "UPDATE sessions SET removed = false, number = ? WHERE id = ?", [rec.number, rec.id]
        )
        self._listed[rec.id] = rec

    def by_claude_session(self, claude_session_id: str) -> SessionRecord | None:
        found = [r for r in self._listed.values() if r.claude_session_id == claude_session_id]
        return max(found, key=lambda r: r.created_at) if found else None

    def listed(self) -> list[SessionRecord]:
        """Sessions not removed, oldest first."""
        return sorted(self._listed.values(), key=lambda r: r.created_at)

    def names_in_use(self) -> set[str]:
        return {r.name for r in self._listed.values()}

    def remove(self, session_id: str) -> None:
        now = utcnow()
        self.conn.execute(
            "UPDATE sessions SET removed = true, ended_at = coalesce(ended_at, ?) WHERE id = ?",
            [now, session_id],
        )
        rec = self._listed.pop(session_id, None)
        if rec is not None and rec.ended_at is None:
            rec.ended_at = now

    def apply(self, rec: SessionRecord, change: Change, at: datetime | None = None) -> bool:
        """Move `rec` to `change.state` (stored with its time and source). False if no-op."""
        if change.state.value == rec.state:
            return False
        at = at or utcnow()
        previous = rec.state
        since = at
        if previous == State.WAITING and change.state is State.SEEN:
            # Seeing a finished turn does not restart its clock: `seen` keeps the time
            # the turn ended, which places it among the waiting (`attention_order`)
            # and says how long it has been the person's move. The transition row
            # still has the time it was seen.
            since = rec.state_since
        rec.state, rec.state_source = change.state.value, change.source.value
        rec.state_since = since
        fields: dict[str, Any] = {
            "state": rec.state,
            "state_since": since,
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
