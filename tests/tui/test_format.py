"""The text formats the CLI and the tower share (`tui.format`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from sessions import wire
from tui.format import (
    clock,
    count,
    model_name,
    share,
    usd,
    waste_cells,
    waste_total,
    window_cells,
    window_title,
)

NOW = datetime(2026, 11, 12, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is Berlin's (UTC+1 in November): a time printed in UTC shows."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_counts_shares_money_and_names() -> None:
    assert count(1_250_000) == "1,250,000"
    assert [share(p) for p in (None, 0.0, 0.001, 0.98, 1.0)] == ["-", "0%", "<1%", "98%", "100%"]
    assert usd(None) == "-" and usd(1234.5) == "$1,234.50"
    assert [window_title(w) for w in ("five_hour", "seven_day", "seven_day_opus")] == [
        "5-hour",
        "week",
        "week opus",
    ]
    assert [
        model_name(m)
        for m in (
            "claude-sonnet-4-5-20250929",
            "claude-opus-4-5",
            "claude-opus-4-20250514",
            "claude-3-5-haiku-20241022",
            "<synthetic>",
        )
    ] == ["Sonnet 4.5", "Opus 4.5", "Opus 4", "Haiku 3.5", "<synthetic>"]


def test_times_are_local_and_short() -> None:
    assert clock("2026-11-12T10:00:00+00:00", NOW) == "11:00"
    assert clock(None, NOW) == "-"
    assert clock("2026-11-12T17:13:00+00:00", NOW) == "18:13"
    assert clock("2026-11-14T18:00:00+00:00", NOW) == "Sat 19:00"
    assert clock("2026-11-20T18:00:00+00:00", NOW) == "Nov 20 19:00"


def test_window_and_waste_rows_say_units_in_local_time() -> None:
    five = wire.UsageWindow(
        window="five_hour",
        used_pct=42.4,
        resets_at=(NOW + timedelta(hours=2, minutes=13)).isoformat(),
        source="statusline",
        age_s=30,
        burn_pct_per_hour=9.5,
        projected_pct_at_reset=63.0,
    )
    assert window_cells(five, NOW) == [
        "5-hour",
        "42%",
        "18:13 (in 2h13m)",
        "statusline",
        "30s",
        "+9.5%",
        "63%",
    ]
    early = wire.UsageWindow(window="seven_day", used_pct=3, source="estimate", estimate=True)
    assert window_cells(early, NOW) == ["week", "~3%", "-", "estimate", "-", "-", "-"]
    ended = wire.WasteWindow(
        window="five_hour",
        resets_at="2026-11-12T10:00:00+00:00",
        unused_at_reset_pct=39.0,
        last_used_pct=61.0,
        area_pct_hours=120.4,
        window_equivalents=0.24,
        coverage=0.98,
    )
    assert waste_cells(ended, ended=True, now=NOW) == [
        "5-hour",
        "11:00",
        "39%",
        "120 %·h",
        "0.24",
        "98%",
    ]
    assert waste_cells(ended, ended=False, now=NOW)[2] == "open, 61% used"
    total = wire.WasteTotal(windows_ended=3, unused_at_reset_windows=0.8, coverage=0.5)
    assert waste_total("seven_day_opus", total).startswith(
        "week opus: 3 resets, leaving 0.80 windows' worth unused;"
    )
