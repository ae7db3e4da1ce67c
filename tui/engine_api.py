"""The engine methods the tower calls beyond sessions, typed by `sessions.wire`.

Usage windows and reports, the background queue and fill mode, the stage. Every
function takes `request` (`EngineClient.request`, run in a link worker thread)
and returns the wire's Structs, so the screens read the fields the engine sends
and nothing else. The few helpers here are what the tower derives from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from collectors.report_args import local_tz_name
from collectors.windows import FIVE_HOUR, SEVEN_DAY, window_seconds
from sessions import wire
from sessions.protocol import ApiError
from tui.format import model_name

Request = Callable[..., Any]
"""`EngineClient.request(method, params)`: the method's result, typed."""


# -- time helpers ------------------------------------------------------------------
def parse_time(value: str | None) -> datetime | None:
    """A wire time (ISO 8601) as an aware datetime; None if absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- usage windows -----------------------------------------------------------------
_WINDOW_ORDER = {FIVE_HOUR: 0, SEVEN_DAY: 1}


def window_label(window: str) -> str:
    """'5h', 'week', 'week opus' (model-scoped weekly windows)."""
    if window == FIVE_HOUR:
        return "5h"
    if window == SEVEN_DAY:
        return "week"
    if window.startswith(SEVEN_DAY + "_"):
        return "week " + window.removeprefix(SEVEN_DAY + "_").replace("_", " ")
    return window.replace("_", " ")


def window_length_s(window: str) -> float | None:
    """The length of a plan window; None for a name that is not one (nothing to pace)."""
    if window == FIVE_HOUR or window.startswith(SEVEN_DAY):
        return window_seconds(window)
    return None


def reset_in_s(w: wire.UsageWindow, now: datetime) -> float | None:
    resets_at = parse_time(w.resets_at)
    if resets_at is None:
        return None
    return max(0.0, (resets_at - now).total_seconds())


def pace_pct(w: wire.UsageWindow, now: datetime) -> float | None:
    """Where even spending would stand now: the share of the window already gone."""
    length, left = window_length_s(w.window), reset_in_s(w, now)
    if length is None or left is None:
        return None
    return min(100.0, max(0.0, 100.0 * (1 - left / length)))


def official(w: wire.UsageWindow) -> bool:
    """Numbers from Claude itself (statusline, headers, endpoint), not podium's estimate."""
    return w.source != "estimate"


def usage_windows(request: Request) -> list[wire.UsageWindow]:
    """Every window now: 5h first, then the week, then model-scoped ones."""
    windows = request(wire.USAGE_WINDOWS).windows
    return sorted(windows, key=lambda w: (_WINDOW_ORDER.get(w.window, 2), w.window))


# -- the usage screen ------------------------------------------------------------------
# The usage screen's plots: a name and the hours they span.
SERIES_SPANS: tuple[tuple[str, int], ...] = (("last 24 hours", 24), ("last 7 days", 7 * 24))
# The screen's tokens and unused-capacity tables cover the longest plot's days.
OVERVIEW_DAYS = 7


@dataclass(frozen=True)
class UsageOverview:
    """Everything the usage screen shows."""

    windows: list[wire.UsageWindow]
    # Per span of SERIES_SPANS: the highest % per plot column, per window.
    series: dict[str, wire.Series]
    tokens: list[wire.UsageRow]
    waste: wire.WasteReport
    # The last review's findings; None when the engine could not make one.
    review: wire.LatestReview | None = None


def usage_overview(
    request: Request, columns: int = 120, now: datetime | None = None
) -> UsageOverview:
    """The usage screen's data. The plots' series come cut into `columns` slices by
    the engine (in SQL): a week of minutes is 20k points per window, a plot shows a
    hundred or so columns. Resets are those of the plots' week: a year of them is a
    long report (`podium report waste`), not a screen."""
    # Days and resets are this machine's, as `podium report` counts them.
    tz = local_tz_name()
    series = {
        name: request(wire.USAGE_SERIES, wire.SeriesParams(hours=hours, buckets=columns))
        for name, hours in SERIES_SPANS
    }
    tokens = request(wire.REPORTS_USAGE, wire.UsageReportParams(days=OVERVIEW_DAYS, tz=tz)).rows
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(tz)).date()
    since = today - timedelta(days=OVERVIEW_DAYS - 1)
    waste = request(wire.REPORTS_WASTE, wire.WasteParams(tz=tz, since=since.isoformat()))
    try:
        review: wire.LatestReview | None = request(wire.REPORTS_REVIEW_LATEST, wire.NoParams())
    except ApiError:
        review = None  # the rest of the screen stands without it
    return UsageOverview(
        windows=usage_windows(request),
        series=series,
        tokens=tokens,
        waste=waste,
        review=review,
    )


@dataclass(frozen=True)
class DayTokens:
    """One day of the tokens table: tokens per model (by its name), their sum and cost."""

    day: str
    by_model: dict[str, int]
    tokens: int
    cost_usd: float | None
    unpriced: int


def tokens_by_day(rows: list[wire.UsageRow]) -> tuple[list[str], list[DayTokens]]:
    """`reports.usage` rows (by day and model) as days × models: the model names
    (`model_name`, so dated ids of one model are one column), most tokens first, and
    the days in order."""
    days: dict[str, DayTokens] = {}
    per_model: dict[str, int] = {}
    for row in rows:
        day = row.day if isinstance(row.day, str) else "?"
        model = model_name(row.model) if isinstance(row.model, str) else "?"
        per_model[model] = per_model.get(model, 0) + row.tokens
        was = days.get(day) or DayTokens(day, {}, 0, None, 0)
        cost = was.cost_usd
        if row.cost_usd is not None:
            cost = (cost or 0.0) + row.cost_usd
        by_model = {**was.by_model, model: was.by_model.get(model, 0) + row.tokens}
        days[day] = DayTokens(
            day, by_model, was.tokens + row.tokens, cost, was.unpriced + row.unpriced
        )
    models = sorted(per_model, key=lambda m: (-per_model[m], m))
    return models, [days[d] for d in sorted(days)]


# -- background queue and fill ------------------------------------------------------
def queue_list(request: Request) -> wire.QueueList:
    """Every task, the fill switch, the reserve in force and why each open task waits."""
    return request(wire.QUEUE_LIST, wire.QueueListParams(explain=True))


def queue_add(request: Request, task: wire.QueueAddParams) -> wire.Task:
    return request(wire.QUEUE_ADD, task)


def queue_cancel(request: Request, task_id: int) -> wire.TreeChange:
    return request(wire.QUEUE_CANCEL, wire.CancelParams(id=task_id))


def queue_tree(request: Request) -> wire.QueueTree:
    """Every task tree with an open task, each subtree's spend against its budget."""
    return request(wire.QUEUE_TREE, wire.TreeParams())


def queue_pause(request: Request, task_id: int) -> wire.TreeChange:
    """Pause the task and the open tasks under it."""
    return request(wire.QUEUE_PAUSE, wire.PauseParams(id=task_id))


def queue_resume(request: Request, task_id: int) -> wire.TreeChange:
    """Resume the task and the paused tasks under it."""
    return request(wire.QUEUE_RESUME, wire.PauseParams(id=task_id))


def queue_reprioritise(request: Request, task_id: int, priority: int) -> wire.Task:
    return request(wire.QUEUE_REPRIORITISE, wire.ReprioritiseParams(id=task_id, priority=priority))


def toggle_fill(request: Request) -> wire.FillState:
    """Switch background fill; the fill state after."""
    return request(wire.QUEUE_FILL, wire.FillParams(toggle=True))


def budget_text(task: wire.TaskRecord) -> str | None:
    """A task's budget as the queue shows it: its amount ('30%5h', '200k', '$2'), else its
    estimate ('~5%5h'; '5%' of the 5-hour window for tasks from before amounts)."""
    if task.budget:
        return task.budget
    if task.budget_usd is not None:
        return f"${task.budget_usd:g}"
    if task.estimate:
        return f"~{task.estimate}"
    if task.est_pct is not None:
        return f"{task.est_pct:g}%"
    return None


# -- the stage ----------------------------------------------------------------------
def show_session(request: Request, name: str) -> wire.FocusedSession:
    """Bring a session into view: on stage when the engine has one, else focus its pane."""
    try:
        return request(wire.STAGE_SHOW, wire.SessionRef(name=name))
    except ApiError as exc:
        if exc.code != "no_stage":
            raise
    # No `podium up` yet: focusing the pane is showing it.
    return request(wire.SESSIONS_FOCUS, wire.SessionRef(name=name))


def zoom_tower(request: Request, zoomed: bool, pane: str | None) -> bool:
    """Let the tower's pane (`pane`) fill the stage window, or give the sessions their
    places back; False when there is no stage to zoom."""
    try:
        return request(wire.STAGE_ZOOM, wire.ZoomParams(zoomed=zoomed, pane=pane)).zoomed
    except ApiError as exc:
        if exc.code != "no_stage":
            raise
        return False
