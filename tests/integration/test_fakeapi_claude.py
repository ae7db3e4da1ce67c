"""The real Claude Code CLI (2.1.328) against the loopback fake API, headless and in tmux.

What these tests established (2.1.328, 2-core machine; numbers are typical, not promises):

Hook payloads (one JSON object on stdin; all carry ``session_id``, ``transcript_path``
(``<CLAUDE_CONFIG_DIR>/projects/<cwd with / → ->/<session>.jsonl``), ``cwd``,
``hook_event_name``):

* SessionStart   ``{"source": "startup", "model": "claude-opus-5-5"}`` — ~0.5 s after launch.
* UserPromptSubmit  ``{"prompt_id", "permission_mode": "default", "prompt": "<text>"}``.
* PreToolUse     ``{"prompt_id", "permission_mode", "effort": {"level": "medium"}, "tool_name":
  "Write", "tool_input": {"file_path", "content"}, "tool_use_id": "toolu_…"}``.
* PermissionRequest  like PreToolUse without ``tool_use_id``, plus ``"permission_suggestions":
  [{"type": "setMode", "mode": "acceptEdits", "destination": "session"}]``; fires within
  ~0.2 s of the dialog. For Write the dialog asks "Do you want to create <file>?" (Bash asks
  "Do you want to proceed?"), options "1. Yes / 2. Yes, and switch to accept edits… / 3. No".
* Notification   ``{"prompt_id", "message": "Claude needs your permission", "notification_type":
  "permission_prompt"}`` — ~6 s after the dialog opened (no ``permission_mode``).
* PostToolUse    ``{…, "tool_response": {"type": "create", "filePath", "content", …},
  "tool_use_id", "duration_ms"}``.
* Stop           ``{"prompt_id", "permission_mode", "effort", "stop_hook_active": false,
  "last_assistant_message": "<text>", "background_tasks": [], "session_crons": []}``.
* StopFailure    ``{"prompt_id", "effort", "error": "rate_limit", "last_assistant_message":
  "<the error text>"}`` — no Stop for that turn.
* SessionEnd     ``{"prompt_id", "reason": "other"}`` when the tmux pane is killed (SIGHUP).

Timing: launch → prompt ready ≈ 0.6–1 s; send-keys → UserPromptSubmit ≈ 0.1–0.5 s;
→ Stop ≈ 0.5–1 s for a plain reply (most of it is Claude Code, the fake answers at once).

Typing: send the text, wait until it shows in the input box, THEN send Enter. Text and
Enter in one burst are taken as a paste and the Enter becomes a newline in the box.

The 429 that works: status 429, body ``{"type":"error","error":{"type":"rate_limit_error",
"message":…}}`` and header ``x-should-retry: false`` (without it the SDK retries for minutes).
Any 429 makes ``StopFailure`` with ``error: "rate_limit"``, and headless gives ``is_error:
true, api_error_status: 429, terminal_reason: "api_error"``. The text depends on the auth:

* API key (``ANTHROPIC_API_KEY``): ``API Error: Request rejected (429) · <error.message>``.
* "gateway" auth (``ANTHROPIC_AUTH_TOKEN`` = a JWT with ``aud: claude-gateway``; Claude Code
  only decodes it): the ``anthropic-ratelimit-unified-*`` headers are read (``status:
  rejected``, ``representative-claim: five_hour``, ``reset: <epoch>``) and the text is
  ``You've hit your 5-hour limit · resets 6pm (UTC)`` (2.1.328 says "5-hour limit"; "session
  limit" is only matched as an older wording); the assistant record gets ``api_error:
  "usage_limit_reached"`` and stream-json emits ``rate_limit_event`` with ``rate_limit_info
  {status, resetsAt, rateLimitType, overageStatus, unifiedWindows{five_hour, seven_day}}``.

Positional prompt: ``claude --settings F --permission-mode default -- "text"`` starts the
interactive UI and submits "text" as the first prompt (UserPromptSubmit, then Stop).

Statusline: a ``statusLine`` command in ``--settings`` runs (first time right at start, then
after each change) with ``{session_id, transcript_path, cwd, effort{level}, model{id,
display_name}, workspace{current_dir, project_dir, added_dirs}, version, output_style{name},
cost{total_cost_usd, total_duration_ms, total_api_duration_ms, total_lines_added,
total_lines_removed}, context_window{total_input_tokens, total_output_tokens,
context_window_size, current_usage{input_tokens, output_tokens, cache_creation_input_tokens,
cache_read_input_tokens}|null, used_percentage, remaining_percentage}, exceeds_200k_tokens,
prompt_cache{…}, fast_mode, thinking{enabled}}`` (+ ``prompt_id`` after a prompt). With
gateway auth and unified headers on the answers it adds ``rate_limits: {five_hour:
{used_percentage: 23, resets_at: <epoch s>}, seven_day: {…}}`` (utilization 0.23 → 23).

Also: the default permission mode of 2.1.328 is "auto"; in auto mode a risky Bash command
wants a server-side classifier the fake does not have, and Claude Code shows "Auto mode can't
check actions in this session" (Notification ``agent_needs_input``). Tests should pass
``--permission-mode default`` (or ``acceptEdits``). Without ``DISABLE_AUTOUPDATER`` and
``CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL`` the interactive CLI resolves
downloads.claude.ai and runs ``ssh git@github.com``; ``claude_bed`` sets both. Without
``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC`` it also asks a side model for a session title
(``output_config.format`` JSON schema ``{title}``), which the fake answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

libtmux = pytest.importorskip("libtmux")
from libtmux.test.retry import retry_until  # noqa: E402

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:  # claude_bed and fakeapi live in tests/
    sys.path.insert(0, _TESTS)

import claude_bed as bed_module  # noqa: E402
from claude_bed import ClaudeBed, read_jsonl  # noqa: E402
from fakeapi import FakeAnthropic, unified_headers  # noqa: E402
from fakeapi.script import WRITE_CONTENT  # noqa: E402

# The fixtures, for running this module on its own (conftest may import them too).
claude_bin = bed_module.claude_bin
fake_api = bed_module.fake_api
claude_env = bed_module.claude_env
claude_bed = bed_module.claude_bed
make_claude_bed = bed_module.make_claude_bed

needs_tmux = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

WAIT = 60.0  # generous: a 2-core CI machine under load


@pytest.fixture
def tmux_server() -> Iterator[Any]:
    name = f"podium-test-{uuid.uuid4().hex[:10]}"
    server = libtmux.Server(socket_name=name)
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):  # gone already if its last session ended
            server.kill()
        # tmux leaves the socket file behind.
        tmpdir = os.environ.get("TMUX_TMPDIR") or "/tmp"
        with contextlib.suppress(OSError):
            (Path(tmpdir) / f"tmux-{os.getuid()}" / name).unlink()


class Agent:
    """A ``claude`` running in a tmux pane, with the hook and statusline records it writes."""

    def __init__(self, server: Any, bed: ClaudeBed, *args: str) -> None:
        self.bed = bed
        self.hooks_file = bed.root / "hooks.jsonl"
        self.status_file = bed.root / "status.jsonl"
        settings = bed.recording_settings(self.hooks_file, statusline_out=self.status_file)
        launcher = bed.launcher("--settings", str(settings), *args)
        self.started = time.monotonic()
        session = server.new_session(
            session_name="agent",
            window_command=str(launcher),
            start_directory=str(bed.work_dir),
            x=200,
            y=50,
        )
        self.window = session.active_window
        self.window.set_option("remain-on-exit", "on")  # keep the screen if claude dies
        self.pane = self.window.active_pane

    # -- reading --------------------------------------------------------------------------
    def screen(self) -> str:
        return "\n".join(self.pane.capture_pane() or [])

    def hooks(self, event: str | None = None) -> list[dict[str, Any]]:
        recs = read_jsonl(self.hooks_file)
        return [r for r in recs if event is None or r["event"] == event]

    def statuslines(self) -> list[dict[str, Any]]:
        return [r["payload"] for r in read_jsonl(self.status_file) if r.get("payload")]

    def wait_hook(self, event: str, count: int = 1) -> dict[str, Any]:
        ok = retry_until(lambda: len(self.hooks(event)) >= count, WAIT, raises=False)
        assert ok, self._why(f"no {event} #{count}")
        return self.hooks(event)[count - 1]["payload"]

    def wait_screen(self, text: str) -> None:
        ok = retry_until(lambda: text in self.screen(), WAIT, raises=False)
        assert ok, self._why(f"{text!r} never showed")

    def _why(self, what: str) -> str:
        events = [r["event"] for r in self.hooks()]
        return f"{what}; hooks so far {events}; screen:\n{self.screen()}"

    # -- typing ---------------------------------------------------------------------------
    def submit(self, text: str) -> float:
        """Type ``text``, wait until the input box shows it, press Enter; returns the time."""
        self.pane.send_keys(text, enter=False, literal=True)
        tail = text[-20:]
        ok = retry_until(lambda: tail in self.screen().replace("\n", ""), WAIT, raises=False)
        assert ok, self._why(f"typed text {tail!r} never showed")
        sent = time.monotonic()
        self.pane.send_keys("Enter", enter=False)
        return sent

    def ready(self) -> None:
        self.wait_hook("SessionStart")
        self.wait_screen("❯")


# -- the fake API alone (no CLI) --------------------------------------------------------------


def _post(api: FakeAnthropic, path: str, body: Any) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(
        api.base_url + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "x-api-key": "k"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _turn(text: str, *, stream: bool = True, tools: bool = True, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-test",
        "max_tokens": 100,
        "stream": stream,
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
        **extra,
    }
    if tools:
        body["tools"] = [{"name": "Write"}, {"name": "Bash"}]
    return body


def _sse(raw: bytes) -> list[dict[str, Any]]:
    return [
        json.loads(line[len("data: ") :])
        for line in raw.decode().splitlines()
        if line.startswith("data: ")
    ]


def test_fake_api_streams_a_tool_use_then_text() -> None:
    with FakeAnthropic() as api:
        status, headers, raw = _post(api, "/v1/messages?beta=true", _turn("WRITE_FILE /tmp/x"))
        assert status == 200 and headers["content-type"] == "text/event-stream"
        events = _sse(raw)
        kinds = [e["type"] for e in events]
        assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
        start = events[0]["message"]
        assert start["id"].startswith("msg_fake") and start["model"] == "claude-test"
        tool = next(e for e in events if e.get("content_block", {}).get("type") == "tool_use")
        assert tool["content_block"]["name"] == "Write"
        partial = "".join(
            e["delta"]["partial_json"]
            for e in events
            if e["type"] == "content_block_delta" and e["index"] == tool["index"]
        )
        assert json.loads(partial) == {"file_path": "/tmp/x", "content": WRITE_CONTENT}
        assert events[-2]["delta"]["stop_reason"] == "tool_use"
        assert events[-2]["usage"]["output_tokens"] == 20

        # The tool_result comes back: the turn ends with text.
        body = _turn("WRITE_FILE /tmp/x")
        body["messages"] += [
            {"role": "assistant", "content": [tool["content_block"]]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": tool["content_block"]["id"]}],
            },
        ]
        _, _, raw = _post(api, "/v1/messages?beta=true", body)
        text = "".join(
            e["delta"].get("text", "") for e in _sse(raw) if e["type"] == "content_block_delta"
        )
        assert text == "Done: 1 tool result(s), 0 error(s)."
        assert [r.reply_kind for r in api.main_requests()] == ["tool_use", "text"]
        assert api.requests[0].headers["x-api-key"] == "k"


def test_fake_api_plain_json_usage_errors_and_side_requests() -> None:
    with FakeAnthropic() as api:
        _, _, raw = _post(api, "/v1/messages", _turn("USAGE 7 3 5 11\nREPLY pong", stream=False))
        msg = json.loads(raw)
        assert msg["content"] == [{"type": "text", "text": "pong"}]
        assert msg["usage"]["input_tokens"] == 7 and msg["usage"]["output_tokens"] == 3
        assert msg["usage"]["cache_creation_input_tokens"] == 5
        assert msg["usage"]["cache_read_input_tokens"] == 11

        status, headers, raw = _post(api, "/v1/messages", _turn("RATE_LIMIT"))
        assert status == 429 and json.loads(raw)["error"]["type"] == "rate_limit_error"
        assert headers["anthropic-ratelimit-unified-status"] == "rejected"
        assert headers["x-should-retry"] == "false"
        status, _, raw = _post(api, "/v1/messages", _turn("ERROR 529"))
        assert status == 529 and json.loads(raw)["error"]["type"] == "overloaded_error"

        # A side request (no tools) never follows directives; structured output gets JSON.
        schema = {"type": "object", "properties": {"title": {"type": "string"}}}
        side = _turn(
            "RATE_LIMIT",
            stream=False,
            tools=False,
            output_config={"format": {"type": "json_schema", "schema": schema}},
        )
        status, _, raw = _post(api, "/v1/messages", side)
        assert status == 200
        assert json.loads(json.loads(raw)["content"][0]["text"]) == {"title": "Fake session title"}

        assert _post(api, "/v1/messages/count_tokens", _turn("x"))[0] == 200
        assert json.loads(_post(api, "/api/anything", {})[2]) == {}
        assert len(api.requests) == 6


def test_fake_api_is_bounded() -> None:
    api = FakeAnthropic(max_requests=1, lifetime=30).start()
    try:
        assert _post(api, "/v1/messages", _turn("hi", stream=False))[0] == 200
        assert _post(api, "/v1/messages", _turn("hi", stream=False))[0] == 503
        assert retry_until(lambda: not api.running, 10, raises=False)
    finally:
        api.stop()
    # SLOW is cut short when the server stops.
    with FakeAnthropic() as api:
        started = time.monotonic()
        threading.Timer(0.5, api.stop).start()
        with contextlib.suppress(OSError):
            _post(api, "/v1/messages", _turn("SLOW 30", stream=False))
        assert time.monotonic() - started < 10


# -- headless ------------------------------------------------------------------------------


@pytest.mark.claude
def test_headless_hello(claude_bed: ClaudeBed) -> None:
    run = claude_bed.run_headless("hello")
    result = run.result
    assert result is not None, run.stdout + run.stderr
    assert result["is_error"] is False
    assert result["result"] == "Hello from the fake API."
    assert run.returncode == 0
    # Deterministic usage flows through to the result.
    assert result["usage"]["input_tokens"] == 100
    assert result["usage"]["output_tokens"] == 20
    main = claude_bed.api.main_requests()
    assert [r.last_user_text for r in main] == ["hello"]
    assert main[0].query == "beta=true"
    assert main[0].headers["x-api-key"] == claude_bed.env["ANTHROPIC_API_KEY"]
    # The transcript lands under the temp config dir.
    assert any(p.name == f"{result['session_id']}.jsonl" for p in claude_bed.transcripts())


@pytest.mark.claude
def test_headless_rate_limit(claude_bed: ClaudeBed) -> None:
    run = claude_bed.run_headless("RATE_LIMIT please")
    result = run.result
    assert result is not None, run.stdout + run.stderr
    assert result["is_error"] is True
    assert result["api_error_status"] == 429
    assert result["terminal_reason"] == "api_error"
    assert result["result"].startswith("API Error: Request rejected (429)")
    assert run.returncode != 0
    assert len(claude_bed.api.main_requests()) == 1  # x-should-retry: false → no retries


@pytest.mark.claude
def test_headless_rate_limit_gateway_text(make_claude_bed: Any) -> None:
    bed = make_claude_bed(auth="gateway")
    run = bed.run_headless("RATE_LIMIT")
    result = run.result
    assert result is not None, run.stdout + run.stderr
    assert result["is_error"] is True
    assert result["api_error_status"] == 429
    assert result["result"].startswith("You've hit your 5-hour limit · resets ")
    events = [e for e in run.events if e.get("type") == "rate_limit_event"]
    assert events and events[0]["rate_limit_info"]["status"] == "rejected"
    assert events[0]["rate_limit_info"]["rateLimitType"] == "five_hour"
    assert bed.api.main_requests()[0].headers["authorization"].startswith("Bearer ")


@pytest.mark.claude
def test_headless_tool_round_trip(claude_bed: ClaudeBed) -> None:
    target = claude_bed.work_dir / "from_bash.txt"
    run = claude_bed.run_headless(
        f"RUN_BASH echo made > {target}", "--permission-mode", "acceptEdits"
    )
    assert run.result is not None and run.result["is_error"] is False, run.stdout
    assert run.result["result"] == "Done: 1 tool result(s), 0 error(s)."
    assert target.read_text() == "made\n"
    main = claude_bed.api.main_requests()
    assert [r.reply_kind for r in main] == ["tool_use", "text"]


# -- interactive in tmux -------------------------------------------------------------------


@pytest.mark.claude
@needs_tmux[0]
@needs_tmux[1]
def test_interactive_hooks_permission_and_rate_limit(
    tmux_server: Any, claude_bed: ClaudeBed
) -> None:
    agent = Agent(tmux_server, claude_bed, "--permission-mode", "default")
    agent.ready()
    start = agent.hooks("SessionStart")[0]["payload"]
    assert start["source"] == "startup"
    assert Path(start["cwd"]) == claude_bed.work_dir

    # A plain turn: UserPromptSubmit, then Stop.
    sent = agent.submit("hello there")
    submit = agent.wait_hook("UserPromptSubmit")
    assert submit["prompt"] == "hello there"
    stop = agent.wait_hook("Stop")
    turn_seconds = time.monotonic() - sent
    assert stop["last_assistant_message"] == "Hello from the fake API."
    assert stop["session_id"] == start["session_id"]
    assert turn_seconds < WAIT

    # A Write needs permission: the dialog, PermissionRequest, Notification; "1" approves.
    target = claude_bed.work_dir / "written.txt"
    agent.submit(f"WRITE_FILE {target}")
    agent.wait_screen("Do you want to")
    perm = agent.wait_hook("PermissionRequest")
    assert perm["tool_name"] == "Write"
    assert perm["tool_input"]["file_path"] == str(target)
    note = agent.wait_hook("Notification")
    assert note["notification_type"] == "permission_prompt"
    assert not target.exists()
    agent.pane.send_keys("1", enter=False)
    stop = agent.wait_hook("Stop", 2)
    assert stop["last_assistant_message"] == "Done: 1 tool result(s), 0 error(s)."
    assert target.read_text() == "written by the fake API\n"

    # A 429: StopFailure with error "rate_limit", and no third Stop.
    agent.submit("RATE_LIMIT now")
    failure = agent.wait_hook("StopFailure")
    assert failure["error"] == "rate_limit"
    assert "429" in failure["last_assistant_message"]
    assert len(agent.hooks("Stop")) == 2

    # Killing the pane ends the session.
    agent.pane.kill()
    end = agent.wait_hook("SessionEnd")
    assert end["session_id"] == start["session_id"]

    events = [r["event"] for r in agent.hooks()]
    assert events[0] == "SessionStart"
    assert events.index("UserPromptSubmit") < events.index("Stop")
    assert events.index("PreToolUse") < events.index("PermissionRequest")


@pytest.mark.claude
@needs_tmux[0]
@needs_tmux[1]
def test_interactive_positional_prompt_and_statusline(
    tmux_server: Any, make_claude_bed: Any
) -> None:
    bed = make_claude_bed(auth="gateway")
    bed.api.response_headers = unified_headers(0.23, 0.41)
    agent = Agent(tmux_server, bed, "--permission-mode", "default", "--", "REPLY positional ok")
    submit = agent.wait_hook("UserPromptSubmit")
    assert submit["prompt"] == "REPLY positional ok"
    stop = agent.wait_hook("Stop")
    assert stop["last_assistant_message"] == "positional ok"

    def has_limits() -> bool:
        return any("rate_limits" in s for s in agent.statuslines())

    assert retry_until(has_limits, WAIT, raises=False), agent.statuslines()
    status = next(s for s in agent.statuslines() if "rate_limits" in s)
    assert status["session_id"] == stop["session_id"]
    assert status["model"]["id"]
    assert status["workspace"]["current_dir"] == str(bed.work_dir)
    assert status["rate_limits"]["five_hour"]["used_percentage"] == 23
    assert status["rate_limits"]["seven_day"]["used_percentage"] == 41
    assert "podium-test-status" in agent.screen()

    # With gateway auth a 429 carries the plan-limit wording.
    agent.submit("RATE_LIMIT")
    failure = agent.wait_hook("StopFailure")
    assert failure["error"] == "rate_limit"
    assert failure["last_assistant_message"].startswith("You've hit your 5-hour limit")
