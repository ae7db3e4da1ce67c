"""Limit figures end to end: agents' statuslines and limit texts → spool → engine →
`podium usage`, the per-tick series and process stats in the DuckDB file.

The sim's statusline carries `rate_limits` from its simulated account; the real
Claude Code CLI carries them with gateway auth (the fake API's unified headers).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb
import pytest
from conftest import PodiumEnv
from fakeapi import unified_headers

from collectors.limits import samples_from_stream_json_line
from collectors.paths import Paths
from sessions.client import EngineClient
from sessions.sim.account import account_snapshot, seed_account


def windows(env: PodiumEnv) -> dict[str, dict[str, Any]]:
    return {w["window"]: w for w in env.json("usage")["windows"]}


def wait_source(env: PodiumEnv, window: str, source: str, seconds: float = 30) -> dict[str, Any]:
    seen: list[Any] = []

    def check() -> bool:
        w = windows(env).get(window)
        seen.append(w and (w["source"], w["used_pct"]))
        return bool(w and w["source"] == source)

    assert env.wait_for(check, seconds), f"{window} never came from {source}: {seen[-3:]}"
    return windows(env)[window]


def usage_ticks(env: PodiumEnv) -> int:
    """The engine's usage ticks so far (`engine status`): what to wait on, not a clock."""
    with EngineClient(Paths(data=env.data, runtime=env.runtime)) as client:
        return int(client.call("status")["usage_ticks"])


def wait_ticks(env: PodiumEnv, more: int, seconds: float = 30) -> None:
    """Until `more` ticks beyond those already made have ended."""
    goal = usage_ticks(env) + more
    assert env.wait_for(lambda: usage_ticks(env) >= goal, seconds), (usage_ticks(env), goal)


def test_sim_statusline_limits_reach_podium_usage(engine: PodiumEnv) -> None:
    seed_account(30, 50, five_hour_resets_in=7200, data_dir=engine.data)
    engine.json("new", "--agent", "sim", "--name", "s1", "--prompt", "[nopermission] [work=1] hi")
    engine.wait_state("s1", "waiting", seconds=30)
    five = wait_source(engine, "five_hour", "statusline")
    snap = account_snapshot(data_dir=engine.data)
    assert five["used_pct"] == pytest.approx(snap["five_hour"]["used_percentage"], abs=0.5)
    assert five["used_pct"] >= 30
    resets = datetime.fromisoformat(five["resets_at"])
    assert resets == datetime.fromtimestamp(snap["five_hour"]["resets_at"], UTC)
    week = windows(engine)["seven_day"]
    assert week["source"] == "statusline" and week["used_pct"] >= 50
    assert five["age_s"] < 60 and five["estimate"] is False

    listing = engine.run("usage")
    assert listing.returncode == 0, listing.stderr
    assert "5-hour" in listing.stdout and "statusline" in listing.stdout


def test_tick_writes_the_series_and_process_stats(podium_env: PodiumEnv) -> None:
    env = podium_env
    env.env["PODIUM_USAGE__TICK_INTERVAL"] = "1"
    assert env.run("engine", "start").returncode == 0
    seed_account(20, 40, data_dir=env.data)
    rec = env.json("new", "--agent", "sim", "--name", "tick", "--prompt", "[nopermission] hi")
    env.wait_state("tick", "waiting", seconds=30)
    wait_source(env, "five_hour", "statusline")
    # A limit text: the sim's StopFailure says the 5-hour window is full until its reset.
    env.run("send", "tick", "[limit] more", check=True)
    env.wait_state("tick", "limited", seconds=30)
    wait_source(env, "five_hour", "limit_text")
    wait_ticks(env, 3)  # a few ticks with the session alive
    assert env.run("engine", "stop").returncode == 0
    assert "usage tick failed" not in (env.data / "engine.log").read_text()

    conn = duckdb.connect(str(env.data / "podium.duckdb"), read_only=True)
    try:
        series = conn.execute(
            'SELECT minute, "window", used_pct, source, age_s FROM limit_series ORDER BY minute'
        ).fetchall()
        procs = conn.execute(
            "SELECT minute, pid_count, cpu_pct, rss_bytes FROM process_samples"
            " WHERE session_id = ? ORDER BY minute",
            [rec["id"]],
        ).fetchall()
        texts = conn.execute(
            "SELECT used_pct, resets_at FROM limit_samples"
            " WHERE source = 'limit_text' AND \"window\" = 'five_hour'"
        ).fetchall()
    finally:
        conn.close()
    five = [r for r in series if r[1] == "five_hour"]
    assert len({r[0] for r in five}) >= 3, series
    assert {r[3] for r in five} >= {"limit_text"}
    assert all(r[0].microsecond == 0 for r in five)  # ticks fall on whole seconds
    assert [r[2] for r in five if r[3] == "limit_text"][-1] == 100
    assert texts and texts[0][0] == 100 and texts[0][1] is not None
    assert len(procs) >= 3, procs
    assert all(p[1] >= 1 and p[3] > 0 for p in procs)
    assert procs[-1][2] is not None  # CPU needs two scans


def test_headless_lines_recorded_through_the_api(
    podium_env: PodiumEnv, make_claude_bed: Any
) -> None:
    """The real CLI's `claude -p` stream-json, as the fill runner will feed it."""
    bed = make_claude_bed(auth="gateway")
    bed.api.response_headers = unified_headers(0.23, 0.41)
    run = bed.run_headless("hello")
    assert run.result is not None and run.result["is_error"] is False, run.stdout
    samples = [s for obj in run.events for s in samples_from_stream_json_line(obj)]
    assert {(s.window, s.used_pct, s.source) for s in samples} == {
        ("five_hour", 23.0, "headless"),
        ("seven_day", 41.0, "headless"),
    }
    assert podium_env.run("engine", "start").returncode == 0
    with EngineClient(Paths(data=podium_env.data, runtime=podium_env.runtime)) as client:
        assert client.call("usage.record", lines=run.events)["samples"] == 2
    got = windows(podium_env)
    assert got["five_hour"]["source"] == "headless" and got["five_hour"]["used_pct"] == 23
    assert got["seven_day"]["used_pct"] == 41


@pytest.mark.claude
def test_real_claude_statusline_limits_reach_podium_usage(make_claude_podium: Any) -> None:
    env = make_claude_podium(auth="gateway")
    env.api.response_headers = unified_headers(0.23, 0.41)
    env.json(
        "new", "--agent", "claude", "--name", "real", "--cwd", str(env.workdir), "--prompt", "hi"
    )
    env.wait_state("real", "waiting", seconds=90)
    five = wait_source(env, "five_hour", "statusline", seconds=60)
    assert five["used_pct"] == 23 and five["resets_at"]
    week = windows(env)["seven_day"]
    assert week["source"] == "statusline" and week["used_pct"] == 41
    # What Claude Code shows under the prompt is podium's usage line.
    rec = env.session("real")
    assert env.wait_for(lambda: "5h 23%" in env.screen(rec["pane_id"]), 30), env.screen(
        rec["pane_id"]
    )


def test_claude_json_and_the_endpoint_through_the_engine(podium_env: PodiumEnv) -> None:
    """`.claude.json`'s cached figures, and the opt-in endpoint against a local stand-in."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    env = podium_env
    now = datetime.now(UTC)
    body = {
        "five_hour": {"utilization": 22.0, "resets_at": "2099-01-01T00:00:00+00:00"},
        "seven_day": {"utilization": 35.5, "resets_at": "2099-01-03T00:00:00+00:00"},
        "seven_day_opus": None,
    }
    cached = {
        "five_hour": {"utilization": 10.0, "resets_at": "2099-01-01T00:00:00+00:00"},
        "seven_day_opus": {"utilization": 7.0, "resets_at": "2099-01-03T00:00:00+00:00"},
    }
    (env.claude_dir / ".claude.json").write_text(
        json.dumps(
            {
                "cachedUsageUtilization": {
                    "fetchedAtMs": int(now.timestamp() * 1000) - 60_000,
                    "utilization": cached,
                }
            }
        )
    )
    (env.claude_dir / ".credentials.json").write_text(
        json.dumps({"claudeAiOauth": {"accessToken": "sk-ant-oat-local"}})
    )
    tokens: list[str] = []

    class Usage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            tokens.append(self.headers.get("authorization", ""))
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Usage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env.env.update(
            PODIUM_USAGE__TICK_INTERVAL="0.5",
            PODIUM_USAGE__ENDPOINT="true",
            PODIUM_USAGE__ENDPOINT_URL=f"http://127.0.0.1:{server.server_port}/api/oauth/usage",
            PODIUM_USAGE__ENDPOINT_INTERVAL="3600",
        )
        assert env.run("engine", "start").returncode == 0
        five = wait_source(env, "five_hour", "endpoint")
        assert five["used_pct"] == 22
        got = windows(env)
        assert got["seven_day"]["source"] == "endpoint" and got["seven_day"]["used_pct"] == 35.5
        opus = got["seven_day_opus"]
        assert opus["source"] == "claude_json" and opus["used_pct"] == 7
        assert 60 <= opus["age_s"] < 120  # as old as fetchedAtMs, not as the read
        wait_ticks(env, 2)  # more ticks: the endpoint's own interval holds
        assert tokens == ["Bearer sk-ant-oat-local"]
    finally:
        server.shutdown()
        server.server_close()
