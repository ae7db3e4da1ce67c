"""One finding of `podium review`: what, how much, where, what to change, how sure.

Plain data (the engine converts it to `sessions.wire.Finding`): the detectors in this
package build them, the CLI prints them, the HTML page and the tower show them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Sure = Literal["high", "medium", "low"]


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
        out = asdict(self)
        out["evidence"] = [list(row) for row in self.evidence]
        return out


def sure_of(confidence: float) -> Sure:
    if confidence >= 0.75:
        return "high"
    return "medium" if confidence >= 0.45 else "low"
