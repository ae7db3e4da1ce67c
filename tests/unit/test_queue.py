"""The queue's pure parts: schedules (cron, times, globs, night), the store, the argv."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from collectors.paths import Paths
from collectors.settings import Settings
from collectors.store import open_store
from sessions.agents import AgentError
from sessions.engine.events import EventBus
from sessions.fill.queue import QueueStore, Run, Task
from sessions.fill.runner import UNKNOWN_RESET, Runner, headless_argv
from sessions.fill.schedule import (
    Cron,
    Night,
    ScheduleError,
    check_glob,
    glob_matches,
    parse_at,
    parse_free_schedule,
    parse_schedule,
)
from sessions.fill.scheduler import Scheduler

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)  # a Friday
NIGHT = Night.parse("01:00", "07:00", UTC)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("30 2 * * 1-5", datetime(2026, 5, 4, 2, 30, tzinfo=UTC)),  # next Monday
        ("*/15 * * * *", datetime(2026, 5, 1, 12, 15, tzinfo=UTC)),
        ("0 0 1 jan *", datetime(2027, 1, 1, tzinfo=UTC)),
        ("0 9 * * sun", datetime(2026, 5, 3, 9, 0, tzinfo=UTC)),
        ("0 9 * * 7", datetime(2026, 5, 3, 9, 0, tzinfo=UTC)),
        ("0 0 29 2 *", datetime(2028, 2, 29, tzinfo=UTC)),
        # Both day fields restricted: either matches (cron's rule).
        ("0 6 15 * mon", datetime(2026, 5, 4, 6, 0, tzinfo=UTC)),
        ("5,10 12 * * *", datetime(2026, 5, 1, 12, 5, tzinfo=UTC)),
    ],
)
def test_cron_next(expr: str, expected: datetime) -> None:
    assert Cron.parse(expr).next_after(NOW, UTC) == expected


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("* * *", "needs 5"),
        ("* * * * * *", "needs 5"),
        ("60 * * * *", "minute 60 is outside 0-59"),
        ("* 24 * * *", "hour 24 is outside 0-23"),
        ("* * 0 * *", "day of month 0 is outside 1-31"),
        ("x * * * *", "'x' is not a valid minute"),
        ("5-1 * * * *", "'5-1' is not a valid minute; use 0-59, \\*, a-b with a <= b"),
        ("*/0 * * * *", "'\\*/0' is not a valid minute.* n > 0"),
        ("* * * foo *", "'foo' is not a valid month.* jan-dec"),
        ("1,,2 * * * *", "empty item"),
        ("0 0 31 2 *", "never matches"),
    ],
)
def test_cron_errors_say_why(expr: str, reason: str) -> None:
    with pytest.raises(ScheduleError, match=reason):
        Cron.parse(expr).next_after(NOW, UTC)


def test_cron_keeps_the_zones_wall_clock_across_dst() -> None:
    paris = ZoneInfo("Europe/Paris")
    # 02:30 does not exist on 29 March 2026 (02:00 → 03:00): the first minute after the gap.
    spring = Cron.parse("30 2 * * *").next_after(datetime(2026, 3, 28, 12, tzinfo=UTC), paris)
    assert spring == datetime(2026, 3, 29, 3, 0, tzinfo=paris)
    # 02:30 comes twice on 25 October 2026: it runs once, the next one is the day after.
    first = Cron.parse("30 2 * * *").next_after(datetime(2026, 10, 24, 12, tzinfo=UTC), paris)
    assert first.utcoffset() == timedelta(hours=2) and first.hour == 2
    again = Cron.parse("30 2 * * *").next_after(first, paris)
    assert again == datetime(2026, 10, 26, 2, 30, tzinfo=paris)
    # A zone east of UTC: 09:00 there is 07:00 UTC in summer.
    assert Cron.parse("0 9 * * *").next_after(NOW, paris) == datetime(2026, 5, 2, 7, 0, tzinfo=UTC)


def test_at_times() -> None:
    assert parse_at("2026-05-02T03:30", UTC) == datetime(2026, 5, 2, 3, 30, tzinfo=UTC)
    assert parse_at("2026-05-02T03:30+02:00", UTC).utcoffset() == timedelta(hours=2)
    assert parse_at("23:59", UTC).strftime("%H:%M") == "23:59"
    for bad in ("tomorrow", "2026-13-01", "25:00", ""):
        with pytest.raises(ScheduleError, match="cannot read"):
            parse_at(bad, UTC)


@pytest.mark.parametrize(
    ("glob", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("/etc/*", "relative"),
        ("../x/*.py", "without '..'"),
        ("src/[ab.py", "never closed"),
        ("src/a**b/*.py", "whole path part"),
    ],
)
def test_glob_errors_say_why(glob: str, reason: str) -> None:
    with pytest.raises(ScheduleError, match=reason):
        check_glob(glob)


def test_glob_matching() -> None:
    assert glob_matches("src/**/*.py", "src/a/b/c.py")
    assert glob_matches("src/**/*.py", "src/c.py")
    assert not glob_matches("src/**/*.py", "docs/c.py")
    assert glob_matches("*.md", "README.md")
    assert not glob_matches("*.md", "docs/README.md")  # `*` stays within one part
    assert glob_matches("**", "any/thing")
    assert glob_matches("src/[ab].py", "src/a.py")


def test_night_window_crossing_midnight() -> None:
    late = Night.parse("22:00", "06:00", UTC)
    assert late.contains(datetime(2026, 5, 1, 23, 0, tzinfo=UTC))
    assert late.contains(datetime(2026, 5, 2, 5, 59, tzinfo=UTC))
    assert not late.contains(datetime(2026, 5, 2, 6, 0, tzinfo=UTC))
    assert late.next_start(NOW) == datetime(2026, 5, 1, 22, 0, tzinfo=UTC)
    assert NIGHT.next_start(NOW) == datetime(2026, 5, 2, 1, 0, tzinfo=UTC)


def test_the_day_window_is_the_hours_outside_the_night() -> None:
    day = NIGHT.day()
    assert day.contains(NOW) and not NIGHT.contains(NOW)
    three_am = datetime(2026, 5, 2, 3, 0, tzinfo=UTC)
    assert not day.contains(three_am) and NIGHT.contains(three_am)
    # Its edges: the night's end opens it, the night's start closes it.
    assert day.contains(datetime(2026, 5, 2, 7, 0, tzinfo=UTC))
    assert not day.contains(datetime(2026, 5, 2, 1, 0, tzinfo=UTC))
    assert day.next_start(three_am) == datetime(2026, 5, 2, 7, 0, tzinfo=UTC)
    # In the person's zone: a Paris night of 01:00-07:00 is 23:00-05:00 UTC in May.
    paris = Night.parse("01:00", "07:00", ZoneInfo("Europe/Paris"))
    assert not paris.day().contains(datetime(2026, 5, 1, 23, 30, tzinfo=UTC))
    assert paris.day().next_start(datetime(2026, 5, 1, 23, 30, tzinfo=UTC)) == datetime(
        2026, 5, 2, 5, 0, tzinfo=UTC
    )
    at_night = parse_schedule(
        at=None, cron=None, window="day", on_change=None, now=three_am, tz=UTC, night=NIGHT
    )
    assert (at_night.kind, at_night.expr) == ("window", "day")
    assert at_night.not_before == datetime(2026, 5, 2, 7, 0, tzinfo=UTC)
    by_day = parse_schedule(
        at=None, cron=None, window="day", on_change=None, now=NOW, tz=UTC, night=NIGHT
    )
    assert by_day.not_before == NOW
    assert parse_free_schedule("day", three_am, UTC, NIGHT).expr == "day"


def test_one_schedule_at_a_time() -> None:
    with pytest.raises(ScheduleError, match="give one schedule"):
        parse_schedule(
            at="12:00", cron="* * * * *", window=None, on_change=None, now=NOW, tz=UTC, night=NIGHT
        )
    with pytest.raises(ScheduleError, match="unknown window 'noon'"):
        parse_schedule(
            at=None, cron=None, window="noon", on_change=None, now=NOW, tz=UTC, night=NIGHT
        )
    s = parse_schedule(
        at=None, cron="0 3 * * *", window=None, on_change=None, now=NOW, tz=UTC, night=NIGHT
    )
    assert (s.kind, s.not_before) == ("cron", datetime(2026, 5, 2, 3, 0, tzinfo=UTC))


def test_tower_free_text_schedule() -> None:
    assert parse_free_schedule("night", NOW, UTC, NIGHT).kind == "window"
    assert parse_free_schedule("*/5 * * * *", NOW, UTC, NIGHT).kind == "cron"
    assert parse_free_schedule("change:src/*.py", NOW, UTC, NIGHT).kind == "on_change"
    assert parse_free_schedule("2026-06-01T01:00", NOW, UTC, NIGHT).kind == "at"
    assert parse_free_schedule("", NOW, UTC, NIGHT).kind == "now"
    with pytest.raises(ScheduleError):
        parse_free_schedule("whenever", NOW, UTC, NIGHT)


def test_store_round_trip(tmp_path: Path) -> None:
    conn = open_store(tmp_path / "podium.duckdb")
    store = QueueStore(conn)
    prompt = 'it\'s "quoted" $(rm -rf /) `id`\nline two\n'
    task = store.add(
        Task(
            id=0,
            prompt=prompt,
            cwd=str(tmp_path),
            priority=3,
            allowed_tools=["Bash(git *)", "Edit"],
            not_before=NOW,
        )
    )
    got = store.get(task.id)
    assert got is not None
    assert got.prompt == prompt and got.allowed_tools == ["Bash(git *)", "Edit"]
    assert got.not_before == NOW and got.state == "queued"
    store.update(got, state="deferred", defer_until=NOW + timedelta(hours=1))
    assert [t.id for t in store.in_state("deferred")] == [task.id]
    run = store.add_run(
        Run(
            id=0,
            task_id=task.id,
            attempt=1,
            state="running",
            started_at=NOW,
            argv=["claude", "-p", "--", prompt],
        )
    )
    store.update_run(run, stream_offset=42, claude_session_id="abc")
    [again] = store.running_runs()
    assert again.argv[-1] == prompt and again.stream_offset == 42
    assert store.state("fill_enabled", False) is False
    store.set_state("fill_enabled", True)
    assert store.state("fill_enabled") is True
    conn.close()
    # Reopened (an engine restart): everything is still there.
    conn = open_store(tmp_path / "podium.duckdb")
    assert QueueStore(conn).state("fill_enabled") is True
    assert QueueStore(conn).get(task.id).state == "deferred"  # type: ignore[union-attr]


def test_headless_argv_has_no_prompt_and_every_value_inside_its_option() -> None:
    task = Task(
        id=1,
        prompt="-starts with a dash",
        cwd="/",
        model="sonnet",
        max_turns=3,
        budget_usd=0.5,
        allowed_tools=["Bash(git *)", "Edit"],
        permission_mode="acceptEdits",
    )
    argv = headless_argv(task, "/bin/claude", resume_id=None)
    assert argv[:4] == ["/bin/claude", "-p", "--output-format=stream-json", "--verbose"]
    # The prompt goes on stdin (any size; a 128 KiB argument is Linux's limit).
    assert task.prompt not in argv
    # Each value inside its option: none can pass for an option of its own.
    assert argv[4:] == [
        "--model=sonnet", "--max-turns=3", "--max-budget-usd=0.5", "--permission-mode=acceptEdits",
        "--allowedTools=Bash(git *)", "--allowedTools=Edit",
    ]  # fmt: skip
    sid = "5764008a-f82f-46dd-80a9-0507eb7b5e25"
    resumed = headless_argv(task, "/bin/claude", resume_id=sid)
    assert resumed[-1] == f"--resume={sid}"
    spoofed = "--dangerously-skip-permissions"
    with pytest.raises(AgentError, match="not a Claude session id"):
        headless_argv(task, "/bin/claude", resume_id=spoofed)


class _Engine:
    """What the scheduler's stream pruning needs of an engine: a store and a thread."""

    def __init__(self, tmp_path: Path) -> None:
        self.conn = open_store(tmp_path / "podium.duckdb")
        self.paths = Paths(data=tmp_path, runtime=tmp_path)
        self.settings = Settings()

    async def blocking(self, fn: Any, *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    def runner(self, store: QueueStore, **parts: Any) -> Runner:
        s = self.settings
        return Runner(
            store,
            tmux=None,  # type: ignore[arg-type]
            paths=self.paths,
            agents=s.agents,
            fill=s.fill,
            tmux_settings=s.tmux,
            blocking=self.blocking,
            record_usage=None,  # type: ignore[arg-type]
            **parts,
        )

    def scheduler(self) -> Scheduler:
        store = QueueStore(self.conn)
        return Scheduler(
            store,
            self.runner(store),
            conn=self.conn,
            registry=None,  # type: ignore[arg-type]
            usage=None,  # type: ignore[arg-type]
            bus=EventBus(),
            settings=self.settings.fill,
            blocking=self.blocking,
            spawn=None,  # type: ignore[arg-type]
        )


def test_streams_of_runs_over_a_month_ago_are_deleted_and_the_runs_kept(tmp_path: Path) -> None:
    engine = _Engine(tmp_path)
    sched = engine.scheduler()
    store = sched.store
    task = store.add(Task(id=0, prompt="p", cwd=str(tmp_path)))
    streams = []
    for ended_days_ago in (31, 29, None):  # None: still running
        path = tmp_path / f"run-{len(streams)}.jsonl"
        path.write_text('{"type":"result"}\n')
        path.with_suffix(".prompt").write_text("p")
        run = store.add_run(
            Run(id=0, task_id=task.id, attempt=1, state="running", started_at=NOW - timedelta(40))
        )
        fields: dict[str, Any] = {"stream_path": str(path), "total_cost_usd": 0.5}
        if ended_days_ago is not None:
            fields.update(state="done", ended_at=NOW - timedelta(days=ended_days_ago))
        store.update_run(run, **fields)
        streams.append(path)
    assert asyncio.run(sched.prune_streams(NOW)) == 1
    assert [p.exists() for p in streams] == [False, True, True]
    # The prompt each run read on stdin goes with its stream.
    assert [p.with_suffix(".prompt").exists() for p in streams] == [False, True, True]
    old, recent, running = store.runs(task.id)
    assert old.stream_path is None and old.total_cost_usd == 0.5  # the figures stay
    assert recent.stream_path == str(streams[1]) and running.stream_path == str(streams[2])
    assert asyncio.run(sched.prune_streams(NOW)) == 0  # nothing left to do


def test_the_run_viewer_skips_a_line_nested_too_deep() -> None:
    # A model's tool input is copied into the stream: it can nest past the parser.
    from sessions.stream_view import _show

    read, write = os.pipe()
    try:
        _show(write, b'{"type":"assistant","message":' + b"[" * 100_000)
        os.set_blocking(read, False)
        with pytest.raises(BlockingIOError):
            os.read(read, 100)  # nothing shown, nothing raised
    finally:
        os.close(read)
        os.close(write)


def test_a_runs_stream_nested_too_deeply_is_passed_over(tmp_path: Path) -> None:
    """The stream is written by an agent working in someone else's repo: a line nested
    100,000 deep is skipped, and the result after it still settles the run."""
    engine = _Engine(tmp_path)
    store = QueueStore(engine.conn)
    runner = engine.runner(store)
    task = store.add(Task(id=0, prompt="p", cwd=str(tmp_path)))
    path = tmp_path / "run.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(
        '{"type":"system","x":' + deep + "}\n" + deep + '\n{"type":"result","result":"ok"}\n'
    )
    run = store.add_run(Run(id=0, task_id=task.id, attempt=1, state="running", started_at=NOW))
    store.update_run(run, stream_path=str(path))
    result = runner._read(run)
    assert result == {"type": "result", "result": "ok"}
    assert run.stream_offset == path.stat().st_size


def test_a_json_column_that_does_not_decode_is_an_empty_list(tmp_path: Path) -> None:
    store = QueueStore(open_store(tmp_path / "podium.duckdb"))
    task = store.add(Task(id=0, prompt="p", cwd=str(tmp_path), allowed_tools=["Read"]))
    deep = "[" * 100_000 + "]" * 100_000
    store.conn.execute("UPDATE queue_tasks SET allowed_tools = ? WHERE id = ?", [deep, task.id])
    [again] = store.tasks()
    assert again.allowed_tools == []
    store.conn.execute("INSERT INTO queue_state (key, value) VALUES ('fill', ?)", [deep])
    assert store.state("fill", "default") == "default"


def test_the_run_view_passes_over_deep_lines(tmp_path: Path) -> None:
    import os

    from sessions.stream_view import _show

    deep = b"[" * 100_000 + b"]" * 100_000
    read, write = os.pipe()
    try:
        for line in (deep, b'{"type":"x","y":' + deep + b"}", b'{"type":"result","result":"ok"}'):
            _show(write, line)
        os.close(write)
        with os.fdopen(read, "rb") as out:
            shown = out.read().decode()
    finally:
        with contextlib.suppress(OSError):
            os.close(write)
    assert "ok" in shown and shown.count("\n") == 1


def test_a_run_learns_its_panes_end_from_a_sweep_begun_after_it_started(tmp_path: Path) -> None:
    """The runner polls no tmux itself: the engine's sweep passes its panes in. A sweep
    whose `list-panes` began before the run's pane existed says nothing of that pane."""
    from sessions.tmux import PaneInfo

    engine = _Engine(tmp_path)
    store = QueueStore(engine.conn)
    runner = engine.runner(store)
    task = store.add(Task(id=0, prompt="p", cwd=str(tmp_path)))
    store.update(task, state="running")
    run = store.add_run(Run(id=0, task_id=task.id, attempt=1, state="running", started_at=NOW))
    store.update_run(run, pane_id="%5", pid=42)
    runner._started[run.id] = 100.0
    pane = PaneInfo("$1", "podium", "@1", "q1", 1, "%5", 42, False, None, "claude", True, True,
                    False, 0, "")  # fmt: skip

    async def check() -> str:
        [current] = store.running_runs() or [run]
        seen, found = runner._pane_of(current)
        await runner._check(current, found, seen)
        return store.runs(task.id)[0].state

    runner.after_sweep([], 99.0)  # began before the spawn: the pane is not missing
    assert asyncio.run(check()) == "running"
    runner.after_sweep([pane], 101.0)
    assert asyncio.run(check()) == "running"
    runner.after_sweep([], 102.0)  # gone since: interrupted, the task tried again later
    assert asyncio.run(check()) == "interrupted"
    assert store.get(task.id).state == "deferred"  # type: ignore[union-attr]


@pytest.mark.parametrize("official", [True, False])
def test_a_limit_without_a_reset_time_defers_to_the_official_one(
    tmp_path: Path, official: bool
) -> None:
    """A 429 whose stream and text name no reset: the official figures' reset of the
    full window, not a guess of 30 minutes (the guess only when they know none)."""
    engine = _Engine(tmp_path)
    store = QueueStore(engine.conn)
    reset = datetime.now(UTC) + timedelta(hours=3, minutes=7)
    runner = engine.runner(store, full_until=lambda now: reset if official else None)
    task = store.add(Task(id=0, prompt="p", cwd=str(tmp_path)))
    store.update(task, state="running")
    run = store.add_run(Run(id=0, task_id=task.id, attempt=1, state="running", started_at=NOW))
    result = {"type": "result", "is_error": True, "api_error_status": 429, "result": "API Error"}
    before = datetime.now(UTC)
    asyncio.run(runner._finish(run, result))
    [ended] = store.runs(task.id)
    assert ended.state == "limited"
    waits = store.get(task.id).defer_until
    assert waits is not None
    if official:
        assert ended.resets_at == reset == waits
    else:
        # Nobody knows the reset: the run says so, and the task waits the guess.
        assert ended.resets_at is None
        assert before + UNKNOWN_RESET <= waits <= datetime.now(UTC) + UNKNOWN_RESET


def _live_run(store: QueueStore, tmp_path: Path, task: Task, lines: list[str], **run: Any) -> Run:
    path = tmp_path / f"run-{task.id}.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    added = store.add_run(
        Run(id=0, task_id=task.id, attempt=run.pop("attempt", 1), state="running", **run)
    )
    store.update_run(added, stream_path=str(path))
    return added


def _assistant(msg_id: str, inp: int, out: int = 1) -> str:
    usage = {"input_tokens": inp, "output_tokens": out, "cache_creation_input_tokens": 0,
             "cache_read_input_tokens": 0}  # fmt: skip
    message = {"id": msg_id, "model": "claude-sonnet-4-5", "role": "assistant", "usage": usage}
    return json.dumps({"type": "assistant", "message": message, "session_id": "s"})


def test_the_new_columns_round_trip(tmp_path: Path) -> None:
    store = QueueStore(open_store(tmp_path / "p.duckdb"))
    task = store.add(Task(id=0, prompt="p", cwd="/", estimate="5%5h", budget="2k", timeout_s=45))
    again = store.get(task.id)
    assert again is not None
    assert (again.estimate, again.budget, again.timeout_s) == ("5%5h", "2k", 45)
    assert task.to_wire().budget == "2k"


def test_a_run_past_its_token_budget_is_stopped_with_the_reason(tmp_path: Path) -> None:
    engine = _Engine(tmp_path)
    store = QueueStore(engine.conn)
    ended: list[Run] = []
    runner = engine.runner(store, capacity=lambda window: 1_000_000.0)
    runner.on_change.append(ended.append)
    task = store.add(Task(id=0, prompt="p", cwd="/", budget="2k", state="running"))
    # Two lines of one answer (counted once), then a second answer past the budget.
    lines = [_assistant("m1", 1500), _assistant("m1", 1500), _assistant("m2", 1000, 3)]
    run = _live_run(store, tmp_path, task, lines, started_at=datetime.now(UTC))
    asyncio.run(runner._check(run, None, seen=False))
    [stopped] = store.runs(task.id)
    reason = "stopped at its budget 2k: 2,520 of 2,000 weighted tokens"
    assert (stopped.state, stopped.result, stopped.terminal_reason) == ("failed", reason, "budget")
    final = store.get(task.id)
    assert final is not None and (final.state, final.last_result) == ("failed", reason)
    assert ended == [run]
    assert runner.spend(run.id) is None  # a live run's only


def test_a_share_budget_counts_in_the_windows_capacity_and_earlier_runs(tmp_path: Path) -> None:
    engine = _Engine(tmp_path)
    store = QueueStore(engine.conn)
    capacity = {"seven_day": 100_000.0}
    runner = engine.runner(store, capacity=capacity.__getitem__)
    task = store.add(Task(id=0, prompt="p", cwd="/", budget="5%week", state="running"))
    # A first run, limited and resumed, spent 4,000 already.
    earlier = store.add_run(Run(id=0, task_id=task.id, attempt=1, state="limited", started_at=NOW))
    store.update_run(earlier, input_tokens=4000, output_tokens=0)
    run = _live_run(store, tmp_path, task, [_assistant("m", 500)], attempt=2,
                    started_at=datetime.now(UTC))  # fmt: skip
    asyncio.run(runner._check(run, None, seen=False))
    assert store.get(task.id).state == "running"  # type: ignore[union-attr]
    spend = runner.spend(run.id)
    assert spend is not None and spend.weighted_tokens == 505
    assert spend.by_model == {"claude-sonnet-4-5": 505}
    run.stream_offset = Path(run.stream_path or "").stat().st_size
    with open(run.stream_path or "", "a") as fh:
        fh.write(_assistant("m2", 600) + "\n")
    asyncio.run(runner._check(run, None, seen=False))
    final = store.get(task.id)
    assert final is not None and final.state == "failed"
    assert final.last_result == (
        "stopped at its budget 5%week: 5,110 of 5,000 weighted tokens "
        "(with 4,000 of its earlier runs)"
    )


def test_a_run_past_its_timeout_is_stopped(tmp_path: Path) -> None:
    engine = _Engine(tmp_path)
    store = QueueStore(engine.conn)
    runner = engine.runner(store)
    task = store.add(Task(id=0, prompt="p", cwd="/", timeout_s=2700, state="running"))
    run = _live_run(store, tmp_path, task, [], started_at=datetime.now(UTC) - timedelta(minutes=44))
    asyncio.run(runner._check(run, None, seen=False))
    assert store.get(task.id).state == "running"  # type: ignore[union-attr]
    assert runner._over_limits(run, datetime.now(UTC) + timedelta(minutes=1)) == (
        "timed out after 45m"
    )
    run.started_at -= timedelta(minutes=2)
    asyncio.run(runner._check(run, None, seen=False))
    final = store.get(task.id)
    assert final is not None and (final.state, final.last_result) == (
        "failed",
        "timed out after 45m",
    )
    [stopped] = store.runs(task.id)
    assert stopped.terminal_reason == "timeout" and stopped.is_error is True


def test_an_adopted_run_counts_what_the_last_engine_read(tmp_path: Path) -> None:
    engine = _Engine(tmp_path)
    store = QueueStore(engine.conn)
    runner = engine.runner(store)
    task = store.add(Task(id=0, prompt="p", cwd="/", state="running"))
    run = _live_run(store, tmp_path, task, [_assistant("m1", 700)], started_at=NOW)
    store.update_run(run, stream_offset=Path(run.stream_path or "").stat().st_size)
    with open(run.stream_path or "", "a") as fh:
        fh.write(_assistant("m2", 300) + "\n")
    runner._read(run)
    spend = runner.spend(run.id)
    assert spend is not None and spend.weighted_tokens == 700 + 5 + 300 + 5


def test_a_tasks_estimate_in_weighted_tokens() -> None:
    capacity = {"five_hour": 200_000.0, "seven_day": 1_600_000.0}.__getitem__
    assert Task(id=1, prompt="p", cwd="/", estimate="2%week").estimate_units(capacity) == 32_000
    assert Task(id=1, prompt="p", cwd="/", estimate="50k").estimate_units(capacity) == 50_000
    assert Task(id=1, prompt="p", cwd="/", est_pct=5.0).estimate_units(capacity) == 10_000
    assert Task(id=1, prompt="p", cwd="/").estimate_units(capacity) is None
    hand_edited = Task(id=1, prompt="p", cwd="/", estimate="lots", est_pct=1.0)
    assert hand_edited.estimate_units(capacity) == 2_000


def test_a_sweep_while_a_run_launches_does_not_call_it_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's row exists before its pane: a sweep whose list-panes ran in between
    once marked a resumed run `interrupted` while it started, and its task stayed
    `running` with no run at all."""
    engine = _Engine(tmp_path)
    store = QueueStore(engine.conn)
    seen_during: list[tuple[bool, Any]] = []

    class Spawning:
        def spawn(self, *args: Any, **kw: Any) -> Any:
            # The engine's sweep runs now and finds no pane for the new run.
            runner.after_sweep([], time.monotonic())
            [live] = store.running_runs()
            seen_during.append(runner._pane_of(live))
            return SimpleNamespace(window_id="@1", pane_id="%1", pid=4242)

    runner = engine.runner(store, may_start_server=lambda: True)
    runner.tmux = Spawning()  # type: ignore[assignment]
    monkeypatch.setattr("sessions.fill.runner.resolve_bin", lambda name: "/bin/true")
    task = store.add(Task(id=0, prompt="p", cwd=str(tmp_path)))
    run = asyncio.run(runner.start(task))
    assert seen_during == [(False, None)]  # not looked at yet: not gone
    assert store.get(task.id).state == "running"
    # Once started, a sweep that does not find its pane does call it gone.
    runner.after_sweep([], time.monotonic() + 1)
    assert runner._pane_of(store.runs(task.id)[0]) == (True, None)
    assert run.id == store.runs(task.id)[0].id


def test_a_task_left_running_without_a_run_is_queued_again_at_start(tmp_path: Path) -> None:
    engine = _Engine(tmp_path)
    store = QueueStore(engine.conn)
    task = store.add(Task(id=0, prompt="p", cwd=str(tmp_path)))
    store.update(task, state="running")
    store.add_run(Run(id=0, task_id=task.id, attempt=1, state="interrupted", started_at=NOW))
    asyncio.run(engine.runner(store).recover())
    again = store.get(task.id)
    assert again.state == "queued" and "no run was live" in (again.last_result or "")
