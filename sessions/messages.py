"""Messages between podium's agents and the person: the rules and the store (migration
0015).

A message goes to one of three recipients (`parse_recipient`):
- a session, by name (`claude-2`, or `session:claude-2`): the engine types it into the
  session as its next prompt once its turn has ended (`sessions.engine.messages_api`);
- a task's inbox (`task:5`, `#5`): its background run reads it with `inbox`;
- a team's board (`team:3`; `team` alone: the caller's own): a team is a root task and
  the tree of its subtasks, and every task of that tree reads the board.

Bodies are bounded (`MAX_BODY_BYTES`) and may hold no control characters but line
breaks and tabs: they end up typed into a terminal. Used on the engine's loop thread
only, like every other table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import duckdb

from sessions import wire

# The most a body may hold, in UTF-8 bytes: a note, not a document (put that in a file).
MAX_BODY_BYTES = 8 * 1024
# The most messages one listing answers.
MAX_LIST = 500
# What the delivered prompt starts each message with: the model and the person both
# see who sent it.
PREFIX = "[podium message from {sender}]"

RecipientKind = Literal["session", "task", "team"]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")
_TASK = re.compile(r"(?:task:|#)\s*(\S+)")


class MessageError(ValueError):
    """A message or a recipient refused; the text says why, in one line."""


@dataclass(frozen=True)
class Recipient:
    """Who a message is addressed to, as written: a session name, a task id, a team's
    root task id (None: the caller's own team)."""

    kind: RecipientKind
    name: str = ""
    task_id: int | None = None


def check_body(text: str) -> str:
    """The body as stored, or `MessageError`: not empty, at most `MAX_BODY_BYTES`, no
    control characters but line breaks and tabs (it is typed into a terminal)."""
    body = text.replace("\r\n", "\n").strip()
    if not body:
        raise MessageError("the message is empty")
    size = len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise MessageError(
            f"the message is {size:,} bytes, over the {MAX_BODY_BYTES:,} a message may hold: "
            "put the details in a file and send its path"
        )
    if _CONTROL.search(body):
        raise MessageError("the message holds control characters (only line breaks and tabs)")
    return body


def _task_number(text: str, what: str) -> int:
    raw = text.strip().lstrip("#")
    if not raw.isdigit() or not 0 < int(raw) < 2**31:
        raise MessageError(f"{what}: a task id is a positive number, not {text.strip()!r}")
    return int(raw)


def parse_recipient(to: str) -> Recipient:
    """`to` as a recipient, or `MessageError` with the forms it may take."""
    text = to.strip()
    if not text:
        raise MessageError(
            "say who the message is for: a session's name, task:ID or team[:ID] "
            "(`sessions` lists the sessions)"
        )
    if text == "team":
        return Recipient("team")
    if text.startswith("team:"):
        return Recipient("team", task_id=_task_number(text[5:], text))
    found = _TASK.fullmatch(text)
    if found:
        return Recipient("task", task_id=_task_number(found.group(1), text))
    name = text.removeprefix("session:").strip()
    if not name or len(name) > 64 or any(not ch.isprintable() for ch in name):
        raise MessageError(f"{text!r} is not a session name (1-64 printable characters)")
    return Recipient("session", name=name)


def prompt_text(messages: list[wire.Message]) -> str:
    """What is typed into a session for its pending messages: one prompt, each message
    after the words that say who sent it. One line when every body is one line: any
    agent takes a typed line as one prompt. Otherwise the messages go apart by a blank
    line, typed as one bracketed paste (Claude Code takes a paste whole)."""
    parts = [f"{PREFIX.format(sender=m.sender)} {m.body}" for m in messages]
    if any("\n" in m.body for m in messages):
        return "\n\n".join(parts)
    return " ".join(parts)


_COLS = (
    "id, sent_at, sender, sender_session, sender_task, to_kind, to_id, to_name, body, "
    "delivered_at, read_at"
)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _message(row: tuple) -> wire.Message:
    (mid, sent, sender, s_session, s_task, kind, to_id, to_name, body, delivered, read) = row
    return wire.Message(
        id=int(mid),
        sent_at=_iso(sent) or "",
        sender=sender,
        sender_session=s_session,
        sender_task=s_task,
        to_kind=kind,
        to_id=to_id,
        to=to_name,
        body=body,
        delivered_at=_iso(delivered),
        read_at=_iso(read),
    )


class MessageStore:
    """The `messages` table and who read which board message."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn

    def add(
        self,
        *,
        sender: str,
        sender_session: str | None,
        sender_task: int | None,
        to_kind: RecipientKind,
        to_id: str,
        to_name: str,
        body: str,
    ) -> wire.Message:
        row = self.conn.execute(
            "INSERT INTO messages (sent_at, sender, sender_session, sender_task, to_kind, "
            f"to_id, to_name, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLS}",
            [datetime.now(UTC), sender, sender_session, sender_task, to_kind, to_id, to_name, body],
        ).fetchone()
        assert row is not None
        return _message(row)

    def _select(self, where: str, params: list[object], limit: int) -> list[wire.Message]:
        rows = self.conn.execute(
            f"SELECT {_COLS} FROM (SELECT {_COLS} FROM messages {where} ORDER BY id DESC "
            "LIMIT ?) ORDER BY id",
            [*params, limit],
        ).fetchall()
        return [_message(r) for r in rows]

    def pending(self, session_id: str) -> list[wire.Message]:
        """A session's messages not typed into it yet, oldest first."""
        return self._select(
            "WHERE to_kind = 'session' AND to_id = ? AND delivered_at IS NULL",
            [session_id],
            MAX_LIST,
        )

    def pending_counts(self) -> dict[str, int]:
        """How many messages wait to be typed in, by session id (only those with any)."""
        rows = self.conn.execute(
            "SELECT to_id, count(*) FROM messages WHERE to_kind = 'session' "
            "AND delivered_at IS NULL GROUP BY to_id"
        ).fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def mark_delivered(self, ids: list[int]) -> str:
        """Typed into the session: the model reads it as its prompt, so it is read too.
        Returns when, as the wire writes it."""
        now = datetime.now(UTC)
        if ids:
            marks = ", ".join("?" for _ in ids)
            self.conn.execute(
                f"UPDATE messages SET delivered_at = ?, read_at = coalesce(read_at, ?) "
                f"WHERE id IN ({marks})",
                [now, now, *ids],
            )
        return _iso(now) or ""

    def inbox(
        self, kind: RecipientKind, to_id: str, *, unread_only: bool, limit: int
    ) -> list[wire.Message]:
        where = "WHERE to_kind = ? AND to_id = ?" + (" AND read_at IS NULL" if unread_only else "")
        return self._select(where, [kind, to_id], limit)

    def board(
        self, root: int, reader_task: int | None, *, unread_only: bool, limit: int
    ) -> list[wire.Message]:
        """Team `root`'s board; for a reader task, without its own posts when only the
        unread ones are asked for, and with `read_at` its own reading."""
        if reader_task is None:
            return self.inbox("team", str(root), unread_only=False, limit=limit)
        where = "WHERE to_kind = 'team' AND to_id = ?"
        params: list[object] = [str(root)]
        if unread_only:
            where += (
                " AND (sender_task IS NULL OR sender_task <> ?) AND id NOT IN "
                "(SELECT message_id FROM message_board_reads WHERE reader_task = ?)"
            )
            params += [reader_task, reader_task]
        found = self._select(where, params, limit)
        reads = dict(
            self.conn.execute(
                "SELECT message_id, read_at FROM message_board_reads WHERE reader_task = ?",
                [reader_task],
            ).fetchall()
        )
        for m in found:
            m.read_at = _iso(reads.get(m.id))
        return found

    def mark_read(self, ids: list[int], reader_task: int | None = None) -> None:
        """Direct messages: `read_at`; board messages: the reader task's own mark."""
        if not ids:
            return
        now = datetime.now(UTC)
        marks = ", ".join("?" for _ in ids)
        self.conn.execute(
            f"UPDATE messages SET read_at = ? WHERE id IN ({marks}) AND to_kind <> 'team' "
            "AND read_at IS NULL",
            [now, *ids],
        )
        if reader_task is not None:
            board = self.conn.execute(
                f"SELECT id FROM messages WHERE id IN ({marks}) AND to_kind = 'team'", ids
            ).fetchall()
            for (mid,) in board:
                self.conn.execute(
                    "INSERT OR IGNORE INTO message_board_reads (message_id, reader_task, read_at) "
                    "VALUES (?, ?, ?)",
                    [mid, reader_task, now],
                )

    def listing(
        self,
        *,
        session_id: str | None = None,
        task_id: int | None = None,
        team: int | None = None,
        limit: int = 50,
    ) -> list[wire.Message]:
        """The person's view (`podium messages`): every message, or those to a session,
        a task or a board, and those a session or task sent."""
        if session_id is not None:
            return self._select(
                "WHERE (to_kind = 'session' AND to_id = ?) OR sender_session = ?",
                [session_id, session_id],
                limit,
            )
        if task_id is not None:
            return self._select(
                "WHERE (to_kind = 'task' AND to_id = ?) OR sender_task = ?",
                [str(task_id), task_id],
                limit,
            )
        if team is not None:
            return self._select("WHERE to_kind = 'team' AND to_id = ?", [str(team)], limit)
        return self._select("", [], limit)
