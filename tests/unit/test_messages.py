"""Messages' rules (recipients, bodies, the delivered prompt) and their store on a real
DuckDB file with podium's migrations."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.store import open_store
from sessions import wire
from sessions.messages import (
    MAX_BODY_BYTES,
    MessageError,
    MessageStore,
    Recipient,
    check_body,
    parse_recipient,
    prompt_text,
)


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("claude-2", Recipient("session", name="claude-2")),
        ("  session:my pane ", Recipient("session", name="my pane")),
        ("task:5", Recipient("task", task_id=5)),
        ("#12", Recipient("task", task_id=12)),
        ("task: 7", Recipient("task", task_id=7)),
        ("team", Recipient("team")),
        ("team:3", Recipient("team", task_id=3)),
    ],
)
def test_recipients(to: str, expected: Recipient) -> None:
    assert parse_recipient(to) == expected


@pytest.mark.parametrize(
    ("to", "words"),
    [
        ("", "say who the message is for"),
        ("task:x", "a task id is a positive number"),
        ("task:0", "a task id is a positive number"),
        ("team:-1", "a task id is a positive number"),
        ("#99999999999", "a task id is a positive number"),
        ("session:", "is not a session name"),
        ("a" * 65, "is not a session name"),
        ("bad\x1bname", "is not a session name"),
    ],
)
def test_recipients_refused_in_words(to: str, words: str) -> None:
    with pytest.raises(MessageError, match=words):
        parse_recipient(to)


def test_bodies() -> None:
    assert check_body("  two\r\nlines\tand a tab ") == "two\nlines\tand a tab"
    assert check_body("é" * (MAX_BODY_BYTES // 2)) == "é" * (MAX_BODY_BYTES // 2)
    with pytest.raises(MessageError, match="empty"):
        check_body(" \n ")
    with pytest.raises(MessageError, match="8,194 bytes, over the 8,192"):
        check_body("é" * (MAX_BODY_BYTES // 2 + 1))
    for control in ("\x1b[201~", "\x07", "\x00", "\x9b"):
        with pytest.raises(MessageError, match="control characters"):
            check_body(f"a{control}b")


def _msg(mid: int, sender: str, body: str) -> wire.Message:
    return wire.Message(
        id=mid, sent_at="", sender=sender, to_kind="session", to_id="s", to="w", body=body
    )


def test_the_prompt_names_each_sender_one_line_when_it_can() -> None:
    one = [_msg(1, "helper", "use v2"), _msg(2, "you", "then test")]
    assert prompt_text(one) == (
        "[podium message from helper] use v2 [podium message from you] then test"
    )
    many = [_msg(1, "task 3", "line one\nline two"), _msg(2, "you", "ok")]
    assert prompt_text(many) == (
        "[podium message from task 3] line one\nline two\n\n[podium message from you] ok"
    )


def test_store_pending_delivered_and_board_reads(tmp_path: Path) -> None:
    conn = open_store(tmp_path / "podium.duckdb")
    store = MessageStore(conn)
    common = {"sender_session": None, "sender_task": None}
    first = store.add(
        sender="you", to_kind="session", to_id="s1", to_name="w", body="one", **common
    )
    store.add(sender="you", to_kind="session", to_id="s1", to_name="w", body="two", **common)
    assert store.pending_counts() == {"s1": 2}
    assert [m.body for m in store.pending("s1")] == ["one", "two"]
    at = store.mark_delivered([first.id])
    assert [m.body for m in store.pending("s1")] == ["two"]
    assert store.pending_counts() == {"s1": 1}
    [delivered, _] = store.listing(session_id="s1")
    assert delivered.delivered_at == at and delivered.read_at == at

    store.add(
        sender="task 2", to_kind="team", to_id="1", to_name="team:1", body="news",
        sender_session=None, sender_task=2,
    )  # fmt: skip
    # The poster does not read its own post as news; another member does, once.
    assert store.board(1, 2, unread_only=True, limit=50) == []
    [news] = store.board(1, 3, unread_only=True, limit=50)
    store.mark_read([news.id], reader_task=3)
    assert store.board(1, 3, unread_only=True, limit=50) == []
    [again] = store.board(1, 3, unread_only=False, limit=50)
    assert again.read_at is not None
    # A board message is read per reader: task 4 has not read it.
    assert [m.body for m in store.board(1, 4, unread_only=True, limit=50)] == ["news"]
    # The newest `limit` of them, oldest first.
    assert [m.body for m in store.listing(limit=2)] == ["two", "news"]
    conn.close()
