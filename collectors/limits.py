"""Plan-limit figures: what each source says, read into one shape; burn rate and estimates.

Pure functions, no database (that is `collectors.limit_log`). Every source is
turned into `LimitSample`s: the usage of one window (`five_hour`, `seven_day`,
`seven_day_opus`, `seven_day_sonnet`, or `seven_day_<model>` for other
model-scoped weeks), in percent, with its reset time and where it came from.

Sources (reference §4-5): `statusline` (the `rate_limits` Claude Code pipes to
`podium statusline`), `headless` (stream-json `rate_limit_event`), `limit_text`
(the usage-limit message: 100% until its reset), `claude_json`
(`cachedUsageUtilization` in `.claude.json`), `endpoint` (the opt-in usage
endpoint), `transcript` (the `rate_limit_info` Claude Code writes into a
transcript's usage-limit record) and `estimate` (local tokens; never official).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from collectors.limit_text import limit_window, parse_reset
from collectors.windows import (
    FIVE_HOUR,
    SEVEN_DAY,
    scoped_window,
    window_seconds,
)

STATUSLINE = "statusline"
HEADLESS = "headless"
LIMIT_TEXT = "limit_text"
CLAUDE_JSON = "claude_json"
ENDPOINT = "endpoint"
TRANSCRIPT = "transcript"
ESTIMATE = "estimate"
OFFICIAL_SOURCES = (STATUSLINE, HEADLESS, LIMIT_TEXT, CLAUDE_JSON, ENDPOINT, TRANSCRIPT)

# A known Claude Code bug can put the reset epoch into `used_percentage`; the
# server itself never reports more than 100 (101 leaves room for rounding).
MAX_PCT = 101.0

# Estimates weigh tokens roughly like their prices within one model (output 5x,
# cache reads a tenth), as the plan limits follow compute rather than raw tokens.
TOKEN_WEIGHTS = {"input": 1.0, "cache_creation": 1.0, "cache_read": 0.1, "output": 5.0}


def weighted_tokens(
    input_tokens: float,
    cache_creation_tokens: float,
    cache_read_tokens: float,
    output_tokens: float,
) -> float:
    """One message's tokens weighted by `TOKEN_WEIGHTS`: the Python twin of
    `collectors.limit_log.WEIGHTED_TOKENS_SQL` (a test holds the two equal), for what
    is counted before it reaches the log (a background run's live spend)."""
    w = TOKEN_WEIGHTS
    return (
        input_tokens * w["input"]
        + cache_creation_tokens * w["cache_creation"]
        + cache_read_tokens * w["cache_read"]
        + output_tokens * w["output"]
    )


@dataclass(frozen=True)
class LimitSample:
    """One figure of one window: `used_pct` of it was used at `ts`."""

    ts: datetime
    window: str
    used_pct: float
    resets_at: datetime | None
    source: str
    detail: str | None = None


def clean_pct(value: Any) -> float | None:
    """A percentage as a float, or None when it is no number or impossible (> 101, < 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not 0 <= value <= MAX_PCT or value != value:  # NaN fails both
        return None
    return float(value)


def to_time(value: Any) -> datetime | None:
    """Epoch seconds (or ms), or an ISO string, as an aware UTC datetime; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if value <= 0:
            return None
        if value > 1e11:  # milliseconds
            value = value / 1000
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


_WINDOW_NAME = re.compile(r"five_hour|seven_day(?:_[a-z0-9]+)?")


def is_window(name: Any) -> bool:
    """`five_hour`, `seven_day` or `seven_day_<x>`: keys a source may add that are not
    windows (`extra_usage`, `overage`, whatever comes next) are not taken for one."""
    return isinstance(name, str) and _WINDOW_NAME.fullmatch(name) is not None


def _sample(
    at: datetime, window: Any, pct: Any, resets: Any, source: str, detail: str | None = None
) -> LimitSample | None:
    used = clean_pct(pct)
    if not is_window(window) or used is None:
        return None
    return LimitSample(at, window, used, to_time(resets), source, detail)


# -- statusline -------------------------------------------------------------------------


def samples_from_statusline(payload: Mapping[str, Any], at: datetime) -> list[LimitSample]:
    """`rate_limits` of a statusline payload (absent with API-key auth: no samples).

    Two shapes: `{five_hour: {used_percentage, resets_at}, seven_day: {...}}`
    (2.1.328), and newer `limits[]` rows `{kind: session|weekly_all|weekly_scoped,
    percent, resets_at (ISO), scope{model{display_name}}}`. Both may come at once;
    the first figure of a window wins.
    """
    limits = payload.get("rate_limits")
    if not isinstance(limits, dict):
        return []
    found: dict[str, LimitSample] = {}
    for window, value in limits.items():
        if isinstance(value, dict):
            pct, resets = value.get("used_percentage"), value.get("resets_at")
            s = _sample(at, window, pct, resets, STATUSLINE)
            if s is not None:
                found.setdefault(window, s)
    for s in samples_from_limit_rows(limits.get("limits"), at, STATUSLINE):
        found.setdefault(s.window, s)
    return list(found.values())


def samples_from_limit_rows(
    rows: Any, at: datetime, source: str, detail: str | None = None
) -> list[LimitSample]:
    """The server's usage rows, `limits[]`: the statusline's newer `rate_limits.limits`,
    the usage endpoint's body and `.claude.json`'s `cachedUsageUtilization` carry them
    alike, `{kind, group, percent (0-100), resets_at (ISO or null), scope{model{display_name}},
    severity, is_active}`. `session` is the 5-hour window, `weekly_all` the week,
    `weekly_scoped` with a model the model's week (`Sonnet` → `seven_day_sonnet`); a row
    of another kind, one scoped to a surface rather than a model, or one that is not
    an object or has no usable percentage is skipped. The first row of a window wins."""
    found: dict[str, LimitSample] = {}
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        window = _limits_row_window(row)
        if window is None or window in found:
            continue
        s = _sample(at, window, row.get("percent"), row.get("resets_at"), source, detail)
        if s is not None:
            found[window] = s
    return list(found.values())


def _limits_row_window(row: Mapping[str, Any]) -> str | None:
    kind = row.get("kind")
    if kind == "session":
        return FIVE_HOUR
    if kind == "weekly_all":
        return SEVEN_DAY
    if kind == "weekly_scoped":
        scope = row.get("scope")
        model = scope.get("model") if isinstance(scope, dict) else None
        name = model.get("display_name") if isinstance(model, dict) else None
        return scoped_window(name) if isinstance(name, str) and name.strip() else None
    return None


# -- headless stream-json ---------------------------------------------------------------


def samples_from_stream_json_line(
    obj: Mapping[str, Any], at: datetime | None = None
) -> list[LimitSample]:
    """Limit samples in one stream-json line of `claude -p` (most lines have none).

    `rate_limit_event` (2.1.328): `rate_limit_info {status, resetsAt, rateLimitType,
    utilization?, unifiedWindows{five_hour{utilization, resetsAt, status}, seven_day}}`,
    utilization a 0-1 fraction. A `rejected` window without a utilization is full.
    A `result` that failed with a 429 and a limit text gives that text's sample.
    """
    at = at or datetime.now(UTC)
    kind = obj.get("type")
    if kind == "result" and obj.get("is_error") and obj.get("api_error_status") == 429:
        text = obj.get("result")
        return samples_from_limit_text(text, at) if isinstance(text, str) else []
    info = obj.get("rate_limit_info")
    if kind != "rate_limit_event" or not isinstance(info, dict):
        return []
    found: dict[str, LimitSample] = {}
    unified = info.get("unifiedWindows")
    for window, value in unified.items() if isinstance(unified, dict) else []:
        if isinstance(value, dict):
            s = _from_info(at, window, value, "unifiedWindows")
            if s is not None:
                found[window] = s
    for s in samples_from_rate_limit_info(info, at):
        found.setdefault(s.window, s)
    return list(found.values())


def samples_from_rate_limit_info(
    info: Any, at: datetime, source: str = HEADLESS
) -> list[LimitSample]:
    """The window a `rate_limit_info {status, resetsAt, rateLimitType, utilization?}`
    names (`five_hour`, `seven_day`, `seven_day_sonnet`, `seven_day_opus`; `overage`
    is none): its figure, or 100% when `rejected` without one. Stream-json's
    `rate_limit_event` carries it, and so does a transcript's usage-limit record
    (`apiErrorParams.rate_limit_info`, source `transcript`). Anything malformed
    gives nothing."""
    if not isinstance(info, dict):
        return []
    window = info.get("rateLimitType")
    if not is_window(window):
        return []
    s = _from_info(at, window, info, f"status {info.get('status')}", source)
    return [s] if s is not None else []


def _from_info(
    at: datetime, window: str, value: Mapping[str, Any], detail: str, source: str = HEADLESS
) -> LimitSample | None:
    util = value.get("utilization")
    if isinstance(util, (int, float)) and not isinstance(util, bool):
        pct: Any = util * 100
    elif value.get("status") == "rejected":
        pct = 100.0
    else:
        return None  # allowed, no figure: nothing learned
    return _sample(at, window, pct, value.get("resetsAt"), source, detail)


# -- limit texts ------------------------------------------------------------------------


def samples_from_limit_text(text: str, at: datetime) -> list[LimitSample]:
    """The limit message as a sample: its window is used up (100%) until its reset time.

    An API-key 429 ("Request rejected (429)") names no window: nothing."""
    window = limit_window(text)
    if window is None:
        return []
    resets = parse_reset(text, at)
    return [LimitSample(at, window, 100.0, resets, LIMIT_TEXT, text[:200])]


# -- usage endpoint and .claude.json ----------------------------------------------------


def samples_from_usage_body(
    body: Mapping[str, Any], at: datetime, source: str = ENDPOINT, detail: str | None = None
) -> list[LimitSample]:
    """The usage endpoint's body: `{five_hour: {utilization: 22.0, resets_at: ISO}, ...}`.

    Utilization is 0-100 here. A null window (e.g. no Opus week) gives nothing;
    `extra_usage` is money, not a window. Newer bodies add the server's rows,
    `limits[]` (`samples_from_limit_rows`): a window they name that no key gave
    (a model's week as a `weekly_scoped` row) is taken from them."""
    found: dict[str, LimitSample] = {}
    for window, value in body.items():
        if not isinstance(value, dict):
            continue
        s = _sample(at, window, value.get("utilization"), value.get("resets_at"), source, detail)
        if s is not None:
            found[window] = s
    for s in samples_from_limit_rows(body.get("limits"), at, source, detail):
        found.setdefault(s.window, s)
    return list(found.values())


def samples_from_claude_json(data: Mapping[str, Any]) -> list[LimitSample]:
    """`cachedUsageUtilization {fetchedAtMs, accountUuid?, utilization{...}}` of
    `.claude.json`: the usage endpoint's body as Claude Code last fetched it.

    Both shapes Claude Code writes are read: per window (`seven_day_sonnet:
    {utilization, resets_at}`, null when not reported) and the newer server rows
    `utilization.limits[]` (`weekly_scoped` with `scope.model.display_name`); rows
    placed beside `utilization` rather than in it are taken too. The figures are
    as old as `fetchedAtMs` (it can be days): that is their time. Without it they
    cannot be placed in time and are ignored."""
    cached = data.get("cachedUsageUtilization")
    if not isinstance(cached, dict):
        return []
    fetched = cached.get("fetchedAtMs")
    if isinstance(fetched, bool) or not isinstance(fetched, (int, float)) or fetched <= 0:
        return []
    at = to_time(fetched / 1000)
    body = cached.get("utilization")
    if at is None or not isinstance(body, dict):
        return []
    detail = f"fetchedAtMs {int(fetched)}"
    found = {s.window: s for s in samples_from_usage_body(body, at, CLAUDE_JSON, detail)}
    for s in samples_from_limit_rows(cached.get("limits"), at, CLAUDE_JSON, detail):
        found.setdefault(s.window, s)
    return list(found.values())


# -- the figure to believe, burn rate, projection, estimate -----------------------------


def is_current(sample: LimitSample, now: datetime) -> bool:
    """A figure whose window has not reset since. Without a reset time it holds for at
    most one window length (a limit text whose time could not be read, say)."""
    if sample.resets_at is not None:
        return sample.resets_at > now
    return (now - sample.ts).total_seconds() < window_seconds(sample.window)


def freshest(samples: Iterable[LimitSample]) -> LimitSample | None:
    """The latest official figure; at equal times a full limit text loses to a number.

    A limit text gives its reset to the minute: cut short ("resets 5:21am" for
    05:21:47), or, read in the minute it names, rounded up (`parse_reset`). When
    another source gave a reset to the second less than a minute from it, that is
    the same reset, and the window resets then.
    """
    official = [s for s in samples if s.source != ESTIMATE]
    best: LimitSample | None = None
    for s in official:
        if best is None or (s.ts, s.source != LIMIT_TEXT) > (best.ts, best.source != LIMIT_TEXT):
            best = s
    if best is None or best.source != LIMIT_TEXT or best.resets_at is None:
        return best
    text_reset = best.resets_at
    exact = [
        s.resets_at
        for s in official
        if s.source != LIMIT_TEXT
        and s.resets_at is not None
        and abs(text_reset - s.resets_at) < timedelta(minutes=1)
    ]
    return replace(best, resets_at=max(exact)) if exact else best


@dataclass(frozen=True)
class Point:
    ts: datetime
    used_pct: float


def burn_rate(points: Sequence[Point], now: datetime, span_s: float = 3600) -> float | None:
    """Percent per hour over the last `span_s`: the least-squares slope of the points
    after the window's last reset (a drop of more than 5 points). None with fewer than
    three points or less than five minutes of them."""
    recent = [p for p in since_reset(points) if (now - p.ts).total_seconds() <= span_s]
    if len(recent) < 3 or (recent[-1].ts - recent[0].ts).total_seconds() < 300:
        return None
    t0 = recent[0].ts
    xs = [(p.ts - t0).total_seconds() / 3600 for p in recent]
    ys = [p.used_pct for p in recent]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def since_reset(points: Sequence[Point]) -> list[Point]:
    """The points in time order from the window's last reset on (the last drop of more
    than 5 points)."""
    ordered = sorted(points, key=_ts)
    start = 0
    for i in range(1, len(ordered)):
        if ordered[i].used_pct < ordered[i - 1].used_pct - 5:
            start = i
    return ordered[start:]


def observed_s(points: Sequence[Point], now: datetime) -> float:
    """How long the window has been watched: seconds from its first point after its
    last reset to `now`; 0 without points."""
    watched = since_reset(points)
    return max(0.0, (now - watched[0].ts).total_seconds()) if watched else 0.0


def _ts(p: Point) -> datetime:
    return p.ts


# A projection to the reset needs an hour of the window's figures: ten minutes of
# burn carried over six days reads "week 0% →122%", which is alarming and wrong.
MIN_PROJECTION_S = 3600.0


@dataclass(frozen=True)
class Projection:
    at_reset_pct: float | None
    limit_at: datetime | None  # when 100% is reached before the reset, at this burn rate


def project(
    used_pct: float,
    burn_per_hour: float | None,
    now: datetime,
    resets_at: datetime | None,
    watched_s: float,
) -> Projection:
    """Use at the reset time if the burn rate holds, and when it would reach 100% first.

    None (both) without a burn rate or a reset, and when the window has been watched
    (`observed_s`) for less than `MIN_PROJECTION_S`."""
    if burn_per_hour is None or resets_at is None or resets_at <= now:
        return Projection(None, None)
    if watched_s < MIN_PROJECTION_S:
        return Projection(None, None)
    hours = (resets_at - now).total_seconds() / 3600
    at_reset = used_pct + max(0.0, burn_per_hour) * hours
    limit_at = None
    if burn_per_hour > 0 and used_pct < 100 <= at_reset:
        limit_at = now + timedelta(hours=(100 - used_pct) / burn_per_hour)
    return Projection(round(at_reset, 2), limit_at)


# Rough weighted-token capacities of a full window per plan, only until one
# official figure calibrates the real ratio (see `calibrate`).
PLAN_FIVE_HOUR = {"pro": 1_000_000, "max5": 5_000_000, "max20": 20_000_000}
SEVEN_DAY_PER_FIVE_HOUR = 12


def default_capacity(window: str, plan: str, five_hour: int = 0, seven_day: int = 0) -> float:
    """The configured capacity, else the plan's rough one (weekly: 12 five-hour windows)."""
    base = float(five_hour or PLAN_FIVE_HOUR.get(plan, PLAN_FIVE_HOUR["pro"]))
    if window == FIVE_HOUR:
        return base
    return float(seven_day or base * SEVEN_DAY_PER_FIVE_HOUR)


def calibrate(tokens_in_window: float, used_pct: float) -> float | None:
    """Capacity in weighted tokens learned from one official figure: the local tokens of
    its window up to its time, over its share. Plan usage is shared with claude.ai, so
    local tokens undercount it and the capacity comes out low: estimates err high,
    which is the safe side for spending spare capacity. None below 2% (too noisy)."""
    if used_pct < 2 or tokens_in_window <= 0:
        return None
    return tokens_in_window / (used_pct / 100)


class BestCapacity:
    """The highest capacity any official figure of the last `span` implied (`calibrate`).

    Local tokens never exceed the plan's use (claude.ai and other machines spend
    it too), so every calibration is at most the real capacity, and the highest
    recent one is the nearest. With it, the fill forecast can see use that only
    the official figures show (`sessions.fill.forecast.OfficialGap`): the
    latest calibration would hide it by shrinking the capacity instead.
    """

    def __init__(self, span: timedelta = timedelta(days=14)) -> None:
        self.span = span
        self._by_day: dict[date, float] = {}

    def add(self, at: datetime, capacity: float) -> None:
        day = at.date()
        if capacity > self._by_day.get(day, 0.0):
            self._by_day[day] = capacity

    def best(self, now: datetime) -> float | None:
        oldest = (now - self.span).date()
        for day in [d for d in self._by_day if d < oldest]:
            del self._by_day[day]
        return max(self._by_day.values(), default=None)


def estimate(
    window: str,
    now: datetime,
    anchor: LimitSample | None,
    tokens_since_anchor: float,
    capacity: float,
    window_start: datetime | None = None,
    tokens_since_start: float = 0.0,
) -> LimitSample:
    """Used % from local tokens, labelled `estimate`.

    With an official figure whose window has not reset (`anchor`): that figure
    plus the tokens used since, over the capacity. Without one: the tokens since
    the window opened (`window_start`, the first use after the last reset) over
    the capacity, resetting a window's length after it opened."""
    if anchor is not None and is_current(anchor, now):
        pct = anchor.used_pct + tokens_since_anchor / capacity * 100
        detail = f"{anchor.source} figure of {anchor.ts.isoformat()} + local tokens"
        pct = round(min(pct, 100.0), 2)
        return LimitSample(now, window, pct, anchor.resets_at, ESTIMATE, detail)
    resets = window_start + timedelta(seconds=window_seconds(window)) if window_start else None
    pct = tokens_since_start / capacity * 100 if window_start else 0.0
    return LimitSample(now, window, round(min(pct, 100.0), 2), resets, ESTIMATE, "local tokens")
