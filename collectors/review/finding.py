"""One finding of `podium review`: what, how much, where, what to change, how sure.

Plain data (the engine converts it to `sessions.wire.Finding`): the detectors in this
package build them, the CLI prints them, the HTML page and the tower show them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Sure = Literal["high", "medium", "low"]

# A finding quotes what the log holds: tool errors, project paths, a model's answer,
# all of which someone else's repository may have written. The terminal that prints
# `podium review` must get text, never an escape sequence: ESC sequences (CSI, OSC,
# strings up to their terminator) go whole, then every control and format character
# but the line break (suggestions have lines).
_ESCAPE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|[ -/]*[0-~]?)"
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x9c)?"
)


def printable(text: str) -> str:
    """`text` without terminal escapes, controls or format characters (line breaks kept)."""
    text = _ESCAPE.sub("", text)
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf"))


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Amount:
    """How much a finding is about, in every unit that applies (None: not this one)."""

    tokens: int | None = None
    usd: float | None = None
    # A share of a window (`window` names which: five_hour, seven_day, ...).
    pct: float | None = None
    window: str | None = None
    minutes: float | None = None
    count: int | None = None


@dataclass(frozen=True)
class Where:
    """Where it happened: podium or Claude session names, task ids, projects, hours."""

    sessions: list[str] = field(default_factory=list)
    tasks: list[int] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    # Local times as a person reads them: "Sat 00:00–Mon 08:00", "weekdays 22–24".
    hours: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    kind: str
    # What area of use it is about: waste | runaway | attention | fill | models.
    area: str
    title: str
    detail: str
    amount: Amount
    where: Where
    suggestion: str
    # 0..1, and in words: how far the data supports the finding.
    confidence: float
    sure: Sure
    # The figures it rests on, as (label, value) rows a person can check.
    evidence: list[tuple[str, str]] = field(default_factory=list)
    # "computed" (podium's detectors) or "model" (an agent's review, `--agent`).
    source: str = "computed"
    # Orders the findings: roughly dollars at list price at stake.
    weight: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """As the engine sends it: every text printable (see `printable`)."""
        out = asdict(self)
        out["evidence"] = [list(row) for row in self.evidence]
        return _clean(out)


def sure_of(confidence: float) -> Sure:
    if confidence >= 0.75:
        return "high"
    return "medium" if confidence >= 0.45 else "low"
