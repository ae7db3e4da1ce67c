"""The plan's usage windows: their names and lengths, defined once for every layer.

`five_hour` lasts 5 hours; `seven_day` and the model-scoped weekly ones
(`seven_day_opus`, `seven_day_sonnet`, `seven_day_<family>`) 7 days. Stdlib
only: the statusline (`collectors.spool`) imports it.
"""

from __future__ import annotations

import re
from datetime import timedelta

FIVE_HOUR = "five_hour"
SEVEN_DAY = "seven_day"
SEVEN_DAY_OPUS = "seven_day_opus"
SEVEN_DAY_SONNET = "seven_day_sonnet"
MAIN_WINDOWS = (FIVE_HOUR, SEVEN_DAY)

FIVE_HOUR_SECONDS = 5 * 3600
WEEK_SECONDS = 7 * 86400
FIVE_HOURS = timedelta(seconds=FIVE_HOUR_SECONDS)
WEEK = timedelta(seconds=WEEK_SECONDS)


def window_seconds(window: str) -> int:
    """Length of a window: 5 hours, else (every weekly and model-scoped one) 7 days."""
    return FIVE_HOUR_SECONDS if window == FIVE_HOUR else WEEK_SECONDS


def window_length(window: str) -> timedelta:
    """`window_seconds` as a timedelta."""
    return FIVE_HOURS if window == FIVE_HOUR else WEEK


def model_pattern(window: str) -> str | None:
    """SQL LIKE pattern of the models a model-scoped window counts (None: all models)."""
    if window in MAIN_WINDOWS or not window.startswith(SEVEN_DAY + "_"):
        return None
    return f"%{window[len(SEVEN_DAY) + 1 :]}%"


def scoped_window(model_name: str) -> str:
    """`seven_day_<model family>` of a model-scoped weekly limit: `Opus 4.1` → `seven_day_opus`."""
    words = re.findall(r"[a-z]+", model_name.lower())
    family = next((w for w in words if w not in ("claude",)), "model")
    return f"{SEVEN_DAY}_{family}"


# The model families with a week of their own, by the word that names them in a
# model id or alias ("claude-opus-4-1-20250805", "sonnet", "sonnet[1m]").
_SCOPED_FAMILIES = (("opus", SEVEN_DAY_OPUS), ("sonnet", SEVEN_DAY_SONNET))
# Claude Code's `opusplan` alias plans on Opus and works on Sonnet: it spends both.
_BOTH = "opusplan"


def model_windows(model: str | None) -> tuple[str, ...]:
    """The weekly windows a run on `model` spends: the week of all models, and the
    model's own week where it has one (`sonnet` → seven_day and seven_day_sonnet;
    `claude-opus-4-1-20250805` → seven_day and seven_day_opus). The 5-hour window is
    spent by every model and is not named. No model (Claude Code's default) or one
    without a week of its own (haiku, an unknown name) spends the week alone: which
    model the default is depends on the account, so no scoped week is assumed."""
    words = re.findall(r"[a-z]+", (model or "").lower())
    if _BOTH in words:
        return (SEVEN_DAY, SEVEN_DAY_OPUS, SEVEN_DAY_SONNET)
    return (SEVEN_DAY, *(window for family, window in _SCOPED_FAMILIES if family in words))


# What the CLI's tables call the two main windows, accepted back as names too.
WINDOW_ALIASES = {"5-hour": FIVE_HOUR, "5h": FIVE_HOUR, "week": SEVEN_DAY}
_WINDOW_NAME = re.compile(rf"{FIVE_HOUR}|{SEVEN_DAY}(?:_[a-z]+)?")


def window_name(text: str) -> str:
    """The window `text` names (`five_hour`, `seven_day`, `seven_day_<model family>`, or
    `5-hour`/`week` as the tables say); `ValueError` with the names to use otherwise."""
    name = WINDOW_ALIASES.get(text.strip().lower(), text.strip())
    if not _WINDOW_NAME.fullmatch(name):
        raise ValueError(
            f"unknown window {text!r}; use five_hour (5-hour), seven_day (week) or a "
            f"model's week such as {SEVEN_DAY_OPUS}"
        )
    return name
