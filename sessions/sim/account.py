"""The simulated subscription account shared by every sim of one data dir.

State lives in `<data>/sim/account.json` (dir 0700, file 0600). Writers hold an
exclusive `flock` on `<data>/sim/account.lock` and replace the JSON file
atomically, so readers that skip the lock still never see half a file.

Usage is counted in weighted tokens (output ×5, cache reads ×0.1, roughly the
price ratios) against two windows: the 5-hour window opens at the first use
after the previous one ended and resets 5 hours later; the weekly one resets 7
days after it opened. Capacities: `PODIUM_SIM_FIVE_HOUR_TOKENS` and
`PODIUM_SIM_SEVEN_DAY_TOKENS`, else what `seed_account` stored, else defaults.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from collectors import paths
from collectors.windows import FIVE_HOUR, FIVE_HOUR_SECONDS, SEVEN_DAY, WEEK_SECONDS

WINDOW_SECONDS = {FIVE_HOUR: FIVE_HOUR_SECONDS, SEVEN_DAY: WEEK_SECONDS}
DEFAULT_FIVE_HOUR_TOKENS = 2_000_000
DEFAULT_CAPACITY = {FIVE_HOUR: DEFAULT_FIVE_HOUR_TOKENS, SEVEN_DAY: 12 * DEFAULT_FIVE_HOUR_TOKENS}
_CAPACITY_ENV = {FIVE_HOUR: "PODIUM_SIM_FIVE_HOUR_TOKENS", SEVEN_DAY: "PODIUM_SIM_SEVEN_DAY_TOKENS"}


def account_dir(data_dir: Path | None = None) -> Path:
    return (data_dir or paths.data_dir()) / "sim"


def account_path(data_dir: Path | None = None) -> Path:
    return account_dir(data_dir) / "account.json"


def weighted_tokens(usage: Mapping[str, Any]) -> float:
    """How much one response's usage fills the windows."""

    def get(key: str) -> float:
        value = usage.get(key, 0)
        return float(value) if isinstance(value, int | float) else 0.0

    return (
        get("input_tokens")
        + get("cache_creation_input_tokens")
        + 0.1 * get("cache_read_input_tokens")
        + 5.0 * get("output_tokens")
    )


def _fresh() -> dict[str, Any]:
    return {
        "version": 1,
        "windows": {kind: {"started_at": None, "used": 0.0} for kind in WINDOW_SECONDS},
        "capacity": {},
    }


def _capacity(state: Mapping[str, Any], kind: str) -> float:
    try:
        value = float(os.environ.get(_CAPACITY_ENV[kind], ""))
        if value > 0:
            return value
    except ValueError:
        pass
    stored = state.get("capacity", {}).get(kind)
    if isinstance(stored, int | float) and stored > 0:
        return float(stored)
    return float(DEFAULT_CAPACITY[kind])


@contextmanager
def _locked(data_dir: Path | None, exclusive: bool) -> Iterator[Path]:
    directory = paths.ensure_private_dir(account_dir(data_dir))
    fd = os.open(directory / "account.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield directory / "account.json"
    finally:
        os.close(fd)  # closing drops the lock


def _load(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _fresh()
    fresh = _fresh()
    if not isinstance(state, dict) or not isinstance(state.get("windows"), dict):
        return fresh
    for kind in WINDOW_SECONDS:
        window = state["windows"].get(kind)
        if not isinstance(window, dict):
            state["windows"][kind] = fresh["windows"][kind]
    if not isinstance(state.get("capacity"), dict):
        state["capacity"] = {}
    return state


def _save(path: Path, state: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".account.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=1)
    os.replace(tmp, path)


def _open_window(window: Mapping[str, Any], kind: str, now: float) -> bool:
    started = window.get("started_at")
    return isinstance(started, int | float) and now < started + WINDOW_SECONDS[kind]


def _snapshot(state: Mapping[str, Any], now: float) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for kind, length in WINDOW_SECONDS.items():
        window = state["windows"][kind]
        capacity = _capacity(state, kind)
        if _open_window(window, kind, now):
            used = float(window.get("used") or 0.0)
            resets_at: int | None = int(window["started_at"] + length)
        else:
            used, resets_at = 0.0, None
        out[kind] = {
            # Capped like the real figure: the server never reports more than 100.
            "used_percentage": round(min(100.0, used / capacity * 100.0), 2),
            "resets_at": resets_at,
            "used_tokens": round(used),
            "capacity_tokens": round(capacity),
        }
    return out


def account_snapshot(
    now: float | None = None, data_dir: Path | None = None
) -> dict[str, dict[str, Any]]:
    """Current windows: `{"five_hour": {"used_percentage", "resets_at", ...}, "seven_day": {...}}`.

    `resets_at` is epoch seconds, or None while no window is open (nothing used
    since the last reset), as the real usage endpoint reports it.
    """
    with _locked(data_dir, exclusive=False) as path:
        state = _load(path)
    return _snapshot(state, time.time() if now is None else now)


def add_usage(
    usage: Mapping[str, Any] | float, now: float | None = None, data_dir: Path | None = None
) -> dict[str, dict[str, Any]]:
    """Charge one response (a usage dict, or weighted tokens) and return the new snapshot."""
    amount = float(usage) if isinstance(usage, int | float) else weighted_tokens(usage)
    now = time.time() if now is None else now
    with _locked(data_dir, exclusive=True) as path:
        state = _load(path)
        for kind in WINDOW_SECONDS:
            window = state["windows"][kind]
            if not _open_window(window, kind, now):
                window["started_at"], window["used"] = now, 0.0
            window["used"] = float(window.get("used") or 0.0) + amount
        _save(path, state)
    return _snapshot(state, now)


def seed_account(
    five_hour_pct: float = 0.0,
    seven_day_pct: float = 0.0,
    *,
    five_hour_resets_in: float | None = None,
    seven_day_resets_in: float | None = None,
    five_hour_tokens: int | None = None,
    seven_day_tokens: int | None = None,
    now: float | None = None,
    data_dir: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Set the account to given percentages (for the demo and tests); returns the snapshot.

    A window with a percentage above 0 (or a `*_resets_in`) is open and resets
    that many seconds from now (default: a full window); at 0 it is closed.
    Token capacities given here are stored and used when the env sets none.
    """
    now = time.time() if now is None else now
    with _locked(data_dir, exclusive=True) as path:
        state = _load(path)
        for kind, tokens in ((FIVE_HOUR, five_hour_tokens), (SEVEN_DAY, seven_day_tokens)):
            if tokens:
                state["capacity"][kind] = int(tokens)
        seeds = (
            (FIVE_HOUR, five_hour_pct, five_hour_resets_in),
            (SEVEN_DAY, seven_day_pct, seven_day_resets_in),
        )
        for kind, pct, resets_in in seeds:
            length = WINDOW_SECONDS[kind]
            if pct <= 0 and resets_in is None:
                state["windows"][kind] = {"started_at": None, "used": 0.0}
                continue
            left = length if resets_in is None else max(1.0, min(float(resets_in), length))
            state["windows"][kind] = {
                "started_at": now - (length - left),
                "used": max(0.0, pct) / 100.0 * _capacity(state, kind),
            }
        _save(path, state)
    return _snapshot(state, now)


def reset_account(data_dir: Path | None = None) -> None:
    """Forget all usage (capacities set by `seed_account` are forgotten too)."""
    with _locked(data_dir, exclusive=True) as path:
        _save(path, _fresh())


def limit_hit(snapshot: Mapping[str, Mapping[str, Any]]) -> tuple[str, int] | None:
    """(window kind, resets_at) of the first exhausted window, or None."""
    for kind in (SEVEN_DAY, FIVE_HOUR):
        window = snapshot.get(kind) or {}
        if (window.get("used_percentage") or 0) >= 100 and window.get("resets_at"):
            return kind, int(window["resets_at"])
    return None


def local_zone_name() -> str:
    """The local zone's IANA name if known (TZ, /etc/localtime), else its abbreviation."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        return tz
    try:
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            name = link.split("zoneinfo/", 1)[1]
            return "UTC" if name in ("Etc/UTC", "Etc/Universal", "UCT", "Zulu") else name
    except OSError:
        pass
    return time.tzname[0] or "UTC"


def limit_message(kind: str, resets_at: float) -> str:
    """Claude Code's text, e.g. `You've hit your session limit · resets 9:50pm (UTC)`."""
    when = datetime.fromtimestamp(resets_at).astimezone()
    hour = when.strftime("%I").lstrip("0") or "12"
    clock = f"{hour}:{when.minute:02d}" if when.minute else hour
    clock += "am" if when.hour < 12 else "pm"
    if kind == SEVEN_DAY:
        clock = f"{when.strftime('%b')} {when.day}, {clock}"
        return f"You've hit your weekly limit · resets {clock} ({local_zone_name()})"
    return f"You've hit your session limit · resets {clock} ({local_zone_name()})"


def rate_limit_info(snapshot: Mapping[str, Mapping[str, Any]], rejected: bool) -> dict[str, Any]:
    """The `rate_limit_info` of a stream-json `rate_limit_event` for the 5-hour window."""
    hit = limit_hit(snapshot)
    kind = hit[0] if hit else FIVE_HOUR
    window = snapshot.get(kind) or {}
    utilization = round((window.get("used_percentage") or 0.0) / 100.0, 4)
    if rejected or hit:
        status = "rejected"
    elif utilization >= 0.8:
        status = "allowed_warning"
    else:
        status = "allowed"
    resets_at = window.get("resets_at") or int(time.time() + WINDOW_SECONDS[kind])
    return {
        "status": status,
        "resetsAt": resets_at,
        "rateLimitType": kind,
        "utilization": utilization,
    }
