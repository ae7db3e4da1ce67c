"""The fill policy: reserve by time of day, weekly pacing, limits, concurrency, pauses."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sessions.fill.policy import (
    HumanUse,
    PolicyConfig,
    ReserveRule,
    RunningView,
    TaskView,
    Window,
    decide,
    reserve_pct,
)

WEEKDAYS = frozenset(range(5))
BERLIN = ZoneInfo("Europe/Berlin")
RULES = (ReserveRule(30, WEEKDAYS, time(9), time(19)), ReserveRule(5))
IDLE = HumanUse(pct_per_hour_now=0, forecast_pct_next_hours=0, active_sessions=0)
MON = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday; the week resets on the next one


def config(**kw: object) -> PolicyConfig:
    base: dict[str, object] = {"reserve": RULES, "tz": UTC, "weekly_per_five_hour": 1 / 6}
    return PolicyConfig(**{**base, **kw})  # type: ignore[arg-type]


def windows(
    now: datetime, five: float = 0, week: float = 0, five_resets: datetime | None = None
) -> list[Window]:
    return [
        Window("five_hour", five, five_resets, timedelta(hours=5)),
        Window("seven_day", week, MON + timedelta(days=7), timedelta(days=7)),
    ]


def task(id: str = "t", est: float = 20, priority: int = 0, **kw: object) -> TaskView:
    return TaskView(id, priority, est, **kw)  # type: ignore[arg-type]


def actions(ds: list) -> list[tuple[str, str | None]]:
    return [(d.action, d.task_id) for d in ds]


# -- reserve by time of day ---------------------------------------------------------------


def test_reserve_follows_the_local_clock_of_the_configured_zone() -> None:
    berlin = config(tz=BERLIN)
    # 08:30 UTC is 09:30 in Berlin (CET): working hours there, not in UTC.
    at = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    assert reserve_pct(berlin, at, at) == 30
    assert reserve_pct(config(), at, at) == 5
    # Saturday: the weekday rule does not match; the catch-all does.
    sat = datetime(2026, 11, 7, 12, tzinfo=UTC)
    assert reserve_pct(config(), sat, sat) == 5


def test_reserve_covers_what_is_left_of_the_window() -> None:
    # At 07:00 the rule says 5%, but the window is open until 10:00: by 09:00
    # the 30% must still be there.
    at = MON + timedelta(hours=7)
    assert reserve_pct(config(), at, at + timedelta(hours=3)) == 30
    assert reserve_pct(config(), at, at + timedelta(hours=1)) == 5
    # An overnight rule (22:00-06:00) matches on both sides of midnight.
    night = config(reserve=(ReserveRule(50, start=time(22), end=time(6)), ReserveRule(0)))
    assert reserve_pct(night, MON + timedelta(hours=23), MON + timedelta(hours=23)) == 50
    assert reserve_pct(night, MON + timedelta(hours=3), MON + timedelta(hours=3)) == 50
    assert reserve_pct(night, MON + timedelta(hours=12), MON + timedelta(hours=12)) == 0


def test_daytime_reserve_holds_a_task_the_night_would_launch() -> None:
    late = MON + timedelta(days=6, hours=20)  # late in the week: pacing allows plenty
    night = decide(late, windows(late, five=60), config(), [task(est=30)], [], IDLE)
    assert actions(night) == [("launch", "t")]  # 60 + 30 <= 100 - 5
    day = MON + timedelta(days=4, hours=10)  # Friday 10:00
    held = decide(day, windows(day, five=60, week=50), config(), [task(est=30)], [], IDLE)
    assert actions(held) == [("hold", "t")]
    assert "5-hour reserve: 30% kept for you" in held[0].reason


def test_forecast_human_use_is_kept_on_top_of_the_reserve() -> None:
    at = MON + timedelta(days=6, hours=20)
    busy_soon = HumanUse(pct_per_hour_now=0, forecast_pct_next_hours=40, active_sessions=0)
    held = decide(at, windows(at, five=30), config(), [task(est=30)], [], busy_soon)
    assert actions(held) == [("hold", "t")] and "40% forecast" in held[0].reason


def test_a_reserve_of_the_whole_window_launches_nothing_however_small() -> None:
    at = MON + timedelta(days=6, hours=20)
    whole = config(reserve=(ReserveRule(100),))
    held = decide(at, windows(at), whole, [task(est=1)], [], IDLE)
    assert actions(held) == [("hold", "t")] and "100% kept for you" in held[0].reason
    # A task bigger than what the reserve leaves still starts in an empty window.
    big = decide(at, windows(at), config(reserve=(ReserveRule(90),)), [task(est=50)], [], IDLE)
    assert actions(big) == [("launch", "t")]


# -- weekly pacing ------------------------------------------------------------------------


def test_weekly_pacing_holds_early_in_the_week_and_spends_late() -> None:
    human = HumanUse(0, 0, 0, forecast_week_pct=30, week_used_pct=10)
    early = MON + timedelta(days=1)  # 1/7 of the week gone
    held = decide(early, windows(early, week=20), config(), [task(est=30)], [], human)
    assert actions(held) == [("hold", "t")]
    assert held[0].reason.startswith("weekly pacing")
    # The same state in the last window before the reset: everything spare goes.
    late = MON + timedelta(days=6, hours=20)
    assert actions(decide(late, windows(late, week=20), config(), [task(est=30)], [], human)) == [
        ("launch", "t")
    ]


def test_weekly_pacing_never_spends_what_the_human_is_forecast_to_need() -> None:
    late = MON + timedelta(days=6, hours=21)
    # 90% used, the human will need 7% more, margin 2%: 1% left, the task needs 5%.
    human = HumanUse(0, 0, 0, forecast_week_pct=7, week_used_pct=60)
    held = decide(late, windows(late, week=90), config(), [task(est=30)], [], human)
    assert actions(held) == [("hold", "t")]
    assert "weekly pacing" in held[0].reason


def test_pacing_spreads_fill_by_the_share_of_the_week_gone() -> None:
    # Half the week gone, the human used 20% and will use 20% more: fill may
    # have spent half of 100 - 2 - 40 = 58%, i.e. the week may stand at 49%.
    mid = MON + timedelta(days=3, hours=12)
    human = HumanUse(0, 0, 0, forecast_week_pct=20, week_used_pct=20)
    small = task(est=6)  # 1% of the week
    assert decide(mid, windows(mid, week=48.5), config(), [small], [], human)[0].action == "launch"
    # Ahead of the line it waits, and says until when the line passes it.
    held = decide(mid, windows(mid, week=49.5), config(), [small], [], human)[0]
    assert held.action == "hold" and held.until is not None
    assert mid < held.until < MON + timedelta(days=4), held.reason
    assert "ahead of the week's line" in held.reason


# -- limits -------------------------------------------------------------------------------


def test_a_spent_window_defers_every_due_task_until_its_reset() -> None:
    at = MON + timedelta(days=2, hours=3)
    resets = at + timedelta(hours=2)
    queue = [task("a"), task("b"), task("later", not_before=at + timedelta(hours=8))]
    ds = decide(at, windows(at, five=100, five_resets=resets), config(), queue, [], IDLE)
    assert actions(ds) == [("defer", "a"), ("defer", "b")]
    assert all(d.until == resets for d in ds)
    assert "five_hour limit reached" in ds[0].reason
    # The weekly one too; with both spent, the later reset wins.
    week_spent = [
        Window("five_hour", 100, resets, timedelta(hours=5)),
        Window("seven_day", 100, MON + timedelta(days=7), timedelta(days=7)),
    ]
    ds = decide(at, week_spent, config(), queue, [], IDLE)
    assert {d.until for d in ds} == {MON + timedelta(days=7)}


def test_a_task_deferred_by_the_runner_waits_and_the_hold_says_until_when() -> None:
    at = MON + timedelta(days=6, hours=20)
    until = at + timedelta(minutes=30)
    ds = decide(at, windows(at), config(), [task(defer_until=until)], [], IDLE)
    assert actions(ds) == [("hold", None)] and ds[0].until == until
    assert ds[0].reason == "no task is due"
    assert decide(at, windows(at), config(), [], [], IDLE)[0].reason == "the queue is empty"


# -- concurrency and order ----------------------------------------------------------------


def test_concurrency_cap_and_priority_order() -> None:
    at = MON + timedelta(days=6, hours=20)
    queue = [task("low", est=10), task("high", est=10, priority=5), task("mid", est=10, priority=2)]
    two = config(max_concurrent=2)
    assert actions(decide(at, windows(at), two, queue, [], IDLE)) == [
        ("launch", "high"),
        ("launch", "mid"),
    ]
    one_running = [RunningView("r", at - timedelta(minutes=5), 2, est_pct=10)]
    assert actions(decide(at, windows(at), two, queue, one_running, IDLE)) == [("launch", "high")]
    full = [*one_running, RunningView("s", at, 0, est_pct=10)]
    ds = decide(at, windows(at), two, queue, full, IDLE)
    assert actions(ds) == [("hold", "high")] and "the cap is 2" in ds[0].reason


def test_what_running_tasks_still_need_is_counted_before_launching() -> None:
    at = MON + timedelta(days=6, hours=20)
    running = [RunningView("r", at - timedelta(minutes=10), 10, est_pct=60)]
    # 20 used + 50 still to come + 30 > 95.
    held = decide(at, windows(at, five=20), config(max_concurrent=3), [task(est=30)], running, IDLE)
    assert actions(held) == [("hold", "t")]


# -- pausing ------------------------------------------------------------------------------


def test_busy_human_and_threatened_reserve_pause_fill_in_interrupt_mode() -> None:
    at = MON + timedelta(hours=10)  # Monday 10:00, 30% reserve
    resets = at + timedelta(hours=2)
    busy = HumanUse(pct_per_hour_now=20, forecast_pct_next_hours=0, active_sessions=1)
    running = [
        RunningView("old", at - timedelta(minutes=30), 20, est_pct=40),
        RunningView("new", at - timedelta(minutes=5), 5, est_pct=40),
    ]
    win = windows(at, five=40, five_resets=resets)
    ds = decide(at, win, config(pause_mode="interrupt", max_concurrent=3), [task()], running, busy)
    # 40 used + 55 still to come + 40 for the human > 70: pause, newest first,
    # until the rest fits (without "new": 40 + 20 + 40 = 100 > 70, so both).
    assert actions(ds) == [("pause", "new"), ("pause", "old"), ("hold", "t")]
    assert "your reserve is threatened" in ds[0].reason
    # Finish mode lets them run out but launches nothing...
    finish = config(pause_mode="finish", max_concurrent=3)
    ds = decide(at, win, finish, [task()], running[:1], busy)
    assert actions(ds) == [("hold", "t")] and "launching nothing" in ds[0].reason
    # ...unless finishing would run the person out of the window itself (40 used +
    # 55 to come + 40 > 100): then the newest stops until the rest fits in 100.
    ds = decide(at, win, finish, [task()], running, busy)
    assert actions(ds) == [("pause", "new"), ("hold", "t")]


def test_no_pause_while_the_human_is_away_and_the_reserve_is_whole() -> None:
    at = MON + timedelta(hours=10)
    running = [RunningView("r", at - timedelta(minutes=5), 5, est_pct=20)]
    ds = decide(at, windows(at, five=30), config(pause_mode="interrupt"), [task()], running, IDLE)
    assert [d.action for d in ds] == ["hold"]  # at the cap of 1, nothing paused


# -- model-scoped weeks, the night's budget, a fresh week ------------------------------

SONNET = "seven_day_sonnet"


def sonnet_windows(now: datetime, sonnet: float, week: float = 10) -> list[Window]:
    return [
        *windows(now, week=week),
        Window(SONNET, sonnet, MON + timedelta(days=7), timedelta(days=7)),
    ]


def test_a_spent_model_week_defers_its_tasks_and_launches_the_rest() -> None:
    at = MON + timedelta(days=3)
    on_sonnet = task("s", est=10, priority=2, windows=("seven_day", SONNET))
    other = task("o", est=10)
    ds = decide(at, sonnet_windows(at, 100), config(max_concurrent=2), [on_sonnet, other], [], IDLE)
    assert actions(ds) == [("defer", "s"), ("launch", "o")]
    assert ds[0].until == MON + timedelta(days=7) and "weekly sonnet limit" in ds[0].reason


def test_a_task_runs_on_its_fallback_when_its_models_week_has_no_room() -> None:
    at = MON + timedelta(days=3)
    either = task(
        "e", est=10, windows=("seven_day", SONNET), fallback="opus", fallback_windows=("seven_day",)
    )
    ds = decide(at, sonnet_windows(at, 100), config(), [either], [], IDLE)
    assert actions(ds) == [("launch", "e")] and ds[0].model == "opus"
    assert "on opus, its fallback" in ds[0].reason
    # With room on its own model it stays there.
    ds = decide(at, sonnet_windows(at, 0), config(), [either], [], IDLE)
    assert ds[0].model is None


def test_a_model_week_ahead_of_its_line_holds_only_its_own_tasks() -> None:
    at = MON + timedelta(days=1)  # 1/7 of the week gone: the Sonnet line is low
    on_sonnet = task("s", est=10, priority=2, windows=("seven_day", SONNET))
    ds = decide(
        at, sonnet_windows(at, 60), config(max_concurrent=2), [on_sonnet, task("o")], [], IDLE
    )
    assert actions(ds) == [("hold", "s"), ("launch", "o")]
    assert ds[0].reason.startswith("weekly sonnet pacing")


def test_the_night_has_a_budget_of_its_own() -> None:
    night = config(night_start=time(1), night_end=time(7), night_budget_pct=3.0)
    at = MON + timedelta(days=6, hours=3)  # 03:00, late in the week: plenty to spend
    # 5-hour 30% is 5% of the week (ratio 1/6): 2% spent tonight + 5% > 3%.
    ds = decide(at, windows(at), night, [task(est=30)], [], IDLE, fill_tonight_pct=2.0)
    assert actions(ds) == [("hold", "t")] and ds[0].kind == "night_budget"
    assert decide(at, windows(at), night, [task(est=6)], [], IDLE)[0].action == "launch"
    # By day the night's budget does not apply.
    day = MON + timedelta(days=6, hours=12)
    assert (
        decide(day, windows(day), night, [task(est=30)], [], IDLE, fill_tonight_pct=9)[0].action
        == "launch"
    )


def test_the_first_minutes_of_a_fresh_week_launch_when_the_reserve_allows() -> None:
    # Once the week stood at "0.0% used, paced to 0.1%, needs 0.1%" and held for 13 minutes.
    at = MON + timedelta(minutes=1)
    ds = decide(at, windows(at, week=0.0), config(), [task(est=3)], [], IDLE)
    assert actions(ds) == [("launch", "t")]
    # Ahead of the line it says in words when it goes on.
    ahead = decide(at, windows(at, week=1.0), config(), [task(est=3)], [], IDLE)[0]
    assert ahead.action == "hold" and ahead.until is not None
    assert "ahead of the week's line" in ahead.reason and "launches when" in ahead.reason


def test_fill_catches_up_when_the_hours_left_will_leave_it_no_room() -> None:
    # Early Tuesday, fill ahead of the week's line: it waits...
    at = MON + timedelta(days=1, hours=2)
    human = HumanUse(0, 0, 0, forecast_week_pct=40, week_used_pct=5)
    steady = decide(at, windows(at, week=20), config(), [task(est=12)], [], human)
    assert steady[0].action == "hold" and "ahead of the week's line" in steady[0].reason
    # ...unless the person will be busy every hour until the reset (19% of the
    # 5-hour window each hour leaves nothing beside a 5% reserve): what fill has
    # left to spend then goes now.
    busy_to_the_end = HumanUse(
        0, 0, 0, forecast_week_pct=40, week_used_pct=5, hours_ahead=(19.0,) * 142
    )
    ds = decide(at, windows(at, week=20), config(), [task(est=12)], [], busy_to_the_end)
    assert ds[0].action == "launch"
    # Room enough ahead: the steady pace again.
    idle_ahead = HumanUse(0, 0, 0, forecast_week_pct=40, week_used_pct=5, hours_ahead=(0.0,) * 142)
    assert (
        decide(at, windows(at, week=20), config(), [task(est=12)], [], idle_ahead)[0].action
        == "hold"
    )
