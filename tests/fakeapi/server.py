"""A loopback stand-in for the Anthropic Messages API, for driving the real Claude Code CLI.

Start it from Python and point Claude Code at it with ``ANTHROPIC_BASE_URL``::

    with FakeAnthropic() as api:
        env["ANTHROPIC_BASE_URL"] = api.base_url
        ...
        assert api.main_requests()[-1].last_user_text == "hello"

What it answers
---------------
* ``POST /v1/messages`` (Claude Code adds ``?beta=true``): a scripted reply, as real SSE
  (``message_start`` … ``message_stop``) when the body says ``"stream": true``, else one JSON
  message. The script is read from the *last user message* (see :mod:`tests.fakeapi.script`).
* ``POST /v1/messages/count_tokens``: ``{"input_tokens": N}``.
* ``GET /v1/models`` …: a small model list; any other request: ``{}`` with status 200.

Every request is recorded (:class:`Recorded`: method, path, a subset of headers, parsed body)
for assertions.

Bounded and self-stopping: a ``lifetime`` timer (default 15 min) stops the server even when a
test forgets to; past ``max_requests`` it answers 503 and stops; the request log is capped.
It binds only 127.0.0.1 on an ephemeral port.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

try:  # imported as tests.fakeapi.server or as fakeapi.server (tests/ on sys.path)
    from .script import Reply, Usage, last_user_text, plan_reply
except ImportError:  # pragma: no cover - run as a plain script
    from script import Reply, Usage, last_user_text, plan_reply  # type: ignore[no-redef]

__all__ = ["FakeAnthropic", "Recorded"]

# Headers worth asserting on; everything else is dropped from the record.
RECORDED_HEADERS = (
    "x-api-key",
    "authorization",
    "anthropic-version",
    "anthropic-beta",
    "user-agent",
    "x-app",
    "content-type",
    "x-claude-code-session-id",
    "x-stainless-retry-count",
)


@dataclass
class Recorded:
    """One request the stand-in received."""

    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]
    body: Any  # parsed JSON, the raw text if it was not JSON, or None
    at: float
    status: int = 0  # what the stand-in answered
    reply_kind: str = ""  # "text", "tool_use", "rate_limit", "empty", ...
    model: str = ""

    @property
    def is_messages(self) -> bool:
        return self.method == "POST" and self.path == "/v1/messages"

    @property
    def tools(self) -> list[str]:
        if not isinstance(self.body, dict):
            return []
        return [t.get("name", "") for t in self.body.get("tools") or [] if isinstance(t, dict)]

    @property
    def is_main(self) -> bool:
        """A main-loop turn (the request offers tools), not a side request such as a title."""
        return self.is_messages and bool(self.tools)

    @property
    def last_user_text(self) -> str:
        return last_user_text(self.body)

    @property
    def system_text(self) -> str:
        if not isinstance(self.body, dict):
            return ""
        system = self.body.get("system")
        if isinstance(system, str):
            return system
        if isinstance(system, list):
            return "\n".join(b.get("text", "") for b in system if isinstance(b, dict))
        return ""


@dataclass
class _State:
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)
    count: int = 0

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    owner: FakeAnthropic


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection is dropped, so no thread waits forever

    def log_message(self, format: str, *args: Any) -> None:
        return  # keep test output clean

    # -- plumbing -------------------------------------------------------------------------
    def _read_body(self) -> Any:
        length = int(self.headers.get("content-length") or 0)
        if length <= 0:
            return None
        raw = self.rfile.read(min(length, 64 * 1024 * 1024))
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _record(self, body: Any) -> Recorded:
        parts = urlsplit(self.path)
        rec = Recorded(
            method=self.command,
            path=parts.path,
            query=parts.query,
            headers={
                h: self.headers[h] for h in RECORDED_HEADERS if self.headers.get(h) is not None
            },
            body=body,
            at=time.time(),
            model=body.get("model", "") if isinstance(body, dict) else "",
        )
        return rec

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", self.server.owner._next_request_id())
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        owner = self.server.owner
        body = self._read_body() if self.command in ("POST", "PUT", "PATCH") else None
        rec = self._record(body)
        # Logged on arrival (fields filled in before the answer is sent), so a client that
        # has its answer always finds its request in the log.
        owner._store(rec)
        if not owner._admit():
            rec.status, rec.reply_kind = 503, "over_budget"
            self._send_json(503, {"type": "error", "error": {"type": "overloaded_error"}})
            owner._stop_soon()
            return
        try:
            if rec.is_messages and isinstance(body, dict):
                self._messages(rec, body)
            elif rec.method == "POST" and rec.path == "/v1/messages/count_tokens":
                rec.status, rec.reply_kind = 200, "count_tokens"
                self._send_json(200, {"input_tokens": owner.usage.input_tokens})
            elif rec.method == "GET" and rec.path == "/v1/models":
                rec.status, rec.reply_kind = 200, "models"
                self._send_json(200, owner._models_page())
            else:
                rec.status, rec.reply_kind = 200, "empty"
                self._send_json(200, {})
        except (BrokenPipeError, ConnectionResetError):
            rec.reply_kind += "+client_gone"
        finally:
            owner._notify()

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_PATCH = _handle
    do_DELETE = _handle

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    # -- the Messages API -----------------------------------------------------------------
    def _messages(self, rec: Recorded, body: dict[str, Any]) -> None:
        owner = self.server.owner
        reply = plan_reply(
            body,
            default_usage=owner.usage,
            default_text=owner.default_text,
            attempt=owner._attempt(body),
        )
        rec.reply_kind = reply.kind
        if reply.delay:
            owner._sleep(reply.delay)
        if reply.kind == "rate_limit":
            rec.status = 429
            self._send_json(
                429,
                {
                    "type": "error",
                    "error": {"type": "rate_limit_error", "message": reply.error_message},
                },
                headers=reply.headers,
            )
            return
        if reply.kind == "error":
            rec.status = reply.status
            self._send_json(
                reply.status,
                {
                    "type": "error",
                    "error": {"type": reply.error_type, "message": reply.error_message},
                },
                headers=reply.headers,
            )
            return
        rec.status = 200
        reply.headers = {**owner.response_headers, **reply.headers}
        message_id = owner._next_message_id()
        model = body.get("model") or "claude-sonnet-4-5"
        if body.get("stream"):
            self._stream(message_id, model, reply)
        else:
            self._send_json(200, _message_json(message_id, model, reply), headers=reply.headers)

    def _stream(self, message_id: str, model: str, reply: Reply) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("request-id", self.server.owner._next_request_id())
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        for event, data in sse_events(message_id, model, reply):
            self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()


def _usage_json(u: Usage, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": u.input_tokens,
        "cache_creation_input_tokens": u.cache_creation_input_tokens,
        "cache_read_input_tokens": u.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": u.cache_creation_input_tokens,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def _message_json(message_id: str, model: str, reply: Reply) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [dict(b) for b in reply.blocks],
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": _usage_json(reply.usage, reply.usage.output_tokens),
    }


def sse_events(message_id: str, model: str, reply: Reply) -> list[tuple[str, dict[str, Any]]]:
    """The event sequence of a streamed reply, as the real API sends it."""
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    # The real API reports a partial output count here; the final one comes
                    # in message_delta.
                    "usage": _usage_json(reply.usage, 1),
                },
            },
        )
    ]
    for index, block in enumerate(reply.blocks):
        if block["type"] == "text":
            start = {"type": "text", "text": ""}
            text = block["text"]
            # Two deltas, like a real stream that arrives in pieces.
            cut = len(text) // 2
            deltas = [{"type": "text_delta", "text": piece} for piece in (text[:cut], text[cut:])]
        elif block["type"] == "tool_use":
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            raw = json.dumps(block["input"])
            cut = len(raw) // 2
            deltas = [
                {"type": "input_json_delta", "partial_json": piece}
                for piece in (raw[:cut], raw[cut:])
            ]
        else:  # pragma: no cover - the script makes only these two
            raise ValueError(block["type"])
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
        )
        for delta in deltas:
            events.append(
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": reply.usage.output_tokens},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


class FakeAnthropic:
    """The stand-in server. Use as a context manager, or call :meth:`start` / :meth:`stop`."""

    def __init__(
        self,
        *,
        usage: Usage | None = None,
        response_headers: dict[str, str] | None = None,
        default_text: str = "Hello from the fake API.",
        lifetime: float = 900.0,
        max_requests: int = 5000,
        max_recorded: int = 2000,
    ) -> None:
        self.usage = usage or Usage()
        # Sent with every successful /v1/messages answer; e.g. ``unified_headers(...)`` to
        # report plan utilization. Replace the dict (not mutate) while a test runs.
        self.response_headers: dict[str, str] = dict(response_headers or {})
        self.default_text = default_text
        self.lifetime = lifetime
        self.max_requests = max_requests
        self.max_recorded = max_recorded
        self._state = _State()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        self._stopped = threading.Event()
        self._ids = itertools.count(1)
        self._req_ids = itertools.count(1)
        self._id_lock = threading.Lock()
        self._attempts: dict[str, int] = {}

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> FakeAnthropic:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name=f"fakeapi:{self.port}",
        )
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.cancel()
        server = self._server
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _stop_soon(self) -> None:
        threading.Thread(target=self.stop, daemon=True).start()

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None and not self._stopped.is_set()

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- the request log ------------------------------------------------------------------
    @property
    def requests(self) -> list[Recorded]:
        with self._state.lock:
            return list(self._state.requests)

    def messages_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.is_messages]

    def main_requests(self) -> list[Recorded]:
        """``/v1/messages`` requests of the agent loop (those that offer tools)."""
        return [r for r in self.requests if r.is_main]

    def side_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.is_messages and not r.is_main]

    def clear(self) -> None:
        with self._state.lock:
            self._state.requests.clear()

    def wait_for(self, predicate: Any, timeout: float = 60.0) -> list[Recorded]:
        """Block until ``predicate(requests)`` is true; returns the log. Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._state.changed:
            while True:
                log = list(self._state.requests)
                if predicate(log):
                    return log
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"fake API: condition not met in {timeout}s")
                self._state.changed.wait(min(left, 0.5))

    # -- internals ------------------------------------------------------------------------
    def _admit(self) -> bool:
        with self._state.lock:
            self._state.count += 1
            return self._state.count <= self.max_requests

    def _store(self, rec: Recorded) -> None:
        with self._state.changed:
            self._state.requests.append(rec)
            if len(self._state.requests) > self.max_recorded:
                del self._state.requests[: len(self._state.requests) - self.max_recorded]
            self._state.changed.notify_all()

    def _notify(self) -> None:
        with self._state.changed:
            self._state.changed.notify_all()

    def _sleep(self, seconds: float) -> None:
        # Bounded, and cut short when the server stops.
        self._stopped.wait(min(seconds, self.lifetime))

    def _attempt(self, body: Any) -> int:
        """How many requests with this same conversation came before (its retries count).

        Keyed by the messages alone: a retry resends them unchanged, while its
        headers (`x-stainless-retry-count`) and metadata may differ."""
        messages = body.get("messages") if isinstance(body, dict) else None
        key = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()
        with self._id_lock:
            seen = self._attempts.get(key, 0)
            self._attempts[key] = seen + 1
            return seen

    def _next_message_id(self) -> str:
        with self._id_lock:
            return f"msg_fake{next(self._ids):06d}"

    def _next_request_id(self) -> str:
        with self._id_lock:
            return f"req_fake{next(self._req_ids):06d}"

    def _models_page(self) -> dict[str, Any]:
        models = ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-1"]
        data = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
            for m in models
        ]
        return {"data": data, "has_more": False, "first_id": models[0], "last_id": models[-1]}


@contextlib.contextmanager
def running(**kwargs: Any):
    """``with running() as api:`` — shorthand for ``with FakeAnthropic(**kwargs) as api:``."""
    with FakeAnthropic(**kwargs) as api:
        yield api
