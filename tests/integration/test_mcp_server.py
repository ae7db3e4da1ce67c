"""`podium mcp`'s tools, asked through the MCP SDK's own client, against a real engine.

The server runs in-process (the SDK's memory transport): what crosses is MCP itself,
and every tool's answer comes from the engine's typed API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.memory import create_connected_server_and_client_session

from collectors.paths import Paths
from sessions import wire
from sessions.claude_settings import mcp_config, podium_command
from sessions.client import EngineClient
from sessions.mcp_server import build_server, last_assistant_text

pytestmark = [pytest.mark.tmux]

TOOLS = {
    "capacity",
    "queue_task",
    "cancel_task",
    "task_status",
    "task_result",
    "wait_tasks",
    "sessions",
    "session_tail",
    "post",
    "inbox",
}


def call(env: Any, method: str, **params: Any) -> Any:
    with EngineClient(Paths(data=env.data, runtime=env.runtime)) as client:
        return client.call(method, **params)


def ask(env: Any, steps: list[tuple[str, dict[str, Any]]]) -> list[tuple[bool, Any]]:
    """Each (tool, arguments) through an MCP client session: (is_error, answer), the
    answer as JSON when it is JSON, else its text."""

    async def run() -> list[tuple[bool, Any]]:
        server = build_server(Paths(data=env.data, runtime=env.runtime))
        out = []
        async with create_connected_server_and_client_session(server) as client:
            for name, args in steps:
                if name == "list_tools":
                    listed = await client.list_tools()
                    out.append((False, {t.name for t in listed.tools}))
                    continue
                result = await client.call_tool(name, args)
                text = "".join(getattr(c, "text", "") for c in result.content)
                try:
                    value: Any = json.loads(text)
                except ValueError:
                    value = text
                out.append((bool(result.isError), value))
        return out

    return anyio.run(run)


def test_tools_answer_the_engine_and_refuse_in_words(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PODIUM_QUEUE_TASK", raising=False)
    work = engine.workdir
    [(_, tools), (err, cap), (err2, added), (err3, status), (_, res), (_, waited)] = ask(
        engine,
        [
            ("list_tools", {}),
            ("capacity", {}),
            ("queue_task", {"prompt": "look around", "directory": str(work), "budget": "$2"}),
            ("task_status", {"task_id": 1}),
            ("task_result", {"task_id": 1}),
            ("wait_tasks", {"task_ids": [1], "timeout_s": 0.3}),
        ],
    )
    assert tools == TOOLS
    assert not err and cap["windows"] == []  # a fresh log: no figure yet
    assert "five_hour_pct" in cap["reserve"] and "next_hours_pct" in cap["person_forecast"]
    assert cap["this_run"] is None  # a person's session: no budget of a run
    assert not err2 and added["id"] == 1 and added["state"] == "queued"
    assert added["parent_id"] is None and added["budget"] == "$2"
    assert not err3 and status["state"] == "queued"
    assert res["result"] is None and "no final message yet" in res["note"]
    assert waited["all_ended"] is False and waited["pending"] == [1]

    call(engine, "queue.cancel", id=1)
    [(_, waited), (_, res)] = ask(
        engine, [("wait_tasks", {"task_ids": [1], "timeout_s": 5}), ("task_result", {"task_id": 1})]
    )
    assert waited["all_ended"] is True and waited["tasks"][0]["state"] == "cancelled"
    assert res["state"] == "cancelled" and res["result"] == "cancelled"

    refusals = ask(
        engine,
        [
            ("task_status", {"task_id": 999}),
            ("task_result", {"task_id": -3}),
            ("wait_tasks", {"task_ids": [1], "timeout_s": 100000}),
            ("queue_task", {"prompt": "x", "directory": str(tmp_path / "nowhere")}),
            ("queue_task", {"prompt": "  ", "directory": str(work)}),
            ("queue_task", {"prompt": "x", "directory": str(work), "budget": "lots"}),
            ("session_tail", {"name": "nobody"}),
            ("queue_task", {"prompt": "x", "directory": str(work), "window": "noon"}),
        ],
    )
    for is_error, text in refusals:
        assert is_error, text
        assert "Traceback" not in str(text)
    words = [str(text) for _, text in refusals]
    assert "no task 999" in words[0]
    assert "positive number" in words[1]
    assert "between 0 and 600" in words[2]
    assert "no such directory" in words[3]
    assert "a prompt is required" in words[4]
    assert "cannot read the amount" in words[5]
    assert "nobody" in words[6]
    assert "noon" in words[7]

    [(e1, night), (e2, day), (e3, ordered)] = ask(
        engine,
        [
            ("queue_task", {"prompt": "tests", "directory": str(work), "window": "night"}),
            ("queue_task", {"prompt": "ask", "directory": str(work), "window": "day"}),
            ("queue_task", {"prompt": "then", "directory": str(work), "after": [2]}),
        ],
    )
    assert (
        not e1 and call(engine, "queue.show", id=night["id"])["task"]["schedule_kind"] == "window"
    )
    shown_day = call(engine, "queue.show", id=day["id"])["task"]
    assert not e2 and (shown_day["schedule_kind"], shown_day["schedule"]) == ("window", "day")
    # An agent in a person's session queued it without a budget: it got the default cap.
    assert shown_day["budget"] == "5%5h"
    # `after` goes to the engine only where the wire has it; else it is refused, never dropped.
    if "after" in wire.QueueAddParams.__struct_fields__:
        assert not e3, ordered
    else:
        assert e3 and "cannot order tasks yet" in ordered


def test_a_runs_subtasks_spend_its_budget_and_are_capped(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = str(engine.workdir)
    parent = call(engine, "queue.add", prompt="lead", cwd=work, budget="$1")
    monkeypatch.setenv("PODIUM_QUEUE_TASK", str(parent["id"]))
    [(_, cap), (e1, a), (e2, over), (e3, dollars_only), (e4, b), (e5, spent), (_, after)] = ask(
        engine,
        [
            ("capacity", {}),
            ("queue_task", {"prompt": "part a", "directory": work, "budget": "$0.40"}),
            ("queue_task", {"prompt": "part c", "directory": work, "budget": "$0.70"}),
            ("queue_task", {"prompt": "part d", "directory": work, "budget": "50k"}),
            ("queue_task", {"prompt": "part b", "directory": work}),
            ("queue_task", {"prompt": "part e", "directory": work}),
            ("capacity", {}),
        ],
    )
    assert cap["this_run"]["budget"] == "$1" and cap["this_run"]["left"] == "$1"
    assert not e1 and a["parent_id"] == parent["id"] and a["budget"] == "$0.4"
    assert e2 and "more than its parent has left: $0.60 of $1" in over
    assert e3 and "in dollars" in dollars_only
    # No budget asked: it gets what is left of the parent's, and then nothing is.
    assert not e4 and b["budget"] == "$0.6"
    assert e5 and "is spent" in spent
    assert after["this_run"]["left"] == "$0" and after["this_run"]["children"] == 2

    # Depth: a grandchild's child's child is one level too many.
    chain = [a["id"]]
    for _ in range(2):
        monkeypatch.setenv("PODIUM_QUEUE_TASK", str(chain[-1]))
        [(err, child)] = ask(engine, [("queue_task", {"prompt": "deeper", "directory": work})])
        assert not err, child
        chain.append(child["id"])
    monkeypatch.setenv("PODIUM_QUEUE_TASK", str(chain[-1]))
    [(err, deep)] = ask(engine, [("queue_task", {"prompt": "too deep", "directory": work})])
    assert err and "at most 3 levels" in deep

    # Fan-out: ten children, and the eleventh is refused.
    free = call(engine, "queue.add", prompt="wide", cwd=work)
    monkeypatch.setenv("PODIUM_QUEUE_TASK", str(free["id"]))
    answers = ask(
        engine, [("queue_task", {"prompt": f"n{i}", "directory": work}) for i in range(11)]
    )
    assert [e for e, _ in answers[:10]] == [False] * 10
    assert answers[10][0] and "already has 10 subtasks" in answers[10][1]


def test_a_run_cancels_its_own_subtasks_and_nothing_else(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = str(engine.workdir)
    lead = call(engine, "queue.add", prompt="lead", cwd=work)
    other = call(engine, "queue.add", prompt="another tree", cwd=work)
    monkeypatch.setenv("PODIUM_QUEUE_TASK", str(lead["id"]))
    [(_, part), (_, spare)] = ask(
        engine,
        [
            ("queue_task", {"prompt": "part", "directory": work}),
            ("queue_task", {"prompt": "spare", "directory": work}),
        ],
    )
    monkeypatch.setenv("PODIUM_QUEUE_TASK", str(part["id"]))
    [(_, deep)] = ask(engine, [("queue_task", {"prompt": "deeper", "directory": work})])
    monkeypatch.setenv("PODIUM_QUEUE_TASK", str(lead["id"]))
    [(err, done), (e_self, me), (e_other, theirs)] = ask(
        engine,
        [
            ("cancel_task", {"task_id": part["id"]}),
            ("cancel_task", {"task_id": lead["id"]}),
            ("cancel_task", {"task_id": other["id"]}),
        ],
    )
    assert not err and done["cancelled"] == [part["id"], deep["id"]] and done["stopped"] == []
    assert e_self and f"task {lead['id']} is not one of the subtasks" in me
    assert e_other and "`podium queue cancel`" in theirs

    def state(task: dict[str, Any]) -> str:
        return call(engine, "queue.show", id=task["id"])["task"]["state"]

    assert [state(t) for t in (lead, spare, other)] == ["queued"] * 3
    # A subtask may not cancel its parent, nor a sibling's tree.
    monkeypatch.setenv("PODIUM_QUEUE_TASK", str(spare["id"]))
    [(e_up, up)] = ask(engine, [("cancel_task", {"task_id": lead["id"]})])
    assert e_up and "refused" in up and state(lead) == "queued"
    # A person's session has no subtasks of its own to cancel.
    monkeypatch.delenv("PODIUM_QUEUE_TASK")
    [(e_person, why)] = ask(engine, [("cancel_task", {"task_id": spare["id"]})])
    assert e_person and "background run's own subtasks" in why and state(spare) == "queued"


def test_podium_mcp_serves_over_stdio_from_its_config(engine: Any) -> None:
    """`podium mcp` as Claude Code starts it: the command, args and env of podium's
    `--mcp-config`, an MCP session on its stdin and stdout."""
    env = {"PODIUM_DATA_DIR": str(engine.data), "PODIUM_RUNTIME_DIR": str(engine.runtime)}
    server = mcp_config(podium_command(), env)["mcpServers"]["podium"]

    async def run() -> tuple[set[str], Any]:
        params = StdioServerParameters(
            command=server["command"], args=server["args"], env={**engine.env, **server["env"]}
        )
        async with (
            stdio_client(params) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            tools = {t.name for t in (await client.list_tools()).tools}
            result = await client.call_tool("task_status", {"task_id": 7})
            return tools, result

    tools, result = anyio.run(run)
    assert tools == TOOLS
    assert result.isError and "no task 7" in result.content[0].text


def test_last_assistant_text_reads_the_end_of_a_transcript(tmp_path: Path) -> None:
    lines = [
        {"type": "user", "message": {"role": "user", "content": "hi"}},
        {
            "type": "assistant",
            "message": {"id": "m1", "content": [{"type": "text", "text": "one"}]},
        },
        {
            "type": "assistant",
            "isSidechain": True,
            "message": {"id": "m9", "content": [{"type": "text", "text": "subagent"}]},
        },
        {
            "type": "assistant",
            "message": {"id": "m2", "content": [{"type": "text", "text": "two"}]},
        },
        {
            "type": "assistant",
            "message": {"id": "m2", "content": [{"type": "text", "text": "more"}]},
        },
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + '\n{"torn')
    assert last_assistant_text(path) == "two\nmore"
    assert last_assistant_text(path, max_chars=4) == "…more"


def test_sessions_and_the_last_message_of_one(engine: Any) -> None:
    """The sim agent writes a Claude Code transcript: `session_tail` reads its end."""
    engine.json("new", "--agent", "sim", "--name", "s1", "--prompt", "[nopermission] hi")
    rec = engine.wait_state("s1", "waiting", seconds=30)
    assert engine.wait_for(lambda: engine.session("s1").get("transcript_path"), 20)
    rec = engine.session("s1")
    said = last_assistant_text(Path(rec["transcript_path"]))
    assert said
    [(e1, listed), (e2, tail), (e3, short)] = ask(
        engine,
        [
            ("sessions", {}),
            ("session_tail", {"name": "s1"}),
            ("session_tail", {"name": "s1", "max_chars": 0}),
        ],
    )
    assert not e1 and [(s["name"], s["agent"], s["state"]) for s in listed["sessions"]] == [
        ("s1", "sim", "waiting")
    ]
    assert not e2 and tail == {"name": "s1", "state": "waiting", "last_message": said}
    assert e3 and "max_chars is between 1 and 20000" in short


@pytest.mark.parametrize("on", [True, False])
def test_claude_sessions_get_the_mcp_config_unless_turned_off(
    podium_env: Any, tmp_path: Path, on: bool
) -> None:
    """A claude session's argv names podium's own file, in podium's data dir, and
    `[agents] mcp = false` leaves it out. (A stand-in `claude`: only the argv counts.)"""
    fake = tmp_path / "fake-claude"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o700)
    podium_env.env["PODIUM_AGENTS__CLAUDE_BIN"] = str(fake)
    if not on:
        podium_env.env["PODIUM_AGENTS__MCP"] = "false"
    rec = podium_env.json("new", "--agent", "claude", "--name", "c", "--cwd", str(tmp_path))
    config = podium_env.data / "agent-settings" / "mcp.json"
    flag = f"--mcp-config={config}"
    assert (flag in rec["argv"]) is on, rec["argv"]
    assert config.exists() is on


def _tool_results(body: Any) -> list[dict[str, Any]]:
    return [
        block
        for message in body.get("messages") or []
        if isinstance(message.get("content"), list)
        for block in message["content"]
        if isinstance(block, dict) and block.get("type") == "tool_result"
    ]


@pytest.mark.claude
def test_a_real_claude_run_calls_podiums_capacity_tool(
    make_claude_podium: Any, podium_env: Any
) -> None:
    """The real CLI, in a background run, starts `podium mcp` from its `--mcp-config`,
    the (fake) model calls `mcp__podium__capacity`, and the answer, which knows the
    calling task (`PODIUM_QUEUE_TASK`, inherited), goes back in the next request."""
    podium_env.env["PODIUM_FILL__INTERVAL"] = "0.5"
    env = make_claude_podium()
    out = env.run(
        "queue", "add", "CALL_TOOL mcp__podium__capacity", "--cwd", str(env.workdir),
        "--budget", "$3", "--allowed-tools", "mcp__podium__capacity", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    task = json.loads(out.stdout)
    call(env, "queue.fill", enabled=True)

    def ended() -> bool:
        return call(env, "queue.show", id=task["id"])["task"]["state"] in ("done", "failed")

    assert env.wait_for(ended, 90)
    shown = call(env, "queue.show", id=task["id"])
    [run] = shown["runs"]
    config = env.data / "agent-settings" / "mcp.json"
    assert f"--mcp-config={config}" in run["argv"]
    assert shown["task"]["state"] == "done", json.dumps(run)
    # The request after the call carries the tool's answer (MCP tools are deferred
    # behind ToolSearch in the request's tool list, but the call runs).
    results = [b for r in env.api.main_requests() for b in _tool_results(r.body)]
    assert results, "no tool result went back to the API"
    assert not results[0].get("is_error"), results[0]
    content = results[0]["content"]
    text = content if isinstance(content, str) else "".join(c.get("text", "") for c in content)
    answer = json.loads(text)
    assert answer["this_run"]["task_id"] == task["id"] and answer["this_run"]["budget"] == "$3"
    assert answer["reserve"]["source"] == "schedule"


def test_a_subtask_without_a_directory_runs_where_its_agent_works(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server is the agent's child and shares its working directory.
    monkeypatch.delenv("PODIUM_QUEUE_TASK", raising=False)
    here = tmp_path / "repo"
    here.mkdir()
    monkeypatch.chdir(here)
    [(err, added)] = ask(engine, [("queue_task", {"prompt": "look around", "budget": "$1"})])
    assert not err, added
    assert call(engine, "queue.show", id=added["id"])["task"]["cwd"] == str(here)
