"""Engine methods the tower calls that other issues are still building.

Usage windows and reports (the usage log), the background queue and fill mode
(issue 6), and the stage (`stage.show`): their names and shapes live here
only, so that a renamed method or field is a change in this file. Every
function takes `call` (`EngineClient.call`, run in a link worker thread) and
returns plain data; a method this engine does not have gives `UNAVAILABLE`
instead of an error, and the screens say what is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sessions.engine.protocol import ApiError

Call = Callable[..., Any]

USAGE_WINDOWS = "usage.windows"
USAGE_SERIES = "usage.series"
REPORT_USAGE = "reports.usage"
REPORT_WASTE = "reports.waste"
QUEUE_LIST = "queue.list"
QUEUE_ADD = "queue.add"
QUEUE_CANCEL = "queue.cancel"
QUEUE_REPRIORITISE = "queue.reprioritise"
QUEUE_FILL = "queue.fill"
STAGE_SHOW = "stage.show"
STAGE_ZOOM = "stage.zoom"


class _Unavailable:
    """The engine has no such method (not merged yet, or an older engine)."""

    def __repr__(self) -> str:
        return "UNAVAILABLE"


UNAVAILABLE = _Unavailable()


def is_unknown_method(exc: ApiError) -> bool:
    # The server answers an unknown method with bad_request "unknown method 'x'".
    return exc.code in ("bad_request", "unknown_method") and "unknown method" in exc.message


def optional(call: Call, method: str, **params: Any) -> Any:
    """`call(method)`, or UNAVAILABLE when the engine does not know the method."""
    try:
        return call(method, **params)
    except ApiError as exc:
        if is_unknown_method(exc):
            return UNAVAILABLE
        raise


# -- time helpers ------------------------------------------------------------------
def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 string or epoch seconds as an aware datetime; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


# -- usage windows -----------------------------------------------------------------
_WINDOW_SECONDS = {"five_hour": 5 * 3600, "seven_day": 7 * 86400}
_WINDOW_ORDER = {"five_hour": 0, "seven_day": 1}


@dataclass(frozen=True)
class UsageWindow:
    """One usage window as the engine reports it."""

    window: str
    used_pct: float | None
    resets_at: datetime | None
    source: str
    age_s: float | None = None
    burn_pct_per_hour: float | None = None
    projected_pct_at_reset: float | None = None

    @property
    def label(self) -> str:
        """'5h', 'week', 'week opus' (model-scoped weekly windows)."""
        if self.window == "five_hour":
            return "5h"
        if self.window == "seven_day":
            return "week"
        if self.window.startswith("seven_day_"):
            return "week " + self.window.removeprefix("seven_day_").replace("_", " ")
        return self.window.replace("_", " ")

    @property
    def length_s(self) -> float | None:
        if self.window in _WINDOW_SECONDS:
            return _WINDOW_SECONDS[self.window]
        if self.window.startswith("seven_day"):
            return _WINDOW_SECONDS["seven_day"]
        return None

    @property
    def official(self) -> bool:
        """Numbers from Claude itself (statusline, headers, endpoint), not podium's estimate."""
        return self.source != "estimate"

    def reset_in_s(self, now: datetime) -> float | None:
        if self.resets_at is None:
            return None
        return max(0.0, (self.resets_at - now).total_seconds())

    def pace_pct(self, now: datetime) -> float | None:
        """Where even spending would stand now: the share of the window already gone."""
        length, left = self.length_s, self.reset_in_s(now)
        if length is None or left is None:
            return None
        return min(100.0, max(0.0, 100.0 * (1 - left / length)))


def parse_windows(raw: Any) -> list[UsageWindow]:
    """Windows from `usage.windows` (a list, or {"windows": [...]}, or {name: {...}})."""
    if isinstance(raw, dict) and isinstance(raw.get("windows"), list | dict):
        raw = raw["windows"]
    if isinstance(raw, dict):
        raw = [{"window": name, **value} for name, value in raw.items() if isinstance(value, dict)]
    if not isinstance(raw, list):
        return []
    out = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("window"), str):
            continue
        out.append(
            UsageWindow(
                window=item["window"],
                used_pct=_number(item.get("used_pct")),
                resets_at=parse_time(item.get("resets_at")),
                source=str(item.get("source") or "estimate"),
                age_s=_number(item.get("age_s")),
                burn_pct_per_hour=_number(item.get("burn_pct_per_hour")),
                projected_pct_at_reset=_number(item.get("projected_pct_at_reset")),
            )
        )
    out.sort(key=lambda w: (_WINDOW_ORDER.get(w.window, 2), w.window))
    return out


def usage_windows(call: Call) -> list[UsageWindow] | _Unavailable:
    raw = optional(call, USAGE_WINDOWS)
    return raw if raw is UNAVAILABLE else parse_windows(raw)


# -- the usage screen ------------------------------------------------------------------
@dataclass(frozen=True)
class SeriesPoint:
    at: datetime
    window: str
    used_pct: float


def parse_series(raw: Any) -> list[SeriesPoint]:
    """Minute samples (`limit_series`): rows {minute, window, used_pct} (or "points")."""
    if isinstance(raw, dict):
        raw = raw.get("points") or raw.get("series") or raw.get("rows") or []
    points = []
    for row in raw if isinstance(raw, list) else []:
        if not isinstance(row, dict):
            continue
        at = parse_time(row.get("minute") or row.get("at"))
        used = _number(row.get("used_pct"))
        if at is not None and used is not None and isinstance(row.get("window"), str):
            points.append(SeriesPoint(at, row["window"], used))
    points.sort(key=lambda p: p.at)
    return points


def _rows(raw: Any, *keys: str) -> list[dict[str, Any]]:
    """A report's rows: the list itself, or the first list under one of `keys`."""
    if isinstance(raw, dict):
        for key in keys:
            if isinstance(raw.get(key), list):
                raw = raw[key]
                break
    return [r for r in raw if isinstance(r, dict)] if isinstance(raw, list) else []


@dataclass(frozen=True)
class UsageOverview:
    """Everything the usage screen shows; a part is None when the engine lacks it."""

    windows: list[UsageWindow] | None
    series: list[SeriesPoint] | None
    tokens: list[dict[str, Any]] | None
    waste: list[dict[str, Any]] | None


def usage_overview(call: Call, hours: int = 7 * 24) -> UsageOverview:
    windows = usage_windows(call)
    series = optional(call, USAGE_SERIES, hours=hours)
    tokens = optional(call, REPORT_USAGE, days=7)
    waste = optional(call, REPORT_WASTE)
    return UsageOverview(
        windows=None if windows is UNAVAILABLE else windows,  # type: ignore[arg-type]
        series=None if series is UNAVAILABLE else parse_series(series),
        tokens=None if tokens is UNAVAILABLE else _rows(tokens, "days", "rows"),
        waste=None if waste is UNAVAILABLE else _rows(waste, "windows", "rows", "days"),
    )


def tokens_by_day_and_model(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Pivot `reports.usage` rows {day, model, tokens | *_tokens} to days × models."""
    models: list[str] = []
    table: dict[str, dict[str, float]] = {}
    for row in rows:
        day, model = str(row.get("day", "?")), str(row.get("model", "?"))
        total = _number(row.get("tokens"))
        if total is None:
            total = sum(_number(v) or 0.0 for k, v in row.items() if k.endswith("_tokens"))
        if model not in models:
            models.append(model)
        table.setdefault(day, {})
        table[day][model] = table[day].get(model, 0.0) + total
    models.sort()
    out = [[day, *(by_model.get(m) for m in models)] for day, by_model in sorted(table.items())]
    return models, out


# -- background queue and fill (issue 6) ------------------------------------------------
def queue_list(call: Call) -> list[dict[str, Any]] | _Unavailable:
    raw = optional(call, QUEUE_LIST)
    return raw if raw is UNAVAILABLE else _rows(raw, "tasks", "items", "queue")


def queue_add(call: Call, **task: Any) -> Any:
    return call(QUEUE_ADD, **task)


def queue_cancel(call: Call, task_id: Any) -> Any:
    return call(QUEUE_CANCEL, id=task_id)


def queue_reprioritise(call: Call, task_id: Any, priority: int) -> Any:
    return call(QUEUE_REPRIORITISE, id=task_id, priority=priority)


def toggle_fill(call: Call) -> Any:
    """Switch background fill; returns {"enabled": bool} or UNAVAILABLE."""
    return optional(call, QUEUE_FILL, toggle=True)


# -- the stage ----------------------------------------------------------------------
def show_session(call: Call, name: str) -> dict[str, Any]:
    """Bring a session into view: on stage when the engine has one, else focus its pane."""
    try:
        result = optional(call, STAGE_SHOW, name=name)
    except ApiError as exc:
        if exc.code != "no_stage":
            raise
        result = UNAVAILABLE  # no `podium up` yet: focusing the pane is showing it
    if result is UNAVAILABLE:
        result = call("sessions.focus", name=name)
    return result if isinstance(result, dict) else {"name": name}


def zoom_tower(call: Call, zoomed: bool, pane: str | None) -> bool:
    """Let the tower's pane (`pane`) fill the stage window, or give the sessions their
    places back; False when there is no stage (or no engine method) to zoom."""
    try:
        result = optional(call, STAGE_ZOOM, zoomed=zoomed, pane=pane)
    except ApiError as exc:
        if exc.code != "no_stage":
            raise
        return False
    return isinstance(result, dict) and bool(result.get("zoomed"))
