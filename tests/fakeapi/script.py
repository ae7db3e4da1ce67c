"""What the fake Messages API answers: a pure function of the request body.

The reply is scripted by directives in the text of the LAST user message (words in capitals,
anywhere in the text; ``<system-reminder>`` sections that Claude Code adds are ignored):

``WRITE_FILE <path>``      a ``tool_use`` of ``Write`` {file_path, content}
``RUN_BASH <command…>``    a ``tool_use`` of ``Bash`` {command, description}; the command is the
                           rest of that line
``CALL_TOOL <name> [<json>]``  a ``tool_use`` of any tool the request offers, such as an MCP
                           server's ``mcp__podium__capacity``, with that JSON object as its
                           input (the rest of the line; default ``{}``)
``RATE_LIMIT [<claim>] [<epoch>]``  HTTP 429 ``rate_limit_error`` with the unified rate-limit
                           headers of a used-up window: ``five_hour`` (default), ``seven_day``,
                           ``seven_day_opus``, ``seven_day_sonnet`` or ``overage``, resetting
                           at ``<epoch>`` seconds (default: the next full hour but one); once
                           ``<epoch>`` has passed the directive is ignored (the limit has
                           reset), so a run resumed after the reset gets a normal answer
``ERROR <status>``         HTTP <status> ``api_error`` (``x-should-retry: false``); 529 gives an
                           ``overloaded_error``
``RETRY <status> [<times>] [<epoch>]``  HTTP <status> that Claude Code retries
                           (``x-should-retry: true``; 429 is a ``rate_limit_error``, 529
                           ``overloaded_error``): the first ``<times>`` attempts of the same
                           request fail (default: all of them), later ones get the normal
                           answer; the server counts the attempts and passes ``attempt`` to
                           ``plan_reply``; once ``<epoch>`` has passed the directive is
                           ignored (as ``RATE_LIMIT``'s: a resumed run gets through)
``SLOW <seconds>``         wait that long before answering (bounded by the server's lifetime)
``REPLY <text…>``          answer with that text (the rest of the line) instead of the default;
                           put other directives on other lines; ``\\n`` in it is a line break
                           and ``\\e`` an ESC (a reply with escape sequences, as a hostile
                           repository could make a model write)
``USAGE <in> <out> [<cache_write> <cache_read>]``  token usage of the answer
``THEN <k> <name> [<json>]``  in the FIRST user message: once the conversation has had
                           ``<k>`` rounds of tool results, answer the k-th with a ``tool_use``
                           of that tool (several for one ``<k>``: one answer with each), so a
                           script can call a tool with what an earlier call made (ids)
``ECHO_RESULTS``           in the FIRST user message: the answer that ends the turn after
                           tool results carries the text of each of those results

Several tool directives give several ``tool_use`` blocks in one answer. When the last user
message carries a ``tool_result`` the turn is over (unless a ``THEN`` for that round): the
answer is the text ``Done: <n> tool result(s), <m> error(s).``. Directives act only on
main-loop requests (those that offer tools); side requests (session titles, summaries, …)
are answered at once with a short text, or with JSON fitting ``output_config.format``'s
schema when they ask for structured output (the title request does: ``{"title": "Fake
session title"}``), so they never disturb a test's turn. Usage is deterministic:
``Usage()`` unless ``USAGE``.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "Reply",
    "Usage",
    "last_user_text",
    "plan_reply",
    "rate_limit_headers",
    "unified_headers",
]


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 100
    output_tokens: int = 20
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


@dataclass
class Reply:
    kind: str  # "text" | "tool_use" | "rate_limit" | "error"
    blocks: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str = "end_turn"
    usage: Usage = field(default_factory=Usage)
    delay: float = 0.0
    status: int = 200
    error_type: str = ""
    error_message: str = ""
    headers: dict[str, str] = field(default_factory=dict)


_REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.S)
_WRITE = re.compile(r"\bWRITE_FILE\s+(\S+)")
_BASH = re.compile(r"\bRUN_BASH\s+([^\n]+)")
_CALL = re.compile(r"\bCALL_TOOL\s+([A-Za-z0-9_-]+)[ \t]*([^\n]*)")
_RATE_LIMIT = re.compile(
    r"\bRATE_LIMIT\b(?:[ \t]+(five_hour|seven_day_opus|seven_day_sonnet|seven_day|overage))?"
    r"(?:[ \t]+(\d{9,11}))?"
)
_SLOW = re.compile(r"\bSLOW\s+(\d+(?:\.\d+)?)")
_ERROR = re.compile(r"\bERROR\s+(\d{3})\b")
_RETRY = re.compile(r"\bRETRY\s+(\d{3})(?:[ \t]+(\d{1,8})\b)?(?:[ \t]+(\d{9,11})\b)?")
_REPLY = re.compile(r"\bREPLY\s+([^\n]+)")
_THEN = re.compile(r"\bTHEN\s+(\d+)\s+([A-Za-z0-9_-]+)[ \t]*([^\n]*)")
_ECHO = re.compile(r"\bECHO_RESULTS\b")
_USAGE = re.compile(r"\bUSAGE\s+(\d+)\s+(\d+)(?:\s+(\d+)\s+(\d+))?")

WRITE_CONTENT = "written by the fake API\n"


def _user_blocks(body: Any) -> list[Any]:
    if not isinstance(body, dict):
        return []
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return [{"type": "text", "text": content}]
            return list(content) if isinstance(content, list) else []
    return []


def last_user_text(body: Any) -> str:
    """The text of the last user message, without Claude Code's ``<system-reminder>`` parts."""
    texts = [
        b.get("text", "")
        for b in _user_blocks(body)
        if isinstance(b, dict) and b.get("type") == "text"
    ]
    return _REMINDER.sub("", "\n".join(texts)).strip()


def _tool_results(body: Any) -> list[dict[str, Any]]:
    return [b for b in _user_blocks(body) if isinstance(b, dict) and b.get("type") == "tool_result"]


def first_user_text(body: Any) -> str:
    """The text of the first user message (the prompt), without ``<system-reminder>``s."""
    for message in body.get("messages") or [] if isinstance(body, dict) else []:
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
            texts = [
                b.get("text", "")
                for b in blocks or []
                if isinstance(b, dict) and b.get("type") == "text"
            ]
            return _REMINDER.sub("", "\n".join(texts)).strip()
    return ""


def _result_rounds(body: dict[str, Any]) -> int:
    """How many user messages of the conversation carry tool results."""
    return sum(
        1
        for m in body.get("messages") or []
        if isinstance(m, dict)
        and m.get("role") == "user"
        and isinstance(m.get("content"), list)
        and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in m["content"])
    )


def _result_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(c.get("text", "") for c in content if isinstance(c, dict))
    return ""


def _json_input(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def rate_limit_headers(resets_at: int | None = None, *, claim: str = "five_hour") -> dict[str, str]:
    """Headers of a 429 for a used-up window (``claim``), as the real API sends them.

    ``anthropic-ratelimit-unified-representative-claim`` and ``…-reset`` are the ones Claude
    Code reads into the error (``rateLimitType``/``resetsAt``); ``x-should-retry: false`` stops
    the SDK from retrying. ``resets_at`` defaults to the next full hour but one.
    """
    if resets_at is None:
        resets_at = (int(time.time()) // 3600 + 2) * 3600
    reset = str(resets_at)
    five_hour = claim == "five_hour"
    return {
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-reset": reset,
        "anthropic-ratelimit-unified-representative-claim": claim,
        "anthropic-ratelimit-unified-5h-status": "rejected" if five_hour else "allowed",
        "anthropic-ratelimit-unified-5h-utilization": "1.0" if five_hour else "0.5",
        "anthropic-ratelimit-unified-5h-reset": reset if five_hour else str(resets_at - 3600),
        "anthropic-ratelimit-unified-7d-status": "allowed" if five_hour else "rejected",
        # A five-hour limit in a week with room left (fill's weekly pacing lets it spend).
        "anthropic-ratelimit-unified-7d-utilization": "0.2" if five_hour else "1.0",
        "anthropic-ratelimit-unified-7d-reset": str(resets_at + 5 * 86400) if five_hour else reset,
        "anthropic-ratelimit-unified-fallback": "unavailable",
        "anthropic-ratelimit-unified-overage-status": "rejected",
        "anthropic-ratelimit-unified-overage-disabled-reason": "org_level_disabled",
        "x-should-retry": "false",
    }


def unified_headers(
    five_hour: float = 0.25,
    seven_day: float = 0.40,
    *,
    five_hour_resets_at: int | None = None,
    seven_day_resets_at: int | None = None,
    status: str = "allowed",
) -> dict[str, str]:
    """Unified rate-limit headers of an answer that was let through (utilization 0–1).

    Claude Code reads these from every answer when the session counts as a subscriber or
    gateway session (see ``claude_bed`` ``auth="gateway"``); with a plain API key it ignores
    them.
    """
    now = int(time.time())
    five_reset = five_hour_resets_at or (now // 3600 + 2) * 3600
    seven_reset = seven_day_resets_at or (now // 86400 + 3) * 86400
    claim = "five_hour" if five_hour >= seven_day else "seven_day"
    return {
        "anthropic-ratelimit-unified-status": status,
        "anthropic-ratelimit-unified-reset": str(
            five_reset if claim == "five_hour" else seven_reset
        ),
        "anthropic-ratelimit-unified-representative-claim": claim,
        "anthropic-ratelimit-unified-5h-status": status if claim == "five_hour" else "allowed",
        "anthropic-ratelimit-unified-5h-utilization": f"{five_hour:g}",
        "anthropic-ratelimit-unified-5h-reset": str(five_reset),
        "anthropic-ratelimit-unified-7d-status": status if claim == "seven_day" else "allowed",
        "anthropic-ratelimit-unified-7d-utilization": f"{seven_day:g}",
        "anthropic-ratelimit-unified-7d-reset": str(seven_reset),
        "anthropic-ratelimit-unified-fallback": "unavailable",
        "anthropic-ratelimit-unified-overage-status": "rejected",
        "anthropic-ratelimit-unified-overage-disabled-reason": "org_level_disabled",
    }


def _is_main(body: dict[str, Any]) -> bool:
    return bool(body.get("tools"))


def _from_schema(schema: Any, depth: int = 0) -> Any:
    """A small value that satisfies a JSON schema (for structured-output side requests)."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return _from_schema(schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        required = schema.get("required") or list(props)
        return {k: _from_schema(props.get(k, {}), depth + 1) for k in required}
    if kind == "array":
        return []
    if kind == "string":
        return "Fake session title"
    if kind in ("number", "integer"):
        return 0
    if kind == "boolean":
        return False
    return None


def _side_text(body: dict[str, Any]) -> str:
    fmt = (body.get("output_config") or {}).get("format") or body.get("output_format") or {}
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return json.dumps(_from_schema(fmt.get("schema") or {}))
    return "Fake side answer"


def plan_reply(
    body: Any,
    *,
    default_usage: Usage | None = None,
    default_text: str = "Hello from the fake API.",
    attempt: int = 0,
) -> Reply:
    """Decide the answer to one ``POST /v1/messages`` body; ``attempt`` counts the earlier
    requests with the same conversation (retries of this one)."""
    usage = default_usage or Usage()
    if not isinstance(body, dict):
        return Reply("text", [{"type": "text", "text": default_text}], usage=usage)
    if not _is_main(body):
        return Reply("text", [{"type": "text", "text": _side_text(body)}], usage=usage)

    text = last_user_text(body)
    reply = Reply("text", usage=usage)
    if m := _USAGE.search(text):
        reply.usage = replace(
            usage,
            input_tokens=int(m[1]),
            output_tokens=int(m[2]),
            cache_creation_input_tokens=int(m[3] or 0),
            cache_read_input_tokens=int(m[4] or 0),
        )
    if m := _SLOW.search(text):
        reply.delay = float(m[1])

    results = _tool_results(body)
    if results:
        first = first_user_text(body)
        rounds = _result_rounds(body)
        base = len(body.get("messages") or [])
        then = [
            {"type": "tool_use", "id": f"toolu_fake{base:04d}{i:02d}", "name": m[2], "input": inp}
            for i, m in enumerate(t for t in _THEN.finditer(first) if int(t[1]) == rounds)
            for inp in [_json_input(m[3])]
        ]
        if then:
            reply.kind = "tool_use"
            reply.stop_reason = "tool_use"
            reply.blocks = [{"type": "text", "text": "Using a tool."}, *then]
            return reply
        errors = sum(1 for r in results if r.get("is_error"))
        done = f"Done: {len(results)} tool result(s), {errors} error(s)."
        if _ECHO.search(first):
            done = "\n\n".join([done, *(_result_text(r) for r in results)])
        reply.blocks = [{"type": "text", "text": done}]
        return reply

    m = _RATE_LIMIT.search(text)
    if m and m[2] and int(m[2]) <= time.time():
        m = None  # that limit has reset: answer as usual
    if m:
        reply.kind, reply.status = "rate_limit", 429
        reply.error_type = "rate_limit_error"
        reply.error_message = "This request would exceed your account's rate limit."
        reply.headers = rate_limit_headers(int(m[2]) if m[2] else None, claim=m[1] or "five_hour")
        return reply
    m = _RETRY.search(text)
    if m and m[3] and int(m[3]) <= time.time():
        m = None  # past its epoch: answer as usual
    if m and (m[2] is None or attempt < int(m[2])):
        status = int(m[1])
        reply.kind, reply.status = "error", status
        reply.error_type = {429: "rate_limit_error", 529: "overloaded_error"}.get(
            status, "api_error"
        )
        reply.error_message = f"Fake API error {status} (attempt {attempt + 1})"
        reply.headers = {"x-should-retry": "true"}
        return reply
    if m := _ERROR.search(text):
        status = int(m[1])
        reply.kind, reply.status = "error", status
        reply.error_type = "overloaded_error" if status == 529 else "api_error"
        reply.error_message = f"Fake API error {status}"
        reply.headers = {"x-should-retry": "false"}
        return reply

    offered = {t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
    base = len(body.get("messages") or [])
    tools: list[tuple[int, str, dict[str, Any]]] = []
    for m in _WRITE.finditer(text):
        tools.append(
            (m.start(), "Write", {"file_path": m[1], "content": WRITE_CONTENT}),
        )
    for m in _BASH.finditer(text):
        cmd = m[1].strip()
        tools.append((m.start(), "Bash", {"command": cmd, "description": "Run a test command"}))
    for m in _CALL.finditer(text):
        try:
            inp = json.loads(m[2]) if m[2].strip() else {}
        except ValueError:
            inp = {}
        # Named as asked even when not offered: Claude Code defers MCP tools behind
        # ToolSearch (a placeholder in the request) yet runs a call to one it knows.
        offered.add(m[1])
        tools.append((m.start(), m[1], inp if isinstance(inp, dict) else {}))
    tools.sort(key=lambda t: t[0])
    blocks = [
        {"type": "tool_use", "id": f"toolu_fake{base:04d}{i:02d}", "name": name, "input": inp}
        for i, (_, name, inp) in enumerate(tools)
        if name in offered
    ]
    if blocks:
        reply.kind = "tool_use"
        reply.stop_reason = "tool_use"
        reply.blocks = [{"type": "text", "text": "Using a tool."}, *blocks]
        return reply

    said = _REPLY.search(text)
    answer = said[1].strip().replace("\\n", "\n").replace("\\e", "\x1b") if said else default_text
    reply.blocks = [{"type": "text", "text": answer}]
    return reply
