"""The background queue end to end: the real Claude Code CLI against the loopback API,
in podium's tmux server, driven by the engine's fill scheduler."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from collectors.paths import Paths
from sessions.client import EngineClient
from sessions.protocol import ApiError

pytestmark = [pytest.mark.tmux]

# The prompt must reach the agent byte for byte: quotes, $(…), backticks, newlines.
NASTY = 'it\'s "quoted" $(touch /tmp/pwned) `id` \\n ; rm -rf nothing &&\nsecond line\n\tthird'


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def call(env: Any, method: str, **params: Any) -> Any:
    with EngineClient(Paths(data=env.data, runtime=env.runtime)) as client:
        return client.call(method, **params)


def task_of(env: Any, task_id: int) -> dict[str, Any]:
    return call(env, "queue.show", id=task_id)


def fill_rounds(env: Any) -> int:
    """The fill scheduler's rounds so far (`engine status`): what to wait on, not a clock."""
    return int(call(env, "status")["fill_rounds"])


def wait_rounds(env: Any, more: int, seconds: float = 20) -> None:
    """Until `more` rounds beyond those already begun have begun (so `more - 1` ran whole)."""
    goal = fill_rounds(env) + more
    assert env.wait_for(lambda: fill_rounds(env) >= goal, seconds), (fill_rounds(env), goal)


def fast_fill(env: Any) -> None:
    # Rounds every half second (the least allowed), so a deferral's end is noticed at once.
    env.env["PODIUM_FILL__INTERVAL"] = "0.5"


def add(env: Any, prompt: str, *args: str) -> dict[str, Any]:
    out = env.run("queue", "add", prompt, "--cwd", str(env.workdir), *args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def wait_task(env: Any, task_id: int, *states: str, seconds: float = 90) -> dict[str, Any]:
    seen: list[str] = []

    def check() -> bool:
        state = task_of(env, task_id)["task"]["state"]
        if not seen or seen[-1] != state:
            seen.append(state)
        return state in states

    assert env.wait_for(check, seconds), f"task {task_id} never {states}; seen {seen}"
    return task_of(env, task_id)


def main_texts(env: Any) -> list[str]:
    """Every text block of every main-loop request's user messages."""
    texts = []
    for rec in env.api.main_requests():
        for message in rec.body.get("messages") or []:
            content = message.get("content")
            if message.get("role") != "user" or not isinstance(content, list):
                continue
            texts += [b.get("text", "") for b in content if b.get("type") == "text"]
    return texts


@pytest.mark.claude
def test_limit_defers_then_resume_completes(make_claude_podium: Any, podium_env: Any) -> None:
    fast_fill(podium_env)
    env = make_claude_podium(auth="gateway")
    # The reset leaves the first run (a second or two, more under load) and two fill
    # rounds time to happen before it; the resumed run starts then, not at the whole
    # minute the CLI's limit text gives (`limits.freshest` keeps the exact reset).
    reset = int(time.time()) + 10
    prompt = f"RATE_LIMIT five_hour {reset}\nREPLY all done overnight\n{NASTY}"
    task = add(env, prompt, "--priority", "5", "--max-turns", "3")
    assert task["state"] == "queued"
    assert call(env, "queue.fill", enabled=True)["enabled"] is True

    # The first run hits the 5-hour limit: deferred to the reset the stream reported.
    deferred = wait_task(env, task["id"], "deferred", "done", "failed")
    assert deferred["task"]["state"] == "deferred", deferred
    first = deferred["runs"][0]
    assert first["state"] == "limited"
    assert first["is_error"] is True and first["api_error_status"] == 429
    assert first["claude_session_id"]
    assert deferred["task"]["defer_until"].startswith(
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(reset))
    )
    # The stream's rate_limit_event reached the usage log.
    windows = {w["window"]: w for w in call(env, "usage.windows")["windows"]}
    assert windows["five_hour"]["used_pct"] == 100

    # The prompt arrived byte for byte, on the agent's stdin (the CLI may add a newline).
    assert any(t.rstrip("\n") == prompt for t in main_texts(env)), main_texts(env)
    assert not Path("/tmp/pwned").exists()

    # No retry loop: rounds pass while the task waits, and none asks the API again.
    asked = len(env.api.main_requests())
    wait_rounds(env, 2)
    assert time.time() < reset, "the reset passed before the rounds: raise its lead"
    assert task_of(env, task["id"])["task"]["state"] == "deferred"
    assert len(env.api.main_requests()) == asked

    done = wait_task(env, task["id"], "done", "failed", seconds=90)
    # Nor between the rounds and the reset: every request before it is the first run's.
    assert len([r for r in env.api.main_requests() if r.at < reset]) == asked
    assert done["task"]["state"] == "done", done
    assert [r["state"] for r in done["runs"]] == ["limited", "done"]
    second = done["runs"][1]
    # Resumed at the reset, not at the whole minute after it (slack for a loaded machine).
    started = datetime.fromisoformat(second["started_at"])
    assert started.tzinfo is not None, second["started_at"]
    assert reset <= started.timestamp() < reset + 20, (reset, second["started_at"])
    assert second["resumed_from"] == first["claude_session_id"]
    assert f"--resume={first['claude_session_id']}" in second["argv"]
    assert second["result"] == "all done overnight"
    assert second["total_cost_usd"] and second["output_tokens"] and second["num_turns"] == 1
    assert second["terminal_reason"] == "completed"

    report = env.json("report", "runs")
    assert [(r["task_id"], r["outcome"]) for r in report["runs"]] == [
        (task["id"], "limited"),
        (task["id"], "done"),
    ]
    text = env.run("report", "runs").stdout
    assert "all done overnight" in text and "limited" in text

    # What each run did, from its stream: the last by default, or one by id.
    log = env.run("queue", "log", str(task["id"]))
    assert log.returncode == 0, log.stderr
    assert "✓ success · 1 turn(s)" in log.stdout and "all done overnight" in log.stdout
    log = env.run("queue", "log", str(task["id"]), "--run", str(first["id"]))
    assert "· limit five_hour rejected" in log.stdout and "✓" not in log.stdout, log.stdout
    raw = env.run("queue", "log", str(task["id"]), "--raw").stdout.splitlines()
    assert json.loads(raw[-1])["type"] == "result"
    out = env.run("queue", "log", str(task["id"]), "--run", "999999")
    assert out.returncode == 1 and "has no run 999999" in out.stderr


@pytest.mark.claude
def test_a_200_kb_prompt_from_a_file_or_stdin_reaches_claude_code_whole(
    make_claude_podium: Any, podium_env: Any
) -> None:
    """One argv element holds at most 128 KiB on Linux: as the last argument, a 200 KB
    prompt made exec fail (exit 126). On the agent's stdin it arrives byte for byte."""
    fast_fill(podium_env)
    env = make_claude_podium()
    body = "".join(f"line {i}: {NASTY}\n" for i in range(200_000 // len(NASTY)))
    prompt = f"REPLY read it all\n{body}"
    assert len(prompt.encode()) > 200_000
    source = env.root / "prompt.txt"
    source.write_text(prompt, encoding="utf-8")
    from_file = env.run(
        "queue", "add", "--prompt-file", str(source), "--cwd", str(env.workdir), "--json"
    )
    assert from_file.returncode == 0, from_file.stderr
    first = json.loads(from_file.stdout)
    assert first["prompt"] == prompt
    # One run proves the way to the agent (the file and stdin differ only in how the
    # CLI reads): a second would wait on the first one's estimated spend.
    assert env.run("queue", "cancel", str(first["id"])).returncode == 0
    from_stdin = env.run("queue", "add", "-", "--cwd", str(env.workdir), "--json", input=prompt)
    assert from_stdin.returncode == 0, from_stdin.stderr
    task = json.loads(from_stdin.stdout)
    assert task["prompt"] == prompt
    call(env, "queue.fill", enabled=True)
    done = wait_task(env, task["id"], "done", "failed")
    assert done["task"]["state"] == "done", done
    [run] = done["runs"]
    assert all(len(a) < 1000 for a in run["argv"]), "the prompt is not on the command line"
    texts = [t.rstrip("\n") for t in main_texts(env)]
    assert prompt.rstrip("\n") in texts, [len(t) for t in texts]
    assert not Path("/tmp/pwned").exists()


def test_numbers_beyond_the_queue_columns_are_refused_at_the_boundary(engine: Any) -> None:
    """The engine's own check, for a client that is not the CLI: one line, no traceback."""
    for params in ({"priority": 2**40}, {"max_turns": 0}, {"max_turns": 2**31}):
        with pytest.raises(ApiError) as caught:
            call(engine, "queue.add", prompt="x", cwd=str(engine.workdir), **params)
        assert caught.value.code == "bad_request", caught.value
        assert "\n" not in str(caught.value)


@pytest.mark.claude
def test_allowed_tools_reach_claude_code_as_whole_rules(
    make_claude_podium: Any, podium_env: Any
) -> None:
    """`--allowed-tools "Bash(git *) Edit"` lets the real Claude Code run `git config`
    without asking: split at the space inside the parentheses (`Bash(git`, `*)`) it
    would be refused ("This command requires approval")."""
    fast_fill(podium_env)
    env = make_claude_podium()
    subprocess.run(["git", "init", "-q", str(env.workdir)], check=True)
    prompt = "RUN_BASH git config podium.probe allowed"
    task = add(env, prompt, "--allowed-tools", "Bash(git *) Edit", "--max-turns", "3")
    assert task["allowed_tools"] == ["Bash(git *)", "Edit"]
    call(env, "queue.fill", enabled=True)
    done = wait_task(env, task["id"], "done", "failed")
    [run] = done["runs"]
    assert "--allowedTools=Bash(git *)" in run["argv"] and "--allowedTools=Edit" in run["argv"]
    assert run["result"] == "Done: 1 tool result(s), 0 error(s).", run
    config = (env.workdir / ".git" / "config").read_text()
    assert "probe = allowed" in config


@pytest.mark.claude
def test_killed_engine_mid_run_loses_and_duplicates_nothing(
    make_claude_podium: Any, podium_env: Any
) -> None:
    fast_fill(podium_env)
    env = make_claude_podium()
    task = add(env, "SLOW 6\nREPLY slow but sure")
    call(env, "queue.fill", enabled=True)

    def running() -> bool:
        runs = task_of(env, task["id"])["runs"]
        return bool(runs) and runs[-1]["state"] == "running" and bool(runs[-1]["pane_id"])

    assert env.wait_for(running, 30)
    # The person can watch: the pane shows the run as readable lines.
    pane = task_of(env, task["id"])["runs"][-1]["pane_id"]
    assert env.wait_for(lambda: "· session" in env.screen(pane), 20), env.screen(pane)

    pid = env.json("engine", "status")["pid"]
    os.kill(pid, signal.SIGKILL)
    assert env.wait_for(lambda: not _alive(pid), 10)
    out = env.run("engine", "start")
    assert out.returncode == 0, out.stderr

    done = wait_task(env, task["id"], "done", "failed", "queued", seconds=60)
    assert done["task"]["state"] == "done", done
    assert len(done["runs"]) == 1, done["runs"]
    assert done["runs"][0]["result"] == "slow but sure"
    tasks = call(env, "queue.list")["tasks"]
    assert [t["id"] for t in tasks] == [task["id"]]
    # One request answered; no second run asked the API again.
    assert len([r for r in env.api.main_requests() if "SLOW 6" in r.last_user_text]) == 1
    assert call(env, "queue.fill")["enabled"] is True  # the switch survived the crash


def test_task_whose_directory_is_gone_fails_with_that_message(engine: Any, tmp_path: Path) -> None:
    gone = tmp_path / "project"
    gone.mkdir()
    out = engine.run("queue", "add", "do it", "--cwd", str(gone), "--json")
    assert out.returncode == 0, out.stderr
    task = json.loads(out.stdout)
    gone.rmdir()
    call(engine, "queue.fill", enabled=True)
    failed = wait_task(engine, task["id"], "failed", seconds=20)
    assert failed["task"]["last_result"] == f"its directory {gone} is gone"


def test_bad_schedules_are_rejected_with_the_reason(engine: Any) -> None:
    """Bad usage, exit 2, from the command (before the engine) and from the engine
    itself (what only it can tell, and what the tower sends it)."""
    cases = {
        ("--cron", "0 25 * * *"): "hour 25 is outside 0-23",
        ("--at", "next tuesday"): "cannot read the time 'next tuesday'",
        ("--on-change", "src/[oops"): "never closed",
        ("--window", "lunch"): "unknown window 'lunch'",
        ("--permission-mode", "yolo"): "'yolo' is not one of",
        ("--allowed-tools", "Bash(git *"): "'(' that is never closed",
    }
    for args, reason in cases.items():
        out = engine.run("queue", "add", "x", *args)
        assert out.returncode == 2 and reason in out.stderr, (args, out.stderr)
        assert out.stderr.count("\n") == 1, out.stderr
    # A time that reads but is past: only the engine knows the [fill] zone it is in.
    out = engine.run("fill", "--until", "2020-01-01T00:00:00+00:00")
    assert out.returncode == 2 and "is already past" in out.stderr, out.stderr
    with pytest.raises(ApiError) as refused:
        call(engine, "queue.add", prompt="x", cwd=str(engine.workdir), allowed_tools="Edit)")
    assert refused.value.code == "bad_request" and "never opened" in refused.value.message
    assert call(engine, "queue.list")["tasks"] == []
    assert call(engine, "queue.fill")["enabled"] is False


def test_fill_is_off_until_turned_on_and_dry_run_says_why(podium_env: Any) -> None:
    fast_fill(podium_env)
    engine = podium_env
    assert engine.run("engine", "start").returncode == 0
    out = engine.run("queue", "add", "later", "--json")
    task = json.loads(out.stdout)
    assert call(engine, "queue.fill")["enabled"] is False
    wait_rounds(engine, 2)  # a whole round after the add, and it launched nothing
    assert task_of(engine, task["id"])["task"]["state"] == "queued"
    listing = engine.run("queue", "ls")
    assert listing.stdout.startswith("fill off, reserve by the [fill] reserve schedule\n")
    dry = engine.run("fill", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"launch task {task['id']}:" in dry.stdout
    assert "reserve by the [fill] reserve schedule" in dry.stdout
    # A reserve tried out: all of the 5-hour window kept for the person, nothing launches.
    dry = engine.run("fill", "--dry-run", "--reserve", "100")
    assert dry.returncode == 0, dry.stderr
    assert "dry run, reserve 100%" in dry.stdout and "launch task" not in dry.stdout
    assert f"task {task['id']}" in dry.stdout, dry.stdout
    assert task_of(engine, task["id"])["runs"] == []  # dry: nothing ran
    out = engine.run("queue", "priority", str(task["id"]), "7")
    assert out.returncode == 0 and out.stdout.strip() == f"task {task['id']} priority 7"
    assert task_of(engine, task["id"])["task"]["priority"] == 7
    out = engine.run("queue", "log", str(task["id"]))
    assert out.returncode == 1 and "has not run yet" in out.stderr
    call(engine, "queue.cancel", id=task["id"])
    assert call(engine, "queue.fill", toggle=True)["enabled"] is True
    assert call(engine, "queue.fill", toggle=True)["enabled"] is False


def test_cron_and_change_tasks_queue_occurrences(engine: Any) -> None:
    cron = json.loads(engine.run("queue", "add", "tick", "--cron", "* * * * *", "--json").stdout)
    assert cron["state"] == "recurring" and cron["not_before"]
    watched = json.loads(
        engine.run("queue", "add", "lint", "--on-change", "src/*.py", "--json").stdout
    )
    (engine.workdir / "notes.txt").write_text("not matched")
    src = engine.workdir / "src"
    src.mkdir()
    edits = iter(range(1000))
    edited = [0.0]

    def edited_and_queued() -> bool:
        # Edit again now and then: a change made before the watcher is up is not seen.
        if time.monotonic() - edited[0] >= 0.5:
            (src / "a.py").write_text(f"x = {next(edits)}\n")
            edited[0] = time.monotonic()
        return bool(task_of(engine, watched["id"])["occurrences"])

    assert engine.wait_for(edited_and_queued, 20)
    [child] = task_of(engine, watched["id"])["occurrences"]
    assert child["prompt"] == "lint" and child["parent_id"] == watched["id"]
    out = engine.run("queue", "cancel", str(watched["id"]))
    assert out.returncode == 0, out.stderr
    assert task_of(engine, child["id"])["task"]["state"] == "cancelled"


def test_run_whose_program_cannot_start_records_the_launchers_reason(
    podium_env: Any, tmp_path: Path
) -> None:
    # There, but not a program: the launcher's exec fails, not podium's look-up first.
    claude = tmp_path / "not-a-program"
    claude.write_text("nothing to run\n")
    claude.chmod(0o600)
    podium_env.env["PODIUM_CLAUDE_BIN"] = str(claude)
    out = podium_env.run("engine", "start")
    assert out.returncode == 0, out.stderr
    task = add(podium_env, "never runs")
    call(podium_env, "queue.fill", enabled=True)
    failed = wait_task(podium_env, task["id"], "failed", seconds=30)
    reason = f"cannot start {str(claude)!r}: Permission denied"
    [run] = failed["runs"]
    assert (run["state"], run["exit_code"], run["result"]) == ("failed", 126, reason), run
    assert failed["task"]["last_result"] == reason
    shown = podium_env.run("queue", "show", str(task["id"]))
    assert "cannot start" in shown.stdout, shown.stdout
    assert not list(podium_env.runtime.glob("launch-run*.failed"))  # read once, removed


def test_task_whose_program_is_missing_fails_with_the_fix(podium_env: Any) -> None:
    podium_env.env["PODIUM_CLAUDE_BIN"] = "/nonexistent/claude"
    out = podium_env.run("engine", "start")
    assert out.returncode == 0, out.stderr
    task = add(podium_env, "never runs")
    call(podium_env, "queue.fill", enabled=True)
    failed = wait_task(podium_env, task["id"], "failed", seconds=30)
    assert failed["runs"] == []  # nothing was launched
    assert "'/nonexistent/claude' not found" in failed["task"]["last_result"]
    assert "agents.claude_bin" in failed["task"]["last_result"]


# A Bash command that outlasts the test's limits. Not `sleep 60`: Claude Code 2.1.328
# refuses a standalone sleep ("Blocked: standalone sleep 60 ...").
LONG_COMMAND = "python3 -c 'import time; time.sleep(60)'"


def _pane_gone(env: Any, pane_id: str) -> bool:
    out = env.tmux("list-panes", "-a", "-F", "#{pane_id}")
    return pane_id not in out.stdout.split()


@pytest.mark.claude
@pytest.mark.parametrize("budget", ["2k", "2%5h"])
def test_a_run_past_its_budget_is_stopped_with_the_reason(
    make_claude_podium: Any, podium_env: Any, budget: str
) -> None:
    """The fake API's first answer spends 3,000 input tokens and asks for a long Bash
    command: the run's stream shows 3,005 weighted tokens (its line carries the answer's
    first output token only: `sessions.fill.spend`) against a budget of 2k (or 2% of a
    5-hour window of 100k, the engine's capacity), and podium stops it there, before
    the tool's result goes back to the API."""
    fast_fill(podium_env)
    env = make_claude_podium(PODIUM_USAGE__FIVE_HOUR_CAPACITY="100000")
    prompt = f"USAGE 3000 10\nRUN_BASH {LONG_COMMAND}"
    task = add(env, prompt, "--budget", budget, "--allowed-tools", "Bash", "--timeout", "10m")
    assert (task["budget"], task["timeout_s"]) == (budget, 600)
    listing = env.run("queue", "ls")
    assert f"{budget} 10m" in listing.stdout, listing.stdout
    call(env, "queue.fill", enabled=True)
    failed = wait_task(env, task["id"], "failed", "done")
    reason = f"stopped at its budget {budget}: 3,005 of 2,000 weighted tokens"
    assert failed["task"]["state"] == "failed", json.dumps(failed["runs"])
    assert failed["task"]["last_result"] == reason
    [run] = failed["runs"]
    assert (run["state"], run["result"], run["terminal_reason"]) == ("failed", reason, "budget")
    assert env.wait_for(lambda: _pane_gone(env, run["pane_id"]), 20)
    # Stopped while the tool ran: no request ever carried its result back.
    assert not [r for r in env.api.main_requests() if _has_tool_result(r.body)]
    shown = env.run("queue", "show", str(task["id"]))
    assert reason in shown.stdout
    assert f"budget      {budget} (the run is stopped there)" in shown.stdout
    assert f"stopped at its budget {budget}" in env.run("queue", "ls").stdout  # cut to fit
    # Not retried: the next rounds leave it failed with one run.
    wait_rounds(env, 2)
    again = task_of(env, task["id"])
    assert again["task"]["state"] == "failed" and len(again["runs"]) == 1


def _has_tool_result(body: Any) -> bool:
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, list) and any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in content
        ):
            return True
    return False


@pytest.mark.claude
def test_a_run_past_its_timeout_is_stopped(make_claude_podium: Any, podium_env: Any) -> None:
    fast_fill(podium_env)
    env = make_claude_podium()
    task = add(env, f"RUN_BASH {LONG_COMMAND}", "--timeout", "5s", "--allowed-tools", "Bash")
    call(env, "queue.fill", enabled=True)
    failed = wait_task(env, task["id"], "failed", "done", seconds=60)
    assert failed["task"]["state"] == "failed", json.dumps(failed["runs"])
    assert failed["task"]["last_result"] == "timed out after 5s"
    [run] = failed["runs"]
    assert (run["state"], run["terminal_reason"]) == ("failed", "timeout")
    took = datetime.fromisoformat(run["ended_at"]) - datetime.fromisoformat(run["started_at"])
    assert 5 <= took.total_seconds() < 30, took
    assert not [r for r in env.api.main_requests() if _has_tool_result(r.body)]
    assert env.wait_for(lambda: _pane_gone(env, run["pane_id"]), 20)


def test_bad_amounts_and_durations_are_one_line_errors(engine: Any) -> None:
    cases = {
        ("--budget", "lots"): "cannot read the amount 'lots'",
        ("--budget", "5%"): "say which window",
        ("--estimate", "0k"): "at least 1",
        ("--timeout", "soon"): "cannot read the duration 'soon'",
        ("--timeout", "0s"): "out of range",
    }
    for args, reason in cases.items():
        out = engine.run("queue", "add", "x", *args)
        assert out.returncode == 2 and reason in out.stderr, (args, out.stderr)
        assert out.stderr.count("\n") == 1, out.stderr
    # The engine's own check, for a client that is not the CLI.
    for params in ({"budget": "nan"}, {"estimate": "$2"}, {"timeout_s": 0}):
        with pytest.raises(ApiError) as caught:
            call(engine, "queue.add", prompt="x", cwd=str(engine.workdir), **params)
        assert caught.value.code == "bad_request" and "\n" not in str(caught.value)
    task = call(engine, "queue.add", prompt="x", cwd=str(engine.workdir), budget="$1.50",
                estimate="5%5h")  # fmt: skip
    assert (task["budget"], task["budget_usd"], task["estimate"]) == ("$1.5", 1.5, "5%5h")
    assert task["est_pct"] == 5.0  # what the scheduler reads today
    assert call(engine, "queue.list")["tasks"][0]["id"] == task["id"]
