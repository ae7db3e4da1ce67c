"""Reports against a real engine: `podium report` over transcripts read by `podium usage
ingest`, the tower's `reports.usage {days}`, `podium report waste` over a series in the
engine's own DuckDB file, and `podium export --parquet`."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import PodiumEnv

from collectors.paths import Paths
from sessions.client import EngineClient
from sessions.protocol import ApiError
from tui.cli.report_cmds import WASTE_FOOTER, WASTE_HEADER, WASTE_LEGEND

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"


def record(msg: str, ts: str, model: str, inp: int, out: int, session: str, cwd: str) -> str:
    return json.dumps(
        {
            "parentUuid": None,
            "isSidechain": False,
            "cwd": cwd,
            "sessionId": session,
            "version": "2.1.328",
            "entrypoint": "cli",
            "type": "assistant",
            "message": {
                "model": model,
                "id": msg,
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": "hi"}],
                "usage": {
                    "input_tokens": inp,
                    "output_tokens": out,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                },
            },
            "requestId": f"req-{msg}",
            "uuid": f"u-{msg}",
            "timestamp": ts,
        },
        separators=(",", ":"),
    )


def craft(claude_dir: Path, today: str) -> None:
    """Two sessions in two projects: one across UTC midnight, one today."""
    a = claude_dir / "projects" / "-w-alpha" / "aaaa.jsonl"
    b = claude_dir / "projects" / "-w-beta" / "bbbb.jsonl"
    a.parent.mkdir(parents=True)
    b.parent.mkdir(parents=True)
    a.write_text(
        record("m1", "2026-03-01T23:30:00.000Z", SONNET, 1000, 100, "aaaa", "/w/alpha")
        + "\n"
        + record("m2", "2026-03-02T00:30:00.000Z", SONNET, 2000, 200, "aaaa", "/w/alpha")
        + "\n"
    )
    b.write_text(record("m3", today, HAIKU, 500, 50, "bbbb", "/w/beta") + "\n")


def api(env: PodiumEnv, method: str, **params: Any) -> Any:
    with EngineClient(Paths(data=env.data, runtime=env.runtime), timeout=60) as client:
        return client.call(method, **params)


def test_report_over_ingested_transcripts(engine: PodiumEnv, tmp_path: Path):
    now = datetime.now(UTC).replace(microsecond=0)
    claude = tmp_path / "claude"
    craft(claude, (now - timedelta(minutes=5)).isoformat().replace("+00:00", "Z"))
    assert engine.json("usage", "ingest", "--claude-dir", str(claude))["messages"] == 3

    days = engine.json("report", "--tz", "UTC", "--until", "2026-03-31")
    assert [(r["day"], r["messages"], r["tokens"]) for r in days["rows"]] == [
        ("2026-03-01", 1, 1100),
        ("2026-03-02", 1, 2200),
    ]
    # Both March messages are one day in New York (UTC-5).
    ny = engine.json("report", "--tz", "America/New_York", "--until", "2026-03-31")
    assert [(r["day"], r["messages"]) for r in ny["rows"]] == [("2026-03-01", 2)]

    models = engine.json("report", "--by", "model")
    assert {r["model"]: r["messages"] for r in models["rows"]} == {SONNET: 2, HAIKU: 1}
    assert models["total"]["cost_usd"] > 0
    sessions = engine.json("report", "--by", "session")
    assert {(r["session"], r["project"]) for r in sessions["rows"]} == {
        ("aaaa", "/w/alpha"),
        ("bbbb", "/w/beta"),
    }

    out = engine.run("report", "--by", "project", "--csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert {r["project"]: int(r["tokens"]) for r in rows} == {"/w/alpha": 3300, "/w/beta": 550}

    text = engine.run("report", "--by", "month", "--tz", "UTC")
    assert text.returncode == 0 and "2026-03" in text.stdout and "TOTAL" in text.stdout

    # What the control tower asks: the last 7 days, per day and model.
    week = api(engine, "reports.usage", days=7, tz="UTC")
    day = (now - timedelta(minutes=5)).date().isoformat()
    assert [(r["day"], r["model"], r["tokens"]) for r in week["rows"]] == [(day, HAIKU, 550)]
    assert {"input_tokens", "cache_read_tokens", "cost_usd"} <= set(week["rows"][0])


def test_bad_arguments_are_one_line_and_exit_2(engine: PodiumEnv):
    for args, words in [
        (("--tz", "Mars/Olympus"), "unknown time zone"),
        (("--since", "last tuesday"), "bad date"),
        (("--json", "--csv"), "--json and --csv"),
    ]:
        out = engine.run("report", *args)
        assert out.returncode == 2, (args, out.stderr)
        assert words in out.stderr and len(out.stderr.strip().splitlines()) == 1
    # The API checks its params itself (the tower calls it directly).
    for method, params, words in [
        ("reports.usage", {"days": 0}, "between"),
        ("reports.usage", {"by": "hour"}, "unknown grouping"),
        ("reports.usage", {"days": 7, "since": "2026-01-01"}, "either"),
        ("reports.waste", {"tz": "Nowhere"}, "unknown time zone"),
        ("reports.waste", {"window": "lunch"}, "unknown window 'lunch'"),
        ("usage.series", {"hours": "many"}, r"\$\.hours"),
        ("export.parquet", {"dir": "relative"}, "absolute"),
    ]:
        with pytest.raises(ApiError, match=words):
            api(engine, method, **params)
    # What the tower asks with no params: nothing has reset yet.
    assert api(engine, "reports.waste")["windows"] == []


def test_waste_over_the_engines_series(engine: PodiumEnv):
    # Only the engine opens the file: stop it, write a series as its ticks would, restart.
    assert engine.run("engine", "stop").returncode == 0
    reset = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    conn = duckdb.connect(str(engine.data / "podium.duckdb"))
    conn.executemany(
        'INSERT INTO limit_series (minute, "window", used_pct, resets_at, source, age_s) '
        "VALUES (?, 'five_hour', ?, ?, 'statusline', 0)",
        [(reset - timedelta(minutes=300 - i), 25.0, reset) for i in range(300)],
    )
    conn.close()
    assert engine.run("engine", "start").returncode == 0
    result = engine.json("report", "waste", "--window", "five_hour")
    (window,) = result["windows"]
    assert window["unused_at_reset_pct"] == 75.0
    assert window["window_equivalents"] == 0.75 and window["coverage"] == 1.0
    assert result["total"]["five_hour"]["windows_ended"] == 1
    text = engine.run("report", "waste")
    assert text.returncode == 0 and "75%" in text.stdout, text.stdout
    # Said once, in words: what the figures mean, and what to do about them.
    assert text.stdout.startswith(WASTE_HEADER + "\n"), text.stdout
    assert WASTE_LEGEND in text.stdout and text.stdout.endswith(WASTE_FOOTER + "\n")
    # The window as the table names it works as well as its own name.
    assert engine.json("report", "waste", "--window", "5-hour")["windows"] == result["windows"]
    points = api(engine, "usage.series", hours=24, window="five_hour")["points"]
    assert len(points) == 300 and points[0]["used_pct"] == 25.0


def test_export_parquet(engine: PodiumEnv, tmp_path: Path):
    target = tmp_path / "out"
    result = engine.json("export", "--parquet", str(target))
    tables = {t["table"] for t in result["tables"]}
    assert {"usage_messages", "limit_series", "sessions"} <= tables
    reader = duckdb.connect()
    for name in tables:
        reader.execute(f"SELECT count(*) FROM read_parquet('{target}/{name}.parquet')").fetchone()
    again = engine.run("export", "--parquet", str(target))
    assert again.returncode == 1 and "--force" in again.stderr
    forced = engine.run("export", "--parquet", str(target), "--force")
    assert forced.returncode == 0 and "Parquet files" in forced.stdout
