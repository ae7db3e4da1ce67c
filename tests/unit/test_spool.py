"""`podium hook` / `podium statusline`: one line per call, exit 0 whatever comes in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
