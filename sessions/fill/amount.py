"""Amounts a person gives a background task: its estimate and its budget.

Pure and stdlib only (`podium queue add` checks values with it before it asks the
engine, and the engine checks again for every client). Three forms:
- a share of a usage window: `5%5h`, `30%week`, `10%sonnet-week`, `10%opus-week`;
- tokens, weighted as plan limits count them (`collectors.limits.weighted_tokens`):
  `200k`, `1.5M`, `20000`, `20000 tokens`;
- dollars: `$2`, `2usd` (only a budget uses them: Claude Code's own `--max-budget-usd`).
`Amount.units` turns the first two into weighted tokens, the unit the fill policy and a
run's live spend (`sessions.fill.spend`) are counted in. Also `parse_duration` for a
task's wall-clock timeout (`90s`, `45m`, `2h`, `1h30m`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from collectors.windows import FIVE_HOUR, SEVEN_DAY, SEVEN_DAY_OPUS, SEVEN_DAY_SONNET

Kind = Literal["pct", "tokens", "usd"]

# What a person types after the `%`, and the window it names. The first name of each
# window is the canonical one `str(amount)` writes.
WINDOW_WORDS: dict[str, str] = {
    "5h": FIVE_HOUR,
    "5-hour": FIVE_HOUR,
    FIVE_HOUR: FIVE_HOUR,
    "week": SEVEN_DAY,
    "7d": SEVEN_DAY,
    SEVEN_DAY: SEVEN_DAY,
    "sonnet-week": SEVEN_DAY_SONNET,
    SEVEN_DAY_SONNET: SEVEN_DAY_SONNET,
    "opus-week": SEVEN_DAY_OPUS,
    SEVEN_DAY_OPUS: SEVEN_DAY_OPUS,
}
_CANONICAL = {window: word for word, window in reversed(WINDOW_WORDS.items())}

FORMS = (
    "a share of a window (5%5h, 30%week, 10%sonnet-week, 10%opus-week), "
    "tokens (200k, 1.5M, 20000) or dollars ($2, 2usd)"
)
# Beyond these an amount is a typo, not a plan (and stays exact as a float and an int).
MAX_TOKENS = 10**15
MAX_USD = 1_000_000.0
# Longer text is not an amount; said before any pattern looks at it.
_MAX_TEXT = 64

_NUM = r"(?P<num>\d+(?:\.\d+)?|\.\d+)"
# ASCII: `\d` would take other scripts' digits, which no one types as an amount.
_FLAGS = re.I | re.ASCII
_PCT = re.compile(rf"{_NUM}\s*%\s*(?P<window>[a-z0-9_-]+)", _FLAGS)
_TOKENS = re.compile(rf"{_NUM}\s*(?P<mult>[km])?\s*(?:tokens?|tok)?", _FLAGS)
_USD = (re.compile(rf"\$\s*{_NUM}", _FLAGS), re.compile(rf"{_NUM}\s*(?:usd|\$)", _FLAGS))
_MULT = {None: 1, "k": 1_000, "m": 1_000_000}


@dataclass(frozen=True)
class Amount:
    """`value` percent of `window` (kind `pct`), weighted tokens (`tokens`) or dollars
    (`usd`)."""

    kind: Kind
    value: float
    window: str | None = None

    def units(self, capacity: Callable[[str], float]) -> float | None:
        """Weighted tokens; `capacity(window)` is a full window's (`UsageMonitor.capacity`).
        None for dollars: they are not tokens at any rate podium knows."""
        if self.kind == "pct":
            assert self.window is not None
            return capacity(self.window) * self.value / 100.0
        if self.kind == "tokens":
            return self.value
        return None

    def __str__(self) -> str:
        if self.kind == "pct":
            return f"{_number(self.value)}%{_CANONICAL.get(self.window or '', self.window)}"
        if self.kind == "usd":
            return f"${_number(self.value)}"
        return token_text(self.value)


def _number(value: float) -> str:
    """`5`, `2.5`, `0.0000001`, `33.333333333333336`: the shortest digits that read back
    exactly (`repr`'s), without an exponent, which `parse_amount` does not read."""
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def token_text(tokens: float) -> str:
    """`200k`, `1.5M`, `20001`: the shortest that reads back to the same count."""
    n = int(tokens)
    for suffix, unit in (("M", 1_000_000), ("k", 1_000)):
        if n >= unit and (n * 10) % unit == 0:
            return f"{n / unit:g}{suffix}"
    return str(n)


def _bad(text: str, why: str = "") -> ValueError:
    shown = text if len(text) <= 40 else text[:39] + "…"
    return ValueError(f"cannot read the amount {shown!r}{why}: use {FORMS}")


def parse_amount(text: str) -> Amount:
    """The amount `text` says; `ValueError` with a one-line message naming the forms.
    Zero, negatives, nan, inf and absurd sizes are refused."""
    if not isinstance(text, str):
        raise _bad(repr(text))
    raw = text.strip()
    if not raw or len(raw) > _MAX_TEXT:
        raise _bad(text)
    if m := _PCT.fullmatch(raw):
        window = WINDOW_WORDS.get(m["window"].lower())
        if window is None:
            raise _bad(text, f" (no window {m['window']!r})")
        pct = float(m["num"])
        if not 0 < pct <= 100:
            raise _bad(text, " (a share is more than 0% and at most 100%)")
        return Amount("pct", pct, window)
    if m := _USD[0].fullmatch(raw) or _USD[1].fullmatch(raw):
        usd = float(m["num"])
        if not 0 < usd <= MAX_USD:
            raise _bad(text, f" (dollars are more than $0 and at most ${MAX_USD:,.0f})")
        return Amount("usd", usd)
    if m := _TOKENS.fullmatch(raw):
        tokens = float(m["num"]) * _MULT[(m["mult"] or "").lower() or None]
        if not math.isfinite(tokens) or not 1 <= tokens <= MAX_TOKENS:
            raise _bad(text, f" (tokens are at least 1 and at most {MAX_TOKENS:.0e})")
        # Whole tokens: `1.5k` is 1,500; `2.5` tokens is not a budget anyone means.
        if tokens != int(tokens):
            raise _bad(text, " (tokens are a whole number)")
        return Amount("tokens", float(int(tokens)))
    if raw.endswith("%") and _PCT.fullmatch(raw + "5h"):
        raise _bad(text, " (say which window: 5%5h or 5%week)")
    raise _bad(text)


_DURATION = re.compile(r"(?:(?P<h>\d+)h)?\s*(?:(?P<m>\d+)m)?\s*(?:(?P<s>\d+)s)?", _FLAGS)
MAX_DURATION_S = 2**31 - 1  # the queue's INTEGER column


def parse_duration(text: str) -> int:
    """Seconds of `90s`, `45m`, `2h`, `1h30m` or a bare number of seconds; `ValueError`
    with a one-line message otherwise (zero and more than the queue stores too)."""
    raw = text.strip() if isinstance(text, str) else ""
    shown = raw if len(raw) <= 40 else raw[:39] + "…"
    m = _DURATION.fullmatch(raw) if len(raw) <= 32 else None
    if raw.isascii() and raw.isdigit() and len(raw) <= 12:
        seconds = int(raw)
    elif m is not None and raw and any(m.group(k) for k in "hms"):
        seconds = sum(int(m.group(k) or 0) * f for k, f in (("h", 3600), ("m", 60), ("s", 1)))
    else:
        raise ValueError(f"cannot read the duration {shown!r}: use 90s, 45m, 2h or 1h30m")
    if not 0 < seconds <= MAX_DURATION_S:
        raise ValueError(
            f"the duration {shown!r} is out of range: more than 0s, at most {MAX_DURATION_S}s"
        )
    return seconds
