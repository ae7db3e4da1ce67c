"""Snapshots (SVG) of the tower's screens, from fixed data and a fixed clock.

Regenerate after an intended change with `scripts/test tests/tui --snapshot-update`
and look at the SVGs in `__snapshots__/` before committing them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import NOW, SESSIONS, answers, fixed, iso, session

from collectors.paths import Paths
from collectors.settings import Settings, UiSettings
from sessions import wire
from tui.app import PodiumApp
from tui.widgets.preview import Preview

SCREEN = (
    "\x1b[1m╭─ Claude Code ─────────────────────────────╮\x1b[0m\n"
    "│ \x1b[32m✓\x1b[0m Read tui/app.py                          │\n"
    "│ \x1b[33m?\x1b[0m Edit tui/app.py: allow?                  │\n"
    "╰───────────────────────────────────────────╯\n"
    " \x1b[1m❯ 1. Yes\x1b[0m\n"
    "   2. No, and tell Claude what to do differently\n"
)


@pytest.fixture(autouse=True)
def fixed_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview shows a canned pane instead of asking tmux."""
    monkeypatch.setattr("tui.widgets.preview.capture_pane", lambda socket, pane: SCREEN)


def _app(tmp_path: Path, theme: str = "podium-dark", **link: Any) -> PodiumApp:
    return PodiumApp(
        Paths(data=tmp_path / "data", runtime=tmp_path / "run"),
        Settings(ui=UiSettings(theme=theme)),
        link=fixed(**link),
        clock=lambda: NOW,
        environ={},
        config_path=tmp_path / "config.toml",
        themes_dir=tmp_path / "themes",
    )


async def _ready(pilot: Any) -> None:
    """Wait for the fixed engine's listing, then for the preview's capture (it
    arrives from a worker thread)."""
    app = pilot.app
    for _ in range(200):
        if app.state.loaded:
            break
        await pilot.pause(0.02)
    preview = app.main.query_one(Preview)
    for _ in range(200):
        if not preview.display or preview.text:
            break
        await pilot.pause(0.02)
    await pilot.pause()


def _no_windows() -> wire.UsageWindows:
    return wire.UsageWindows(now=NOW.isoformat(), windows=[])


def test_main(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(100, 30), run_before=_ready)


def test_main_narrow_pane(snap_compare: Any, tmp_path: Path) -> None:
    # The tower's usual home: the left pane of the stage window.
    assert snap_compare(_app(tmp_path), terminal_size=(58, 30), run_before=_ready)


def test_main_light_theme(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(tmp_path, theme="podium-light")
    assert snap_compare(app, terminal_size=(100, 30), run_before=_ready)


def test_main_first_run(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(tmp_path, sessions=[], answers=answers(usage_windows=_no_windows()))
    assert snap_compare(app, terminal_size=(90, 20), run_before=_ready)


def test_main_engine_banner(snap_compare: Any, tmp_path: Path) -> None:
    async def lost(pilot: Any) -> None:
        from tui.messages import EngineEvent, EngineLost

        await _ready(pilot)
        pilot.app.post_message(EngineLost("the engine went away", 2.0, 3))
        tmux_gone = wire.TmuxEvent(data=wire.TmuxState(alive=False, socket="podium"))
        pilot.app.post_message(EngineEvent(tmux_gone))
        await _ready(pilot)

    sessions = [session("s1", "api", "lost", since_s=-5), *SESSIONS[1:3]]
    app = _app(tmp_path, sessions=sessions)
    assert snap_compare(app, terminal_size=(90, 24), run_before=lost)


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is Berlin's (UTC+1 in November): a time shown in UTC would show."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _usage_history() -> dict[str, Any]:
    """Tokens of dated and undated ids of one model, costs, windows that reset and one
    still open, with the totals."""

    def waste(window: str, reset_h: float, unused: float) -> wire.WasteWindow:
        return wire.WasteWindow(
            window=window,
            resets_at=iso(reset_h * 3600),
            unused_at_reset_pct=unused,
            last_used_pct=100 - unused,
            area_pct_hours=unused * 2.9,
            window_equivalents=unused * 2.9 / 500,
            coverage=0.97,
        )

    def tokens(day: str, model: str, count: int, cost: float | None) -> wire.UsageRow:
        return wire.UsageRow(day=day, model=model, tokens=count, cost_usd=cost, messages=9)

    return {
        "reports_usage": wire.UsageReport(
            by="day_model",
            tz="Europe/Berlin",
            since="2026-11-06",
            until=None,
            rows=[
                tokens("2026-11-10", "claude-opus-4-5-20251101", 1_250_000, 18.2),
                tokens("2026-11-10", "claude-sonnet-4-5-20250929", 480_000, 2.1),
                tokens("2026-11-11", "claude-opus-4-5", 2_010_000, 30.75),
                tokens("2026-11-12", "claude-sonnet-4-5", 96_500, 0.4),
                tokens("2026-11-12", "claude-haiku-4-5", 12_000, None),
            ],
            total=wire.UsageRow(),
        ),
        "reports_waste": wire.WasteReport(
            window=None,
            since=None,
            now=NOW.isoformat(),
            windows=[waste("five_hour", -5 * n, 10.0 * n) for n in range(8, 0, -1)],
            open=[waste("seven_day", 51, 29.0)],
            total={
                "five_hour": wire.WasteTotal(
                    windows_ended=8,
                    unused_at_reset_pct=360,
                    unused_at_reset_windows=3.6,
                    area_pct_hours=1044,
                    window_equivalents=2.09,
                    coverage=0.97,
                    idle_minutes=42,
                )
            },
        ),
    }


async def _usage(pilot: Any, *keys: str) -> None:
    """Ready, then the usage screen with its overview shown, then `keys`."""
    await _ready(pilot)
    await pilot.press("u")
    app = pilot.app
    for _ in range(200):
        if getattr(app.screen, "overview", None) is not None:
            break
        await pilot.pause(0.02)
    await pilot.pause()
    for key in keys:
        await pilot.press(key)
    await pilot.pause()


def test_usage_screen_80x24(snap_compare: Any, tmp_path: Path, berlin: None) -> None:
    # The windows now, the legend of the gauges' marks, the top of the plots.
    app = _app(tmp_path, answers=answers(**_usage_history()))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_usage)


def test_usage_screen_80x24_scrolled_to_the_end(
    snap_compare: Any, tmp_path: Path, berlin: None
) -> None:
    # One scroll area: End reaches the last rows of the last table, in local time.
    app = _app(tmp_path, answers=answers(**_usage_history()))
    assert snap_compare(app, terminal_size=(80, 24), run_before=lambda p: _usage(p, "end"))


def test_usage_screen_wide(snap_compare: Any, tmp_path: Path, berlin: None) -> None:
    app = _app(tmp_path, answers=answers(**_usage_history()))
    assert snap_compare(app, terminal_size=(200, 50), run_before=_usage)


def test_usage_screen_first_run(snap_compare: Any, tmp_path: Path) -> None:
    nothing = answers(
        usage_windows=_no_windows(),
        usage_series=wire.Series(hours=168.0, window=None, step=1, points=[]),
        reports_usage=wire.UsageReport(
            by="day_model", tz="UTC", since=None, until=None, rows=[], total=wire.UsageRow()
        ),
        reports_waste=wire.WasteReport(
            window=None, since=None, now=NOW.isoformat(), windows=[], open=[], total={}
        ),
    )
    app = _app(tmp_path, answers=nothing)
    assert snap_compare(app, press=["u"], terminal_size=(90, 20), run_before=_ready)


def _queue(enabled: bool) -> wire.QueueList:
    """Tasks in each state, and the reasons the engine gives for the open ones."""

    def task(id: int, state: str, prompt: str, **kw: Any) -> wire.Task:
        return wire.Task(id=id, state=state, prompt=prompt, cwd="/home/me/src/api", **kw)

    tasks = [
        task(7, "running", "update the dependency pins and run the tests", priority=2, runs=1),
        task(
            9,
            "queued",
            "[nopermission] write docstrings for every public function in tui/widgets, then "
            "run the linter and fix what it finds\n\nKeep each docstring to what the "
            "function does, not how.",
            schedule_kind="at",
            schedule="22:00",
            schedule_text="at 22:00",
            budget_usd=2.0,
            last_result="done",
            runs=1,
            cost_usd=0.42,
        ),
        task(11, "queued", "refactor the session registry into smaller modules", est_pct=20.0),
        task(12, "queued", "add tests for the tmux backend", est_pct=2.0),
        task(13, "deferred", "summarise yesterday's commits", defer_until=iso(2 * 3600)),
        task(14, "recurring", "nightly: update the changelog", schedule_text="cron 0 3 * * *"),
        task(15, "recurring", "rebuild the docs", schedule_text="on change docs/**"),
        task(5, "done", "tidy the README", last_result="done", runs=1, cost_usd=0.08),
    ]
    reserve = "5-hour reserve: 30% kept for you until 18:13 plus ~4% forecast; 8% free, the "
    held = [
        wire.Held(task_id=9, kind="scheduled", reason="scheduled for 22:00", until=iso(6 * 3600)),
        wire.Held(task_id=11, kind="reserve", reason=reserve + "task needs ~20%"),
        wire.Held(task_id=12, kind="behind", reason="after task 11, which waits: " + reserve),
        wire.Held(
            task_id=13,
            kind="deferred",
            reason="deferred until 18:00: five_hour limit reached; resets 2026-11-12 18:00",
            until=iso(2 * 3600),
        ),
        wire.Held(task_id=14, kind="cron", reason="repeats on cron `0 3 * * *`: each time "
                  "queues a copy; the next at 03:00", until=iso(11 * 3600)),
        wire.Held(task_id=15, kind="on_change", reason="waits for a change to docs/** in "
                  "/home/me/src/api: each change queues a copy of it"),
    ]  # fmt: skip
    if not enabled:
        held = [
            wire.Held(
                task_id=h.task_id,
                kind="fill_off" if h.kind not in ("cron", "on_change") else h.kind,
                reason=f"background fill is off (f, or `podium fill`, switches it on); then: "
                f"{h.reason}",
                until=h.until,
            )
            for h in held
        ]
    rules = [
        wire.ReserveRule(five_hour_pct=30, days="mon-fri", start="09:00", end="19:00"),
        wire.ReserveRule(five_hour_pct=5),
    ]
    return wire.QueueList(
        tasks=tasks,
        fill=wire.FillState(enabled=enabled, until=iso(16 * 3600) if enabled else None),
        reserve=wire.Reserve(
            pct=30, now_pct=30, window_end=iso(2 * 3600 + 13 * 60), source="schedule", rules=rules
        ),
        held=held,
    )


async def _background(pilot: Any, *keys: str) -> None:
    """Ready, then the background screen with the queue shown, then `keys`."""
    await _ready(pilot)
    await pilot.press("b")
    app = pilot.app
    for _ in range(200):
        if getattr(app.screen, "listed", None) is not None:
            break
        await pilot.pause(0.02)
    await pilot.pause()
    for key in keys:
        await pilot.press(key)
    await pilot.pause()


def test_background_screen_80x24(snap_compare: Any, tmp_path: Path, berlin: None) -> None:
    # Fill off (as it starts), the reserve and its schedule; the second task selected:
    # its whole prompt (brackets and all) and why it waits, below the table.
    app = _app(tmp_path, answers=answers(queue_list=_queue(enabled=False)))
    run = lambda p: _background(p, "down")  # noqa: E731
    assert snap_compare(app, terminal_size=(80, 24), run_before=run)


def test_background_screen_wide(snap_compare: Any, tmp_path: Path, berlin: None) -> None:
    # Fill on until tomorrow 08:00; the task held by the reserve selected.
    app = _app(tmp_path, answers=answers(queue_list=_queue(enabled=True)))
    run = lambda p: _background(p, "down", "down")  # noqa: E731
    assert snap_compare(app, terminal_size=(200, 50), run_before=run)


def test_background_screen_empty_queue(snap_compare: Any, tmp_path: Path) -> None:
    empty = wire.QueueList(tasks=[], fill=wire.FillState(enabled=False))
    app = _app(tmp_path, answers=answers(queue_list=empty))
    assert snap_compare(app, press=["b"], terminal_size=(90, 14), run_before=_ready)


def test_help_screen(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(tmp_path)
    assert snap_compare(app, press=["question_mark"], terminal_size=(100, 40), run_before=_ready)


def test_main_rows_with_wide_and_long_doing(snap_compare: Any, tmp_path: Path) -> None:
    # DOING cut to its cells: double-width characters and a prompt longer than the row.
    sessions = [
        *SESSIONS[:3],
        session(
            "s7",
            "日本語",
            "busy",
            doing=wire.Doing(kind="tool", text="Edit: src/日本語/ファイル名がとても長い.py"),
        ),
        session("s8", "emoji", "busy", doing=wire.Doing(kind="prompt", text="fix 🐛 " * 30)),
    ]
    app = _app(tmp_path, sessions=sessions)
    assert snap_compare(app, terminal_size=(96, 24), run_before=_ready)
