"""Limit sources, the limit log, estimates, burn rate and projection (no tmux, no engine).

Recorded payloads in `data/` come from the real Claude Code CLI 2.1.328 with
gateway auth against the loopback API (`unified_headers(0.23, 0.41)`):
`statusline_gateway_2.1.328.jsonl` (the statusline before and after the first
answer), `stream_json_gateway_2.1.328.jsonl` (`claude -p` lines of a plain
answer, a 5-hour limit and an Opus limit).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import msgspec
import pytest

from collectors.limit_files import (
    EndpointError,
    check_endpoint_url,
    fetch_usage,
    oauth_token,
    read_claude_json,
)
from collectors.limit_log import LimitLog, SeriesRow
from collectors.limits import (
    LimitSample,
    Point,
    Projection,
    burn_rate,
    calibrate,
    default_capacity,
    estimate,
    freshest,
    is_current,
    observed_s,
    project,
    samples_from_claude_json,
    samples_from_limit_text,
    samples_from_statusline,
    samples_from_stream_json_line,
    samples_from_usage_body,
)
from collectors.procstats import TreeScan, cpu_percent, scan_tree
from collectors.settings import Settings
from collectors.store import migrate
from collectors.windows import scoped_window

DATA = Path(__file__).parent / "data"
AT = datetime(2026, 11, 28, 17, 30, tzinfo=UTC)
FIVE_RESET = datetime.fromtimestamp(1795892400, UTC)  # 2026-11-28 19:00 UTC
WEEK_RESET = datetime.fromtimestamp(1796083200, UTC)


def lines(name: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (DATA / name).read_text().splitlines() if x.strip()]


def by_window(samples: list[LimitSample]) -> dict[str, LimitSample]:
    return {s.window: s for s in samples}


# -- statusline -------------------------------------------------------------------------


def test_statusline_of_the_real_cli() -> None:
    before, after = lines("statusline_gateway_2.1.328.jsonl")
    assert samples_from_statusline(before, AT) == []  # no answer yet: no rate_limits
    got = by_window(samples_from_statusline(after, AT))
    assert set(got) == {"five_hour", "seven_day"}
    assert got["five_hour"].used_pct == 23 and got["five_hour"].resets_at is not None
    assert got["seven_day"].used_pct == 41 and got["seven_day"].resets_at == WEEK_RESET
    assert {s.source for s in got.values()} == {"statusline"}
    assert all(s.ts == AT for s in got.values())


def test_statusline_with_api_key_has_no_limits() -> None:
    payload = {"model": {"id": "claude-sonnet-4-5"}, "context_window": {"used_percentage": 3}}
    assert samples_from_statusline(payload, AT) == []


@pytest.mark.parametrize("bad", [1738857600, 101.5, -1, "41", None, True, float("nan")])
def test_statusline_rejects_impossible_percentages(bad: Any) -> None:
    payload = {
        "rate_limits": {
            "five_hour": {"used_percentage": 101, "resets_at": 1795892400},
            "seven_day": {"used_percentage": bad, "resets_at": 1796083200},
        }
    }
    got = by_window(samples_from_statusline(payload, AT))
    assert list(got) == ["five_hour"] and got["five_hour"].used_pct == 101


def test_statusline_limits_rows_of_newer_versions() -> None:
    payload = {
        "rate_limits": {
            "five_hour": {"used_percentage": 23.5, "resets_at": 1795892400},
            "limits": [
                {"kind": "session", "percent": 99, "resets_at": "2026-11-28T19:00:00Z"},
                {"kind": "weekly_all", "percent": 41.2, "resets_at": "2026-11-30T12:00:00Z"},
                {
                    "kind": "weekly_scoped",
                    "percent": 12,
                    "resets_at": "2026-11-30T12:00:00+00:00",
                    "scope": {"model": {"display_name": "Opus 4.1"}},
                },
                {"kind": "weekly_scoped", "percent": 5, "scope": {}},  # no model: skipped
            ],
        }
    }
    got = by_window(samples_from_statusline(payload, AT))
    assert got["five_hour"].used_pct == 23.5  # the first figure of a window wins
    assert got["seven_day"].used_pct == 41.2
    assert got["seven_day"].resets_at == datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert got["seven_day_opus"].used_pct == 12
    assert scoped_window("Claude Sonnet 4.5") == "seven_day_sonnet"


# -- headless stream-json ---------------------------------------------------------------


def test_stream_json_of_the_real_cli() -> None:
    per_line = [
        samples_from_stream_json_line(obj, AT) for obj in lines("stream_json_gateway_2.1.328.jsonl")
    ]
    found = [s for s in per_line if s]
    # plain answer: its rate_limit_event; 5-hour limit: event + result; Opus: event + result
    assert len(found) == 5
    allowed = by_window(found[0])
    assert allowed["five_hour"].used_pct == 23 and allowed["five_hour"].resets_at == FIVE_RESET
    assert allowed["seven_day"].used_pct == 41 and allowed["seven_day"].resets_at == WEEK_RESET
    assert {s.source for s in found[0]} == {"headless"}
    rejected = by_window(found[1])
    assert rejected["five_hour"].used_pct == 100
    text = found[2]
    assert [(s.window, s.used_pct, s.source) for s in text] == [("five_hour", 100, "limit_text")]
    assert text[0].resets_at == FIVE_RESET
    opus = by_window(found[3])
    assert opus["seven_day_opus"].used_pct == 100 and opus["seven_day_opus"].source == "headless"
    assert [s.window for s in found[4]] == ["seven_day_opus"]


def test_stream_json_shapes_of_the_reference() -> None:
    event = {
        "type": "rate_limit_event",
        "rate_limit_info": {
            "status": "allowed_warning",
            "resetsAt": 1785985200,
            "rateLimitType": "seven_day_sonnet",
            "utilization": 0.51,
        },
    }
    [s] = samples_from_stream_json_line(event, AT)
    assert (s.window, s.used_pct) == ("seven_day_sonnet", 51.0)
    overage = {"type": "rate_limit_event", "rate_limit_info": {"rateLimitType": "overage"}}
    assert samples_from_stream_json_line(overage, AT) == []
    allowed_no_figure = {
        "type": "rate_limit_event",
        "rate_limit_info": {"status": "allowed", "rateLimitType": "five_hour"},
    }
    assert samples_from_stream_json_line(allowed_no_figure, AT) == []
    api_key_429 = {
        "type": "result",
        "is_error": True,
        "api_error_status": 429,
        "result": "API Error: Request rejected (429) · rate limited",
    }
    assert samples_from_stream_json_line(api_key_429, AT) == []
    assert samples_from_stream_json_line({"type": "assistant"}, AT) == []


# -- limit texts ------------------------------------------------------------------------


def test_limit_texts() -> None:
    [s] = samples_from_limit_text("You've hit your weekly limit · resets Dec 2, 6pm (UTC)", AT)
    assert (s.window, s.used_pct, s.source) == ("seven_day", 100.0, "limit_text")
    assert s.resets_at == datetime(2026, 12, 2, 18, tzinfo=UTC)
    assert samples_from_limit_text("API Error: Request rejected (429)", AT) == []


# -- .claude.json and the usage endpoint ------------------------------------------------

USAGE_BODY = {
    "five_hour": {"utilization": 22.0, "resets_at": "2026-11-28T19:00:00.364238+00:00"},
    "seven_day": {"utilization": 35.5, "resets_at": "2026-12-01T08:00:00+00:00"},
    "seven_day_opus": None,
    "seven_day_sonnet": {"utilization": 1738857600, "resets_at": None},  # impossible: dropped
    "extra_usage": {"is_enabled": False, "monthly_limit": None, "utilization": 3.0},
    "future_thing": {"utilization": 5.0},
}


def test_usage_endpoint_body() -> None:
    got = by_window(samples_from_usage_body(USAGE_BODY, AT))
    assert set(got) == {"five_hour", "seven_day"}
    assert got["five_hour"].used_pct == 22.0 and got["five_hour"].source == "endpoint"
    assert got["five_hour"].resets_at == datetime(2026, 11, 28, 19, 0, 0, 364238, tzinfo=UTC)


def test_claude_json_figures_are_as_old_as_fetched_at(tmp_path: Path) -> None:
    fetched = AT - timedelta(days=2)
    data = {
        "numStartups": 40,
        "cachedUsageUtilization": {
            "fetchedAtMs": int(fetched.timestamp() * 1000),
            "utilization": USAGE_BODY,
        },
    }
    got = by_window(samples_from_claude_json(data))
    assert got["seven_day"].ts == fetched and got["seven_day"].source == "claude_json"
    assert "fetchedAtMs" in (got["seven_day"].detail or "")
    assert samples_from_claude_json({"cachedUsageUtilization": {"utilization": USAGE_BODY}}) == []
    assert samples_from_claude_json({}) == []

    path = tmp_path / ".claude.json"
    path.write_text(json.dumps(data))
    first = read_claude_json(path)
    assert first.samples and len(first.samples) == 2
    assert read_claude_json(path, first.mtime_ns).samples is None  # unchanged: not read
    assert read_claude_json(tmp_path / "absent.json").samples == []
    path.write_text('{"torn": ')
    assert read_claude_json(path).samples == []


class _UsageHandler(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []  # noqa: RUF012 - test double
    status = 200

    def do_GET(self) -> None:
        _UsageHandler.seen.append(
            {"path": self.path, **{k.lower(): v for k, v in self.headers.items()}}
        )
        body = json.dumps(USAGE_BODY).encode()
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def usage_server() -> Any:
    server = HTTPServer(("127.0.0.1", 0), _UsageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _UsageHandler.seen = []
    _UsageHandler.status = 200
    yield f"http://127.0.0.1:{server.server_port}/api/oauth/usage"
    server.shutdown()
    server.server_close()


def test_usage_endpoint_against_a_local_stand_in(usage_server: str, tmp_path: Path) -> None:
    (tmp_path / ".credentials.json").write_text(
        json.dumps({"claudeAiOauth": {"accessToken": "sk-ant-oat-test", "expiresAt": 1}})
    )
    token = oauth_token([tmp_path / "absent", tmp_path])
    assert token == "sk-ant-oat-test"
    got = by_window(fetch_usage(usage_server, token))
    assert got["seven_day"].used_pct == 35.5 and got["seven_day"].source == "endpoint"
    [request] = _UsageHandler.seen
    assert request["path"] == "/api/oauth/usage"
    assert request["authorization"] == "Bearer sk-ant-oat-test"
    assert request["anthropic-beta"] == "oauth-2025-04-20"
    _UsageHandler.status = 429
    with pytest.raises(EndpointError, match="429"):
        fetch_usage(usage_server, token)


@pytest.mark.parametrize(
    "url", ["http://example.com/api/oauth/usage", "ftp://127.0.0.1/x", "file:///etc/passwd"]
)
def test_the_token_never_goes_out_in_clear(url: str) -> None:
    with pytest.raises(EndpointError, match="https"):
        check_endpoint_url(url)
    check_endpoint_url("https://api.anthropic.com/api/oauth/usage")
    check_endpoint_url("http://[::1]:8080/usage")


# -- which figure, burn rate, projection ---------------------------------------------------


def sample(pct: float, minutes_ago: float, source: str = "statusline", **kw: Any) -> LimitSample:
    kw.setdefault("resets_at", AT + timedelta(hours=2))
    return LimitSample(AT - timedelta(minutes=minutes_ago), "five_hour", pct, source=source, **kw)


def test_freshest_official_figure() -> None:
    older, newer = sample(20, 10), sample(25, 1, "claude_json")
    assert freshest([older, newer, sample(90, 0, "estimate")]) == newer
    same_time_text = sample(100, 1, "limit_text")
    assert freshest([same_time_text, newer]) == newer
    assert is_current(newer, AT) and not is_current(sample(5, 1, resets_at=AT), AT)
    # A limit text's reset is to the minute: a number's reset to the second, less than
    # a minute before it, is the same reset, and the figure keeps that one.
    exact = FIVE_RESET - timedelta(seconds=13)
    header = sample(100, 2, "headless", resets_at=exact)
    text = sample(100, 1, "limit_text", resets_at=FIVE_RESET)
    assert freshest([header, text]) == LimitSample(
        text.ts, "five_hour", 100, resets_at=exact, source="limit_text"
    )
    # The text cuts a later reset short ("resets 7pm" for 19:00:47): the same reset too.
    later = sample(100, 2, "headless", resets_at=FIVE_RESET + timedelta(seconds=47))
    assert freshest([later, text]).resets_at == FIVE_RESET + timedelta(seconds=47)  # type: ignore[union-attr]
    earlier = sample(100, 2, "headless", resets_at=FIVE_RESET - timedelta(minutes=2))
    assert freshest([earlier, text]) == text  # another reset: the text's holds
    # a figure without a reset time holds one window length at most
    assert is_current(sample(5, 299, resets_at=None), AT)
    assert not is_current(sample(5, 301, resets_at=None), AT)


def test_burn_rate_and_projection() -> None:
    points = [Point(AT - timedelta(minutes=m), 40 - m / 6) for m in range(60, -1, -5)]
    burn = burn_rate(points, AT)
    assert burn == pytest.approx(10.0)  # 1% every 6 minutes
    hour = observed_s(points, AT)
    assert hour == 3600
    proj = project(40, burn, AT, AT + timedelta(hours=2), hour)
    assert proj.at_reset_pct == pytest.approx(60)
    assert proj.limit_at is None
    fast = project(90, 20, AT, AT + timedelta(hours=1), hour)
    assert fast.at_reset_pct == 110 and fast.limit_at == AT + timedelta(minutes=30)
    assert project(40, None, AT, AT + timedelta(hours=1), hour).at_reset_pct is None
    assert project(40, 5, AT, None, hour).at_reset_pct is None


def test_no_projection_from_less_than_an_hour_of_the_window() -> None:
    """Ten minutes of a steep start say nothing of a week: no projection, though the
    burn rate is there; an hour of figures is enough."""
    week = AT + timedelta(days=6)
    ten = [Point(AT - timedelta(minutes=m), (10 - m) / 10) for m in range(10, -1, -1)]
    burn = burn_rate(ten, AT)
    assert burn == pytest.approx(6.0)
    assert observed_s(ten, AT) == 600
    assert project(1, burn, AT, week, observed_s(ten, AT)) == Projection(None, None)
    # A window that reset 20 minutes ago has been watched for 20 minutes, however long
    # the series before it.
    before = [Point(AT - timedelta(minutes=m), 90) for m in range(120, 20, -5)]
    after = [Point(AT - timedelta(minutes=m), 20 - m / 2) for m in range(20, -1, -5)]
    assert observed_s([*before, *after], AT) == 1200
    assert observed_s([], AT) == 0
    hour = [Point(AT - timedelta(minutes=m), 10 - m / 6) for m in range(60, -1, -5)]
    assert project(10, burn_rate(hour, AT), AT, week, observed_s(hour, AT)).at_reset_pct == (
        pytest.approx(10 + 10 * 144)
    )


def test_burn_rate_starts_after_a_reset_and_needs_enough_points() -> None:
    before = [Point(AT - timedelta(minutes=m), 95.0) for m in (50, 45, 40)]
    after = [Point(AT - timedelta(minutes=m), (30 - m) / 3) for m in (30, 20, 10, 0)]
    assert burn_rate([*before, *after], AT) == pytest.approx(20.0)
    assert burn_rate(after[:2], AT) is None
    assert burn_rate([Point(AT - timedelta(seconds=s), 1) for s in (60, 30, 0)], AT) is None


# -- estimate and calibration ---------------------------------------------------------------


def test_estimate_from_an_anchor_and_from_scratch() -> None:
    anchor = sample(30, 40)
    est = estimate("five_hour", AT, anchor, tokens_since_anchor=50_000, capacity=1_000_000)
    assert est.source == "estimate" and est.used_pct == 35.0 and est.resets_at == anchor.resets_at
    start = AT - timedelta(hours=1)
    est = estimate("five_hour", AT, None, 0, 1_000_000, start, tokens_since_start=200_000)
    assert est.used_pct == 20.0 and est.resets_at == start + timedelta(hours=5)
    assert estimate("five_hour", AT, None, 0, 1_000_000).used_pct == 0.0
    capped = estimate("five_hour", AT, anchor, 10_000_000, 1_000_000)
    assert capped.used_pct == 100.0


def test_calibration_and_plan_defaults() -> None:
    assert calibrate(100_000, 10) == 1_000_000
    assert calibrate(100_000, 1) is None  # too small a share to learn from
    assert calibrate(0, 50) is None
    assert default_capacity("five_hour", "max5") == 5_000_000
    assert default_capacity("seven_day", "max5") == 60_000_000
    assert default_capacity("seven_day", "pro", five_hour=10, seven_day=0) == 120
    assert default_capacity("five_hour", "pro", five_hour=123) == 123


# -- the log and the monitor's choice of figure ------------------------------------------------


@pytest.fixture
def conn() -> Any:
    c = duckdb.connect()
    migrate(c)
    yield c
    c.close()


def usage_messages(conn: Any, rows: list[tuple[datetime, str, int, int]]) -> None:
    """Rows of transcript ingest's table (migration 0004), as its messages."""
    for n, (ts, model, inp, out) in enumerate(rows):
        conn.execute(
            "INSERT INTO usage_messages (dedupe_key, ts, model, input_tokens, output_tokens,"
            " cache_creation_tokens, cache_creation_1h_tokens, cache_read_tokens, cost_usd,"
            " is_sidechain, source_path) VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, false, 'test')",
            [f"m:test-{ts.isoformat()}-{n}", ts, model, inp, out],
        )


def test_log_keeps_changes_and_a_heartbeat(conn: Any) -> None:
    log = LimitLog(conn)
    first = sample(20, 10)
    assert log.record([first]) == [first]
    assert log.record([sample(20, 9.5)]) == []  # same figure 30 s later: not stored again
    assert log.latest("five_hour").ts == AT - timedelta(minutes=9.5)  # but seen
    log.record([sample(20, 8)])  # a minute and a half later: stored (heartbeat)
    log.record([sample(21, 7.9)])  # changed: stored
    rows = conn.execute(
        "SELECT used_pct FROM limit_samples WHERE \"window\" = 'five_hour' ORDER BY ts"
    ).fetchall()
    assert [r[0] for r in rows] == [20, 20, 21]
    # A new log (engine restart) knows the latest figures again.
    again = LimitLog(conn)
    assert again.latest("five_hour").used_pct == 21


def test_windows_include_model_scoped_ones_seen(conn: Any) -> None:
    log = LimitLog(conn)
    now = datetime.now(UTC)
    log.record([LimitSample(now, "seven_day_opus", 12, None, "headless")])
    assert log.windows(now) == ["five_hour", "seven_day", "seven_day_opus"]


def monitor(conn: Any, **usage: Any) -> Any:
    from sessions.engine.usage import UsageMonitor

    settings = msgspec.convert({"usage": usage}, Settings, strict=False)
    published: list[tuple[str, Any]] = []
    bus = SimpleNamespace(
        publish=lambda event: published.append((event.__struct_config__.tag, event.data))
    )
    mon = UsageMonitor(
        conn=conn,
        registry=None,  # type: ignore[arg-type]
        bus=bus,  # type: ignore[arg-type]
        settings=settings.usage,
        blocking=None,  # type: ignore[arg-type]
        store_failed=None,  # type: ignore[arg-type]
        refresh_today=None,  # type: ignore[arg-type]
    )
    mon.published = published  # type: ignore[attr-defined]
    return mon


def test_fresh_official_figure_wins_then_an_estimate_takes_over(conn: Any) -> None:
    now = datetime.now(UTC)
    mon = monitor(conn, fresh_minutes=15, plan="pro")
    resets = now + timedelta(hours=3)
    mon.record([LimitSample(now - timedelta(minutes=5), "five_hour", 20, resets, "statusline")])
    assert mon.published and mon.published[0][0] == "usage"
    figure, age = mon.current("five_hour", now)
    assert figure.source == "statusline" and age == pytest.approx(300)

    later = now + timedelta(minutes=30)  # the figure is stale now
    figure, age = mon.current("five_hour", later)
    assert figure.source == "statusline" and age == pytest.approx(35 * 60)  # no tokens yet

    # With local tokens: 2h of the window before the figure taught the capacity
    # (100k weighted tokens = 20% → 500k), then 50k more since → 20% + 10%.
    opened = resets - timedelta(hours=5)
    usage_messages(
        conn,
        [
            (opened + timedelta(minutes=10), "claude-opus-4-5", 50_000, 10_000),
            (now + timedelta(minutes=10), "claude-opus-4-5", 25_000, 5_000),
        ],
    )
    figure, age = mon.current("five_hour", later)
    assert figure.source == "estimate" and figure.used_pct == pytest.approx(30.0)
    assert figure.resets_at == resets and age == pytest.approx(35 * 60)


def test_estimate_without_any_official_figure_uses_the_plan(conn: Any) -> None:
    now = datetime.now(UTC)
    usage_messages(
        conn,
        [
            (now - timedelta(hours=6), "claude-sonnet-4-5", 900_000, 0),  # an older window
            (now - timedelta(hours=2), "claude-sonnet-4-5", 100_000, 20_000),
            (now - timedelta(minutes=5), "<synthetic>", 0, 0),
        ],
    )
    mon = monitor(conn, plan="pro", five_hour_capacity=1_000_000)
    figure, age = mon.current("five_hour", now)
    assert figure.source == "estimate" and age is None
    assert figure.used_pct == pytest.approx(20.0)  # (100k + 5 x 20k) / 1M
    opened = now - timedelta(hours=2)
    assert abs((figure.resets_at - (opened + timedelta(hours=5))).total_seconds()) < 1
    [row] = [w for w in mon.windows(now) if w.window == "five_hour"]
    assert row.estimate is True and row.source == "estimate"


def test_windows_project_only_after_an_hour_of_the_series(conn: Any) -> None:
    """`usage.windows` (the CLI's `podium usage` and the tower's gauges alike) gives a
    burn rate after minutes, a projection at the reset only after an hour."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    resets = now + timedelta(days=6)
    mon = monitor(conn, fresh_minutes=15)
    mon.record([LimitSample(now, "seven_day", 5, resets, "statusline")])

    def minutes(first: int, last: int) -> None:
        for m in range(first, last - 1, -1):
            row = SeriesRow("seven_day", 5 - m / 12, resets, "statusline", 0.0)
            mon.log.write_series(now - timedelta(minutes=m), [row])

    def week() -> Any:
        return next(w for w in mon.windows(now) if w.window == "seven_day")

    minutes(10, 1)
    assert week().burn_pct_per_hour == pytest.approx(5.0)
    assert week().projected_pct_at_reset is None and week().limit_at is None
    minutes(61, 11)
    assert week().projected_pct_at_reset == pytest.approx(5 + 5 * 144)
    assert week().limit_at is not None


def test_a_passed_reset_ends_a_figure(conn: Any) -> None:
    now = datetime.now(UTC)
    mon = monitor(conn)
    mon.record([LimitSample(now - timedelta(hours=1), "five_hour", 80, now, "statusline")])
    assert mon.current("five_hour", now + timedelta(seconds=1)) == (None, pytest.approx(3601))


# -- process stats ----------------------------------------------------------------------


def test_process_tree_scan_and_cpu() -> None:
    import os
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        scan = scan_tree(os.getpid())
        assert scan is not None and scan.pid_count >= 2 and scan.rss_bytes > 0
        assert any(pid == child.pid for pid, _ in scan.cpu_s)
    finally:
        child.kill()
        child.wait()
    assert scan_tree(child.pid) is None  # gone
    prev = TreeScan(100.0, {(1, 0.0): 5.0, (2, 0.0): 1.0}, 0, 2)
    cur = TreeScan(110.0, {(1, 0.0): 7.0, (3, 105.0): 1.0, (4, 50.0): 9.0}, 0, 3)
    # pid 1: +2 s; pid 3 was born in between: +1 s; pid 4 existed unseen: not counted.
    assert cpu_percent(prev, cur) == 30.0
    assert cpu_percent(None, cur) is None


class _RedirectHandler(BaseHTTPRequestHandler):
    code = 302
    target = ""

    def do_GET(self) -> None:
        self.send_response(self.code)
        self.send_header("location", self.target)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_a_redirect_never_takes_the_token_along(usage_server: str, code: int) -> None:
    # The endpoint answers with a redirect to another loopback server that records
    # headers: urllib would follow it with the Authorization header.
    handler = type("Redirect", (_RedirectHandler,), {"code": code, "target": usage_server})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/api/oauth/usage"
        with pytest.raises(EndpointError) as caught:
            fetch_usage(url, "sk-ant-oat-secret")
    finally:
        server.shutdown()
        server.server_close()
    message = str(caught.value)
    assert str(code) in message and "redirect" in message and "\n" not in message
    assert "sk-ant-oat-secret" not in message
    assert _UsageHandler.seen == []  # the token never arrived there


def test_claude_files_that_are_fifos_or_nested_too_deeply_are_skipped(tmp_path: Path) -> None:
    from collectors.limit_files import oauth_token

    deep = tmp_path / ".claude.json"
    deep.write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    assert read_claude_json(deep).samples == []
    fifo_dir = tmp_path / "fifo"
    fifo_dir.mkdir()
    os.mkfifo(fifo_dir / ".claude.json")
    os.mkfifo(fifo_dir / ".credentials.json")
    got: list[Any] = []

    def read() -> None:
        got.append(read_claude_json(fifo_dir / ".claude.json").samples)
        got.append(oauth_token([fifo_dir]))

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(10)
    hung = worker.is_alive()
    for name in (".claude.json", ".credentials.json"):  # free what the old code blocks
        with contextlib.suppress(OSError):
            os.close(os.open(fifo_dir / name, os.O_WRONLY | os.O_NONBLOCK))
    assert not hung and got == [[], None]


def test_full_until_is_the_latest_reset_of_the_full_windows(conn: Any) -> None:
    """A limited session whose text names no time takes its reset from the figures."""
    now = datetime.now(UTC)
    mon = monitor(conn, fresh_minutes=15, plan="pro")
    assert mon.full_until(now) is None
    soon, later = now + timedelta(hours=2), now + timedelta(days=3)
    mon.record([LimitSample(now, "five_hour", 100, soon, "statusline")])
    assert mon.full_until(now) == soon
    mon.record([LimitSample(now, "seven_day", 99.0, later, "statusline")])
    assert mon.full_until(now) == soon  # 99% is not full
    mon.record([LimitSample(now + timedelta(seconds=1), "seven_day", 100, later, "statusline")])
    assert mon.full_until(now) == later  # both full: free only once both reset
    assert mon.full_until(soon + timedelta(minutes=1)) == later  # the 5-hour one has reset
