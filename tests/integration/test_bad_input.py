"""Bad input around the engine: broken hook payloads, reused pane ids, killed panes."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from datetime import datetime

from conftest import PODIUM, PodiumEnv

from tests.hostile import deep_json


def _hook(env: PodiumEnv, event: str, stdin: str, session: str | None) -> float:
    """Run `podium hook EVENT` as Claude Code would; return its wall time in seconds."""
    hook_env = dict(env.env)
    if session is not None:
        hook_env["PODIUM_SESSION_ID"] = session
    start = time.monotonic()
    out = subprocess.run(
        [*PODIUM, "hook", event], input=stdin, env=hook_env, capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout == "", out  # never fails Claude Code's turn
    return time.monotonic() - start


def test_broken_hook_payloads_are_counted_and_logged(engine: PodiumEnv) -> None:
    rec = engine.json("new", "--agent", "sim", "--name", "s", "--prompt", "[nopermission] hi")
    engine.wait_state("s", "waiting")
    before = engine.json("engine", "status")["hooks"]
    walls = [
        _hook(engine, "Stop", "this is not json {", rec["id"]),
        _hook(engine, "Stop", "[1, 2, 3]", rec["id"]),
        _hook(engine, "Stop", '{"session_id": "nobody-knows"}', None),
        _hook(engine, "UserPromptSubmit", '{"hook_event_name": "UserPromptSubmit"}', "ffff"),
        _hook(engine, "UserPromptSubmit", "", rec["id"]),
    ]
    assert max(walls) < 5  # none blocks (no engine round trip on the hook's path)

    def counted() -> bool:
        hooks = engine.json("engine", "status")["hooks"]
        return hooks["bad"] >= before["bad"] + 3 and (
            hooks["unknown_session"] >= before["unknown_session"] + 2
        )

    assert engine.wait_for(counted, 10)
    log = (engine.data / "engine.log").read_text()
    assert "hook for an unknown session" in log and "without a JSON object" in log
    # The engine is alive and still follows the real session.
    engine.run("send", "s", "[nopermission] again", check=True)
    engine.wait_state("s", "busy", "waiting")


def test_a_new_tmux_server_reusing_pane_ids_is_not_adopted(engine: PodiumEnv) -> None:
    rec = engine.json("new", "--agent", "shell", "--name", "old")
    engine.wait_state("old", "idle")
    engine.run("engine", "stop", check=True)
    engine.tmux("kill-server")
    # Someone starts tmux on the same socket: its first pane gets the same id.
    # (kill-server returns before the old server is gone: retry until a new one starts)
    assert engine.wait_for(
        lambda: engine.tmux("new-session", "-d", "-s", "podium", "sleep", "600").returncode == 0
    )
    assert engine.tmux("list-panes", "-a", "-F", "#{pane_id}").stdout.split() == [rec["pane_id"]]
    assert engine.wait_state("old", "lost", seconds=15)["state"] == "lost"
    out = engine.run("send", "old", "echo hi")
    assert out.returncode == 1 and "lost" in out.stderr


def _spool_hook(env: PodiumEnv, session_id: str, event: str, at: float) -> None:
    day = time.strftime("%Y%m%d", time.gmtime())
    line = {
        "kind": "hook",
        "at": at,
        "podium_session": session_id,
        "event": event,
        "payload": {"hook_event_name": event, "session_id": "c-1"},
    }
    with open(env.data / "spool" / f"hooks-{day}.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")


def test_a_hook_older_than_the_state_is_history_not_news(engine: PodiumEnv) -> None:
    rec = engine.json("new", "--agent", "shell", "--name", "late")
    since = engine.wait_state("late", "idle")["state_since"]
    # Written a minute before the state was decided, read only now.
    _spool_hook(engine, rec["id"], "Stop", datetime.fromisoformat(since).timestamp() - 60)
    _spool_hook(engine, rec["id"], "UserPromptSubmit", time.time())
    assert engine.wait_state("late", "busy", seconds=10)["state_source"] == "hook"
    assert engine.json("report", "attention")["days"] == []  # the stale Stop opened no item


def test_a_session_id_that_is_not_a_uuid_is_never_learnt(engine: PodiumEnv) -> None:
    """Hook lines are written by whatever runs in the pane; their session id goes back
    to `claude --resume=ID`, so only a UUID is taken for one."""
    rec = engine.json("new", "--agent", "shell", "--name", "spoof")
    engine.wait_state("spoof", "idle")
    spoofed = json.dumps({"session_id": "--dangerously-skip-permissions"})
    _hook(engine, "UserPromptSubmit", spoofed, rec["id"])
    assert engine.wait_state("spoof", "busy")["claude_session_id"] is None
    real = "5764008a-f82f-46dd-80a9-0507eb7b5e25"
    _hook(engine, "Stop", json.dumps({"session_id": real}), rec["id"])
    assert engine.wait_for(lambda: engine.session("spoof")["claude_session_id"] == real)
    _hook(engine, "UserPromptSubmit", json.dumps({"session_id": "x; rm -rf ~"}), rec["id"])
    assert engine.wait_state("spoof", "busy")["claude_session_id"] == real


def test_resume_refuses_a_stored_session_id_that_is_not_a_uuid(engine: PodiumEnv) -> None:
    """An id stored before ids were checked on the way in never becomes an argument."""
    import duckdb

    engine.json("new", "--agent", "sim", "--name", "old", "--prompt", "[nopermission] hi")
    assert engine.wait_state("old", "waiting")["claude_session_id"]
    engine.run("kill", "old", check=True)
    engine.run("engine", "stop", check=True)
    with duckdb.connect(str(engine.data / "podium.duckdb")) as db:
        db.execute("UPDATE sessions SET claude_session_id = '--dangerously-skip-permissions'")
    out = engine.run("resume", "old")
    assert out.returncode == 1, out
    assert "not a UUID; refusing to resume it" in out.stderr and out.stderr.count("\n") == 1


def test_deeply_nested_hook_payloads_never_keep_the_engine_from_starting(
    podium_env: PodiumEnv,
) -> None:
    env = podium_env
    # Through the real hook command, as Claude Code would run it...
    for stdin in (
        deep_json(1_000).decode(),
        "[" * 100_000 + "]" * 100_000,
        deep_json(990).decode(),
    ):
        _hook(env, "Stop", stdin, None)
    # ...and lines an older hook (or anyone) wrote straight into the spool.
    day = time.strftime("%Y%m%d", time.gmtime())
    with open(env.data / "spool" / f"hooks-{day}.jsonl", "a", encoding="utf-8") as fh:
        for depth in (990, 100_000):
            fh.write('{"kind":"hook","event":"Stop","payload":' + deep_json(depth).decode() + "}\n")
        fh.write('{"kind":"hook","event":"Stop","at":1,"payload":{"session_id":"c-9"}}\n')
    out = env.run("engine", "start", timeout=60)
    assert out.returncode == 0, out.stderr
    status = env.json("engine", "status")
    assert status["spool"]["bad_lines"] == 2 and status["spool"]["lines"] == 6
    assert any("nested too deeply" in p for p in status["spool"]["problems"])
    # The three the hook kept raw are counted as bad, the good line after them is read.
    assert status["hooks"]["bad"] == 3 and status["hooks"]["unknown_session"] == 1


def test_a_fifo_and_deep_lines_under_projects_never_hang_ingest_or_stop(engine: PodiumEnv) -> None:
    # One FIFO where the engine's own watcher meets it...
    watched = engine.claude_dir / "projects" / "-w"
    watched.mkdir(parents=True)
    os.mkfifo(watched / "w.jsonl")
    # ...and the files a pass counts in a dir the watcher does not read: a watcher's
    # pass taking them first would leave this pass nothing to count.
    elsewhere = engine.root / "elsewhere"
    folder = elsewhere / "projects" / "-x"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "x.jsonl")
    good = {
        "type": "assistant",
        "timestamp": "2026-11-01T10:00:00.000Z",
        "sessionId": "s",
        "message": {
            "id": "m1",
            "model": "claude-x",
            "usage": {"input_tokens": 5, "output_tokens": 7},
        },
    }
    deep = deep_json(100_000, "array").decode()
    (folder / "y.jsonl").write_text(
        '{"type":"assistant","message":{"usage":{"x":' + deep + "}}}\n" + json.dumps(good) + "\n"
    )
    try:
        ingest = ("usage", "ingest", "--claude-dir", str(elsewhere))
        out = engine.run(*ingest, "--json", timeout=30)
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert result["skipped_files"] == 1 and result["bad_lines"] == 1
        assert any("x.jsonl: a FIFO, skipped" in p for p in result["problems"])
        log = (engine.data / "engine.log").read_text()
        assert "y.jsonl at byte 0: nested too deeply" in log
        assert result["totals"]["input"] == 5 and result["totals"]["output"] == 7
        text = engine.run(*ingest, timeout=30)
        assert "1 not regular files skipped" in text.stdout and "a FIFO" in text.stderr
        started = time.monotonic()
        stop = engine.run("engine", "stop", timeout=30)
        assert stop.returncode == 0, stop.stderr
        assert time.monotonic() - started < 10
    finally:  # free an engine the old code leaves blocked in open()
        for fifo in (watched / "w.jsonl", folder / "x.jsonl"):
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
