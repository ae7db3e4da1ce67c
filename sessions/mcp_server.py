"""`podium mcp`: podium's tools for the agents it starts, an MCP server over stdio.

Built on the official MCP SDK (`mcp.server.fastmcp`). Every claude session and
background run podium starts gets it through `--mcp-config` (see
`sessions.claude_settings.write_mcp_config`); Claude Code shows the tools to the model
as `mcp__podium__<tool>`. The server is a client of the engine like the CLI: each
tool asks the engine through `sessions.wire`'s typed methods, on a connection of its
own, in a worker thread (the socket is blocking; the stdio loop must go on reading).

Who calls: a background run's agent has `PODIUM_QUEUE_TASK` and `PODIUM_QUEUE_RUN` in
its environment (the runner puts them there) and this server, its child, inherits
them. Its subtasks get it as their parent, and the engine caps them
(`sessions.fill.delegation`: budget out of the parent's, depth, fan-out). An
interactive session's agent has `PODIUM_SESSION_ID` instead. `post` sends under that
identity, never under a name the model gives; `inbox` reads that session's or task's.

Every tool checks its input and answers a problem in words (an `isError` result with
one line), never a traceback. No tool runs a shell command.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

import anyio
import msgspec
from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError

from collectors import safe_json
from collectors.paths import Paths, UnsafePath
from collectors.tail import open_regular
from sessions import wire
from sessions.client import EngineUnavailable, connect
from sessions.protocol import ApiError

T = TypeVar("T")

# The longest `wait_tasks` waits in one call (Claude Code gives a tool call minutes).
MAX_WAIT_S = 600
# How often `wait_tasks` asks the engine: a few times a second, never a busy loop.
POLL_S = 0.25
# `session_tail`: how much of a transcript's end is read, and the most text answered.
TAIL_BYTES = 1 << 20
MAX_TAIL_CHARS = 20_000
# What `task_result` gives of a final message at most (the model's context is dear).
MAX_RESULT_CHARS = 20_000
# A paused task is open: a person holds it, and it goes on when resumed.
OPEN_STATES = ("queued", "running", "deferred", "recurring", "paused")

INSTRUCTIONS = (
    "podium runs your session beside others and fills spare subscription capacity "
    "with background tasks. Ask `capacity` before planning heavy work; queue parts "
    "as subtasks with `queue_task` (night for long research and tests, day for what "
    "needs the person), then `wait_tasks` and read each with `task_result`. `post` sends "
    "a message to another session, a task or your team's board; `inbox` reads yours."
)


def caller_task() -> int | None:
    """The calling background run's task id (`PODIUM_QUEUE_TASK`); None for a
    person's interactive session."""
    raw = os.environ.get("PODIUM_QUEUE_TASK", "").strip()
    return int(raw) if raw.isdigit() else None


def caller_session() -> str | None:
    """The calling interactive session's podium id (`PODIUM_SESSION_ID`); None for a
    background run (the runner takes it out of a run's environment)."""
    raw = os.environ.get("PODIUM_SESSION_ID", "").strip()
    return raw or None


class Podium:
    """The engine, as the tools ask it: one short connection per request."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths

    def request(self, method: wire.Method[Any, T], params: msgspec.Struct | None = None) -> T:
        return self.requests(method, [params])[0]

    def requests(self, method: wire.Method[Any, T], params: list[Any]) -> list[T]:
        """One request per params, in order, over one connection."""
        try:
            with connect(self.paths, start=False, start_timeout=5) as client:
                return [client.request(method, p) for p in params]
        except ApiError as exc:
            raise ToolError(exc.message) from None
        except (EngineUnavailable, UnsafePath) as exc:
            raise ToolError(f"podium's engine cannot be reached: {exc}") from None
        except OSError as exc:
            raise ToolError(f"podium's engine cannot be reached: {exc.strerror or exc}") from None

    def call(self, method: str, **params: Any) -> Any:
        """An untyped request: for a param this engine's wire may not know yet."""
        try:
            with connect(self.paths, start=False, start_timeout=5) as client:
                return client.call(method, **params)
        except ApiError as exc:
            raise ToolError(exc.message) from None
        except (EngineUnavailable, UnsafePath, OSError) as exc:
            raise ToolError(f"podium's engine cannot be reached: {exc}") from None

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        # The engine's socket blocks: a worker thread, so the stdio loop goes on.
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


def _task_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ToolError(f"a task id is a number, not {value!r}")
    text = str(value).strip().lstrip("#")
    if not text.isdigit() or int(text) < 1 or int(text) > 2**31 - 1:
        raise ToolError(f"a task id is a positive number, not {value!r}")
    return int(text)


def _summary(task: wire.Task) -> dict[str, Any]:
    """What an agent needs of a task: state, spend, and the final message's start."""
    run = task.last_run
    out: dict[str, Any] = {
        "id": task.id,
        "state": task.state,
        "prompt": task.prompt[:200],
        "parent_id": task.parent_id,
        "budget": task.budget,
        "runs": task.runs,
        "cost_usd": task.cost_usd,
    }
    if run is not None:
        out["tokens"] = {
            "input": run.input_tokens,
            "output": run.output_tokens,
            "cache_read": run.cache_read_tokens,
            "cache_creation": run.cache_creation_tokens,
        }
        if run.reason:
            out["reason"] = run.reason
    if task.state in ("queued", "deferred") and task.defer_until:
        out["waits_until"] = task.defer_until
    return out


def last_assistant_text(path: Path, max_chars: int = MAX_TAIL_CHARS) -> str | None:
    """The last assistant message's text in a Claude Code transcript (not a
    subagent's), read from at most the file's last `TAIL_BYTES`; None when none is
    there. Its end is kept when it is longer than `max_chars`."""
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        fh.seek(max(0, size - TAIL_BYTES))
        data = fh.read(TAIL_BYTES)
    found: str | None = None
    current: str | None = None
    for line in data.split(b"\n"):
        record, _why = safe_json.loads(line)
        if not isinstance(record, dict) or record.get("type") != "assistant":
            continue
        if record.get("isSidechain") or record.get("isApiErrorMessage"):
            continue
        message = record.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        texts = [
            b["text"]
            for b in content
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        ]
        if not texts:
            continue
        # One line per content block, sharing `message.id`: one message's blocks join.
        msg_id = message.get("id") if isinstance(message, dict) else None
        text = "\n".join(texts)
        if msg_id is not None and msg_id == current and found is not None:
            found = found + "\n" + text
        else:
            found = text
        current = msg_id
    if found is not None and len(found) > max_chars:
        found = "…" + found[-max_chars:]
    return found


def build_server(paths: Paths | None = None) -> FastMCP:
    """The server and its tools; `paths` locate the engine (the environment's)."""
    podium = Podium(paths or Paths.from_env())
    server = FastMCP("podium", instructions=INSTRUCTIONS)

    @server.tool()
    async def capacity() -> dict[str, Any]:
        """The subscription's usage windows now (5-hour, week, model-scoped weeks: % used
        and reset), the share of the 5-hour window podium keeps for the person (the
        reserve), the forecast of the person's own use, and, for a background run, what
        it may still spend (its budget less its spend and its subtasks')."""
        got = await podium.run(
            podium.request, wire.QUEUE_CAPACITY, wire.CapacityParams(task_id=caller_task())
        )
        return {
            "now": got.now,
            "windows": [
                {
                    "window": w.window,
                    "used_pct": w.used_pct,
                    "resets_at": w.resets_at,
                    "estimate": w.estimate,
                    "projected_pct_at_reset": w.projected_pct_at_reset,
                }
                for w in got.windows
            ],
            "reserve": {
                "five_hour_pct": got.reserve.pct,
                "until": got.reserve.window_end,
                "source": got.reserve.source,
            },
            "person_forecast": msgspec.to_builtins(got.human),
            "fill_enabled": got.fill.enabled,
            "this_run": msgspec.to_builtins(got.task) if got.task else None,
        }

    @server.tool()
    async def queue_task(
        prompt: str,
        directory: str = ".",
        priority: int = 0,
        window: Literal["night", "day", "any"] = "any",
        budget: str | None = None,
        model: str | None = None,
        after: list[int] | None = None,
        continue_me: bool = False,
        allowed_tools: list[str] | None = None,
    ) -> dict[str, Any]:
        """Queue a subtask: a headless Claude run of `prompt` in `directory` (an existing
        directory; default: your own working directory). `window`: night (long
        research, tests, heavy compute), day (what needs the person: reviews,
        decisions; the hours outside the night), or any (as
        soon as spare capacity allows). `budget`: 50k tokens, 2%5h, 1%week or $1; a
        background run's subtask spends out of its own budget and gets half of what is
        left without one (you go on spending the rest); more than is left is refused,
        with what is left. `after`: task ids that must be done first (their results
        are added to its prompt).
        `continue_me`: this task continues YOUR conversation (resumes your Claude
        session) once you and its `after` tasks are done, with their results: queue it
        when results come only later, then end your turn. `allowed_tools`: the tools
        it may use without asking (Claude Code rules, e.g. "Edit", "Bash(pytest *)");
        a background run's subtask gets your own tools when you give none, and may
        get only rules you have. Answers the new task's id."""
        if not prompt.strip():
            raise ToolError("a prompt is required")
        if len(prompt) > 200_000:
            raise ToolError("the prompt is over 200,000 characters: put the details in a file")
        cwd = Path(directory).expanduser()
        if not cwd.is_absolute():
            cwd = Path.cwd() / cwd
        if not cwd.is_dir():
            raise ToolError(f"no such directory: {cwd}")
        if window not in ("night", "day", "any"):
            raise ToolError(f"window is night, day or any, not {window!r}")
        if not -1000 <= priority <= 1000:
            raise ToolError("priority is between -1000 and 1000")
        ids = [_task_id(a) for a in after or []]
        params = wire.QueueAddParams(
            prompt=prompt,
            cwd=str(cwd.resolve()),
            priority=priority,
            window=window if window in ("night", "day") else None,
            budget=budget.strip() if budget and budget.strip() else None,
            model=model or None,
            parent_id=caller_task(),
            continues=continue_me,
            by_agent=True,
            allowed_tools=[rule for rule in allowed_tools or [] if rule.strip()],
        )
        fields = msgspec.to_builtins(params)
        if ids:
            if "after" not in wire.QueueAddParams.__struct_fields__:
                raise ToolError("this podium cannot order tasks yet: queue them without `after`")
            fields["after"] = ids
        raw = await podium.run(podium.call, "queue.add", **fields)
        task = msgspec.convert(raw, wire.Task)
        out = _summary(task)
        if task.not_before and task.schedule_kind == "window":
            out["not_before"] = task.not_before
        return out

    @server.tool()
    async def cancel_task(task_id: int) -> dict[str, Any]:
        """Cancel a subtask you queued (or one of its own), with every open task under
        it; a running one is stopped. Tasks queued after it are held. Only your own
        subtasks: not yourself, your parent, or another tree. Answers which tasks were
        cancelled."""
        caller = caller_task()
        if caller is None:
            raise ToolError(
                "cancel_task is for a background run's own subtasks; the person cancels "
                "other tasks with `podium queue cancel`"
            )
        params = wire.CancelParams(id=_task_id(task_id), by_task=caller)
        done = await podium.run(podium.request, wire.QUEUE_CANCEL, params)
        return {"task_id": done.task.id, "cancelled": done.changed, "stopped": done.stopped}

    @server.tool()
    async def task_status(task_id: int) -> dict[str, Any]:
        """A task's state (queued, running, deferred, done, failed, cancelled), tokens
        and cost so far."""
        tid = _task_id(task_id)
        shown = await podium.run(podium.request, wire.QUEUE_SHOW, wire.TaskRef(id=tid))
        return _summary(shown.task)

    @server.tool()
    async def task_result(task_id: int) -> dict[str, Any]:
        """A task's final message (its last run's result), with its state, tokens and
        cost; a task not finished yet says so."""
        tid = _task_id(task_id)
        shown = await podium.run(podium.request, wire.QUEUE_SHOW, wire.TaskRef(id=tid))
        out = _summary(shown.task)
        run = shown.runs[-1] if shown.runs else None
        result = run.result if run is not None else None
        if shown.task.state in OPEN_STATES:
            out["result"] = None
            out["note"] = f"task {tid} is {shown.task.state}: no final message yet"
        else:
            text = result or shown.task.last_result
            if text and len(text) > MAX_RESULT_CHARS:
                text = text[:MAX_RESULT_CHARS] + "…"
            out["result"] = text
        return out

    @server.tool()
    async def wait_tasks(task_ids: list[int], timeout_s: float = 60) -> dict[str, Any]:
        """Wait until every task of `task_ids` has ended (done, failed or cancelled), or
        `timeout_s` (at most 600) has passed; answers each one's state."""
        ids = [_task_id(t) for t in task_ids]
        if not ids:
            raise ToolError("give at least one task id")
        if len(ids) > 50:
            raise ToolError("wait for at most 50 tasks at once")
        if not 0 <= timeout_s <= MAX_WAIT_S:
            raise ToolError(f"timeout_s is between 0 and {MAX_WAIT_S} seconds")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            refs = [wire.TaskRef(id=tid) for tid in ids]
            tasks = [s.task for s in await podium.run(podium.requests, wire.QUEUE_SHOW, refs)]
            pending = [t.id for t in tasks if t.state in OPEN_STATES]
            if not pending or loop.time() >= deadline:
                return {
                    "all_ended": not pending,
                    "pending": pending,
                    "tasks": [_summary(t) for t in tasks],
                }
            await asyncio.sleep(min(POLL_S, max(0.0, deadline - loop.time())))

    @server.tool()
    async def sessions() -> dict[str, Any]:
        """The sessions podium runs: name, agent, state (busy, waiting, permission,
        idle, limited, exited…), since when, directory, and what each is doing."""
        listed = await podium.run(podium.request, wire.SESSIONS_LIST)
        # One object: a list would come out as one content block per session.
        return {
            "sessions": [
                {
                    "name": s.name,
                    "agent": s.agent,
                    "state": s.state,
                    "since": s.state_since,
                    "cwd": s.cwd,
                    "doing": s.doing.text[:200] if s.doing else None,
                }
                for s in listed
            ]
        }

    @server.tool()
    async def session_tail(name: str, max_chars: int = 4000) -> dict[str, Any]:
        """The last assistant message of session `name` (from its transcript), its end
        kept when longer than `max_chars` (at most 20,000)."""
        if not name.strip():
            raise ToolError("a session name is required")
        if not 1 <= max_chars <= MAX_TAIL_CHARS:
            raise ToolError(f"max_chars is between 1 and {MAX_TAIL_CHARS}")
        session = await podium.run(podium.request, wire.SESSIONS_GET, wire.SessionRef(name=name))
        if not session.transcript_path:
            raise ToolError(f"session {name} has no transcript yet (or is not a Claude session)")
        try:
            text = await podium.run(last_assistant_text, Path(session.transcript_path), max_chars)
        except OSError as exc:
            raise ToolError(f"cannot read session {name}'s transcript: {exc}") from None
        return {"name": session.name, "state": session.state, "last_message": text}

    @server.tool()
    async def post(to: str, text: str) -> dict[str, Any]:
        """Send a message (at most 8 KB of text). `to`: a session's name (see `sessions`):
        typed into it as its next prompt once its current turn has ended; `task:ID`: that
        task's inbox; `team:ID`: the board of the team whose first task is ID, which every
        task of that tree reads; `team` alone: your own team's board (a background task).
        You are named as the sender."""
        if not isinstance(to, str) or not to.strip():
            raise ToolError("say who the message is for: a session's name, task:ID or team[:ID]")
        if not isinstance(text, str) or not text.strip():
            raise ToolError("the message is empty")
        params = wire.PostParams(
            to=to, text=text, from_session=caller_session(), from_task=caller_task()
        )
        sent = await podium.run(podium.request, wire.MESSAGES_POST, params)
        out: dict[str, Any] = {"id": sent.id, "to": sent.to, "sender": sent.sender}
        if sent.to_kind == "session":
            out["note"] = f"{sent.to} gets it as its next prompt once its turn has ended"
        return out

    @server.tool()
    async def inbox(unread_only: bool = True) -> dict[str, Any]:
        """Your messages, oldest first: those sent to you and, for a background task, its
        team's board. With `unread_only` (the default) only those you have not read;
        what this answers counts as read."""
        if not isinstance(unread_only, bool):
            raise ToolError("unread_only is true or false")
        session, task = caller_session(), caller_task()
        if session is None and task is None:
            raise ToolError(
                "this agent was not started by podium: it has no inbox "
                "(no PODIUM_SESSION_ID or PODIUM_QUEUE_TASK)"
            )
        got = await podium.run(
            podium.request,
            wire.MESSAGES_INBOX,
            wire.InboxParams(session_id=session, task_id=task, unread_only=unread_only),
        )
        return {
            "reader": got.reader,
            "team": got.team,
            "messages": [
                {
                    "id": m.id,
                    "from": m.sender,
                    "to": m.to,
                    "sent_at": m.sent_at,
                    "text": m.body,
                }
                for m in got.messages
            ],
        }

    return server


def serve() -> None:
    """Run the server on stdin/stdout until the agent closes it."""
    build_server().run("stdio")
