"""Messages between agents and the person: `podium mcp`'s `post` and `inbox` through the
MCP SDK's client, `podium post` / `podium messages`, and delivery into sessions only
once their turn has ended (sim sessions here; the real CLI in `test_messages_claude`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from conftest import PodiumEnv

from tests.integration.test_mcp_server import ask, call

pytestmark = [pytest.mark.tmux]


def _sim(env: PodiumEnv, name: str, prompt: str) -> dict[str, Any]:
    return env.json("new", "--agent", "sim", "--name", name, "--prompt", prompt)


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _messages(env: PodiumEnv, *args: str) -> list[dict[str, Any]]:
    return env.json("messages", *args)


def test_tasks_post_to_each_other_and_read_their_teams_board(
    engine: PodiumEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PODIUM_SESSION_ID", raising=False)
    work = str(engine.workdir)
    lead = call(engine, "queue.add", prompt="lead", cwd=work)
    a = call(engine, "queue.add", prompt="part a", cwd=work, parent_id=lead["id"])
    b = call(engine, "queue.add", prompt="part b", cwd=work, parent_id=lead["id"])
    other = call(engine, "queue.add", prompt="elsewhere", cwd=work)

    monkeypatch.setenv("PODIUM_QUEUE_TASK", str(a["id"]))
    [(e1, direct), (e2, board), (e3, mine)] = ask(
        engine,
        [
            ("post", {"to": f"task:{b['id']}", "text": "a's schema is in schema.sql"}),
            ("post", {"to": "team", "text": "a: done with the parser"}),
            ("inbox", {}),
        ],
    )
    assert not e1 and direct["sender"] == f"task {a['id']}" and direct["to"] == f"task:{b['id']}"
    assert not e2 and board["to"] == f"team:{lead['id']}"
    # Its own board post is not news to itself.
    assert not e3 and mine["messages"] == [] and mine["team"] == lead["id"]

    monkeypatch.setenv("PODIUM_QUEUE_TASK", str(b["id"]))
    [(_, first), (_, again), (_, everything)] = ask(
        engine, [("inbox", {}), ("inbox", {}), ("inbox", {"unread_only": False})]
    )
    assert [(m["from"], m["to"], m["text"]) for m in first["messages"]] == [
        (f"task {a['id']}", f"task:{b['id']}", "a's schema is in schema.sql"),
        (f"task {a['id']}", f"team:{lead['id']}", "a: done with the parser"),
    ]
    assert again["messages"] == []  # read once, gone from the unread
    assert len(everything["messages"]) == 2

    # The lead reads the board too; a task of another tree does not.
    monkeypatch.setenv("PODIUM_QUEUE_TASK", str(lead["id"]))
    [(_, lead_box)] = ask(engine, [("inbox", {})])
    assert [m["text"] for m in lead_box["messages"]] == ["a: done with the parser"]
    monkeypatch.setenv("PODIUM_QUEUE_TASK", str(other["id"]))
    [(_, other_box)] = ask(engine, [("inbox", {})])
    assert other_box["messages"] == [] and other_box["team"] == other["id"]

    listed = _messages(engine, "--team", str(lead["id"]))
    assert [m["body"] for m in listed] == ["a: done with the parser"]


def test_post_and_inbox_refuse_in_words(engine: PodiumEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PODIUM_SESSION_ID", raising=False)
    work = str(engine.workdir)
    task = call(engine, "queue.add", prompt="t", cwd=work)
    ended = call(engine, "queue.add", prompt="gone", cwd=work)
    call(engine, "queue.cancel", id=ended["id"])
    engine.json("new", "--agent", "shell", "--name", "sh")

    monkeypatch.delenv("PODIUM_QUEUE_TASK", raising=False)
    [(e0, nobody), (e0b, anon)] = ask(
        engine, [("inbox", {}), ("post", {"to": f"task:{task['id']}", "text": "hi"})]
    )
    assert e0 and "not started by podium" in nobody
    assert e0b and "does not know who sends this" in anon

    monkeypatch.setenv("PODIUM_QUEUE_TASK", str(task["id"]))
    refusals = ask(
        engine,
        [
            ("post", {"to": "", "text": "hi"}),
            ("post", {"to": "nobody", "text": "hi"}),
            ("post", {"to": f"task:{task['id']}", "text": "   "}),
            ("post", {"to": f"task:{task['id']}", "text": "x" * 9000}),
            ("post", {"to": f"task:{task['id']}", "text": "bell \x07 here"}),
            ("post", {"to": "task:999", "text": "hi"}),
            ("post", {"to": "task:abc", "text": "hi"}),
            ("post", {"to": f"task:{ended['id']}", "text": "hi"}),
            ("post", {"to": "team:999", "text": "hi"}),
            ("post", {"to": "sh", "text": "hi"}),
        ],
    )
    for is_error, text in refusals:
        assert is_error, text
        assert "Traceback" not in str(text)
    words = [str(t) for _, t in refusals]
    assert "say who the message is for" in words[0]
    assert "no session named 'nobody'" in words[1]
    assert "the message is empty" in words[2]
    assert "9,000 bytes, over the 8,192" in words[3]
    assert "control characters" in words[4]
    assert "no task 999" in words[5]
    assert "positive number" in words[6]
    assert "cancelled: no run of it will read" in words[7]
    assert "no task 999" in words[8]
    assert "runs shell" in words[9]
    # Nothing refused was stored.
    assert _messages(engine) == []
    # The person's side: one line, exit 2 for bad usage.
    out = engine.run("post", "task:abc", "hi")
    assert out.returncode == 2 and "positive number" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_busy_session_gets_its_messages_after_its_turn_in_one_prompt(
    engine: PodiumEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Posted while the sim works: nothing is typed until its turn ends, then both
    messages go in as one prompt that names their senders."""
    monkeypatch.delenv("PODIUM_QUEUE_TASK", raising=False)
    helper = _sim(engine, "helper", "[nopermission] hi")
    engine.wait_state("helper", "waiting")
    busy = _sim(engine, "worker", "[nopermission] [work=40] build it")
    engine.wait_state("worker", "busy")

    monkeypatch.setenv("PODIUM_SESSION_ID", helper["id"])
    [(err, sent)] = ask(engine, [("post", {"to": "worker", "text": "use the v2 schema"})])
    assert not err and sent["sender"] == "helper" and "turn has ended" in sent["note"]
    out = engine.run("post", "worker", "and run the tests", check=True)
    assert "once its turn has ended" in out.stdout
    # While they wait, the session's row says so (the tower's and `podium ls`'s).
    assert engine.session("worker")["messages_waiting"] == 2  # a 40 s turn: still busy
    assert "busy, 2 messages waiting" in engine.run("ls", check=True).stdout

    def delivered() -> bool:
        return all(m["delivered_at"] for m in _messages(engine, "--session", "worker"))

    assert engine.wait_for(delivered, 30)
    assert engine.session("worker")["messages_waiting"] == 0
    # Posted before the turn ended (its Stop hook), typed in only after it.
    [stop] = [
        x["at"]
        for x in engine.spool_lines()
        if x.get("podium_session") == busy["id"] and x.get("event") == "Stop"
    ][:1]
    for m in _messages(engine, "--session", "worker"):
        assert _epoch(m["sent_at"]) < stop <= _epoch(m["delivered_at"]), m
    # -J: lines tmux wrapped at the pane's width joined again.
    screen = engine.tmux("capture-pane", "-p", "-J", "-t", busy["pane_id"], "-S", "-200").stdout
    # One prompt, both messages, each after its sender.
    assert (
        "> [podium message from helper] use the v2 schema "
        "[podium message from you] and run the tests" in screen
    )
    listed = _messages(engine, "--session", "worker")
    assert [m["sender"] for m in listed] == ["helper", "you"]
    plain = engine.run("messages", check=True).stdout
    assert "helper → worker [delivered] use the v2 schema" in plain
    # The session's own inbox has them, read already (they were its prompt).
    monkeypatch.setenv("PODIUM_SESSION_ID", busy["id"])
    [(_, box), (_, everything)] = ask(engine, [("inbox", {}), ("inbox", {"unread_only": False})])
    assert box["messages"] == [] and len(everything["messages"]) == 2


def test_text_in_the_input_box_holds_a_message_back(
    engine: PodiumEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person is typing in the session's prompt: the message is not typed into
    their half-written line. It goes in after they submit theirs and that turn ends."""
    rec = _sim(engine, "typing", "[nopermission] hi")
    engine.wait_state("typing", "waiting")
    pane = rec["pane_id"]
    engine.tmux("send-keys", "-t", pane, "-l", "--", "half typed")
    assert engine.wait_for(lambda: "half typed" in engine.screen(pane, history=0), 10)
    engine.run("post", "typing", "a note for later", check=True)
    # The engine looked and held back: a look at the screen, then a retry planned.
    log = engine.data / "engine.log"
    assert engine.wait_for(lambda: "input box holds text" in log.read_text(), 10)
    assert _messages(engine, "--session", "typing")[0]["delivered_at"] is None
    assert "a note for later" not in engine.screen(pane)
    engine.tmux("send-keys", "-t", pane, "Enter")

    def delivered() -> bool:
        return bool(_messages(engine, "--session", "typing")[0]["delivered_at"])

    assert engine.wait_for(delivered, 30)
    screen = engine.screen(pane)
    assert screen.index("half typed") < screen.index("[podium message from you] a note")
    assert json.loads(engine.run("messages", "--json").stdout)[0]["to"] == "typing"


def test_a_message_held_back_goes_in_when_the_next_engine_starts(engine: PodiumEnv) -> None:
    """Held back by text in the box, then the engine stops; the person clears the box.
    No turn end will come: the next engine types in what waits at its start."""
    rec = _sim(engine, "later", "[nopermission] hi")
    engine.wait_state("later", "waiting")
    pane = rec["pane_id"]
    engine.tmux("send-keys", "-t", pane, "-l", "--", "draft")
    assert engine.wait_for(lambda: "draft" in engine.screen(pane, history=0), 10)
    engine.run("post", "later", "while you were out", check=True)
    log = engine.data / "engine.log"
    assert engine.wait_for(lambda: "input box holds text" in log.read_text(), 10)
    engine.run("engine", "stop", check=True)
    engine.tmux("send-keys", "-t", pane, "C-u")
    assert engine.wait_for(lambda: "draft" not in engine.screen(pane, history=0), 10)
    engine.run("engine", "start", check=True)

    def delivered() -> bool:
        return bool(_messages(engine, "--session", "later")[0]["delivered_at"])

    assert engine.wait_for(delivered, 20)
    assert "[podium message from you] while you were out" in engine.screen(pane)
