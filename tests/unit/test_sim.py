"""The sim (stand-in Claude Code CLI), run as a real subprocess on real files.

Every run gets its own data dir and Claude config dir under tmp_path and a high
PODIUM_SIM_SPEED, so simulated seconds pass in milliseconds.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sessions.sim import account, set_scripted
from sessions.sim.script import display_name, parse_directives
from sessions.sim.transcript import encode_cwd

HOOK_EVENTS = (
    "SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PermissionRequest",
    "Notification", "Stop", "StopFailure", "SessionEnd",
)  # fmt: skip
SPEED = "100"


class Sim:
    """One isolated sim world: data dir, Claude config dir, project dir, settings file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.config = root / "claude"
        self.project = root / "proj"
        self.project.mkdir()
        self.events_file = root / "events.jsonl"
        self.status_file = root / "status.jsonl"
        hook = {"type": "command", "command": f"cat >> '{self.events_file}'", "timeout": 10}
        settings = {
            "hooks": {event: [{"matcher": "", "hooks": [hook]}] for event in HOOK_EVENTS},
            "statusLine": {
                "type": "command",
                "command": f"cat >> '{self.status_file}'; echo sim-status-line",
            },
        }
        self.settings = root / "settings.json"
        self.settings.write_text(json.dumps(settings))
        self.env = {
            **os.environ,
            "PODIUM_DATA_DIR": str(self.data),
            "PODIUM_SIM_CLAUDE_CONFIG_DIR": str(self.config),
            "PODIUM_SIM_SPEED": SPEED,
            "PODIUM_SIM_SEED": "7",
        }

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "sessions.sim", "--settings", str(self.settings), *args]

    def run(self, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.argv(*args),
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.project,
            env={**self.env, **env},
            timeout=30,
        )

    def popen(self, *args: str, out: Path, **env: str) -> subprocess.Popen:
        return subprocess.Popen(
            self.argv(*args),
            stdin=subprocess.PIPE,
            stdout=out.open("w"),
            stderr=subprocess.STDOUT,
            cwd=self.project,
            env={**self.env, **env},
        )

    def events(self) -> list[dict[str, Any]]:
        return _jsonl(self.events_file)

    def names(self) -> list[str]:
        return [e["hook_event_name"] for e in self.events()]

    def transcript(self, session_id: str) -> list[dict[str, Any]]:
        path = self.config / "projects" / encode_cwd(str(self.project)) / f"{session_id}.jsonl"
        return _jsonl(path)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return account.account_snapshot(data_dir=self.data)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]


def wait_for(check: Callable[[], Any], seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {seconds}s")


@pytest.fixture
def sim(tmp_path: Path) -> Sim:
    return Sim(tmp_path)


# ---------------------------------------------------------------- headless
def test_headless_json_result(sim: Sim) -> None:
    done = sim.run("-p", "fix it [tools=2] [nopermission]", "--output-format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["type"] == "result" and result["subtype"] == "success"
    assert result["is_error"] is False and result["api_error_status"] is None
    assert result["num_turns"] == 3  # two tool calls and the answer
    assert result["terminal_reason"] == "completed" and result["stop_reason"] == "end_turn"
    assert result["permission_denials"] == []
    assert isinstance(result["duration_ms"], int) and result["total_cost_usd"] > 0
    model_usage = result["modelUsage"]["claude-sonnet-4-5-20250929"]
    assert model_usage["outputTokens"] == result["usage"]["output_tokens"] > 0

    records = sim.transcript(result["session_id"])
    assert records, "the transcript is where the session id says"
    assert {r["entrypoint"] for r in records} == {"sdk-cli"}
    # Counting one line per message.id (the last, full one) gives the result's usage.
    last_per_message = {r["message"]["id"]: r for r in records if r["type"] == "assistant"}
    total_out = sum(r["message"]["usage"]["output_tokens"] for r in last_per_message.values())
    assert total_out == result["usage"]["output_tokens"]
    assert records[-1]["message"]["content"][-1]["text"] == result["result"]


def test_headless_stream_json_and_errors(sim: Sim) -> None:
    done = sim.run(
        "-p", "go [tools=1] [nopermission]", "--output-format", "stream-json", "--verbose"
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(x) for x in done.stdout.splitlines()]
    init, *middle, rate, result = lines
    assert (init["type"], init["subtype"]) == ("system", "init")
    assert init["model"] == "claude-sonnet-4-5-20250929" and "Bash" in init["tools"]
    assert init["cwd"] == str(sim.project)
    assert {x["type"] for x in middle} == {"assistant", "user"}
    assert all(x["session_id"] == init["session_id"] for x in middle)
    info = rate["rate_limit_info"]
    assert rate["type"] == "rate_limit_event" and info["rateLimitType"] == "five_hour"
    assert info["status"] == "allowed" and 0 < info["utilization"] < 1
    assert info["resetsAt"] > time.time() + 4 * 3600
    assert result["type"] == "result" and result["session_id"] == init["session_id"]

    no_verbose = sim.run("-p", "go", "--output-format", "stream-json")
    assert no_verbose.returncode == 1
    assert "requires --verbose" in no_verbose.stderr and no_verbose.stdout == ""

    # Prompt from stdin, text output; then a turn cut short by --max-turns.
    text = sim.run("-p", stdin="from stdin [tools=1] [nopermission]")
    assert text.returncode == 0 and "from stdin" in text.stdout
    capped = sim.run("-p", "[tools=3]", "--max-turns", "2", "--output-format", "json")
    assert capped.returncode == 1
    capped_result = json.loads(capped.stdout)
    assert capped_result["subtype"] == "error_max_turns" and capped_result["num_turns"] == 2


def test_untold_sim_keeps_out_of_the_persons_claude_dir(sim: Sim, tmp_path: Path) -> None:
    # A person's environment: HOME with a ~/.claude, maybe CLAUDE_CONFIG_DIR too. A sim
    # that nobody pointed elsewhere writes under podium's data dir, never into either.
    home, real = tmp_path / "home", tmp_path / "real-claude"
    (home / ".claude").mkdir(parents=True)
    real.mkdir()
    env = {k: v for k, v in sim.env.items() if k != "PODIUM_SIM_CLAUDE_CONFIG_DIR"}
    env.update(HOME=str(home), CLAUDE_CONFIG_DIR=str(real))
    for person in (env, {k: v for k, v in env.items() if k != "CLAUDE_CONFIG_DIR"}):
        done = subprocess.run(
            [*sim.argv("-p", "hi [tools=1] [nopermission]", "--output-format", "json")],
            capture_output=True, text=True, cwd=sim.project, env=person, timeout=30,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        session_id = json.loads(done.stdout)["session_id"]
        own = sim.data / "sim-claude" / "projects" / encode_cwd(str(sim.project))
        assert (own / f"{session_id}.jsonl").is_file()
        # --resume looks there too.
        again = subprocess.run(
            sim.argv("-p", "more [nopermission]", "--resume", session_id), capture_output=True,
            text=True, cwd=sim.project, env=person, timeout=30,
        )  # fmt: skip
        assert again.returncode == 0, again.stderr
    assert list(real.rglob("*")) == [] and list((home / ".claude").rglob("*")) == []
    assert not sim.config.exists()


def test_scripted_directives_stay_off_the_prompt(sim: Sim) -> None:
    # The side channel: directives for an exact prompt, which itself stays plain.
    set_scripted({"Write  the docs": "[tools=2] [nopermission]"}, data_dir=sim.data)
    done = sim.run("-p", "Write the docs", "--output-format", "json")
    result = json.loads(done.stdout)
    assert result["num_turns"] == 3  # two tool calls and the answer
    assert sim.transcript(result["session_id"])[0]["message"]["content"] == "Write the docs"
    # Typed directives win over the script's.
    typed = json.loads(sim.run("-p", "[tools=0] Write the docs", "--output-format", "json").stdout)
    assert typed["num_turns"] == 1


def test_transcript_streaming_duplicates(sim: Sim) -> None:
    done = sim.run("-p", "look around [tools=2] [nopermission]", "--output-format", "json")
    session_id = json.loads(done.stdout)["session_id"]
    records = sim.transcript(session_id)
    assert records[0]["type"] == "user" and records[0]["message"]["content"].startswith("look")
    assert records[0]["parentUuid"] is None
    for before, after in itertools.pairwise(records):
        assert after["parentUuid"] == before["uuid"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        assert record["sessionId"] == session_id and record["cwd"] == str(sim.project)
        assert record["isSidechain"] is False and record["timestamp"].endswith("Z")
        if record["type"] == "assistant":
            groups.setdefault(record["message"]["id"], []).append(record)
    assert len(groups) == 3
    for lines in groups.values():
        assert len(lines) >= 2, "one line per content block"
        assert len({line["requestId"] for line in lines}) == 1
        outs = [line["message"]["usage"]["output_tokens"] for line in lines]
        assert outs == sorted(outs) and outs[0] < outs[-1], outs
        assert [line["message"]["stop_reason"] for line in lines][:-1] == [None] * (len(lines) - 1)
        usage = lines[-1]["message"]["usage"]
        assert (
            usage["cache_creation"]["ephemeral_5m_input_tokens"]
            == usage["cache_creation_input_tokens"]
        )
    tool_uses = [
        block
        for lines in groups.values()
        for line in lines
        for block in line["message"]["content"]
        if block["type"] == "tool_use"
    ]
    assert len(tool_uses) == 2 and all(isinstance(t["input"], dict) for t in tool_uses)


def test_headless_hooks_and_resume(sim: Sim) -> None:
    first = json.loads(
        sim.run("-p", "one [tools=1] [nopermission]", "--output-format", "json").stdout
    )
    session_id = first["session_id"]
    events = sim.events()
    names = [e["hook_event_name"] for e in events]
    assert names == [
        "SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "SessionEnd"
    ]  # fmt: skip
    transcript = str(sim.config / "projects" / encode_cwd(str(sim.project)) / f"{session_id}.jsonl")
    for event in events:
        assert event["session_id"] == session_id and event["transcript_path"] == transcript
        assert event["cwd"] == str(sim.project) and event["permission_mode"] == "default"
    start, prompt, pre, _post, stop, end = events
    assert start["source"] == "startup" and start["model"] == "claude-sonnet-4-5-20250929"
    assert prompt["prompt"] == "one [tools=1] [nopermission]"
    assert isinstance(pre["tool_name"], str) and isinstance(pre["tool_input"], dict)
    assert stop["last_assistant_message"] == first["result"]
    assert end["reason"] == "other"

    before = sim.transcript(session_id)
    second = sim.run("-p", "two", "--resume", session_id, "--output-format", "json")
    assert json.loads(second.stdout)["session_id"] == session_id
    after = sim.transcript(session_id)
    assert len(after) > len(before) and after[len(before)]["parentUuid"] == before[-1]["uuid"]
    assert sim.events()[len(events)]["source"] == "resume"

    missing = sim.run("-p", "x", "--resume", "00000000-0000-4000-8000-000000000000")
    assert missing.returncode == 1 and "No conversation found" in missing.stderr


# ---------------------------------------------------------------- interactive
def test_interactive_permission_dialog_answered_yes(sim: Sim, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    proc = sim.popen(out=out)
    assert proc.stdin is not None
    try:
        wait_for(lambda: "SessionStart" in sim.names())
        proc.stdin.write(b"run the build [permission] [tools=1] [work=1]\n")
        proc.stdin.flush()
        # The dialog stays open until answered: PermissionRequest at once, then
        # the permission_prompt notification (6 s, divided by the speed).
        wait_for(lambda: "Notification" in sim.names())
        names = sim.names()
        assert names[-3:] == ["PreToolUse", "PermissionRequest", "Notification"]
        assert "PostToolUse" not in names and "Stop" not in names
        proc.stdin.write(b"1\n")
        proc.stdin.flush()
        wait_for(lambda: sim.names().count("Notification") == 2)  # idle_prompt after the turn
        proc.stdin.write(b"/exit\n")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
    events = sim.events()
    names = [e["hook_event_name"] for e in events]
    assert names == [
        "SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest", "Notification",
        "PostToolUse", "Stop", "Notification", "SessionEnd",
    ]  # fmt: skip
    request, notice, idle = events[3], events[4], events[7]
    assert request["tool_name"] == "Bash" and request["tool_input"]["command"]
    assert notice["notification_type"] == "permission_prompt"
    assert notice["message"] == "Claude needs your permission to use Bash"
    assert idle["notification_type"] == "idle_prompt"
    assert events[-1]["reason"] == "prompt_input_exit"
    assert events[6]["last_assistant_message"]

    screen = out.read_text(encoding="utf-8")
    for text in ("Do you want to proceed?", "❯ 1. Yes", "Bash command", "esc to interrupt"):
        assert text in screen
    assert "2. Yes, and don't ask again for this command" in screen
    assert "sim-status-line" in screen  # the statusline's output under the prompt
    statuses = _jsonl(sim.status_file)
    assert "rate_limits" not in statuses[0]  # none before the first response
    last = statuses[-1]
    assert last["model"] == {"id": "claude-sonnet-4-5-20250929", "display_name": "Sonnet 4.5"}
    assert last["workspace"]["current_dir"] == str(sim.project)
    assert last["cost"]["total_cost_usd"] > 0 and last["context_window"]["used_percentage"] > 0
    five = last["rate_limits"]["five_hour"]
    assert 0 < five["used_percentage"] < 100 and five["resets_at"] > time.time()
    records = sim.transcript(events[0]["session_id"])
    assert {r["entrypoint"] for r in records} == {"cli"}


def test_interactive_reject_limit_and_eof(sim: Sim) -> None:
    script = "\n".join(["", "nope [permission] [tools=2] [work=1]", "3", "again [limit]", ""])
    done = sim.run(stdin=script)
    assert done.returncode == 0, done.stderr
    events = sim.events()
    names = [e["hook_event_name"] for e in events]
    # "3" stops the turn: Stop, and no PostToolUse for the refused call.
    ask = names.index("PermissionRequest")
    assert names[ask + 1 : ask + 2] == ["Stop"] and "PostToolUse" not in names[ask:]
    failure = next(e for e in events if e["hook_event_name"] == "StopFailure")
    assert failure["error"] == "rate_limit"
    assert names[-1] == "SessionEnd" and events[-1]["reason"] == "other"  # stdin ended
    assert "You've hit your session limit · resets " in done.stdout
    records = sim.transcript(events[0]["session_id"])
    refused = [
        block
        for r in records
        if r["type"] == "user" and isinstance(r["message"]["content"], list)
        for block in r["message"]["content"]
        if block.get("is_error")
    ]
    assert refused and "doesn't want to proceed" in refused[0]["content"]
    synthetic = records[-1]
    assert synthetic["isApiErrorMessage"] is True and synthetic["error"] == "rate_limit"
    assert synthetic["apiErrorStatus"] == 429 and synthetic["message"]["model"] == "<synthetic>"


# ---------------------------------------------------------------- the shared account
def test_account_grows_until_the_limit(sim: Sim) -> None:
    small = {"PODIUM_SIM_FIVE_HOUR_TOKENS": "30000"}
    assert sim.snapshot()["five_hour"] == {
        "used_percentage": 0.0, "resets_at": None, "used_tokens": 0, "capacity_tokens": 2_000_000,
    }  # fmt: skip
    first = sim.run("-p", "a [tools=1]", "--output-format", "json", **small)
    assert first.returncode == 0
    grown = sim.snapshot()
    assert grown["five_hour"]["used_tokens"] > 0 and grown["seven_day"]["used_tokens"] > 0
    assert grown["five_hour"]["resets_at"] == pytest.approx(time.time() + 5 * 3600, abs=60)
    # The first call writes ~10k+ tokens to the cache: 30k capacity is soon exhausted.
    for _ in range(5):
        done = sim.run("-p", "b [tools=1]", "--output-format", "json", **small)
        if done.returncode != 0:
            break
    result = json.loads(done.stdout)
    assert result["is_error"] is True and result["api_error_status"] == 429
    assert result["terminal_reason"] == "api_error"
    assert result["result"].startswith("You've hit your session limit · resets ")
    assert sim.events()[-2]["hook_event_name"] == "StopFailure"

    streamed = sim.run("-p", "c", "--output-format", "stream-json", "--verbose", **small)
    assert streamed.returncode == 1
    lines = [json.loads(x) for x in streamed.stdout.splitlines()]
    rate = next(x for x in lines if x["type"] == "rate_limit_event")
    assert rate["rate_limit_info"]["status"] == "rejected"
    assert lines[-1]["is_error"] is True


def test_account_api(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    snap = account.seed_account(50, 10, five_hour_resets_in=3600, now=now, data_dir=tmp_path)
    assert snap["five_hour"]["used_percentage"] == 50.0
    assert snap["five_hour"]["resets_at"] == now + 3600
    assert snap["seven_day"]["resets_at"] == now + 7 * 86400
    path = account.account_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    after = account.add_usage(
        {"output_tokens": 100_000, "cache_read_input_tokens": 1_000_000}, now=now, data_dir=tmp_path
    )
    # 5 × 100k output + 0.1 × 1M cache reads = 600k weighted: 30% more of 2M.
    assert after["five_hour"]["used_percentage"] == pytest.approx(80.0)
    assert account.limit_hit(after) is None
    full = account.add_usage(500_000, now=now, data_dir=tmp_path)
    assert full["five_hour"]["used_percentage"] == 100.0
    assert account.limit_hit(full) == ("five_hour", now + 3600)
    # After the reset the 5-hour window is closed until the next use; the week goes on.
    later = account.account_snapshot(now=now + 3601, data_dir=tmp_path)
    assert later["five_hour"]["used_percentage"] == 0 and later["five_hour"]["resets_at"] is None
    assert later["seven_day"]["used_percentage"] > 10
    reopened = account.add_usage(1000, now=now + 4000, data_dir=tmp_path)
    assert reopened["five_hour"]["resets_at"] == now + 4000 + 5 * 3600


def test_account_concurrent_writers(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from sessions.sim import account\n"
        "for _ in range(40): account.add_usage(10, data_dir=Path(sys.argv[1]))"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)]) for _ in range(4)]
    assert [p.wait(timeout=20) for p in procs] == [0, 0, 0, 0]
    assert account.account_snapshot(data_dir=tmp_path)["five_hour"]["used_tokens"] == 1600


def test_limit_message_in_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        at = 1_800_000_000 - 1_800_000_000 % 86400 + 21 * 3600 + 50 * 60  # 21:50 UTC
        assert account.limit_message("five_hour", at) == (
            "You've hit your session limit · resets 9:50pm (UTC)"
        )
        assert account.limit_message("five_hour", at - 50 * 60 - 12 * 3600) == (
            "You've hit your session limit · resets 9am (UTC)"
        )
    finally:
        monkeypatch.undo()
        time.tzset()


def test_directives_and_names() -> None:
    found = parse_directives("do it [permission] [work=2.5] [limit] [tools=0]")
    assert (found.permission, found.work, found.limit, found.tools) == (True, 2.5, True, 0)
    assert parse_directives("[nopermission]").permission is False
    assert parse_directives("plain").permission is None
    assert encode_cwd("/tmp/my_proj.v2") == "-tmp-my-proj-v2"
    assert display_name("claude-opus-4-5-20251101") == "Opus 4.5"
    assert display_name("claude-sonnet-4-20250514") == "Sonnet 4"


# ---------------------------------------------------------------- signals
def test_sigterm_exits_143(sim: Sim, tmp_path: Path) -> None:
    proc = sim.popen(out=tmp_path / "out.txt")
    try:
        wait_for(lambda: "SessionStart" in sim.names())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 143
    finally:
        proc.kill()
    assert sim.events()[-1]["hook_event_name"] == "SessionEnd"

    headless = subprocess.Popen(
        sim.argv("-p", "[work=60] [tools=0]"),
        cwd=sim.project,
        env={**sim.env, "PODIUM_SIM_SPEED": "1"},
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: sim.names().count("UserPromptSubmit") == 1)
        headless.send_signal(signal.SIGTERM)
        assert headless.wait(timeout=10) == 143
    finally:
        headless.kill()
