"""A background run's live spend, summed from its stream-json lines as they come.

Pure (no I/O, no clock of its own): the runner feeds it every line it reads
(`Runner._read_new`), and `Runner.spend(run_id)` hands out a `RunSpend`. Only
`assistant` lines carry usage. Claude Code writes one line per content block, all
with the same `message.id` and usage, and an earlier line can carry a partial
`output_tokens`: one API response is counted once, with the largest usage any of
its lines gave (the transcripts' counting rule, `collectors.transcripts`). Without
`--include-partial-messages` (which podium does not pass: a line per text delta)
Claude Code 2.1.328 writes the usage of `message_start` only, so an answer's
output tokens show as 1 until the run's `result` line, whose `modelUsage` gives
each model's whole count: input and cache tokens (most of a turn's weight on a
long context) are live, output catches up at the end. Tokens
are weighted as plan limits count them (`collectors.limits.weighted_tokens`, the
twin of the usage log's `WEIGHTED_TOKENS_SQL`), so a budget of `5%week` compares
with the same unit as the window's capacity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from collectors.limits import weighted_tokens
from collectors.prices import PriceTable


@dataclass(frozen=True)
class RunSpend:
    """What a run has spent so far: weighted tokens in all and per model, its cost in
    dollars (the result's `total_cost_usd` once it came, else list prices; None when a
    model has no price), and when a line last changed it."""

    weighted_tokens: float
    by_model: dict[str, float]
    cost_usd: float | None
    updated_at: datetime


def _count(value: Any) -> int:
    """A token count as the stream gives it; anything else (the agent writes the file
    in someone else's repository) is 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    if value != value or value < 0 or value > 10**12:  # nan, negative, absurd
        return 0
    return int(value)


@dataclass(frozen=True)
class _Message:
    model: str
    input: int
    output: int
    cache_creation: int
    cache_creation_1h: int
    cache_read: int

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_creation + self.cache_read

    @property
    def weighted(self) -> float:
        return weighted_tokens(self.input, self.cache_creation, self.cache_read, self.output)


class SpendFollower:
    """One run's spend; `feed` each decoded stream line, read `spend()`."""

    def __init__(self, prices: PriceTable | None = None) -> None:
        self._prices = prices or PriceTable()
        self._messages: dict[str, _Message] = {}
        self._anonymous = 0  # lines without a message id: each counts once
        self._result_cost: float | None = None
        # Weighted tokens per model from the result's `modelUsage` (the whole run's).
        self._result_models: dict[str, float] = {}
        self._updated_at: datetime | None = None

    def feed(self, obj: dict[str, Any], now: datetime) -> bool:
        """Take one stream line; whether the spend changed."""
        kind = obj.get("type")
        if kind == "result":
            cost = obj.get("total_cost_usd")
            if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost >= 0:
                self._result_cost = float(cost)
            models = obj.get("modelUsage")
            for model, u in models.items() if isinstance(models, dict) else ():
                if isinstance(model, str) and isinstance(u, dict):
                    weighted = weighted_tokens(
                        _count(u.get("inputTokens")),
                        _count(u.get("cacheCreationInputTokens")),
                        _count(u.get("cacheReadInputTokens")),
                        _count(u.get("outputTokens")),
                    )
                    if weighted > self._result_models.get(model, 0.0):
                        self._result_models[model] = weighted
            self._updated_at = now
            return True
        if kind != "assistant":
            return False
        message = obj.get("message")
        if not isinstance(message, dict):
            return False
        usage = message.get("usage")
        if not isinstance(usage, dict):
            return False
        creation = usage.get("cache_creation")
        one_hour = creation.get("ephemeral_1h_input_tokens") if isinstance(creation, dict) else 0
        model = message.get("model")
        seen = _Message(
            model=model if isinstance(model, str) and model else "unknown",
            input=_count(usage.get("input_tokens")),
            output=_count(usage.get("output_tokens")),
            cache_creation=_count(usage.get("cache_creation_input_tokens")),
            cache_creation_1h=_count(one_hour),
            cache_read=_count(usage.get("cache_read_input_tokens")),
        )
        if seen.total == 0:
            return False  # a synthetic error message, or a line with nothing spent yet
        key = message.get("id")
        if not isinstance(key, str) or not key:
            key = f"#line{self._anonymous}"
            self._anonymous += 1
        known = self._messages.get(key)
        if known is not None and known.total >= seen.total:
            return False
        self._messages[key] = seen
        self._updated_at = now
        return True

    def spend(self) -> RunSpend | None:
        """The spend so far; None before any line spent anything."""
        if self._updated_at is None:
            return None
        by_model: dict[str, float] = {}
        cost: float | None = 0.0
        for m in self._messages.values():
            by_model[m.model] = by_model.get(m.model, 0.0) + m.weighted
            priced = self._prices.cost(
                m.model, m.input, m.output, m.cache_creation, m.cache_creation_1h, m.cache_read
            )
            cost = None if priced is None or cost is None else cost + priced
        for model, weighted in self._result_models.items():
            by_model[model] = max(by_model.get(model, 0.0), weighted)
        if self._result_cost is not None:
            cost = self._result_cost  # Claude Code's own figure, once the run reported it
        return RunSpend(
            weighted_tokens=sum(by_model.values()),
            by_model=by_model,
            cost_usd=cost,
            updated_at=self._updated_at,
        )
