"""Headless mode (`-p`): one turn, then a text, json or stream-json result (reference §6)."""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Any

from . import account
from .script import ToolStep
from .turn import Session, TurnResult

TOOLS = [
    "Task", "Bash", "Glob", "Grep", "ExitPlanMode", "Read", "Edit", "Write", "NotebookEdit",
    "WebFetch", "TodoWrite", "WebSearch", "BashOutput", "KillShell", "SlashCommand",
]  # fmt: skip
STREAM_NEEDS_VERBOSE = "Error: When using --print, --output-format=stream-json requires --verbose"
NO_INPUT = (
    "Error: Input must be provided either through stdin or as a prompt argument when using --print"
)


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class HeadlessUI:
    """No screen: waits without output; in stream-json mode, relays the transcript."""

    def __init__(self, session: Session, stream: bool) -> None:
        self.session = session
        self.stream = stream
        self.limit_sent = False

    def working(self, seconds: float) -> None:
        time.sleep(seconds)

    def tool_call(self, step: ToolStep) -> None:
        pass

    def tool_done(self, step: ToolStep, ok: bool) -> None:
        pass

    def permission(self, step: ToolStep) -> int:  # pragma: no cover - never asked headless
        return 3

    def answer(self, text: str) -> None:
        pass

    def limit(self, text: str) -> None:
        if self.stream and self.session.snapshot is not None:
            emit(rate_limit_event(self.session, rejected=True))
            self.limit_sent = True

    def record(self, record: dict[str, Any]) -> None:
        if not self.stream or record.get("type") not in ("assistant", "user"):
            return
        content = record.get("message", {}).get("content")
        if record["type"] == "user" and not isinstance(content, list):
            return  # the prompt itself is not echoed (no --replay-user-messages)
        line = {
            "type": record["type"],
            "message": record["message"],
            "parent_tool_use_id": None,
            "session_id": self.session.session_id,
            "uuid": record["uuid"],
        }
        if record.get("isApiErrorMessage"):
            line["error"] = record.get("error")
        emit(line)


def rate_limit_event(session: Session, rejected: bool = False) -> dict[str, Any]:
    snapshot = session.snapshot or account.account_snapshot()
    return {
        "type": "rate_limit_event",
        "rate_limit_info": account.rate_limit_info(snapshot, rejected),
        "uuid": str(uuid.uuid4()),
        "session_id": session.session_id,
    }


def init_line(session: Session) -> dict[str, Any]:
    return {
        "type": "system",
        "subtype": "init",
        "cwd": session.cwd,
        "session_id": session.session_id,
        "tools": TOOLS,
        "mcp_servers": [],
        "model": session.model,
        "permissionMode": session.permission_mode,
        "slash_commands": ["compact", "context", "cost", "init", "review"],
        "apiKeySource": "none",
        "claude_code_version": "2.1.328",
        "output_style": "default",
        "agents": ["general-purpose", "Explore", "Plan"],
        "skills": [],
        "plugins": [],
        "uuid": str(uuid.uuid4()),
    }


def result_object(session: Session, turn: TurnResult, duration_ms: int) -> dict[str, Any]:
    usage = turn.usage
    creation = usage["cache_creation_input_tokens"]
    errors = {"max_turns": "error_max_turns", "max_budget": "error_max_budget_usd"}
    subtype = errors.get(turn.status, "success")
    limited = turn.status == "limit"
    stop_reason = {"limit": "stop_sequence", "completed": "end_turn"}.get(turn.status)
    result: dict[str, Any] = {
        "type": "result",
        "subtype": subtype,
        "is_error": limited or subtype != "success",
        "api_error_status": 429 if limited else None,
        "duration_ms": duration_ms,
        "duration_api_ms": turn.api_ms,
        "num_turns": turn.num_turns,
    }
    if subtype == "success":
        result["result"] = turn.text
    result.update(
        {
            "stop_reason": stop_reason,
            "session_id": session.session_id,
            "total_cost_usd": round(turn.cost_usd, 6),
            "usage": {
                **usage,
                "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                "service_tier": "standard",
                "cache_creation": {
                    "ephemeral_1h_input_tokens": 0,
                    "ephemeral_5m_input_tokens": creation,
                },
            },
            "modelUsage": {},
            "permission_denials": turn.denials,
            "terminal_reason": {"limit": "api_error", "max_turns": "max_turns",
                                "max_budget": "max_budget"}.get(turn.status, "completed"),
            "uuid": str(uuid.uuid4()),
        }
    )  # fmt: skip
    if turn.num_turns:
        result["modelUsage"][session.model] = {
            "inputTokens": usage["input_tokens"],
            "outputTokens": usage["output_tokens"],
            "cacheReadInputTokens": usage["cache_read_input_tokens"],
            "cacheCreationInputTokens": creation,
            "webSearchRequests": 0,
            "costUSD": round(turn.cost_usd, 6),
            "contextWindow": 200_000,
            "maxOutputTokens": 64_000,
        }
    if subtype != "success":
        result["errors"] = []
    return result


def run_headless(
    session: Session, prompt: str | None, output_format: str, verbose: bool, resumed: bool
) -> int:
    """One turn, printed in `output_format`; 0 on success, 1 on any error result."""
    if output_format == "stream-json" and not verbose:
        print(STREAM_NEEDS_VERBOSE, file=sys.stderr)
        return 1
    if not prompt or not prompt.strip():
        print(NO_INPUT, file=sys.stderr)
        return 1
    began = time.monotonic()
    stream = output_format == "stream-json"
    ui = HeadlessUI(session, stream)
    session.start("resume" if resumed else "startup")
    if stream:
        emit(init_line(session))
    turn = session.run_turn(prompt, ui)
    result = result_object(session, turn, int((time.monotonic() - began) * 1000))
    if stream:
        if not ui.limit_sent:
            emit(rate_limit_event(session))
        emit(result)
    elif output_format == "json":
        emit(result)
    elif turn.status == "max_turns":
        print(f"Error: Reached max turns ({session.max_turns})")
    elif turn.status == "max_budget":
        print(f"Error: Exceeded USD budget ({session.max_budget_usd})")
    else:
        print(turn.text)
    sys.stdout.flush()
    session.end("other")
    return 1 if result["is_error"] else 0
