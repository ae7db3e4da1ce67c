"""Model-scoped weeks (`seven_day_sonnet`, `seven_day_opus`) from every source that
reports them, malformed rows skipped; the limit log keeps them like the main windows;
`model_windows` says which weekly windows a model spends.

The shapes are Claude Code 2.1.328's (reference §4, §5, §8, and the zod schemas in
its binary: `cachedUsageUtilization {fetchedAtMs, accountUuid, utilization{five_hour,
seven_day, seven_day_opus, seven_day_sonnet, ..., limits[]}}`, the rows `{kind, group,
percent, resets_at, severity, is_active, scope{model|surface{display_name}}}`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from collectors.limit_files import read_claude_json
from collectors.limit_log import LimitLog, SeriesRow
from collectors.limits import (
    TRANSCRIPT,
    LimitSample,
    samples_from_claude_json,
    samples_from_limit_rows,
    samples_from_rate_limit_info,
    samples_from_statusline,
    samples_from_stream_json_line,
    samples_from_usage_body,
)
from collectors.store import migrate
from collectors.transcripts import Job, parse_range
from collectors.usage_log import UsageLog
from collectors.windows import (
    FIVE_HOUR,
    SEVEN_DAY,
    SEVEN_DAY_OPUS,
    SEVEN_DAY_SONNET,
    model_windows,
)

DATA = Path(__file__).parent / "data"
AT = datetime(2026, 11, 28, 17, 30, tzinfo=UTC)
RESET = datetime(2026, 12, 1, 8, tzinfo=UTC)


def by_window(samples: list[LimitSample]) -> dict[str, LimitSample]:
    return {s.window: s for s in samples}


# Rows as the server sends them, with the malformed ones a reader must survive.
GOOD_ROWS: list[Any] = [
    {
        "kind": "session",
        "group": "session",
        "percent": 22,
        "resets_at": "2026-11-28T19:00:00.364238+00:00",
        "severity": "normal",
        "is_active": False,
        "scope": None,
    },
    {
        "kind": "weekly_all",
        "group": "weekly",
        "percent": 35.5,
        "resets_at": "2026-12-01T08:00:00+00:00",
        "severity": "normal",
        "is_active": True,
    },
    {
        "kind": "weekly_scoped",
        "group": "weekly",
        "percent": 61,
        "resets_at": "2026-12-01T08:00:00Z",
        "severity": "warning",
        "is_active": False,
        "scope": {"model": {"display_name": "Sonnet"}},
    },
]
BAD_ROWS: list[Any] = [
    None,
    "weekly_scoped",
    42,
    [],
    {"kind": "weekly_scoped", "percent": 10, "scope": {"surface": {"display_name": "Web"}}},
    {"kind": "weekly_scoped", "percent": 10, "scope": {"model": None}},
    {"kind": "weekly_scoped", "percent": 10, "scope": {"model": {"display_name": 7}}},
    {"kind": "weekly_scoped", "percent": 10, "scope": {"model": {"display_name": " "}}},
    {"kind": "weekly_scoped", "percent": 10, "scope": "opus"},
    {"kind": "weekly_scoped", "percent": "12", "scope": {"model": {"display_name": "Opus"}}},
    {"kind": "weekly_scoped", "percent": True, "scope": {"model": {"display_name": "Opus"}}},
    {"kind": "weekly_scoped", "percent": 1796083200, "scope": {"model": {"display_name": "Opus"}}},
    {"kind": "weekly_scoped", "scope": {"model": {"display_name": "Opus"}}},
    {"kind": "overage", "percent": 3},
    {"kind": None, "percent": 3},
    {"percent": 3},
]


def test_limit_rows_give_the_model_week_and_skip_malformed_rows() -> None:
    got = by_window(samples_from_limit_rows([*BAD_ROWS, *GOOD_ROWS], AT, "endpoint"))
    assert set(got) == {FIVE_HOUR, SEVEN_DAY, SEVEN_DAY_SONNET}
    sonnet = got[SEVEN_DAY_SONNET]
    assert (sonnet.used_pct, sonnet.resets_at, sonnet.source) == (61, RESET, "endpoint")
    # An Opus row whose percentage is malformed gives no Opus week at all.
    assert SEVEN_DAY_OPUS not in got
    for rows in (None, {}, "limits", 3, {"kind": "session"}):
        assert samples_from_limit_rows(rows, AT, "endpoint") == []


def test_a_row_with_a_reset_that_does_not_parse_keeps_its_figure() -> None:
    row = {"kind": "weekly_scoped", "percent": 4, "resets_at": "soon", "scope": {}}
    row["scope"] = {"model": {"display_name": "Opus 4.1"}}
    (s,) = samples_from_limit_rows([row], AT, "statusline")
    assert (s.window, s.used_pct, s.resets_at) == (SEVEN_DAY_OPUS, 4, None)


# -- stream-json (the runs' streams) ----------------------------------------------------


def rate_limit_event(info: Any) -> dict[str, Any]:
    return {"type": "rate_limit_event", "rate_limit_info": info, "uuid": "u", "session_id": "s"}


def test_stream_json_rate_limit_events_of_the_model_weeks() -> None:
    warning = rate_limit_event(
        {
            "status": "allowed_warning",
            "resetsAt": int(RESET.timestamp()),
            "rateLimitType": "seven_day_sonnet",
            "utilization": 0.82,
            "overageStatus": "rejected",
            "isUsingOverage": False,
        }
    )
    (s,) = samples_from_stream_json_line(warning, AT)
    assert (s.window, s.used_pct, s.resets_at, s.source) == (
        SEVEN_DAY_SONNET,
        pytest.approx(82.0),
        RESET,
        "headless",
    )
    rejected = rate_limit_event(
        {
            "status": "rejected",
            "resetsAt": int(RESET.timestamp()),
            "rateLimitType": "seven_day_opus",
        }
    )
    (s,) = samples_from_stream_json_line(rejected, AT)
    assert (s.window, s.used_pct) == (SEVEN_DAY_OPUS, 100.0)
    # `allowed` without a figure says nothing about the window.
    allowed = rate_limit_event({"status": "allowed", "rateLimitType": "seven_day_sonnet"})
    assert samples_from_stream_json_line(allowed, AT) == []


@pytest.mark.parametrize(
    "info",
    [
        None,
        "seven_day_sonnet",
        [],
        {"rateLimitType": "seven_day_sonnet", "utilization": "0.5", "status": "allowed_warning"},
        {"rateLimitType": "seven_day_sonnet", "utilization": None, "status": "allowed"},
        {"rateLimitType": "seven_day_sonnet", "utilization": 17.0, "status": "allowed_warning"},
        {"rateLimitType": "seven_day_sonnet", "utilization": float("nan")},
        {"rateLimitType": ["seven_day_opus"], "utilization": 0.5},
        {"rateLimitType": "seven_day_oauth_apps", "utilization": 0.5},
        {"rateLimitType": "overage", "utilization": 0.5, "status": "allowed_warning"},
        {"rateLimitType": "Seven_Day_Sonnet", "utilization": 0.5},
        {"unifiedWindows": {"seven_day_sonnet": "full", "seven_day_opus": None}},
        {"unifiedWindows": ["seven_day_sonnet"]},
    ],
)
def test_malformed_rate_limit_events_give_nothing(info: Any) -> None:
    assert samples_from_stream_json_line(rate_limit_event(info), AT) == []


# -- the usage endpoint -----------------------------------------------------------------

ENDPOINT_BODY: dict[str, Any] = {
    "five_hour": {"utilization": 22.0, "resets_at": "2026-11-28T19:00:00.364238+00:00"},
    "seven_day": {"utilization": 35.5, "resets_at": "2026-12-01T08:00:00+00:00"},
    "seven_day_oauth_apps": None,
    "seven_day_opus": None,  # not reported: no Opus week
    "seven_day_sonnet": {"utilization": 48.0, "resets_at": "2026-12-01T08:00:00+00:00"},
    "extra_usage": {"is_enabled": False, "monthly_limit": None, "utilization": None},
}


def test_usage_endpoint_body_with_the_sonnet_week() -> None:
    got = by_window(samples_from_usage_body(ENDPOINT_BODY, AT))
    assert set(got) == {FIVE_HOUR, SEVEN_DAY, SEVEN_DAY_SONNET}
    assert got[SEVEN_DAY_SONNET].used_pct == 48 and got[SEVEN_DAY_SONNET].resets_at == RESET


def test_usage_endpoint_body_with_limits_rows() -> None:
    """A key wins over a row of the same window; a row adds a window no key gave."""
    opus_row = {
        "kind": "weekly_scoped",
        "group": "weekly",
        "percent": 9,
        "resets_at": "2026-12-01T08:00:00Z",
        "scope": {"model": {"display_name": "Opus"}},
    }
    body = {**ENDPOINT_BODY, "limits": [*BAD_ROWS, *GOOD_ROWS, opus_row]}
    got = by_window(samples_from_usage_body(body, AT))
    assert got[SEVEN_DAY_SONNET].used_pct == 48  # the key, not the row's 61
    assert got[SEVEN_DAY_OPUS].used_pct == 9 and got[SEVEN_DAY_OPUS].source == "endpoint"
    malformed = {
        "seven_day_sonnet": {"utilization": "48", "resets_at": 5},
        "seven_day_opus": [],
        "limits": {"kind": "session"},
    }
    assert samples_from_usage_body(malformed, AT) == []


# -- ~/.claude.json ---------------------------------------------------------------------


def claude_json(utilization: Any, **extra: Any) -> dict[str, Any]:
    fetched = int((AT - timedelta(hours=3)).timestamp() * 1000)
    return {
        "numStartups": 12,
        "cachedUsageUtilization": {
            "fetchedAtMs": fetched,
            "accountUuid": "3c1e0c6e-0000-4000-8000-000000000000",
            "utilization": utilization,
            **extra,
        },
    }


def test_claude_json_old_shape_per_window() -> None:
    got = by_window(samples_from_claude_json(claude_json(ENDPOINT_BODY)))
    sonnet = got[SEVEN_DAY_SONNET]
    assert (sonnet.used_pct, sonnet.source, sonnet.ts) == (
        48,
        "claude_json",
        AT - timedelta(hours=3),
    )
    assert SEVEN_DAY_OPUS not in got  # null: not reported


def test_claude_json_newer_shape_limits_rows(tmp_path: Path) -> None:
    utilization = {"five_hour": None, "seven_day": None, "limits": [*BAD_ROWS, *GOOD_ROWS]}
    got = by_window(samples_from_claude_json(claude_json(utilization)))
    assert set(got) == {FIVE_HOUR, SEVEN_DAY, SEVEN_DAY_SONNET}
    assert got[SEVEN_DAY_SONNET].used_pct == 61
    assert got[SEVEN_DAY_SONNET].detail and "fetchedAtMs" in got[SEVEN_DAY_SONNET].detail
    # Rows beside `utilization` rather than inside it are read as well.
    beside = claude_json({}, limits=GOOD_ROWS)
    assert set(by_window(samples_from_claude_json(beside))) == {
        FIVE_HOUR,
        SEVEN_DAY,
        SEVEN_DAY_SONNET,
    }
    # Read from the file as the engine's tick does.
    path = tmp_path / ".claude.json"
    path.write_text(json.dumps(claude_json(utilization)))
    read = read_claude_json(path)
    assert read.samples is not None
    assert {s.window for s in read.samples} == {FIVE_HOUR, SEVEN_DAY, SEVEN_DAY_SONNET}


@pytest.mark.parametrize(
    "utilization",
    [None, [], "full", {"limits": "rows"}, {"limits": [None, 1, "x"]}, {"seven_day_sonnet": 40}],
)
def test_claude_json_malformed_gives_nothing(utilization: Any) -> None:
    assert samples_from_claude_json(claude_json(utilization)) == []


# -- the statusline ---------------------------------------------------------------------


def test_statusline_limits_rows_with_the_sonnet_week() -> None:
    payload = {
        "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
        "rate_limits": {
            "five_hour": {"used_percentage": 23.5, "resets_at": 1795892400},
            "seven_day": {"used_percentage": 41.2, "resets_at": 1796083200},
            "limits": [*BAD_ROWS, *GOOD_ROWS],
        },
    }
    got = by_window(samples_from_statusline(payload, AT))
    assert set(got) == {FIVE_HOUR, SEVEN_DAY, SEVEN_DAY_SONNET}
    assert got[FIVE_HOUR].used_pct == 23.5  # the per-window figure comes first
    assert got[SEVEN_DAY_SONNET].used_pct == 61 and got[SEVEN_DAY_SONNET].source == "statusline"
    bad = {"rate_limits": {"limits": [*BAD_ROWS, {"kind": "weekly_scoped"}]}}
    assert samples_from_statusline(bad, AT) == []


# -- the limit log keeps them like the main windows --------------------------------------


@pytest.fixture
def conn() -> Any:
    c = duckdb.connect(":memory:")
    migrate(c)
    yield c
    c.close()


def test_the_log_records_and_samples_the_model_weeks_each_minute(conn: Any) -> None:
    log = LimitLog(conn)
    sonnet = samples_from_usage_body(ENDPOINT_BODY, AT)
    log.record(sonnet)
    assert log.windows(AT) == [FIVE_HOUR, SEVEN_DAY, SEVEN_DAY_SONNET]
    latest = log.latest(SEVEN_DAY_SONNET)
    assert latest is not None and latest.used_pct == 48
    for minute in range(3):
        at = AT + timedelta(minutes=minute)
        log.write_series(
            at,
            [
                SeriesRow(w, s.used_pct, s.resets_at, s.source, 0.0)
                for w in log.windows(at)
                if (s := log.latest(w)) is not None
            ],
        )
    rows = conn.execute(
        'SELECT "window", count(*) FROM limit_series GROUP BY ALL ORDER BY 1'
    ).fetchall()
    assert rows == [(FIVE_HOUR, 3), (SEVEN_DAY, 3), (SEVEN_DAY_SONNET, 3)]
    stored = conn.execute(
        "SELECT used_pct, source FROM limit_samples WHERE \"window\" = 'seven_day_sonnet'"
    ).fetchall()
    assert stored == [(48.0, "endpoint")]


# -- which weekly windows a model spends --------------------------------------------------


@pytest.mark.parametrize(
    ("model", "windows"),
    [
        ("sonnet", (SEVEN_DAY, SEVEN_DAY_SONNET)),
        ("Sonnet", (SEVEN_DAY, SEVEN_DAY_SONNET)),
        ("claude-sonnet-4-5", (SEVEN_DAY, SEVEN_DAY_SONNET)),
        ("claude-sonnet-4-5-20250929", (SEVEN_DAY, SEVEN_DAY_SONNET)),
        ("claude-3-7-sonnet-20250219", (SEVEN_DAY, SEVEN_DAY_SONNET)),
        ("sonnet[1m]", (SEVEN_DAY, SEVEN_DAY_SONNET)),
        ("opus", (SEVEN_DAY, SEVEN_DAY_OPUS)),
        ("claude-opus-4-1-20250805", (SEVEN_DAY, SEVEN_DAY_OPUS)),
        ("claude-opus-4-1", (SEVEN_DAY, SEVEN_DAY_OPUS)),
        ("opusplan", (SEVEN_DAY, SEVEN_DAY_OPUS, SEVEN_DAY_SONNET)),
        ("haiku", (SEVEN_DAY,)),
        ("claude-3-5-haiku-20241022", (SEVEN_DAY,)),
        ("default", (SEVEN_DAY,)),
        ("some-other-model", (SEVEN_DAY,)),
        ("", (SEVEN_DAY,)),
        (None, (SEVEN_DAY,)),
        ("magnum-opuscule", (SEVEN_DAY,)),  # "opus" must be a word, not letters inside one
    ],
)
def test_model_windows(model: str | None, windows: tuple[str, ...]) -> None:
    assert model_windows(model) == windows
    assert FIVE_HOUR not in windows  # spent by every model: not named


# -- transcripts ------------------------------------------------------------------------
# Claude Code 2.1.328 (`claude -p` against the loopback API answering a 429 whose claim
# is the Sonnet week) writes the limit into the transcript's synthetic assistant record:
# `apiErrorParams.rate_limit_info` and `quotaLimits` beside the "You've hit your Sonnet
# limit" text.
REAL_TRANSCRIPT = DATA / "transcript_sonnet_limit_2.1.328.jsonl"


def _parse(path: Path) -> Any:
    return parse_range(Job(str(path), 0, path.stat().st_size, True, "s"))


def test_a_transcripts_usage_limit_record_gives_the_sonnet_week() -> None:
    result = _parse(REAL_TRANSCRIPT)
    (seen,) = result.rate_limits
    assert seen.ts == datetime(2026, 12, 6, 2, 25, 44, 626000, tzinfo=UTC)
    (s,) = samples_from_rate_limit_info(seen.info, seen.ts, TRANSCRIPT)
    assert (s.window, s.used_pct, s.source) == (SEVEN_DAY_SONNET, 100.0, "transcript")
    assert s.resets_at == datetime.fromtimestamp(1796696744, UTC)
    assert len(result.rows) == 1 and result.bad_lines == 0  # its (zero) usage still counts


def _limit_record(**fields: Any) -> str:
    base = json.loads(REAL_TRANSCRIPT.read_text().splitlines()[-1])
    base.pop("apiErrorParams")
    base.pop("quotaLimits")
    return json.dumps({**base, **fields})


@pytest.mark.parametrize(
    "fields",
    [
        {"apiErrorParams": None},
        {"apiErrorParams": "rate_limit"},
        {"apiErrorParams": [1, 2]},
        {"apiErrorParams": {"rate_limit_info": "seven_day_sonnet"}},
        {"apiErrorParams": {"rate_limit_info": {"rateLimitType": ["seven_day_sonnet"]}}},
        {"apiErrorParams": {"rate_limit_info": {"status": "rejected"}}},
        {"quotaLimits": 429},
        {"apiErrorParams": {"rate_limit_info": [[[[[[[[[[1]]]]]]]]]]}},
    ],
)
def test_malformed_limit_records_keep_their_tokens_and_give_no_figure(
    tmp_path: Path, fields: dict[str, Any]
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(_limit_record(**fields) + "\n")
    result = _parse(path)
    assert result.rate_limits == [] and len(result.rows) == 1 and result.bad_lines == 0


def test_limit_records_deeply_nested_or_only_in_quota_limits(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    line = _limit_record().removesuffix("}") + f', "apiErrorParams": {deep}}}'
    quota = _limit_record(
        quotaLimits={
            "status": "rejected",
            "resetsAt": 1796696744,
            "rateLimitType": "seven_day_opus",
        }
    )
    path = tmp_path / "t.jsonl"
    path.write_text(line + "\n" + quota + "\n")
    result = _parse(path)  # no traceback: the deep line is one bad line at most
    assert [seen.info["rateLimitType"] for seen in result.rate_limits] == ["seven_day_opus"]


def test_an_ingest_pass_hands_the_limit_records_on(conn: Any, tmp_path: Path) -> None:
    projects = tmp_path / "config" / "projects" / "-home-me-proj"
    projects.mkdir(parents=True)
    (projects / "11196e3c-0a58-4e9b-a066-cbf1f0e51acf.jsonl").write_bytes(
        REAL_TRANSCRIPT.read_bytes()
    )
    from collectors.prices import price_table
    from collectors.settings import Settings

    stats = UsageLog(conn, price_table(Settings().prices.models), scratch_dir=tmp_path).ingest(
        [tmp_path / "config"]
    )
    assert [seen.info["rateLimitType"] for seen in stats.rate_limits] == ["seven_day_sonnet"]
