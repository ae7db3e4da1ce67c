"""Model-scoped weeks end to end: each source that reports the Sonnet or Opus week
(the statusline's `limits[]` rows through `podium statusline`, a run's stream-json
`rate_limit_event` through `usage.record`, `.claude.json`'s newer
`cachedUsageUtilization`) reaches the engine, which logs the week every minute like
the 5-hour window and the week, and `podium usage` (text and `--json`) and `podium
report waste` show it. Malformed rows in each source are skipped without a trace
in the engine's log.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import PodiumEnv

from collectors.paths import Paths
from collectors.store import open_store
from sessions.client import EngineClient

RESET = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
BAD_ROWS: list[Any] = [
    None,
    "weekly_scoped",
    {"kind": "weekly_scoped", "percent": 10, "scope": {"surface": {"display_name": "Web"}}},
    {"kind": "weekly_scoped", "percent": "12", "scope": {"model": {"display_name": "Opus"}}},
    {"kind": "weekly_scoped", "percent": 1796083200, "scope": {"model": {"display_name": "Opus"}}},
    {"kind": "weekly_scoped", "scope": {"model": None}},
]


def windows(env: PodiumEnv) -> dict[str, dict[str, Any]]:
    return {w["window"]: w for w in env.json("usage")["windows"]}


def usage_ticks(env: PodiumEnv) -> int:
    with EngineClient(Paths(data=env.data, runtime=env.runtime)) as client:
        return int(client.call("status")["usage_ticks"])


def test_model_weeks_from_every_source_are_logged_each_minute_and_shown(
    podium_env: PodiumEnv,
) -> None:
    env = podium_env
    now = datetime.now(UTC)
    # .claude.json, the newer shape: the server's rows under `utilization.limits`.
    sonnet_row = {
        "kind": "weekly_scoped",
        "group": "weekly",
        "percent": 61,
        "resets_at": RESET.isoformat(),
        "severity": "warning",
        "is_active": False,
        "scope": {"model": {"display_name": "Sonnet"}},
    }
    (env.claude_dir / ".claude.json").write_text(
        json.dumps(
            {
                "cachedUsageUtilization": {
                    "fetchedAtMs": int(now.timestamp() * 1000) - 30_000,
                    "accountUuid": "3c1e0c6e-0000-4000-8000-000000000000",
                    "utilization": {
                        "five_hour": None,
                        "seven_day": None,
                        "seven_day_opus": None,
                        "limits": [*BAD_ROWS, sonnet_row],
                    },
                }
            }
        )
    )
    env.env["PODIUM_USAGE__TICK_INTERVAL"] = "0.5"
    assert env.run("engine", "start").returncode == 0

    # The statusline's rows, as Claude Code pipes them to `podium statusline`.
    statusline = {
        "session_id": "0145b08f-0000-4000-8000-000000000000",
        "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
        "rate_limits": {
            "five_hour": {"used_percentage": 23.5, "resets_at": int(RESET.timestamp()) - 86400},
            "seven_day": {"used_percentage": 41.0, "resets_at": int(RESET.timestamp())},
            "limits": BAD_ROWS,
        },
    }
    out = env.run("statusline", input=json.dumps(statusline))
    assert out.returncode == 0, out.stderr
    # A run's stream: an Opus warning, and lines that say nothing usable.
    lines = [
        {
            "type": "rate_limit_event",
            "rate_limit_info": {
                "status": "allowed_warning",
                "resetsAt": int(RESET.timestamp()),
                "rateLimitType": "seven_day_opus",
                "utilization": 0.3,
            },
        },
        {"type": "rate_limit_event", "rate_limit_info": "seven_day_sonnet"},
        {"type": "rate_limit_event", "rate_limit_info": {"rateLimitType": "seven_day_opus"}},
        {"type": "rate_limit_event", "rate_limit_info": {"rateLimitType": 7, "utilization": 1}},
    ]
    with EngineClient(Paths(data=env.data, runtime=env.runtime)) as client:
        assert client.call("usage.record", lines=lines)["samples"] == 1

    def all_four() -> bool:
        got = windows(env)
        return {"seven_day_sonnet", "seven_day_opus", "five_hour"} <= set(got) and (
            got["five_hour"]["source"] == "statusline"
        )

    assert env.wait_for(all_four, 30), windows(env)
    got = windows(env)
    sonnet, opus = got["seven_day_sonnet"], got["seven_day_opus"]
    assert (sonnet["used_pct"], sonnet["source"]) == (61, "claude_json")
    assert datetime.fromisoformat(sonnet["resets_at"]) == RESET
    assert (opus["used_pct"], opus["source"]) == (30, "headless")
    text = env.run("usage")
    assert text.returncode == 0, text.stderr
    assert "week sonnet" in text.stdout and "week opus" in text.stdout, text.stdout
    assert "claude_json" in text.stdout and "headless" in text.stdout

    goal = usage_ticks(env) + 3
    assert env.wait_for(lambda: usage_ticks(env) >= goal, 30)
    assert env.run("engine", "stop").returncode == 0
    log = (env.data / "engine.log").read_text()
    assert "Traceback" not in log and "usage tick failed" not in log, log

    conn = duckdb.connect(str(env.data / "podium.duckdb"), read_only=True)
    try:
        series = conn.execute(
            'SELECT "window", count(DISTINCT minute), max(used_pct), any_value(source) '
            "FROM limit_series GROUP BY ALL"
        ).fetchall()
    finally:
        conn.close()
    per_window = {w: (n, pct, source) for w, n, pct, source in series}
    # Every tick wrote a row for each week, as for the main windows.
    assert per_window["seven_day_sonnet"][0] >= 3, per_window
    assert per_window["seven_day_opus"][0] >= 3, per_window
    # From the first tick on: `.claude.json` is read before the statusline came.
    assert per_window["seven_day_sonnet"][0] >= per_window["five_hour"][0], per_window
    assert per_window["seven_day_sonnet"][1:] == (61, "claude_json")
    assert set(per_window) == {"five_hour", "seven_day", "seven_day_sonnet", "seven_day_opus"}


REAL_TRANSCRIPT = (
    Path(__file__).parents[1] / "unit" / "data" / "transcript_sonnet_limit_2.1.328.jsonl"
)


def test_a_transcripts_limit_record_reaches_podium_usage(podium_env: PodiumEnv) -> None:
    """A session podium did not start hit the Sonnet week: Claude Code's transcript
    (the real CLI's record, its times moved to now) is the only source that says so."""
    env = podium_env
    now = datetime.now(UTC)
    lines = []
    for line in REAL_TRANSCRIPT.read_text().splitlines():
        record = json.loads(line)
        record["timestamp"] = now.isoformat().replace("+00:00", "Z")
        for key in ("apiErrorParams", "quotaLimits"):
            info = record.get(key)
            info = info.get("rate_limit_info", info) if isinstance(info, dict) else None
            if isinstance(info, dict):
                info["resetsAt"] = int(RESET.timestamp())
        lines.append(json.dumps(record))
    project = env.claude_dir / "projects" / "-home-me-proj"
    project.mkdir(parents=True, exist_ok=True)
    (project / "11196e3c-0a58-4e9b-a066-cbf1f0e51acf.jsonl").write_text("\n".join(lines) + "\n")
    assert env.run("engine", "start").returncode == 0

    def seen() -> bool:
        return "seven_day_sonnet" in windows(env)

    assert env.wait_for(seen, 30), windows(env)
    week = windows(env)["seven_day_sonnet"]
    assert (week["used_pct"], week["source"]) == (100, "transcript"), week
    assert datetime.fromisoformat(week["resets_at"]) == RESET
    assert "week sonnet" in env.run("usage").stdout


def test_report_waste_counts_what_the_sonnet_week_left_at_its_reset(
    podium_env: PodiumEnv,
) -> None:
    """A Sonnet week that ended 94% used (its series as the engine writes it each
    minute) left 6% unused at its reset: the report says so, beside the week."""
    env = podium_env
    reset = (datetime.now(UTC) - timedelta(days=1)).replace(second=0, microsecond=0)
    start = reset - timedelta(days=7)
    conn = open_store(env.data / "podium.duckdb")
    try:
        rows = []
        for i in range(0, 7 * 24 * 60, 10):  # a row every 10 minutes (enough to count)
            minute = start + timedelta(minutes=i)
            share = (i + 10) / (7 * 24 * 60)  # the last row, before the reset: 94%
            rows.append((minute, "seven_day_sonnet", round(94 * share, 2), reset, "endpoint"))
            rows.append((minute, "seven_day", round(70 * share, 2), reset, "endpoint"))
        conn.executemany(
            'INSERT INTO limit_series (minute, "window", used_pct, resets_at, source, age_s) '
            "VALUES (?, ?, ?, ?, ?, 0)",
            rows,
        )
    finally:
        conn.close()
    assert env.run("engine", "start").returncode == 0
    report = env.json("report", "waste")
    ended = {r["window"]: r for r in report["windows"]}
    assert ended["seven_day_sonnet"]["unused_at_reset_pct"] == 6.0
    assert ended["seven_day"]["unused_at_reset_pct"] == 30.0
    assert report["total"]["seven_day_sonnet"]["windows_ended"] == 1
    text = env.run("report", "waste")
    assert text.returncode == 0, text.stderr
    assert "week sonnet" in text.stdout, text.stdout
    assert "week sonnet: 1 reset, leaving 0.06 windows' worth unused" in text.stdout
    only = env.json("report", "waste", "--window", "seven_day_sonnet")
    assert {r["window"] for r in only["windows"]} == {"seven_day_sonnet"}


@pytest.mark.tmux
@pytest.mark.claude
def test_a_task_with_a_fallback_runs_on_its_model_and_says_which(make_claude_podium: Any) -> None:
    """The real CLI: `queue add --model opus --model-fallback sonnet` keeps both; fill
    runs it on opus (the scheduler passes the fallback only when opus's week is
    short), the run records the model, and `queue ls/show/log` name it."""
    env = make_claude_podium()
    out = env.run(
        "queue", "add", "REPLY done on a model", "--cwd", str(env.workdir),
        "--model", "opus", "--model-fallback", "sonnet", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    task = json.loads(out.stdout)
    assert (task["model"], task["model_fallback"]) == ("opus", "sonnet")
    with EngineClient(Paths(data=env.data, runtime=env.runtime)) as client:
        assert client.call("queue.fill", enabled=True)["enabled"] is True

    def done() -> bool:
        shown = env.json("queue", "show", str(task["id"]))
        return shown["task"]["state"] in ("done", "failed")

    assert env.wait_for(done, 90)
    shown = env.json("queue", "show", str(task["id"]))
    assert shown["task"]["state"] == "done", shown
    (run,) = shown["runs"]
    assert run["model"] == "opus" and "--model=opus" in run["argv"], run
    asked = [r.model for r in env.api.main_requests()]
    assert asked and all("opus" in m for m in asked), asked
    listing = env.run("queue", "ls").stdout
    assert "MODEL" in listing and " opus " in listing, listing
    text = env.run("queue", "show", str(task["id"])).stdout
    assert "model       opus, else sonnet" in text and "model   opus" in text, text
    log = env.run("queue", "log", str(task["id"]))
    assert log.returncode == 0 and "on opus" in log.stderr, log.stderr


@pytest.mark.tmux
@pytest.mark.claude
def test_a_runs_sonnet_limit_from_the_real_cli_is_logged_and_shown(
    make_claude_podium: Any,
) -> None:
    """The real CLI's stream-json, as the runner reads it: a 429 whose claim is the
    Sonnet week gives a `rate_limit_event` of `seven_day_sonnet`, full until its reset."""
    env = make_claude_podium(auth="gateway")
    reset = int(time.time()) + 2 * 86400 + 3 * 3600  # a week's reset, days away
    out = env.run(
        "queue", "add", f"RATE_LIMIT seven_day_sonnet {reset}", "--cwd", str(env.workdir),
        "--model", "sonnet", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    task = json.loads(out.stdout)
    with EngineClient(Paths(data=env.data, runtime=env.runtime)) as client:
        client.call("queue.fill", enabled=True)

    def sonnet_week() -> dict[str, Any] | None:
        return windows(env).get("seven_day_sonnet")

    assert env.wait_for(lambda: sonnet_week() is not None, 90), windows(env)
    week = sonnet_week()
    assert week is not None
    # The stream's event, the result's text ("You've hit your Sonnet limit · resets
    # Dec 8, 5:21am (UTC)": its reset, to the minute, takes the event's to the second)
    # and the transcript's record all say it; whichever is latest shows.
    sources = ("headless", "limit_text", "transcript")
    assert week["used_pct"] == 100 and week["source"] in sources, week
    assert datetime.fromisoformat(week["resets_at"]).timestamp() == reset
    assert "week sonnet" in env.run("usage").stdout
    shown = env.json("queue", "show", str(task["id"]))
    assert shown["runs"][0]["model"] == "sonnet"
    assert env.run("queue", "cancel", str(task["id"])).returncode == 0
    with EngineClient(Paths(data=env.data, runtime=env.runtime)) as client:
        client.call("usage.ingest")  # the run's transcript, read now rather than when watched
    assert env.run("engine", "stop").returncode == 0
    conn = duckdb.connect(str(env.data / "podium.duckdb"), read_only=True)
    try:
        stored = conn.execute(
            "SELECT source, used_pct, epoch(resets_at) FROM limit_samples "
            "WHERE \"window\" = 'seven_day_sonnet' ORDER BY ts"
        ).fetchall()
    finally:
        conn.close()
    # The stream's event, and the same limit in the run's transcript.
    assert ("headless", 100.0, reset) in stored, stored
    assert ("transcript", 100.0, reset) in stored, stored


@pytest.mark.tmux
@pytest.mark.claude
def test_a_full_opus_week_runs_the_task_on_its_fallback(make_claude_podium: Any) -> None:
    """The live path with the real CLI: the account says the Opus week is used up
    (`.claude.json`), so fill launches the task queued `--model opus --model-fallback
    sonnet` on sonnet, and the run and the API request say so."""
    env = make_claude_podium(
        PODIUM_FILL__RESERVE_PCT="0",
        PODIUM_FILL__INTERVAL="0.5",
        PODIUM_USAGE__TICK_INTERVAL="0.5",
    )
    now = datetime.now(UTC)
    week = (now + timedelta(days=3)).isoformat()
    body = {
        "five_hour": {"utilization": 5.0, "resets_at": (now + timedelta(hours=3)).isoformat()},
        "seven_day": {"utilization": 20.0, "resets_at": week},
        "seven_day_opus": {"utilization": 100.0, "resets_at": week},
        "seven_day_sonnet": {"utilization": 10.0, "resets_at": week},
    }
    claude_json = env.claude_dir / ".claude.json"
    data = json.loads(claude_json.read_text()) if claude_json.exists() else {}
    data["cachedUsageUtilization"] = {
        "fetchedAtMs": int(now.timestamp() * 1000),
        "utilization": body,
    }
    claude_json.write_text(json.dumps(data))
    assert env.wait_for(lambda: "seven_day_opus" in windows(env), 30), windows(env)
    out = env.run(
        "queue", "add", "REPLY ported", "--cwd", str(env.workdir),
        "--model", "opus", "--model-fallback", "sonnet", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    task = json.loads(out.stdout)
    with EngineClient(Paths(data=env.data, runtime=env.runtime)) as client:
        client.call("queue.fill", enabled=True)

    def ended() -> bool:
        return env.json("queue", "show", str(task["id"]))["task"]["state"] in ("done", "failed")

    with EngineClient(Paths(data=env.data, runtime=env.runtime)) as client:
        why = client.call("queue.decide")  # what fill would do, should the wait fail
    assert env.wait_for(ended, 60), why
    shown = env.json("queue", "show", str(task["id"]))
    assert shown["task"]["state"] == "done", shown
    (run,) = shown["runs"]
    assert run["model"] == "sonnet" and "--model=sonnet" in run["argv"], run
    asked = [r.model for r in env.api.main_requests()]
    assert asked and all("sonnet" in m for m in asked), asked
