"""A message to an interactive session arrives after its turn (goal 5), with the real
Claude Code CLI in a podium session against the loopback Messages API."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import PodiumEnv

from tests.integration.test_queue import call, wait_task
from tests.integration.test_team import _fast

pytestmark = [pytest.mark.tmux, pytest.mark.claude]

NOTE = "the schema moved to db/schema.sql"
# A body of two lines: the messages go in as one bracketed paste.
STEPS = "then:\n1. migrate\n2. run the tests"


def _messages(env: PodiumEnv) -> list[dict]:
    return env.json("messages", "--session", "c1")


def test_a_message_posted_during_a_turn_is_the_next_prompt(claude_podium: PodiumEnv) -> None:
    env = claude_podium
    rec = env.json(
        "new", "--agent", "claude", "--name", "c1", "--cwd", str(env.workdir)
    )  # fmt: skip
    env.wait_state("c1", "idle", seconds=60)  # SessionStart arrived
    # Long enough for the posts and checks below to land inside the turn on a loaded
    # machine (each is a podium process).
    env.run("send", "c1", "SLOW 8 look around", check=True)
    env.wait_state("c1", "busy", seconds=30)
    # Posted while the turn runs: it waits.
    out = env.run("post", "c1", NOTE, check=True)
    assert "once its turn has ended" in out.stdout
    env.run("post", "c1", "-", input=STEPS, check=True)
    assert [m["delivered_at"] for m in _messages(env)] == [None, None]
    assert env.session("c1")["state"] == "busy"

    assert env.wait_for(lambda: all(m["delivered_at"] for m in _messages(env)), 30)
    [done, _] = _messages(env)
    stops = [
        x["at"]
        for x in env.spool_lines()
        if x.get("podium_session") == rec["id"] and x.get("event") == "Stop"
    ]
    # The first turn had ended (its Stop hook) before the message was typed in.
    sent = datetime.fromisoformat(done["sent_at"]).timestamp()
    delivered = datetime.fromisoformat(done["delivered_at"]).timestamp()
    assert stops and sent < stops[0] <= delivered

    # The model got both as the next user prompt, after the first turn's answer...
    prompt = f"[podium message from you] {NOTE}\n\n[podium message from you] {STEPS}"
    assert env.wait_for(lambda: prompt in env.api.main_requests()[-1].last_user_text, 30)
    # (Claude Code 2.1.328 hands a paste to the model inside <pasted_content> tags.)
    texts = [r.last_user_text for r in env.api.main_requests()]
    first = next(i for i, t in enumerate(texts) if "SLOW 8" in t)
    assert [i for i, t in enumerate(texts) if prompt in t] == [first + 1]
    # ...and Claude Code's transcript and the pane show it as one.
    session = env.wait_state("c1", "waiting", seconds=30)
    records = [json.loads(x) for x in Path(session["transcript_path"]).read_text().splitlines()]
    users = [
        r["message"]["content"]
        for r in records
        if r.get("type") == "user" and isinstance(r.get("message", {}).get("content"), str)
    ]
    assert prompt in users[-1] and "SLOW 8" in users[-2], users
    assert f"[podium message from you] {NOTE}" in env.screen(rec["pane_id"])


def test_an_interactive_sessions_agent_posts_under_its_own_name(
    claude_podium: PodiumEnv,
) -> None:
    """The model of a real interactive session calls `mcp__podium__post`: its podium
    mcp (started from `--mcp-config`, with the session's `PODIUM_SESSION_ID`) sends
    under the session's name, and the message reaches a sim session at rest."""
    env = claude_podium
    env.json("new", "--agent", "sim", "--name", "s2", "--prompt", "[nopermission] hi")
    flags = "--allowedTools mcp__podium__post"
    env.json(
        "new", "--agent", "claude", "--name", "c1", "--cwd", str(env.workdir),
        "--cmd", f"{env.env['PODIUM_CLAUDE_BIN']} {flags}",
    )  # fmt: skip
    env.wait_state("c1", "idle", seconds=60)
    env.wait_state("s2", "waiting")
    call = 'CALL_TOOL mcp__podium__post {"to": "s2", "text": "c1 says: the build is green"}'
    env.run("send", "c1", call, check=True)

    def delivered() -> bool:
        return any(m["delivered_at"] for m in env.json("messages", "--session", "s2"))

    assert env.wait_for(delivered, 30)
    [message] = env.json("messages", "--session", "s2")
    assert message["sender"] == "c1" and message["body"] == "c1 says: the build is green"
    pane = env.session("s2")["pane_id"]
    assert "[podium message from c1] c1 says: the build is green" in env.screen(pane)


def test_a_background_run_reads_its_inbox(make_claude_podium: Any, podium_env: Any) -> None:
    """The person posts to a queued task; its `claude -p` run calls `inbox` and reads
    the note (the answer is the tool result the model gets), which is then read."""
    _fast(podium_env)
    env = make_claude_podium()
    prompt = "Read your inbox.\nCALL_TOOL mcp__podium__inbox {}\nECHO_RESULTS"
    # A headless run cannot ask: podium's tools are allowed as any tool is.
    add = ["queue", "add", prompt, "--cwd", str(env.workdir), "--json"]
    task = json.loads(env.run(*add, "--allowed-tools", "mcp__podium__inbox", check=True).stdout)
    env.run("post", f"task:{task['id']}", NOTE, check=True)
    call(env, "queue.fill", enabled=True)
    done = wait_task(env, task["id"], "done", "failed", seconds=60)
    assert done["task"]["state"] == "done", done["runs"]
    final = done["runs"][-1]["result"]
    answer = json.loads(final[final.index("{") :])
    assert answer["reader"] == f"task {task['id']}"
    assert [(m["from"], m["text"]) for m in answer["messages"]] == [("you", NOTE)]
    [message] = env.json("messages", "--task", str(task["id"]))
    assert message["read_at"] is not None
