"""`podium hook` / `podium statusline`: one line per call, exit 0 whatever comes in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from collectors import spool
from collectors.spool_reader import SpoolReader
from collectors.store import open_store
from collectors.tail import CursorStore
from tests.hostile import deep_json

PODIUM = [str(Path(sys.executable).with_name("podium"))]


def run(args: list[str], data: Path, stdin: bytes, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODIUM_")}
    env.update(PODIUM_DATA_DIR=str(data), **extra)
    return subprocess.run([*PODIUM, *args], input=stdin, env=env, capture_output=True, timeout=30)


def spooled(data: Path, kind: str = "hooks") -> list[dict]:
    out: list[dict] = []
    for f in sorted((data / "spool").glob(f"{kind}-*.jsonl")):
        out += [json.loads(line) for line in f.read_text().splitlines()]
    return out


def test_hook_appends_payload(tmp_path: Path):
    payload = {"session_id": "abc", "hook_event_name": "Stop", "cwd": "/x"}
    result = run(["hook", "Stop"], tmp_path, json.dumps(payload).encode(), PODIUM_SESSION_ID="s1")
    assert result.returncode == 0 and result.stdout == b""
    [line] = spooled(tmp_path)
    assert line["event"] == "Stop" and line["payload"] == payload
    assert line["podium_session"] == "s1" and line["kind"] == "hook"
    spool_file = next((tmp_path / "spool").glob("hooks-*.jsonl"))
    assert spool_file.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("stdin", [b"not json {", b"[1, 2]", b"", b"\xff\xfe garbage"])
def test_bad_payload_is_kept_and_logged_never_fatal(tmp_path: Path, stdin: bytes):
    result = run(["hook", "Notification"], tmp_path, stdin)
    assert result.returncode == 0
    [line] = spooled(tmp_path)
    assert line["error"] == "payload is not a JSON object" and "payload" not in line
    assert "Notification" in (tmp_path / "spool" / "errors.log").read_text()


def test_missing_data_dir_is_created(tmp_path: Path):
    data = tmp_path / "deep" / "er"
    assert run(["hook", "Stop"], data, b"{}").returncode == 0
    assert len(spooled(data)) == 1


def test_unwritable_data_dir_still_exits_zero(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    result = run(["hook", "Stop"], blocker / "data", b"{}")
    assert result.returncode == 0
    assert b"podium:" in result.stderr


def test_concurrent_hooks_never_interleave(tmp_path: Path):
    big = json.dumps({"session_id": "s", "tool_input": {"content": "x" * 200_000}}).encode()
    procs = [
        subprocess.Popen(
            [*PODIUM, "hook", "PreToolUse"],
            stdin=subprocess.PIPE,
            env={**os.environ, "PODIUM_DATA_DIR": str(tmp_path)},
        )
        for _ in range(8)
    ]
    for p in procs:
        p.communicate(big, timeout=30)
    lines = spooled(tmp_path)
    assert len(lines) == 8
    assert all(len(x["payload"]["tool_input"]["content"]) == 200_000 for x in lines)


def test_statusline_spools_and_prints(tmp_path: Path):
    payload = {
        "session_id": "abc",
        "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
        "context_window": {"used_percentage": 12.4},
        "rate_limits": {
            "five_hour": {"used_percentage": 23.5, "resets_at": 1738425600},
            "seven_day": {"used_percentage": 1738857600, "resets_at": 1738857600},
        },
    }
    result = run(["statusline"], tmp_path, json.dumps(payload).encode())
    assert result.returncode == 0
    line = result.stdout.decode().strip()
    assert "Sonnet 4.5" in line and "5h 24%" in line
    assert "wk" not in line  # the known bug: an epoch in used_percentage is rejected
    [rec] = spooled(tmp_path, "statusline")
    assert rec["payload"]["session_id"] == "abc"


def test_statusline_usage_line() -> None:
    from collectors.spool import format_statusline

    now = 1_800_000_000
    payload = {
        "model": {"id": "claude-opus-4-5", "display_name": "Opus 4.5"},
        "context_window": {"used_percentage": 12},
        "rate_limits": {
            "five_hour": {"used_percentage": 23.4, "resets_at": now + 2 * 3600 + 14 * 60 + 30},
            "seven_day": {"used_percentage": 41, "resets_at": now + 3 * 86400},
        },
    }
    assert format_statusline(payload, now) == "5h 23% ↻2h14m · wk 41% · Opus 4.5 · ctx 12%"
    payload["rate_limits"]["five_hour"]["resets_at"] = now + 30  # whole minutes only
    assert format_statusline(payload, now).startswith("5h 23% ↻0m · wk 41%")
    payload["rate_limits"]["five_hour"]["resets_at"] = now - 5  # passed: no countdown
    assert format_statusline(payload, now).startswith("5h 23% · wk 41%")
    assert format_statusline({}, now) == "podium"


def test_statusline_chains_the_users_command(tmp_path: Path):
    payload = {"session_id": "abc", "model": {"display_name": "Opus 4.5"}}
    # The user's command reads the same JSON from stdin, as under Claude Code.
    mine = 'python3 -c \'import json,sys; print("mine:", json.load(sys.stdin)["session_id"])\''
    result = run(["statusline", "--chain", mine], tmp_path, json.dumps(payload).encode())
    assert result.returncode == 0
    assert result.stdout.decode().splitlines() == ["Opus 4.5", "mine: abc"]
    assert len(spooled(tmp_path, "statusline")) == 1


def test_a_chained_podium_statusline_does_not_spool_twice(tmp_path: Path):
    inner = " ".join([*PODIUM, "statusline", "--chain", "echo deeper"])
    result = run(["statusline", "--chain", inner], tmp_path, b"{}")
    assert result.stdout.decode().splitlines() == ["podium", "podium"]
    assert len(spooled(tmp_path, "statusline")) == 1


def test_a_slow_chained_command_is_cut_off(tmp_path: Path):
    import time

    start = time.monotonic()
    result = run(["statusline", "--chain", "echo early; sleep 30 & sleep 30"], tmp_path, b"{}")
    assert time.monotonic() - start < 10
    assert result.returncode == 0 and result.stdout.decode().splitlines() == ["podium"]
    assert "took more than" in (tmp_path / "spool" / "errors.log").read_text()
    assert len(spooled(tmp_path, "statusline")) == 1
    # Every update would fail the same way: the log says it once an hour.
    run(["statusline", "--chain", "exec sleep 30"], tmp_path, b"{}")
    assert (tmp_path / "spool" / "errors.log").read_text().count("took more than") == 1


def test_hook_files_and_dirs_are_private_whatever_the_umask(tmp_path: Path):
    # Claude Code may run hooks with umask 022: payloads hold prompts and code.
    data = tmp_path / "fresh" / "data"
    old = os.umask(0o022)
    try:
        run(["hook", "Notification"], data, b"not json {")
        run(["statusline"], data, b"{}")
    finally:
        os.umask(old)
    assert (data / "spool" / "errors.log").exists()
    for path in [data, data / "spool", *(data / "spool").iterdir()]:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


# -- input that must not wedge podium ---------------------------------------------------------


@pytest.mark.parametrize("depth", [1_000, 100_000])
@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("command", ["hook", "statusline"])
def test_a_deeply_nested_payload_is_kept_raw_and_marked(tmp_path, depth, kind, command):
    args = ["hook", "Stop"] if command == "hook" else ["statusline"]
    result = run(args, tmp_path, deep_json(depth, kind))
    assert result.returncode == 0
    [line] = spooled(tmp_path, "hooks" if command == "hook" else "statusline")
    assert "payload" not in line and line["error"] == "payload is not a JSON object"
    assert line["reason"] in ("nested too deeply", "nested deeper than 200 levels")
    sent = deep_json(depth, kind)
    assert line["raw"] == sent.decode()[: spool.MAX_RAW_CHARS]
    assert line.get("truncated") is (True if len(sent) > spool.MAX_RAW_CHARS else None)


def test_a_payload_over_the_cap_is_stored_truncated(tmp_path: Path):
    payload = json.dumps({"session_id": "abc", "tool_input": "x" * 3_000_000}).encode()
    result = run(["hook", "PreToolUse"], tmp_path, payload)
    assert result.returncode == 0
    [line] = spooled(tmp_path)
    assert line["truncated"] is True and line["size"] == len(payload)
    assert line["reason"] == "payload over 1000000 bytes" and "payload" not in line
    assert line["raw"] == payload[: spool.MAX_RAW_CHARS].decode()


def test_a_lone_surrogate_in_a_payload_is_still_spooled(tmp_path: Path):
    result = run(["hook", "Stop"], tmp_path, b'{"session_id": "abc", "text": "\\ud83d"}')
    assert result.returncode == 0
    [line] = spooled(tmp_path)
    assert line["payload"] == {"session_id": "abc", "text": "\ud83d"}


def _reader(tmp_path: Path) -> SpoolReader:
    conn = open_store(tmp_path / "podium.duckdb")
    return SpoolReader(tmp_path / "spool", CursorStore(conn))


def test_the_reader_counts_bad_lines_with_their_offset_and_reads_on(tmp_path: Path):
    folder = tmp_path / "spool"
    folder.mkdir()
    good = b'{"kind":"hook","event":"Stop","payload":{}}\n'
    lines = [
        b'{"kind":"hook","payload":' + deep_json(100_000, "array") + b"}\n",
        b'{"kind":"hook","payload":' + deep_json(1_000, "object") + b"}\n",
        b'{"kind":"hook","payload":{"a":' + deep_json(300, "object") + b"}}\n",
        b'{"kind":"hook","payload":"\xff\xfe"}\n',
        b"[1, 2]\n",
        b'{"kind":"hook","raw":"' + b"x" * (spool.MAX_LINE_BYTES + 10) + b'"}\n',
        good,
    ]
    (folder / "hooks-20260101.jsonl").write_bytes(b"".join(lines))
    reader = _reader(tmp_path)
    assert list(reader.read_new()) == [json.loads(good)]
    assert reader.stats.bad_lines == 6 and reader.stats.lines == 7
    offsets = [sum(len(x) for x in lines[:i]) for i in range(len(lines))]
    problems = list(reader.stats.problems)
    assert problems[0] == "hooks-20260101.jsonl at byte 0: nested too deeply"
    assert problems[2].endswith(f"at byte {offsets[2]}: nested deeper than 201 levels")
    assert problems[3].endswith(f"at byte {offsets[3]}: invalid UTF-8")
    assert problems[4].endswith(f"at byte {offsets[4]}: not a JSON object")
    assert f"at byte {offsets[5]}: line of {len(lines[5]) - 1} bytes" in problems[5]
    assert list(reader.read_new()) == []  # the cursor is past them all


def test_the_reader_skips_a_fifo_in_the_spool_dir(tmp_path: Path):
    folder = tmp_path / "spool"
    folder.mkdir()
    os.mkfifo(folder / "hooks-20260101.jsonl")
    (folder / "hooks-20260102.jsonl").write_bytes(b'{"kind":"hook","payload":{}}\n')
    reader = _reader(tmp_path)
    got: list[list[dict]] = []
    worker = threading.Thread(target=lambda: got.append(list(reader.read_new())), daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # free the thread the old code leaves in open()
        os.close(os.open(folder / "hooks-20260101.jsonl", os.O_WRONLY | os.O_NONBLOCK))
    assert got == [[{"kind": "hook", "payload": {}}]]
    assert reader.stats.skipped_files == 1
    assert list(reader.stats.problems) == ["hooks-20260101.jsonl: a FIFO, skipped"]
    list(reader.read_new())
    assert reader.stats.skipped_files == 1  # said once


def test_the_reader_replaces_lone_surrogates(tmp_path: Path):
    """JavaScript writes lone surrogates; DuckDB refuses them, raw or escaped, so the
    engine would fail to store the hook and lose its state change."""
    folder = tmp_path / "spool"
    folder.mkdir()
    (folder / "hooks-20260101.jsonl").write_bytes(
        b'{"kind":"hook","payload":{"session_id":"a\\ud83d","t":"\\ud83d\\ude00 ok"}}\n'
    )
    [record] = list(_reader(tmp_path).read_new())
    assert record["payload"] == {"session_id": "a\ufffd", "t": "\U0001f600 ok"}
    conn = open_store(tmp_path / "other.duckdb")
    conn.execute(
        "INSERT INTO hook_events (ts, event, payload, claude_session_id) VALUES (now(), 'x', ?, ?)",
        [json.dumps(record["payload"]), record["payload"]["session_id"]],
    )
