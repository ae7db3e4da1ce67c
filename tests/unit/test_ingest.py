"""Transcript ingest: the counting rule, bad input, and reading by byte offset.

Every total here is computed by hand from the records written, so a change of
the rule shows up as a number, not as "it still runs".
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from collectors import ingest_pool, transcripts, usage_log
from collectors.prices import Price, PriceTable
from collectors.store import open_store
from collectors.transcripts import Job, parse_range, plan_ranges
from collectors.usage_log import UsageLog, totals
from tests.hostile import deep_json

SESSION = "0145b08f-aaaa-bbbb-cccc-000000000001"


def rec(
    msg: str | None,
    req: str | None,
    inp: int = 0,
    out: int = 0,
    cw: int = 0,
    cr: int = 0,
    *,
    side: bool = False,
    ts: str = "2026-11-01T10:00:00.000Z",
    model: str = "claude-sonnet-4-5-20250929",
    session: str = SESSION,
    entrypoint: str = "cli",
    **extra: Any,
) -> dict[str, Any]:
    """An assistant record as Claude Code writes it (one content block)."""
    message: dict[str, Any] = {
        "model": model,
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": None,
        "usage": {
            "input_tokens": inp,
            "cache_creation_input_tokens": cw,
            "cache_read_input_tokens": cr,
            "output_tokens": out,
            "service_tier": "standard",
        },
    }
    if msg is not None:
        message["id"] = msg
    record: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": side,
        "userType": "external",
        "cwd": "/home/u/proj",
        "sessionId": session,
        "version": "2.0.26",
        "entrypoint": entrypoint,
        "type": "assistant",
        "message": message,
        "uuid": "u",
        "timestamp": ts,
    }
    if req is not None:
        record["requestId"] = req
    record.update(extra)
    return record


def line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


def write(path: Path, *lines: bytes | dict[str, Any], mode: str = "wb") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode) as fh:
        for item in lines:
            fh.write(line(item) if isinstance(item, dict) else item)
    return path


def append(path: Path, *lines: bytes | dict[str, Any]) -> Path:
    return write(path, *lines, mode="ab")


def sums(inp: int, out: int, cw: int, cr: int) -> dict[str, int]:
    return {"input": inp, "output": out, "cache_creation": cw, "cache_read": cr}


@pytest.fixture
def db(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    conn = open_store(tmp_path / "podium.duckdb")
    yield conn
    conn.close()


@pytest.fixture
def claude(tmp_path: Path) -> Path:
    (tmp_path / "claude" / "projects").mkdir(parents=True)
    return tmp_path / "claude"


def project(claude: Path, name: str = "-home-u-proj") -> Path:
    return claude / "projects" / name


def ingest(db: duckdb.DuckDBPyConnection, *dirs: Path, **kw: Any) -> usage_log.PassStats:
    return UsageLog(db, workers=0).ingest(list(dirs), **kw)


# -- the counting rule ------------------------------------------------------------------------


@pytest.mark.parametrize("through", ["lists", "scratch file"])
def test_every_dedupe_case_gives_the_hand_computed_totals(db, claude, monkeypatch, through):
    # Small batches go to DuckDB as list parameters, big ones through a scratch file.
    monkeypatch.setattr(usage_log, "SMALL_BATCH", 1000 if through == "lists" else 0)
    proj = project(claude)
    main = write(
        proj / f"{SESSION}.jsonl",
        {"type": "user", "message": {"role": "user", "content": "go"}, "timestamp": "x"},
        # Streaming: one line per content block; earlier ones carry partial output.
        rec("msg_A", "req_A", 10, 1, 100, 1000),
        rec("msg_A", "req_A", 10, 7, 100, 1000),
        rec("msg_A", "req_A", 10, 42, 100, 1000),  # A counts 10/42/100/1000
        # The parent message a subagent replays (below): the parent's record wins.
        rec("msg_B", "req_B", 5, 20, 0, 300),  # B counts 5/20/0/300
        # No requestId: message.id alone identifies the response.
        rec("msg_C", None, 3, 1),
        rec("msg_C", None, 3, 9),  # C counts 3/9
        # No message.id: requestId identifies it.
        rec(None, "req_D", 2, 4),
        rec(None, "req_D", 2, 6),  # D counts 2/6
        # Neither: each record counts once (two here).
        rec(None, None, 1, 1),
        rec(None, None, 1, 1),  # 2/2
        # Cache writes: the 5-minute + 1-hour breakdown wins over the flat field.
        rec("msg_E", "req_E", 0, 0, 999, 0)
        | {
            "message": rec("msg_E", "req_E", 0, 0, 999, 0)["message"]
            | {
                "usage": {
                    "input_tokens": 0,
                    "output_tokens": 0,
                    "cache_creation_input_tokens": 999,
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": 30,
                        "ephemeral_1h_input_tokens": 40,
                    },
                    "cache_read_input_tokens": 0,
                }
            }
        },  # E counts 0/0/70/0
        # A tool result mentioning a "usage" object is no usage record.
        {
            "type": "user",
            "message": {"role": "user", "content": [{"type": "tool_result", "content": "x"}]},
            "toolUseResult": {"usage": {"input_tokens": 5000, "output_tokens": 5000}},
            "timestamp": "2026-11-01T10:00:00Z",
        },
        # Claude Code's own error record: a message with no tokens.
        rec(None, None, model="<synthetic>", isApiErrorMessage=True),
    )
    agent = write(
        proj / SESSION / "subagents" / "agent-1.jsonl",
        # Replay of the parent's B under a new requestId, as a sidechain: ignored.
        rec("msg_B", "req_B2", 5, 20, 0, 90_000, side=True),
        # The agent's own response, streamed: counts once, the larger record.
        rec("msg_F", "req_F", 4, 2, 0, 50, side=True),
        rec("msg_F", "req_F", 4, 8, 0, 50, side=True),  # F counts 4/8/0/50
    )
    # Older Claude Code also wrapped the agent's messages in progress records.
    append(
        main,
        {
            "type": "progress",
            "sessionId": SESSION,
            "timestamp": "2026-11-01T10:00:05Z",
            "data": {"type": "agent_progress", "message": rec("msg_F", "req_F", 4, 3, side=True)},
        },
        # ... and sometimes the wrapped copy is the only one.
        {
            "type": "progress",
            "sessionId": SESSION,
            "timestamp": "2026-11-01T10:00:06Z",
            "data": {"message": rec("msg_G", "req_G", 1, 1, 1, 1, side=True)},  # G 1/1/1/1
        },
    )
    stats = ingest(db, claude)
    assert stats.files == 2 and stats.bad_lines == 0, stats.problems
    log = totals(db)
    # A + B + C + D + neither(2) + E + F + G + synthetic
    assert log["totals"] == sums(
        10 + 5 + 3 + 2 + 2 + 0 + 4 + 1,
        42 + 20 + 9 + 6 + 2 + 0 + 8 + 1,
        100 + 0 + 0 + 0 + 0 + 70 + 0 + 1,
        1000 + 300 + 0 + 0 + 0 + 0 + 50 + 1,
    )
    assert log["messages"] == 10  # A B C D 2×neither E F G synthetic
    row = db.execute(
        "SELECT is_sidechain, request_id, cache_read_tokens, source_path, claude_session_id, "
        "project, entrypoint, entrypoint_raw FROM usage_messages WHERE message_id = 'msg_B'"
    ).fetchone()
    assert row == (False, "req_B", 300, str(main), SESSION, "/home/u/proj", "interactive", "cli")
    assert db.execute(
        "SELECT cache_creation_1h_tokens FROM usage_messages WHERE message_id = 'msg_E'"
    ).fetchone() == (40,)
    assert agent.exists()


def test_the_rule_holds_across_passes_and_file_order(db, claude):
    """A sidechain replay read first is replaced when the parent's record comes; the
    final streaming line replaces a partial one read in an earlier pass."""
    proj = project(claude)
    write(proj / SESSION / "subagents" / "agent-1.jsonl", rec("m1", "r2", 1, 1, 0, 9000, side=True))
    ingest(db, claude)
    assert totals(db)["totals"] == sums(1, 1, 0, 9000)
    parent = write(proj / f"{SESSION}.jsonl", rec("m1", "r1", 1, 1, 0, 10), rec("m2", "r3", 5, 1))
    ingest(db, claude)
    assert totals(db)["totals"] == sums(6, 2, 0, 10)
    append(parent, rec("m2", "r3", 5, 30))  # the last block of m2 arrives
    ingest(db, claude)
    assert totals(db)["totals"] == sums(6, 31, 0, 10)
    # A later replay never takes over from the parent.
    append(proj / SESSION / "subagents" / "agent-2.jsonl", rec("m1", "r9", 1, 1, 9, 9, side=True))
    ingest(db, claude)
    assert totals(db)["totals"] == sums(6, 31, 0, 10)
    assert totals(db)["messages"] == 2


def test_a_short_record_before_a_user_record_is_still_read(db, claude):
    """User records are not searched for usage; the test for one must not look past
    the end of the line before it."""
    short = {
        "type": "assistant",
        "timestamp": "2026-11-01T10:00:00Z",
        "message": {"id": "m1", "usage": {"input_tokens": 5, "output_tokens": 6}},
    }
    user = {"type": "user", "message": {"role": "user", "content": "x"}}
    write(
        project(claude) / "s.jsonl",
        short,
        user,
        short | {"message": {"id": "m2", "usage": {"input_tokens": 1, "output_tokens": 1}}},
        user,
    )
    ingest(db, claude)
    assert totals(db)["totals"] == sums(6, 7, 0, 0)


def test_config_dirs_are_one_log(db, tmp_path):
    """The same response under two config dirs (a copied history) counts once."""
    one, two = tmp_path / "one", tmp_path / "two"
    write(project(one) / "s1.jsonl", rec("m1", "r1", 10, 10))
    write(project(two) / "s1.jsonl", rec("m1", "r1", 10, 10), rec("m2", "r2", 1, 1))
    stats = ingest(db, one, two, one)  # a dir named twice is read once
    assert stats.files == 2
    assert totals(db)["totals"] == sums(11, 11, 0, 0)
    # A projects/ dir given itself works as well (as ccusage accepts it).
    write(project(tmp_path / "three") / "s.jsonl", rec("m3", "r3", 100, 0))
    ingest(db, tmp_path / "three" / "projects")
    assert totals(db)["totals"] == sums(111, 11, 0, 0)


def test_entrypoints_and_sessions_from_the_file(db, claude):
    proj = project(claude)
    headless = rec("m1", "r1", 1, 1, entrypoint="sdk-cli")
    anonymous = rec("m2", "r2", 1, 1)
    del anonymous["sessionId"], anonymous["entrypoint"]
    write(proj / "abc.jsonl", headless, anonymous)
    write(
        proj / "abc" / "subagents" / "agent-x.jsonl",
        {**anonymous, "message": {**anonymous["message"], "id": "m3"}},
    )
    ingest(db, claude)
    rows = db.execute(
        "SELECT message_id, entrypoint, entrypoint_raw, claude_session_id FROM usage_messages "
        "ORDER BY message_id"
    ).fetchall()
    assert rows == [
        ("m1", "headless", "sdk-cli", SESSION),
        ("m2", None, None, "abc"),
        ("m3", None, None, "abc"),  # a subagent file belongs to its parent's session
    ]


# -- bad input ------------------------------------------------------------------------------


def test_bad_lines_are_skipped_counted_and_described(db, claude):
    good = rec("m1", "r1", 10, 1)
    stringly = rec("m2", "r2")
    stringly["message"]["usage"]["input_tokens"] = "12"
    floaty = rec("m3", "r3")
    floaty["message"]["usage"]["output_tokens"] = 1.5
    negative = rec("m4", "r4", -5, 1)
    timeless = rec("m5", "r5", 7, 7)
    del timeless["timestamp"]
    bad_time = rec("m6", "r6", 7, 7, ts="yesterday")
    path = write(
        project(claude) / "s.jsonl",
        good,
        b"\n",
        b"   \n",
        b"\xff\xfe not UTF-8 at all\n",
        line(rec("m7", "r7", 9, 9)).replace(b'"hi"', b'"caf\xe9"'),  # invalid UTF-8 inside
        b"this is not JSON\n",
        b'{"type": "user", "message": \n',
        b"[1, 2, 3]\n",
        stringly,
        floaty,
        negative,
        timeless,
        bad_time,
        rec("m8", "r8", 1, 1),
        line(rec("m9", "r9", 100, 100))[:40],  # torn: Claude Code is still writing it
    )
    stats = ingest(db, claude)
    assert stats.lines == 15
    assert stats.bad_lines == 13
    assert stats.torn == 1
    assert totals(db)["totals"] == sums(11, 2, 0, 0)  # m1 and m8 only
    text = "\n".join(stats.problems)
    for what in (
        "blank line",
        "invalid UTF-8",
        "not JSON",
        "not a JSON object",
        "wrongly typed field",
        "without a timestamp",
        "torn last line",
    ):
        assert what in text, what
    assert f"{path} at byte 0" not in text  # the good first line is not blamed
    assert all(str(path) in p for p in stats.problems)


def test_torn_last_line_is_read_once_complete(db, claude):
    path = project(claude) / "s.jsonl"
    full = line(rec("m2", "r2", 5, 5))
    write(path, rec("m1", "r1", 1, 1), full[:30])
    first = ingest(db, claude)
    assert (first.lines, first.bad_lines, first.torn) == (2, 1, 1)
    assert totals(db)["totals"] == sums(1, 1, 0, 0)
    # Nothing new: the torn line is not read (nor counted) again.
    assert ingest(db, claude).lines == 0
    append(path, full[30:])
    second = ingest(db, claude)
    assert (second.lines, second.bad_lines) == (1, 0)
    assert totals(db)["totals"] == sums(6, 6, 0, 0)


def test_complete_last_line_without_newline_counts_once(db, claude):
    path = write(
        project(claude) / "s.jsonl", rec("m1", "r1", 1, 1), line(rec("m2", "r2", 2, 2))[:-1]
    )
    assert ingest(db, claude).bad_lines == 0
    assert totals(db)["totals"] == sums(3, 3, 0, 0)
    append(path, b"\n", rec("m3", "r3", 4, 4))
    ingest(db, claude)
    assert totals(db)["totals"] == sums(7, 7, 0, 0)
    assert totals(db)["messages"] == 3


def test_unreadable_file_is_reported_and_tried_again(db, claude, monkeypatch):
    path = write(project(claude) / "s.jsonl", rec("m1", "r1", 1, 1))

    def refuse(*args: Any, **kw: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(transcripts, "open_regular", refuse)
    stats = ingest(db, claude)
    assert any("cannot read: Permission denied" in p for p in stats.problems)
    monkeypatch.undo()
    ingest(db, claude)  # not marked as read: tried again, and read
    assert totals(db)["totals"] == sums(1, 1, 0, 0)


def test_a_full_disk_is_one_error_naming_the_file(db, claude, tmp_path, monkeypatch):
    for n in range(3):
        write(project(claude) / f"s{n}.jsonl", rec(f"m{n}", f"r{n}", 1, 1))
    scratch = tmp_path / "usage-x.ndjson"

    def full(*args: Any, **kw: Any) -> Any:
        raise OSError(28, "No space left on device", str(scratch))

    monkeypatch.setattr(usage_log, "SMALL_BATCH", 0)  # through a scratch file
    monkeypatch.setattr(usage_log.tempfile, "mkstemp", full)
    with pytest.raises(usage_log.IngestError, match=f"cannot write {scratch}: No space left"):
        UsageLog(db, workers=0, scratch_dir=tmp_path).ingest([claude])
    monkeypatch.undo()
    assert totals(db)["messages"] == 0
    ingest(db, claude)  # nothing was marked as read
    assert totals(db)["messages"] == 3


def test_a_failed_transaction_leaves_no_cursor_ahead_of_the_rows(db, claude, monkeypatch):
    write(project(claude) / "s.jsonl", rec("m1", "r1", 1, 1))
    log = UsageLog(db, workers=0)
    real = log.cursors.put_many

    def then_fail(cursors: Any) -> None:
        real(cursors)  # in memory too
        raise duckdb.IOException("disk I/O error: podium.duckdb.wal")

    monkeypatch.setattr(log.cursors, "put_many", then_fail)
    with pytest.raises(usage_log.IngestError, match=r"podium\.duckdb\.wal"):
        log.ingest([claude])
    monkeypatch.undo()
    assert totals(db)["messages"] == 0
    assert log.ingest([claude]).lines == 1  # the same log object reads it again
    assert totals(db)["messages"] == 1


# -- reading by byte offset -------------------------------------------------------------------


def test_appends_are_read_incrementally(db, claude):
    path = write(project(claude) / "s.jsonl", rec("m1", "r1", 1, 1), rec("m2", "r2", 1, 1))
    assert ingest(db, claude).lines == 2
    append(path, rec("m3", "r3", 1, 1))
    stats = ingest(db, claude)
    assert (stats.lines, stats.bytes_read) == (1, len(line(rec("m3", "r3", 1, 1))))
    assert totals(db)["totals"] == sums(3, 3, 0, 0)
    again = ingest(db, claude)
    assert (again.lines, again.bytes_read, again.files) == (0, 0, 1)


def test_offsets_survive_a_restart(tmp_path, claude):
    path = write(project(claude) / "s.jsonl", rec("m1", "r1", 1, 1), rec("m1", "r1", 1, 5))
    conn = open_store(tmp_path / "p.duckdb")
    ingest(conn, claude)
    conn.close()
    append(path, rec("m2", "r2", 2, 2))
    conn = open_store(tmp_path / "p.duckdb")
    stats = ingest(conn, claude)
    assert stats.lines == 1  # only the new line
    assert totals(conn)["totals"] == sums(3, 7, 0, 0)
    conn.close()


def test_truncated_then_rewritten_file_is_read_again(db, claude):
    """Same inode, and longer than before: the fingerprint notices the rewrite. Rows of
    the old content stay (the log keeps what Claude Code deletes)."""
    path = write(project(claude) / "s.jsonl", rec("m1", "r1", 1, 1), rec("m2", "r2", 2, 2))
    ingest(db, claude)
    inode = path.stat().st_ino
    with path.open("r+b") as fh:  # in place: same inode
        fh.truncate(0)
        fh.write(line(rec("m1", "r1", 1, 9)) + line(rec("m3", "r3", 3, 3)) * 1)
        fh.write(line(rec("m4", "r4", 4, 4)))
    assert path.stat().st_ino == inode
    stats = ingest(db, claude)
    assert (stats.lines, stats.bad_lines) == (3, 0)
    # m1 grew to 9 output tokens; m2 stays though it is gone from the file.
    assert totals(db)["totals"] == sums(10, 18, 0, 0)


def test_truncated_shorter_and_replaced_files_are_read_again(db, claude):
    path = write(project(claude) / "s.jsonl", rec("m1", "r1", 1, 1), rec("m2", "r2", 2, 2))
    ingest(db, claude)
    write(path, rec("m3", "r3", 3, 3))  # shorter than the offset
    assert ingest(db, claude).lines == 1
    other = write(path.with_suffix(".tmp"), rec("m4", "r4", 4, 4), rec("m5", "r5", 5, 5))
    os.replace(other, path)  # a new inode
    assert ingest(db, claude).lines == 2
    assert totals(db)["totals"] == sums(15, 15, 0, 0)


def test_deleted_files_keep_their_rows(db, claude):
    path = write(project(claude) / "s.jsonl", rec("m1", "r1", 1, 1))
    write(project(claude) / "t.jsonl", rec("m2", "r2", 0, 0))
    ingest(db, claude)
    path.unlink()
    (project(claude) / "t.jsonl").unlink()
    stats = ingest(db, claude)
    assert stats.files == 0
    assert totals(db)["totals"] == sums(1, 1, 0, 0)
    assert db.execute("SELECT count(*) FROM file_offsets").fetchone() == (0,)


def test_only_the_paths_a_watcher_reports(db, claude):
    a = write(project(claude) / "a.jsonl", rec("m1", "r1", 1, 1))
    b = write(project(claude) / "b.jsonl", rec("m2", "r2", 2, 2))
    stats = ingest(db, claude, only=[str(a), "/elsewhere/x.jsonl"])
    assert stats.files == 1
    assert totals(db)["totals"] == sums(1, 1, 0, 0)
    b.unlink()
    ingest(db, claude, only=[str(b)])  # gone: nothing to read, nothing fails
    assert totals(db)["totals"] == sums(1, 1, 0, 0)


def test_a_stopped_pass_keeps_what_it_wrote_and_the_next_one_finishes(db, claude):
    for n in range(3):
        write(
            project(claude) / f"s{n}.jsonl",
            rec(f"m{n}", f"r{n}", 1, 1),
            rec(f"m{n}", f"r{n}", 1, 2),
        )
    stop = threading.Event()
    stop.set()  # as if the engine were shutting down: the pass ends after one file
    first = UsageLog(db, workers=0).ingest([claude], stop=stop)
    assert first.stopped and first.lines == 2
    assert totals(db)["messages"] == 1
    second = ingest(db, claude)
    assert second.lines == 4  # the other two files, not the first again
    assert totals(db)["totals"] == sums(3, 6, 0, 0)


def test_a_pass_stopped_inside_a_big_file_resumes_where_it_was(db, claude, monkeypatch):
    path = write(project(claude) / "big.jsonl", *[rec(f"m{i}", f"r{i}", 1, 1) for i in range(40)])
    monkeypatch.setattr(usage_log, "plan_ranges", _small_ranges)
    monkeypatch.setattr(usage_log, "BATCH_ROWS", 5)
    stop = threading.Event()
    log = UsageLog(db, workers=0)
    real = log._write

    def write_then_stop(*args: Any) -> None:
        real(*args)
        stop.set()

    monkeypatch.setattr(log, "_write", write_then_stop)
    first = log.ingest([claude], stop=stop)
    assert first.stopped and 0 < first.lines < 40
    row = db.execute("SELECT size, offset_ FROM file_offsets").fetchone()
    assert row[0] == -1 and 0 < row[1] < path.stat().st_size
    second = ingest(db, claude)
    assert first.lines + second.lines == 40  # nothing read twice
    assert totals(db)["totals"] == sums(40, 40, 0, 0)
    assert db.execute("SELECT size FROM file_offsets").fetchone() == (path.stat().st_size,)


def _small_ranges(path: str, start: int, end: int, hint: str) -> list[Job]:
    return plan_ranges(path, start, end, hint, size=600)


# -- big files, helper processes --------------------------------------------------------------


def test_ranges_split_on_newlines_and_give_the_same_rows(tmp_path):
    path = write(
        tmp_path / "s.jsonl",
        *[rec(f"m{i % 7}", f"r{i % 7}", 1, i) for i in range(60)],
        line(rec("tail", "t", 1, 1))[:20],
    )
    size = path.stat().st_size
    jobs = plan_ranges(str(path), 0, size, "s", size=700)
    assert len(jobs) > 3 and jobs[-1].last and not any(j.last for j in jobs[:-1])
    assert all(j.end == n.start for j, n in itertools.pairwise(jobs))
    data = path.read_bytes()
    assert all(data[j.end - 1 : j.end] == b"\n" for j in jobs[:-1])
    parts = [parse_range(j) for j in jobs]
    whole = parse_range(Job(str(path), 0, size, True, "s"))
    assert sum(p.lines for p in parts) == whole.lines == 61
    assert parts[-1].offset == whole.offset and parts[-1].torn and whole.torn

    def best(results):
        out = {}
        for result in results:
            for row in result.rows:
                old = out.get(row.dedupe_key)
                if old is None or row.output_tokens > old.output_tokens:
                    out[row.dedupe_key] = row
        return {k: r.output_tokens for k, r in out.items()}

    assert best(parts) == best([whole])


def test_lines_longer_than_the_read_buffer(tmp_path, monkeypatch):
    long = rec("m1", "r1", 3, 4)
    long["message"]["content"][0]["text"] = "é" * 5000  # non-ASCII, many buffers long
    path = write(tmp_path / "s.jsonl", rec("m0", "r0", 1, 1), long, b"oops\n", rec("m2", "r2"))
    whole = parse_range(Job(str(path), 0, path.stat().st_size, True, "s"))
    monkeypatch.setattr(transcripts, "CHUNK", 64)
    small = parse_range(Job(str(path), 0, path.stat().st_size, True, "s"))
    assert (small.lines, small.bad_lines, small.offset) == (4, 1, path.stat().st_size)
    assert [r.output_tokens for r in small.rows] == [r.output_tokens for r in whole.rows]
    assert [r.output_tokens for r in small.rows] == [1, 4, 0]
    assert small.problems == whole.problems


def test_helper_processes_count_the_same(tmp_path, claude, monkeypatch):
    for n in range(6):
        write(
            project(claude) / f"s{n}.jsonl",
            *[rec(f"m{n}-{i}", f"r{n}-{i}", n, i) for i in range(40)],
            b"garbage\n",
        )
    inline = open_store(tmp_path / "a.duckdb")
    stats = UsageLog(inline, workers=0).ingest([claude])
    monkeypatch.setattr(usage_log, "PARALLEL_BYTES", 0)
    parallel = open_store(tmp_path / "b.duckdb")
    pstats = UsageLog(parallel, workers=3).ingest([claude])
    assert pstats.workers == 2
    assert (pstats.lines, pstats.bad_lines) == (stats.lines, stats.bad_lines) == (246, 6)
    assert totals(parallel) == totals(inline)
    inline.close()
    parallel.close()


def test_a_dead_helper_means_parsing_in_process(tmp_path, claude, monkeypatch):
    for n in range(4):
        write(project(claude) / f"s{n}.jsonl", rec(f"m{n}", f"r{n}", 1, 1))
    monkeypatch.setattr(usage_log, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(ingest_pool, "_batches", lambda jobs, size: ([j] for j in jobs))
    in_process = ingest_pool._InProcess.call

    def slow(self, jobs):  # so that the helper gets a batch too
        time.sleep(0.3)
        return in_process(self, jobs)

    monkeypatch.setattr(ingest_pool._InProcess, "call", slow)
    monkeypatch.setattr(sys, "executable", "/bin/false")
    conn = open_store(tmp_path / "a.duckdb")
    stats = UsageLog(conn, workers=2).ingest([claude])
    assert stats.workers == 0  # given up
    assert totals(conn)["totals"] == sums(4, 4, 0, 0)
    conn.close()


def test_synthetic_config_dir_matches_its_generator(tmp_path, db):
    """The benchmark's data (bench/transcripts.py) holds every case at scale; its
    generator keeps the expected totals by the same rule."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    try:
        from transcripts import generate
    finally:
        sys.path.pop(0)
    gen = generate(tmp_path / "claude", 3, seed=3)
    stats = UsageLog(db, workers=0).ingest([tmp_path / "claude"])
    log = totals(db)
    assert log["totals"] == gen.expected.as_dict()
    assert log["messages"] == gen.expected.messages
    assert stats.files == gen.files


# -- cost ---------------------------------------------------------------------------------


def test_cost_follows_the_price_table_and_is_recomputed_when_it_changes(db, claude):
    write(
        project(claude) / "s.jsonl",
        rec("m1", "r1", 1_000_000, 1_000_000, 1_000_000, 1_000_000),  # sonnet: 3/15
        rec("m2", "r2", 1_000_000, 0, model="claude-unknown-9"),
        rec(None, None, model="<synthetic>"),
    )
    UsageLog(db, workers=0).ingest([claude])
    costs = dict(db.execute("SELECT model, cost_usd FROM usage_messages").fetchall())
    assert costs["claude-sonnet-4-5-20250929"] == pytest.approx(3 + 15 + 3.75 + 0.30)
    assert costs["claude-unknown-9"] is None
    assert costs["<synthetic>"] == 0
    custom = PriceTable({"claude-unknown-*": Price.simple(1, 2)})
    UsageLog(db, custom, workers=0)  # a new table: stored costs follow
    costs = dict(db.execute("SELECT model, cost_usd FROM usage_messages").fetchall())
    assert costs["claude-unknown-9"] == pytest.approx(1.0)
    assert PriceTable().for_model("claude-opus-4-1-20250805") == Price.simple(15, 75)
    assert PriceTable().for_model("claude-opus-4-5-20251101") == Price.simple(5, 25)
    assert PriceTable().for_model("claude-3-5-haiku-20241022") == Price.simple(0.8, 4)


# -- input that must not wedge a pass ---------------------------------------------------------


@pytest.mark.parametrize("depth", [1_000, 100_000])
@pytest.mark.parametrize("kind", ["array", "object"])
def test_deeply_nested_lines_are_bad_lines_and_the_rest_is_read(db, claude, depth, kind):
    deep = deep_json(depth, kind)
    path = write(
        project(claude) / "s.jsonl",
        # A usage record: decoded, and the decoder recurses into the unknown field.
        b'{"type":"assistant","message":{"usage":{"x":' + deep + b"}}}\n",
        deep + b"\n",
        b'{"x":' + deep + b"}\n",  # looks like an object and has no usage: not decoded
        rec("m1", "r1", 3, 4),
        b'{"usage":' + deep + b"}",  # an unterminated last line
    )
    stats = ingest(db, claude)
    assert totals(db)["totals"] == sums(3, 4, 0, 0)
    assert stats.bad_lines >= 2 and stats.lines == 5
    assert any("at byte 0: nested too deeply" in p for p in stats.problems)
    # The cursor moved past every complete line: only the unterminated one is read again.
    append(path, b"\n", rec("m2", "r2", 1, 1))
    again = ingest(db, claude)
    assert again.lines == 2 and again.bad_lines == 1
    assert totals(db)["totals"] == sums(4, 5, 0, 0)


def test_a_line_over_the_cap_is_skipped_without_holding_it(db, claude, monkeypatch):
    monkeypatch.setattr(transcripts, "CHUNK", 128)
    monkeypatch.setattr(transcripts, "MAX_LINE", 1024)
    huge = b'{"usage":"' + b"x" * 5000 + b'"}\n'
    path = write(project(claude) / "s.jsonl", huge, rec("m1", "r1", 3, 4), huge, huge[:-1])
    stats = ingest(db, claude)
    assert totals(db)["totals"] == sums(3, 4, 0, 0)
    assert stats.bad_lines == 3 and stats.lines == 4
    assert any("at byte 0: line over 1024 bytes, skipped" in p for p in stats.problems)
    assert len(transcripts._local.buf) <= 1024
    # The cursor is past the unterminated giant too: its end is one more (short) bad line.
    append(path, b'tail"}\n', rec("m2", "r2", 1, 1))
    again = ingest(db, claude)
    assert again.bad_lines == 1 and totals(db)["totals"] == sums(4, 5, 0, 0)


def test_fifos_sockets_and_devices_are_skipped_and_reported(db, claude, tmp_path):
    import socket

    folder = project(claude)
    write(folder / "good.jsonl", rec("m1", "r1", 3, 4))
    os.mkfifo(folder / "fifo.jsonl")
    os.symlink("/dev/zero", folder / "zero.jsonl")
    os.symlink(folder / "fifo.jsonl", folder / "link.jsonl")
    sock = socket.socket(socket.AF_UNIX)
    sock_path = tmp_path / "s"  # a socket path must be short: made here, moved there
    sock.bind(str(sock_path))
    os.rename(sock_path, folder / "sock.jsonl")
    done: list[usage_log.PassStats] = []
    worker = threading.Thread(target=lambda: done.append(ingest(db, claude)), daemon=True)
    worker.start()
    worker.join(20)
    try:
        assert done, "the pass blocked on a file that is not a regular file"
    finally:
        if worker.is_alive():  # free the thread the old code leaves in open()
            with contextlib.suppress(OSError):
                os.close(os.open(folder / "fifo.jsonl", os.O_WRONLY | os.O_NONBLOCK))
        sock.close()
    [stats] = done
    assert totals(db)["totals"] == sums(3, 4, 0, 0)
    assert stats.skipped_files == 4
    text = "\n".join(stats.problems)
    for name, kind in [("fifo", "a FIFO"), ("zero", "a device"), ("link", "a FIFO")]:
        assert f"{name}.jsonl: {kind}, skipped" in text
    assert "sock.jsonl: a socket, skipped" in text


def test_a_range_that_cannot_be_parsed_fails_alone(db, claude, monkeypatch):
    write(project(claude) / "a.jsonl", rec("m1", "r1", 3, 4))
    write(project(claude) / "b.jsonl", rec("m2", "r2", 1, 1))
    real = transcripts.parse_range

    def flaky(job: Job) -> Any:
        if job.path.endswith("a.jsonl"):
            raise MemoryError
        return real(job)

    monkeypatch.setattr(transcripts, "parse_range", flaky)
    stats = ingest(db, claude)
    assert totals(db)["totals"] == sums(1, 1, 0, 0)
    assert any("a.jsonl from byte 0: cannot parse: too big to decode" in p for p in stats.problems)
    monkeypatch.undo()
    ingest(db, claude)  # tried again next pass
    assert totals(db)["totals"] == sums(4, 5, 0, 0)


def test_lone_surrogates_do_not_lose_a_record(db, claude):
    """JSON.stringify writes a string cut inside an emoji as a lone surrogate escape and
    JSON.parse (ccusage) reads it; msgspec refuses the whole line."""
    first = rec("m1", "r1", 3, 4, cwd="/home/u/proj")
    first["message"]["content"] = [{"type": "text", "text": "cut \ud83d"}]
    second = rec("m2", "r2", 1, 1)
    second["message"]["content"] = [{"type": "text", "text": "\ud83d\ude00 \ude00 and \\ud83d"}]
    path = write(project(claude) / "s.jsonl", first, second)
    last = rec("m3", "r3", 10, 10, cwd="/tmp/\udc00")
    append(path, line(last)[:-1])  # complete, without its newline yet
    stats = ingest(db, claude)
    assert stats.bad_lines == 0 and totals(db)["totals"] == sums(14, 15, 0, 0)
    [project_of_m3] = db.execute(
        "SELECT project FROM usage_messages WHERE message_id = 'm3'"
    ).fetchone()
    assert project_of_m3 == "/tmp/\ufffd"


def test_helper_processes_pass_over_deep_lines_too(tmp_path, claude, monkeypatch):
    """The helpers decode the same lines: a RecursionError there was a dead helper, and
    then the same error again in the engine."""
    deep = b"[" * 100_000 + b"]" * 100_000
    for n in range(4):
        write(
            project(claude) / f"s{n}.jsonl",
            rec(f"m{n}", f"r{n}", 1, 2),
            b'{"type":"assistant","message":{"usage":{"x":' + deep + b"}}}\n",
        )
    monkeypatch.setattr(usage_log, "PARALLEL_BYTES", 0)
    conn = open_store(tmp_path / "b.duckdb")
    stats = UsageLog(conn, workers=3).ingest([claude])
    assert stats.workers == 2 and stats.bad_lines == 4
    assert totals(conn)["totals"] == sums(4, 8, 0, 0)
    conn.close()


def test_a_big_pass_uses_every_core_whatever_the_load(db, monkeypatch):
    # A loaded machine once meant parsing on one core: helpers are started anyway.
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 9.0, 9.0), raising=False)
    assert UsageLog(db)._helpers() == 3
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert UsageLog(db)._helpers() == usage_log.MAX_HELPERS
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert UsageLog(db)._helpers() == 0


def memory_limit(conn: duckdb.DuckDBPyConnection) -> str:
    row = conn.execute("SELECT current_setting('memory_limit')").fetchone()
    assert row is not None
    return str(row[0])


def test_releasing_memory_after_a_pass_keeps_the_log_and_the_limit(tmp_path, claude):
    write(project(claude) / "a.jsonl", *[rec(f"m{i}", f"r{i}", i, 1) for i in range(50)])
    conn = open_store(tmp_path / "p.duckdb")
    limit = memory_limit(conn)
    log = UsageLog(conn.cursor(), workers=0)
    log.ingest([claude])
    before = totals(conn)
    log.release_memory()
    assert memory_limit(conn) == limit  # DuckDB's default again, not the low one
    # The checkpoint moved the rows into the file: nothing is left in the WAL.
    wal = tmp_path / "p.duckdb.wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert totals(conn) == before
    conn.close()
    reopened = open_store(tmp_path / "p.duckdb")
    assert totals(reopened) == before
    reopened.close()


def test_releasing_memory_goes_on_when_duckdb_refuses(tmp_path, claude, monkeypatch):
    """A limit DuckDB refuses changes nothing and the limit is the default again; a
    transaction another cursor has open meanwhile goes on and commits."""
    write(project(claude) / "a.jsonl", rec("m1", "r1", 3, 4))
    conn = open_store(tmp_path / "p.duckdb")
    limit = memory_limit(conn)
    log = UsageLog(conn.cursor(), workers=0)
    log.ingest([claude])
    monkeypatch.setattr(usage_log, "RELEASE_LIMIT", "not a size")
    other = conn.cursor()
    other.execute("BEGIN TRANSACTION")
    other.execute("INSERT INTO usage_meta VALUES ('x', 'y')")
    log.release_memory()
    other.execute("COMMIT")
    assert memory_limit(conn) == limit
    assert totals(conn)["totals"] == sums(3, 4, 0, 0)
    assert conn.execute("SELECT value FROM usage_meta WHERE key = 'x'").fetchall() == [("y",)]
    conn.close()


def as_duckdb_shows(name: str, value: str) -> str:
    """`value` of setting `name` as DuckDB prints it back ('96MB' -> '91.5 MiB')."""
    scratch = duckdb.connect()
    scratch.execute(f"SET {name} = '{value}'")
    row = scratch.execute(f"SELECT current_setting('{name}')").fetchone()
    scratch.close()
    assert row is not None
    return str(row[0])


def test_a_big_pass_holds_checkpoints_back_and_limits_duckdbs_memory(tmp_path, claude, monkeypatch):
    write(project(claude) / "a.jsonl", *[rec(f"m{i}", f"r{i}", i, 1) for i in range(30)])
    conn = open_store(tmp_path / "p.duckdb")
    setting = (
        "SELECT current_setting('checkpoint_threshold'), current_setting('memory_limit'), "
        "current_setting('threads')"
    )
    default = conn.execute(setting).fetchone()
    seen: list[Any] = []
    write_batch = UsageLog._write

    def spy(self: UsageLog, *args: Any) -> None:
        seen.append(conn.execute(setting).fetchone())
        write_batch(self, *args)

    monkeypatch.setattr(UsageLog, "_write", spy)
    monkeypatch.setattr(usage_log, "BIG_PASS_BYTES", 0)
    UsageLog(conn.cursor(), workers=0).ingest([claude])
    during = (
        as_duckdb_shows("checkpoint_threshold", usage_log.DEFERRED_CHECKPOINT),
        as_duckdb_shows("memory_limit", usage_log.PASS_MEMORY_LIMIT),
        1,  # no helpers (a pass under PARALLEL_BYTES): one DuckDB thread
    )
    assert during != default
    assert seen and seen == [during] * len(seen)
    assert conn.execute(setting).fetchone() == default
    # A small pass leaves DuckDB's own settings alone.
    monkeypatch.setattr(usage_log, "BIG_PASS_BYTES", 1 << 40)
    seen.clear()
    append(project(claude) / "a.jsonl", rec("m99", "r99", 1, 1))
    UsageLog(conn.cursor(), workers=0).ingest([claude])
    assert seen == [default]
    conn.close()


def test_a_write_over_the_big_pass_limit_is_done_again_without_it(tmp_path, claude, monkeypatch):
    write(project(claude) / "a.jsonl", *[rec(f"m{i}", f"r{i}", 1, 1) for i in range(30)])
    write(project(claude) / "b.jsonl", rec("m0", "r0", 1, 5))  # m0 again, larger
    monkeypatch.setattr(usage_log, "BIG_PASS_BYTES", 0)
    monkeypatch.setattr(usage_log, "BATCH_ROWS", 10)
    conn = open_store(tmp_path / "p.duckdb")
    limit = memory_limit(conn)
    log = UsageLog(conn.cursor(), workers=0)
    transaction = UsageLog._transaction
    refused: list[str] = []

    def once_out_of_memory(self: UsageLog, *args: Any) -> None:
        if not refused:
            # Half done, as DuckDB would be: the cursors must not run ahead.
            self.conn.execute("BEGIN TRANSACTION")
            self.cursors.put_many(args[2])
            refused.append(memory_limit(conn))
            usage_log.rollback(self.conn)
            self.reload()
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate")
        transaction(self, *args)

    monkeypatch.setattr(UsageLog, "_transaction", once_out_of_memory)
    stats = log.ingest([claude])
    assert refused == [as_duckdb_shows("memory_limit", usage_log.PASS_MEMORY_LIMIT)]
    assert stats.records == 31
    assert totals(conn)["totals"] == sums(30, 34, 0, 0)
    assert memory_limit(conn) == limit
    # Nothing is read twice or left unread: the next pass finds nothing new.
    assert log.ingest([claude]).lines == 0
    conn.close()
