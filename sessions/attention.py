"""Attention items: who needs the human, since when, and how fast they came.

An item opens when a session enters `waiting`, `permission` or `limited`, and
closes once: acknowledged (`focus`, `send`), answered in the pane (`answer`:
the agent moved on by itself, e.g. the dialog was answered there), or ended
(`ended`: the session exited, vanished or was killed; `reset`: a limit's
reset time passed). Acknowledged and answered items (`RESPONDED`) count as the
human responding in the attention report; ended ones do not.

Called only from the engine's event loop thread, which owns the connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sessions import wire
from sessions.state import ATTENTION_STATES, State
from sessions.wire import Session

S = TypeVar("S", bound=Session)

if TYPE_CHECKING:
    # Types only: the control tower imports `attention_order` and must not pay
    # for loading DuckDB at start-up.
    import duckdb

# How an item was closed when the human responded; others: `ended`, `reset`
# (a limit's reset time passed).
RESPONDED = ("focus", "send", "answer")


@dataclass(frozen=True)
class AttentionItem:
    id: int
    session_id: str
    kind: str
    opened_at: datetime
    detail: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None


def waited_s(item: AttentionItem, now: datetime | None = None) -> float:
    """Seconds the item waited for the person: until it closed, or until now."""
    end = item.closed_at or now or datetime.now(UTC)
    return round(max(0.0, (end - item.opened_at).total_seconds()), 1)


def attention_wire(item: AttentionItem, now: datetime | None = None) -> wire.AttentionItem:
    """The item as the API shows it, with how long it waited."""
    return wire.from_record(item, wire.AttentionItem, waited_s=waited_s(item, now))


_ITEM_COLUMNS = "id, session_id, kind, opened_at, detail, closed_at, closed_by"


class AttentionBook:
    """The `attention_items` table."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        # Open items, mirrored in memory: every session listing and event needs them.
        self._open: dict[str, AttentionItem] = {}
        self.reload()

    def reload(self) -> None:
        """Read the open items again (after a failed write, memory may be ahead)."""
        rows = self.conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM attention_items WHERE closed_at IS NULL "
            "ORDER BY opened_at"
        ).fetchall()
        self._open = {row[1]: AttentionItem(*row) for row in rows}

    def open_items(self) -> list[AttentionItem]:
        """Open items, oldest first."""
        return sorted(self._open.values(), key=lambda item: item.opened_at)

    def open_item(self, session_id: str) -> AttentionItem | None:
        return self._open.get(session_id)

    def on_state(
        self, session_id: str, state: State, at: datetime, detail: str = "", close_as: str = ""
    ) -> AttentionItem | None:
        """Follow a state change; returns the item it opened, if any.

        Entering an attention state closes the previous item (as answered: the
        agent moved on) and opens one of the new kind; leaving for busy or idle
        closes it as answered; exited and lost close it as ended.
        """
        if state in ATTENTION_STATES:
            self.close(session_id, at, close_as or "answer")
            row = self.conn.execute(
                "INSERT INTO attention_items (session_id, kind, opened_at, detail) "
                f"VALUES (?, ?, ?, ?) RETURNING {_ITEM_COLUMNS}",
                [session_id, state.value, at, detail or None],
            ).fetchone()
            item = AttentionItem(*row)
            self._open[session_id] = item
            return item
        ended = state in (State.EXITED, State.LOST)
        self.close(session_id, at, close_as or ("ended" if ended else "answer"))
        return None

    def close(self, session_id: str, at: datetime, by: str) -> AttentionItem | None:
        """Close the session's open item; returns it, closed, or None if none was open."""
        if self._open.pop(session_id, None) is None:
            return None
        row = self.conn.execute(
            "UPDATE attention_items SET closed_at = greatest(opened_at, ?), closed_by = ? "
            f"WHERE session_id = ? AND closed_at IS NULL RETURNING {_ITEM_COLUMNS}",
            [at, by, session_id],
        ).fetchone()
        return AttentionItem(*row) if row else None

    def record_alert(
        self, at: datetime, kind: str, session_ids: Sequence[str], detail: str = ""
    ) -> None:
        """Count an alert the person received (`kind`: bell, message, desktop), or one
        they were spared because they were looking at the pane (`spared`)."""
        self.conn.execute(
            "INSERT INTO alerts (sent_at, kind, sessions, detail) VALUES (?, ?, ?, ?)",
            [at, kind, list(session_ids), detail or None],
        )

    def report(self, since: date | None = None) -> list[dict[str, Any]]:
        """Per day (UTC): waiting time, response times, permission prompts (by the
        day an item opened), and the alerts given and spared (by the day they went)."""
        rows = self.conn.execute(
            """
            WITH items AS (
                SELECT CAST(timezone('UTC', opened_at) AS DATE) AS day, kind, closed_by,
                       epoch(coalesce(closed_at, now()) - opened_at) AS waited_s,
                       CASE WHEN closed_by IN ('focus', 'send', 'answer')
                            THEN epoch(closed_at - opened_at) END AS response_s
                FROM attention_items
                WHERE ? IS NULL OR CAST(timezone('UTC', opened_at) AS DATE) >= ?
            ),
            by_items AS (
                SELECT day,
                       count(*) AS items,
                       sum(waited_s) AS waited_s,
                       count(response_s) AS responses,
                       quantile_cont(response_s, 0.5) AS response_p50_s,
                       quantile_cont(response_s, 0.9) AS response_p90_s,
                       count(*) FILTER (WHERE kind = 'permission') AS permission_prompts,
                       count(*) FILTER (WHERE kind = 'limited') AS limits
                FROM items GROUP BY day
            ),
            by_alerts AS (
                SELECT CAST(timezone('UTC', sent_at) AS DATE) AS day,
                       count(*) FILTER (WHERE kind = 'bell') AS alert_bells,
                       count(*) FILTER (WHERE kind = 'message') AS alert_messages,
                       count(*) FILTER (WHERE kind = 'desktop') AS alert_desktop,
                       count(*) FILTER (WHERE kind = 'spared') AS alerts_spared
                FROM alerts
                WHERE ? IS NULL OR CAST(timezone('UTC', sent_at) AS DATE) >= ?
                GROUP BY day
            )
            SELECT coalesce(i.day, a.day) AS day,
                   coalesce(i.items, 0), i.waited_s, coalesce(i.responses, 0),
                   i.response_p50_s, i.response_p90_s,
                   coalesce(i.permission_prompts, 0), coalesce(i.limits, 0),
                   coalesce(a.alert_bells, 0), coalesce(a.alert_messages, 0),
                   coalesce(a.alert_desktop, 0), coalesce(a.alerts_spared, 0)
            FROM by_items i FULL OUTER JOIN by_alerts a ON i.day = a.day
            ORDER BY day
            """,
            [since, since, since, since],
        ).fetchall()
        keys = (
            "day",
            "items",
            "waited_s",
            "responses",
            "response_p50_s",
            "response_p90_s",
            "permission_prompts",
            "limits",
            "alert_bells",
            "alert_messages",
            "alert_desktop",
            "alerts_spared",
        )
        out = []
        for row in rows:
            entry = dict(zip(keys, row, strict=True))
            entry["day"] = entry["day"].isoformat()
            for key in ("waited_s", "response_p50_s", "response_p90_s"):
                if entry[key] is not None:
                    entry[key] = round(float(entry[key]), 1)
            out.append(entry)
        return out


# The order of who needs the person (`[attention] order`): each entry is a kind, or
# a list of kinds that share a place (oldest first among them). Blocked mid-task
# (a permission dialog) comes first; a finished turn and a usage limit share the
# next place.
AttentionOrder = Sequence[str | Sequence[str]]
DEFAULT_ORDER: AttentionOrder = ("permission", ("waiting", "limited"))
# A session that needs the person has one of these kinds: its open item's, or, once
# the item is closed (seen, not answered), its state's. A seen turn is still a turn.
_KIND_OF_STATE = {
    State.WAITING.value: "waiting",
    State.SEEN.value: "waiting",
    State.PERMISSION.value: "permission",
    State.LIMITED.value: "limited",
}
# Working without the person, longest first.
_WORKING = frozenset({State.BUSY.value, State.RETRYING.value})


def order_ranks(order: AttentionOrder) -> dict[str, int]:
    """Each kind's place in `order`; kinds it leaves out share the place after it."""
    ranks: dict[str, int] = {}
    for rank, entry in enumerate(order):
        for kind in (entry,) if isinstance(entry, str) else entry:
            ranks.setdefault(kind, rank)
    return ranks


def attention_order(sessions: list[S], order: AttentionOrder = DEFAULT_ORDER) -> list[S]:
    """Who needs the person first: the one order `podium ls`, the tower, `podium next`
    and Alt-Space follow.

    Sessions that need the person come first, by the place of their kind in `order`
    (`[attention] order`: permission, then waiting and limited), oldest first within
    a place; then the working ones (busy, retrying: longest first); then the rest as
    created. A session keeps its place once the person has looked at it without
    answering (`seen`, a permission or limit seen): its state, not its open item,
    places it, so a glance does not reorder the list. Only sessions with an open item
    are someone's next move (`waiting_first`).

    Each session (`sessions.wire.Session`) carries `attention`: its open item, or None.
    """
    ranks = order_ranks(order)
    unlisted = len(order)

    def key(s: S) -> tuple[int, int, str]:
        item = s.attention
        kind = item.kind if item is not None else _KIND_OF_STATE.get(s.state)
        if kind is not None:
            # An item opens at its state's start, and a seen turn keeps the time
            # its turn ended (`Registry.apply`): one clock for open and seen.
            since = item.opened_at if item is not None else s.state_since
            return (0, ranks.get(kind, unlisted), since or "")
        if s.state in _WORKING:
            return (1, 0, s.state_since or "")
        return (2, 0, s.created_at or "")

    return sorted(sessions, key=key)


def waiting_first(sessions: list[S], order: AttentionOrder = DEFAULT_ORDER) -> list[S]:
    """The sessions with an open item, in attention order: what `next` goes to, first
    one first. A seen session (its item closed) is left out: the person knows."""
    return [s for s in attention_order(sessions, order) if s.attention is not None]
